"""Cluster-wide sessions REST API (seed 004's REST, for every dialect): /health
counts that agree on every node and drop after a SIGKILL, /api/sessions,
/api/sessions/:id, DELETE ending a session whose members sit on other nodes,
ADMIN_TOKEN, and SESSION_TTL expiry of mirror and recording sessions."""

import asyncio
import http.client
import json
import signal
from datetime import datetime, timezone

import pytest

from conftest import (PREFIX, SCALE, Client, clear_ratelimit, eventually, paired, redis_client,
                      session_id)
from test_mirror import MirrorClient, mirror_session
from test_recording import RecClient, host_and_guest, is_recording, rec_key

ADMIN_TOKEN = "s3cret-admin-token"
SHORT_TTL = 3


# DRAIN_TIMEOUT 0: nothing here tests the drain; the module ends sooner.

@pytest.fixture(scope="module")
def cluster(make_cluster):
    # with ADMIN_TOKEN: without it the API sees recording and token sync sessions only
    # (test_devicesync_polling checks that)
    return make_cluster(nodes=2, haproxy=True, env={"DRAIN_TIMEOUT": 0, "ADMIN_TOKEN": ADMIN_TOKEN})


@pytest.fixture(scope="module")
def single(make_cluster):
    """One node with ADMIN_TOKEN; also the one whose Redis is stopped."""
    return make_cluster(nodes=1, env={"ADMIN_TOKEN": ADMIN_TOKEN, "DRAIN_TIMEOUT": 0})


@pytest.fixture(scope="module")
def ttl_cluster(make_cluster):
    return make_cluster(nodes=2, env={"SESSION_TTL": SHORT_TTL, "DRAIN_TIMEOUT": 0,
                                      "ADMIN_TOKEN": ADMIN_TOKEN})


# ---- HTTP ---------------------------------------------------------------------------------

def http_call(port, method, path, headers=None, timeout=5.0):
    """-> (status, headers lower-cased, parsed JSON body or raw bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout * SCALE)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()
    try:
        body = json.loads(body)
    except ValueError:
        pass
    return resp.status, hdrs, body


def api(port, method, path, token=ADMIN_TOKEN, want=200):
    headers = {"Authorization": "Bearer " + token} if token else {}
    status, hdrs, body = http_call(port, method, path, headers)
    assert status == want, "%s %s -> %s %r (wanted %s)" % (method, path, status, body, want)
    assert hdrs.get("content-type", "").startswith("application/json"), (method, path, hdrs)
    return body


def health(port):
    return api(port, "GET", "/health")


def sessions(port, token=ADMIN_TOKEN):
    body = api(port, "GET", "/api/sessions", token)
    assert isinstance(body.get("sessions"), list) and body.get("count") == len(body["sessions"]), body
    return {s["id"]: s for s in body["sessions"]}


def parse_iso(ts):
    assert isinstance(ts, str) and "T" in ts, ts
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def check_session_object(s, kind=None):
    assert isinstance(s.get("id"), str) and s["id"], s
    assert s.get("kind") in ("tokensync", "mirror", "recording", "peersync", "devicesync") \
        or isinstance(s.get("kind"), str), s
    if kind:
        assert s["kind"] == kind, s
    members = s.get("members")
    assert isinstance(members, list), s
    for m in members:
        assert isinstance(m.get("member"), str) and isinstance(m.get("online"), bool), s
    assert s.get("onlineMembers") == sum(1 for m in members if m["online"]), s
    created, active = parse_iso(s["created"]), parse_iso(s["lastActivity"])
    now = datetime.now(timezone.utc)
    assert abs((now - created).total_seconds()) < 3600, s
    assert created <= active or abs((active - created).total_seconds()) < 1, s
    return s


def online(s):
    return sorted(m["member"] for m in s["members"] if m["online"])


def session_key_names(r, sid):
    return sorted(k for k in r.scan_iter(PREFIX + "*") if "{%s}" % sid in k)


async def close_all(*clients):
    for c in clients:
        await c.close()


def counts(cluster, i):
    h = health(cluster.node_port(i))
    return h["activeSessions"], h["totalConnections"]


async def settled_counts(cluster, nodes=(0, 1)):
    """Wait until the nodes agree and the total equals the sum of their local
    connection counts (no heartbeat in flight); returns (activeSessions, totalConnections)."""
    def agree():
        hs = [health(cluster.node_port(i)) for i in nodes]
        vals = {(h["activeSessions"], h["totalConnections"]) for h in hs}
        local = sum(h.get("connections", 0) for h in hs)
        if len(vals) == 1 and ("connections" not in hs[0] or local == hs[0]["totalConnections"]):
            return vals.pop()
        return None
    return await eventually(agree, timeout=8, interval=0.2, what="nodes agree on /health counts")


async def wait_counts(cluster, want, nodes=(0, 1), timeout=8):
    def ok():
        got = [counts(cluster, i) for i in nodes]
        return got if all(g == want for g in got) else None
    try:
        return await eventually(ok, timeout=timeout, interval=0.2,
                                what="(activeSessions, totalConnections) == %r on nodes %r"
                                % (want, [cluster.node_id(i) for i in nodes]))
    except AssertionError as e:
        raise AssertionError("%s; now %r" % (e, [counts(cluster, i) for i in nodes]))


async def three_dialects(cluster):
    """One session of each dialect, members on both nodes (and haproxy).
    Returns (clients, {kind: session id}, connections opened)."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    mirror = await mirror_session([cluster.url(1, "/mirror"), cluster.url(0, "/mirror"),
                                   cluster.lb_url("/")])
    host, guest = await host_and_guest(cluster.url(0, "/sync"), cluster.url(1, "/sync"))
    ids = {"tokensync": session_id(web.token), "mirror": mirror[0].sid, "recording": host.sid}
    return [web, figma, host, guest] + mirror, ids


# ---- /health --------------------------------------------------------------------------------

async def test_health_fields_and_cluster_wide_counts(cluster):
    for port in (cluster.node_port(0), cluster.node_port(1), cluster.lb_port):
        h = health(port)
        assert h["status"] == "healthy", h
        parse_iso(h["timestamp"])
        for f in ("activeSessions", "totalConnections"):
            assert isinstance(h[f], int) and not isinstance(h[f], bool) and h[f] >= 0, (f, h)
    base_s, base_c = await settled_counts(cluster)
    clients, ids = await three_dialects(cluster)
    idle = await MirrorClient.connect(cluster.url(1, "/mirror"), "idle")  # a connection, no session
    await idle.alive()
    want = (base_s + 3, base_c + len(clients) + 1)
    await wait_counts(cluster, want)
    lb = health(cluster.lb_port)
    assert (lb["activeSessions"], lb["totalConnections"]) == want, lb
    # One member of the mirror session leaves (it stays active with two), and every
    # member of the recording session leaves (it no longer counts as active).
    await close_all(clients[-1], clients[2], clients[3])
    await wait_counts(cluster, (base_s + 2, base_c + len(clients) + 1 - 3))
    await close_all(idle, *clients)


# ---- /api/sessions ----------------------------------------------------------------------------

async def test_list_sessions_of_several_dialects(cluster):
    clients, ids = await three_dialects(cluster)
    web, figma, host, guest, m0, m1, m2 = clients
    for port in (cluster.node_port(0), cluster.node_port(1), cluster.lb_port):
        listed = sessions(port)
        for kind, sid in ids.items():
            assert sid in listed, (kind, sid, sorted(listed))
            s = check_session_object(listed[sid], kind)
            assert s["onlineMembers"] == {"tokensync": 2, "mirror": 3, "recording": 2}[kind], s
        assert online(listed[ids["tokensync"]]) == ["figma", "web"]
        assert online(listed[ids["mirror"]]) == sorted([m0.member, m1.member, m2.member])
        assert online(listed[ids["recording"]]) == sorted([host.device, guest.device])
    # A member that leaves stays listed, offline.
    await m1.close()
    await guest.close()
    await host.expect_device("device_disconnected", [guest])

    def updated():
        listed = sessions(cluster.node_port(1))
        return listed if listed[ids["mirror"]]["onlineMembers"] == 2 and \
            listed[ids["recording"]]["onlineMembers"] == 1 else None
    listed = await eventually(updated, what="members shown offline")
    mm = {m["member"]: m["online"] for m in listed[ids["mirror"]]["members"]}
    assert mm == {m0.member: True, m1.member: False, m2.member: True}, listed[ids["mirror"]]
    rm = {m["member"]: m["online"] for m in listed[ids["recording"]]["members"]}
    assert rm == {host.device: True, guest.device: False}, listed[ids["recording"]]
    await close_all(*clients)


async def test_get_one_session_and_404(cluster):
    clients, ids = await three_dialects(cluster)
    m0, m1 = clients[4], clients[5]
    await m0.view("VIEW_CUSTOMER", {"customerInfo": {"id": 42}})
    await m1.expect_view("VIEW_CUSTOMER", {"customerInfo": {"id": 42}})
    for i, (kind, sid) in enumerate(sorted(ids.items())):
        s = api(cluster.node_port(i % 2), "GET", "/api/sessions/" + sid)
        check_session_object(s, kind)
        assert s["id"] == sid, s
        assert isinstance(s.get("state"), dict), s
    mirror = api(cluster.node_port(1), "GET", "/api/sessions/" + ids["mirror"])
    assert '"id": 42' in json.dumps(mirror["state"]) or "42" in json.dumps(mirror["state"]), mirror
    for port in (cluster.node_port(0), cluster.node_port(1), cluster.lb_port):
        for sid in ("QQ7QQ7", "nosuchsession", "ABC123DEF456"):
            body = api(port, "GET", "/api/sessions/" + sid, want=404)
            assert body == {"error": "Session not found"}, body
    await close_all(*clients)


async def test_delete_mirror_session_disconnects_members_on_other_node(cluster):
    r = redis_client(cluster)
    a, b, c = await mirror_session([cluster.url(0, "/mirror"), cluster.url(0, "/"),
                                    cluster.url(1, "/mirror")])
    await a.view("VIEW_CUSTOMER", {"customerInfo": {"id": 1}})
    await b.expect_view("VIEW_CUSTOMER", {"customerInfo": {"id": 1}})
    await c.expect_view("VIEW_CUSTOMER", {"customerInfo": {"id": 1}})
    sid = a.sid
    other, bystanders = await mirror_session([cluster.url(0, "/mirror"), cluster.url(1, "/mirror")])
    assert session_key_names(r, sid)
    body = api(cluster.node_port(1), "DELETE", "/api/sessions/" + sid)
    assert body == {"deleted": True, "id": sid, "kind": "mirror"}, body
    for m in (a, b, c):  # two of them held by node 1, the DELETE went to node 2
        await m.expect_error("Session ended")
        assert await m.wait_closed() == 1000, m.name
    await eventually(lambda: not session_key_names(r, sid), what="session keys removed")
    assert not any(sid in x for x in r.zrange(PREFIX + "{nodes}:sessions", 0, -1))
    api(cluster.node_port(0), "GET", "/api/sessions/" + sid, want=404)
    api(cluster.node_port(0), "DELETE", "/api/sessions/" + sid, want=404)
    assert sid not in sessions(cluster.node_port(0))
    # The id is gone for joiners and for a member coming back with its id.
    late = await MirrorClient.connect(cluster.url(1, "/mirror"), "late")
    await late.send({"type": "JOIN_SESSION", "sessionId": sid})
    await late.expect_error("Invalid session ID")
    await late.send({"type": "JOIN_SESSION", "sessionId": sid, "memberId": c.member, "lastSeq": 0})
    await late.expect_error("Invalid session ID")
    # Another session is untouched.
    await other.view("VIEW_PRODUCT", {"still": "here"})
    await bystanders.expect_view("VIEW_PRODUCT", {"still": "here"})
    await close_all(late, other, bystanders)
    clear_ratelimit(cluster)


async def test_delete_recording_session(cluster):
    r = redis_client(cluster)
    host, guest = await host_and_guest(cluster.url(0, "/sync"), cluster.url(1, "/sync"))
    await host.start(1)
    await host.expect_command("start_recording", host)
    await guest.expect_command("start_recording", host)
    assert is_recording(r.hget(rec_key(host.sid), "s:recording"))
    body = api(cluster.node_port(0), "DELETE", "/api/sessions/" + host.sid)
    assert body == {"deleted": True, "id": host.sid, "kind": "recording"}, body
    for d in (host, guest):
        await d.expect("session_ended", sessionId=host.sid)
        assert await d.wait_closed() == 1000, d.name
    await eventually(lambda: not session_key_names(r, host.sid), what="session keys removed")
    g = await RecClient.connect(cluster.url(1, "/sync"), "guest-late")
    await g.send({"type": "join", "sessionId": host.sid, "isHost": False, "deviceName": "x"})
    await g.expect_error("Session not found")
    await g.close()
    clear_ratelimit(cluster)


async def test_delete_tokensync_session(cluster):
    r = redis_client(cluster)
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await web.sync({"x": 1})
    await figma.expect("sync")
    sid = session_id(web.token)
    body = api(cluster.lb_port, "DELETE", "/api/sessions/" + sid)
    assert body == {"deleted": True, "id": sid, "kind": "tokensync"}, body
    for c in (web, figma):
        await c.expect_error("Session ended")
        assert await c.wait_closed() == 1000, c.name
    await eventually(lambda: not session_key_names(r, sid), what="session keys removed")
    c = await Client.connect(cluster.url(1))
    await c.send({"type": "pair", "clientType": "figma", "sessionToken": web.token})
    await c.expect_error("Invalid session token")
    await c.close()
    clear_ratelimit(cluster)


async def test_unknown_methods_and_ids(cluster):
    for sid in ("QQ7QQ7", "x" * 300, "%7Bbad%7D"):
        body = api(cluster.node_port(1), "DELETE", "/api/sessions/" + sid, want=404)
        assert body == {"error": "Session not found"}, body
    assert api(cluster.node_port(0), "GET", "/api/sessions")["count"] >= 0


# ---- ADMIN_TOKEN ----------------------------------------------------------------------------

async def test_admin_token_required(single):
    port = single.node_port(0)
    a, b = await mirror_session([single.url(0, "/mirror")] * 2)
    sid = a.sid
    bad_headers = [{}, {"Authorization": "Bearer wrong"}, {"Authorization": ADMIN_TOKEN},
                   {"Authorization": "Basic " + ADMIN_TOKEN}, {"Authorization": "Bearer "},
                   {"Authorization": "Bearer " + ADMIN_TOKEN + "x"}]
    for method, path in (("GET", "/api/sessions"), ("GET", "/api/sessions/" + sid),
                         ("GET", "/api/sessions/QQ7QQ7"), ("DELETE", "/api/sessions/" + sid)):
        for h in bad_headers:
            status, _, body = http_call(port, method, path, h)
            assert (status, body) == (401, {"error": "Unauthorized"}), (method, path, h, status, body)
    # The refused DELETE ended nothing.
    await a.view("VIEW_CUSTOMER", {"alive": True})
    await b.expect_view("VIEW_CUSTOMER", {"alive": True})
    # Never needed for the operational endpoints.
    for path in ("/health", "/ready", "/metrics"):
        status, _, _ = http_call(port, "GET", path)
        assert status == 200, path
    assert sid in sessions(port, ADMIN_TOKEN)
    assert api(port, "GET", "/api/sessions/" + sid, ADMIN_TOKEN)["kind"] == "mirror"
    api(port, "GET", "/api/sessions/QQ7QQ7", ADMIN_TOKEN, want=404)
    body = api(port, "DELETE", "/api/sessions/" + sid, ADMIN_TOKEN)
    assert body == {"deleted": True, "id": sid, "kind": "mirror"}, body
    await a.expect_error("Session ended")
    await b.expect_error("Session ended")
    await close_all(a, b)


# ---- SESSION_TTL --------------------------------------------------------------------------------

async def test_sessions_expire_after_ttl(ttl_cluster):
    c = ttl_cluster
    r = redis_client(c)
    a, b = await mirror_session([c.url(0, "/mirror"), c.url(1, "/mirror")])
    await a.view("VIEW_CUSTOMER", {"customerInfo": {"id": 3}})
    await b.expect_view("VIEW_CUSTOMER", {"customerInfo": {"id": 3}})
    host, guest = await host_and_guest(c.url(1, "/sync"), c.url(0, "/sync"))
    await host.start(1)
    await host.expect_command("start_recording", host)
    await guest.expect_command("start_recording", host)
    keep = await MirrorClient.connect(c.url(1, "/mirror"), "keeper")  # stays connected
    await keep.create()
    for sid in (a.sid, host.sid, keep.sid):
        keys = session_key_names(r, sid)
        assert keys, sid
        for k in keys:
            assert 0 < r.ttl(k) <= SHORT_TTL, (k, r.ttl(k))
    mirror_sid, rec_sid, member = a.sid, host.sid, b.member
    await close_all(a, b, host, guest)
    await eventually(lambda: not session_key_names(r, mirror_sid) and not session_key_names(r, rec_sid),
                     timeout=SHORT_TTL * 3, interval=0.2, what="expired sessions' keys gone")
    assert session_key_names(r, keep.sid), "a session with a live member expired"
    listed = sessions(c.node_port(0))
    assert mirror_sid not in listed and rec_sid not in listed and keep.sid in listed, sorted(listed)
    try:
        m = await MirrorClient.connect(c.url(0, "/mirror"), "late-mirror")
        await m.send({"type": "JOIN_SESSION", "sessionId": mirror_sid})
        await m.expect_error("Invalid session ID")
        await m.send({"type": "JOIN_SESSION", "sessionId": mirror_sid, "memberId": member,
                      "lastSeq": 0})
        await m.expect_error("Invalid session ID")
        g = await RecClient.connect(c.url(1, "/sync"), "late-guest")
        await g.send({"type": "join", "sessionId": rec_sid, "isHost": False, "deviceName": "x"})
        await g.expect_error("Session not found")
        await close_all(m, g)
    finally:
        clear_ratelimit(c)
    await keep.alive()
    await keep.close()


# ---- Redis down -------------------------------------------------------------------------------

async def test_service_unavailable_while_redis_is_down(single):
    """Both dialects answer with their error instead of hanging, and recover."""
    c = single
    a, b = await mirror_session([c.url(0, "/mirror")] * 2)
    host, guest = await host_and_guest(c.url(0, "/sync"), c.url(0, "/sync"))
    c.stop_redis(signal.SIGKILL)
    await eventually(lambda: c.ready_status(0) == 503, timeout=5, what="/ready 503 with Redis down")
    m = await MirrorClient.connect(c.url(0, "/mirror"), "new-mirror")
    await m.send({"type": "CREATE_SESSION"})
    await m.expect_error("Service unavailable")
    await m.send({"type": "JOIN_SESSION", "sessionId": a.sid})
    await m.expect_error("Service unavailable")
    g = await RecClient.connect(c.url(0, "/sync"), "new-host")
    await g.send({"type": "join", "isHost": True, "deviceName": "x"})
    await g.expect_error("Service unavailable")
    await g.ping()
    # Members already in a session, if the node kept their sockets, are refused too.
    if a.open:
        await a.view("VIEW_CUSTOMER", {"lost": True})
        await a.expect_error("Service unavailable")
    if host.open:
        await host.start(1)
        await host.expect_error("Service unavailable")
    await asyncio.to_thread(c.start_redis)
    await eventually(lambda: c.ready_status(0) == 200, timeout=20, what="/ready 200 again")
    await asyncio.to_thread(c.wait_registered)
    await m.create()
    await g.join(None, is_host=True)
    await close_all(a, b, host, guest, m, g)


# ---- SIGKILL --------------------------------------------------------------------------------

@pytest.mark.slow  # about 14 s of waiting for node liveness; skipped under ASan
async def test_counts_drop_after_sigkill(cluster):
    """Kills node 2 for good: keep this the module's last test on `cluster`."""
    base_s, base_c = await settled_counts(cluster)
    # Only on node 2: a mirror session and a recording session. Across both: a mirror session.
    only2 = await MirrorClient.connect(cluster.url(1, "/mirror"), "only-on-node2")
    await only2.create()
    host2 = await RecClient.connect(cluster.url(1, "/sync"), "host-on-node2")
    await host2.join(None, is_host=True)
    x, y = await mirror_session([cluster.url(0, "/mirror"), cluster.url(1, "/mirror")])
    await wait_counts(cluster, (base_s + 3, base_c + 4))
    assert cluster.kill_node(1, signal.SIGKILL) == -signal.SIGKILL
    # Node 1 alone is left; within about the node record's TTL it stops counting node 2.
    await wait_counts(cluster, (base_s + 1, base_c + 1), nodes=(0,), timeout=20)
    listed = sessions(cluster.node_port(0))
    assert listed[only2.sid]["onlineMembers"] == 0, listed[only2.sid]
    assert listed[host2.sid]["onlineMembers"] == 0, listed[host2.sid]
    assert online(listed[x.sid]) == [x.member], listed[x.sid]
    await close_all(only2, host2, x, y)
