"""Regression tests, one per defect found in review, named after the bug.

Each one failed (crash, loss, duplicate or wrong event) before its fix."""
import asyncio
import json
import signal

import pytest

from conftest import (PREFIX, SCALE, Client, clear_ratelimit, join, pair_web, paired,
                      redis_client, session_id)


@pytest.fixture(scope="module")
def cluster(make_cluster):
    # SESSION_TTL=10: the periodic refresh ("touch") runs every second.
    # HEARTBEAT_INTERVAL stays long so the raw sockets here are not pinged away.
    return make_cluster(nodes=2, env={"SESSION_TTL": 10, "MAX_MESSAGE_BYTES": 200000,
                                      "JOIN_RATE_LIMIT": 1000})


async def test_touch_with_many_local_members_does_not_crash_the_node(cluster):
    """The refresh of a session with 9+ local connections overran a 32-entry
    length array (any client could crash the node). Ten figma sockets racing
    for one role also exercise supersede: exactly one may survive."""
    web = await pair_web(cluster.url(0))
    figmas = await asyncio.gather(*[Client.connect(cluster.url(1), "figma%d" % i)
                                    for i in range(10)])
    await asyncio.gather(*[f.send({"type": "pair", "clientType": "figma",
                                   "sessionToken": web.token}) for f in figmas])
    await asyncio.sleep(3 * SCALE)  # several refreshes of the session
    assert cluster.node_running(1), "node2 died"
    survivors = [f for f in figmas if f.open]
    assert len(survivors) == 1, "%d figma sockets still open" % len(survivors)
    codes = [f.ws.close_code for f in figmas if not f.open]
    assert codes == [4001] * 9, codes
    await survivors[0].drain(0.3)
    await web.drain(0.3)
    await web.sync({"only": "one"})
    msg = await survivors[0].expect("sync")
    assert msg["payload"] == {"only": "one"}
    for c in [web] + figmas:
        await c.close()


async def test_superseded_socket_is_closed_even_when_its_notice_is_missed(cluster):
    """Supersede notices travel by pub/sub, which is at-most-once. A socket that
    missed its notice kept receiving its role's messages; now the node closes it
    as soon as Redis says it no longer holds the role (on publish or refresh)."""
    web = await pair_web(cluster.url(0))
    old, _ = await join(cluster.url(1), web.token, "figma", peer_online=True)
    await web.expect_peer("joined", "figma")
    # Take the role over behind the node's back, as if the notice was lost.
    r = redis_client(cluster)
    key = PREFIX + "session:tokensync:{%s}" % session_id(web.token)
    holder = r.hget(key, "m:figma")
    node, boot, _ = holder.split("/")
    r.hset(key, "m:figma", "%s/%s/999999" % (node, boot))
    await old.sync({"from": "old"})
    await old.expect_error("Superseded by a new connection")
    assert await old.wait_closed() == 4001
    await web.close()


async def test_frames_refused_to_a_slow_reader_are_not_recorded_as_delivered(cluster):
    """Frames refused by a full send queue still advanced the connection's seq,
    so the member's resume point (d:figma) skipped them and a client without
    lastSeq lost them for good."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await figma.close()
    await web.expect_peer("left", "figma")
    pad = "a" * 150000
    for i in range(100):  # 15 MB while figma is away: more than one send queue holds
        await web.sync({"i": i, "pad": pad})
    await asyncio.sleep(1.0)
    got = []
    for attempt in range(8):
        f = await Client.connect(cluster.url(1), "figma-%d" % attempt)
        await f.send({"type": "pair", "clientType": "figma", "sessionToken": web.token})
        msgs = await f.drain(1.0 * SCALE)
        got += [m["i"] for m in (x.get("payload") for x in msgs if x.get("type") == "sync")]
        await f.close()
        if len(set(got)) == 100:
            break
    missing = sorted(set(range(100)) - set(got))
    assert not missing, "never delivered: %r" % missing[:10]
    await web.close()


async def test_new_member_resume_point_survives_its_node_crashing(cluster):
    """A member's resume point was only written on leave or refresh; when its
    node died first, the rejoin started at the current seq and lost what was
    sent meanwhile."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    cluster.kill_node(1, signal.SIGKILL)
    try:
        await web.sync({"while": "away"})
        await asyncio.sleep(0.2)
        again, _ = await join(cluster.url(0), web.token, "figma")
        syncs, _ = await again.recv_syncs(1)
        assert syncs[0]["payload"] == {"while": "away"}
    finally:
        cluster.start_node(1)
    for c in (web, figma, again):
        await c.close()


async def test_second_pair_while_joining_does_not_corrupt_the_connection(cluster):
    """A second pair sent while the first was in flight overwrote the
    connection's role and token: the client was told a random token and its
    peer later got 'left' for the wrong role."""
    clear_ratelimit(cluster)
    web = await pair_web(cluster.url(0))
    f = await Client.connect(cluster.url(1), "figma")
    # Hold Redis for a moment so the first join is surely in flight when the
    # second pair arrives (without it the test depended on timing).
    redis_client(cluster).execute_command("CLIENT", "PAUSE", int(300 * SCALE), "ALL")
    await f.send({"type": "pair", "clientType": "figma", "sessionToken": web.token})
    await f.send({"type": "pair", "clientType": "web"})
    msgs = [await f.recv(), await f.recv()]
    pair = [m for m in msgs if m.get("type") == "pair"]
    assert pair == [{"type": "pair", "sessionToken": web.token, "clientType": "figma"}], msgs
    assert {"type": "error", "error": "Pairing already in progress"} in msgs, msgs
    await web.expect_peer("joined", "figma")
    await f.close()
    await web.expect_peer("left", "figma")
    await web.close()


async def test_peer_left_is_sent_when_a_socket_closes_during_its_join(cluster):
    """A socket that closed while its join was in flight gave its role back
    silently: the peer saw 'joined' and never 'left'."""
    web = await pair_web(cluster.url(0))
    f = await Client.connect(cluster.url(1), "figma")
    # Hold every Redis command for a moment so the join is still in flight
    # when the socket goes.
    redis_client(cluster).execute_command("CLIENT", "PAUSE", int(500 * SCALE), "ALL")
    await f.send({"type": "pair", "clientType": "figma", "sessionToken": web.token})
    await asyncio.sleep(0.1)
    f.abort()
    await web.expect_peer("joined", "figma")
    await web.expect_peer("left", "figma")
    await web.close()


async def test_restarted_node_does_not_resurrect_its_old_connections(cluster):
    """With a fixed NODE_ID, a restarted node renewed the liveness that the old
    process's holders pointed at, so they looked online again."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await web.close()
    cluster.kill_node(1, signal.SIGKILL)
    cluster.start_node(1)
    await asyncio.sleep(0.5)  # its first heartbeat renews node2's liveness
    back, _ = await join(cluster.url(0), web.token, "web", peer_online=False)
    await back.close()
    await figma.close()


# ---- found in the review of the room dialects ------------------------------------------

async def test_recording_host_flag_counts_against_the_join_limit(cluster):
    """A host join of an existing id used to bypass the join rate limit (create
    or join, neither counted as a failure), so a client could find live sessions
    by guessing ids with isHost: true. Each such join now counts as a guess."""
    from test_recording import host_and_guest, rconnect, surl
    r = redis_client(cluster)
    r.delete(PREFIX + "ratelimit:join:127.0.0.1")
    host, guest = await host_and_guest(surl(cluster, 0), surl(cluster, 1))
    await guest.close()
    intruder = await rconnect(surl(cluster, 1), "intruder")
    await intruder.send({"type": "join", "sessionId": host.sid, "isHost": True})
    msg = await intruder.expect("session_joined")   # allowed once: the seed's hosts rejoin so
    assert int(r.get(PREFIX + "ratelimit:join:127.0.0.1") or 0) == 1
    await intruder.close()
    r.set(PREFIX + "ratelimit:join:127.0.0.1", 1000, ex=60)
    again = await rconnect(surl(cluster, 1), "intruder2")
    await again.send({"type": "join", "sessionId": host.sid, "isHost": True})
    await again.expect_error("Too many attempts")
    r.delete(PREFIX + "ratelimit:join:127.0.0.1")
    await again.close()
    await host.close()


async def test_recording_pipelined_start_start_stop_get_the_right_errors(cluster):
    """start, start, stop sent back to back: the second start used to be answered
    'Not recording' (the callback of the last command sent answered the first)."""
    from test_recording import host_and_guest, surl
    host, guest = await host_and_guest(surl(cluster, 0), surl(cluster, 1))
    for t in ("start_recording", "start_recording", "stop_recording", "stop_recording"):
        await host.send({"type": t, "timestamp": 1})
    got = [await host.recv() for _ in range(4)]
    # errors come straight back, commands through pub/sub: compare each stream
    errors = [m["message"] for m in got if m.get("type") == "error"]
    commands = [m["type"] for m in got if m.get("type") != "error"]
    assert errors == ["Already recording", "Not recording"], got
    assert commands == ["start_recording", "stop_recording"], got
    await host.close()
    await guest.close()


async def test_recording_long_device_name_is_shortened_not_refused(cluster):
    """A deviceName of 128 bytes or more was refused ('expected a string'); the
    seed takes any name. It is cut to 127 bytes on a character boundary."""
    from test_recording import rconnect, surl
    dev = await rconnect(surl(cluster, 0), "long")
    await dev.send({"type": "join", "isHost": True, "deviceName": "\u00e9" * 70})
    msg = await dev.expect("session_joined")
    name = msg["devices"][0]["deviceName"]
    assert name == "\u00e9" * 63 and len(name.encode()) == 126, msg
    await dev.close()


# ---- found in the review of the core's HTTP and cluster counts ---------------------------

def raw_http(port, data, timeout=3.0):
    """Sends raw bytes, returns everything the node answers before closing or
    going quiet for a moment."""
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            s.settimeout(0.5)
    except OSError:
        pass
    s.close()
    return out


def test_post_without_content_length_is_answered(cluster):
    """A POST with no Content-Length (what curl -X POST sends) waited for a body
    completion that never came: no answer, the socket dropped after 5 s."""
    port = cluster.node_ports[0]
    out = raw_http(port, b"POST /api/sessions HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 405"), out[:200]
    out = raw_http(port, b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 404"), out[:200]


def test_head_answers_headers_only(cluster):
    """HEAD answered with a body, which a keep-alive client read as the start of
    the next response."""
    port = cluster.node_ports[0]
    out = raw_http(port, b"HEAD /ready HTTP/1.1\r\nHost: x\r\n\r\nGET /ready HTTP/1.1\r\nHost: x\r\n\r\n")
    first, _, rest = out.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200"), out[:300]
    assert rest.startswith(b"HTTP/1.1 200"), out[:300]


def test_admin_api_allows_no_other_origin(cluster):
    """Every answer carried Access-Control-Allow-Origin: *, so any web page an
    operator visited could list and end sessions through the admin API."""
    port = cluster.node_ports[0]
    out = raw_http(port, b"GET /api/sessions HTTP/1.1\r\nHost: x\r\nOrigin: http://evil\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200") and b"access-control-allow-origin" not in out.lower(), \
        out[:400]
    out = raw_http(port, b"OPTIONS /api/sessions/X HTTP/1.1\r\nHost: x\r\nOrigin: http://evil\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 405"), out[:200]
    out = raw_http(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"access-control-allow-origin: *" in out.lower(), out[:400]


async def test_active_sessions_recover_after_redis_was_away(cluster):
    """A member leaving while Redis was unreachable lost the node's 'release'
    of the session, and sessions:online kept counting it for the node's life."""
    r = redis_client(cluster)
    web, figma = await paired(cluster.url(0), cluster.url(0))
    key = "%s:%s" % ("tokensync", web.token[len("dts://"):])
    deadline = asyncio.get_event_loop().time() + 10 * SCALE
    while r.hget(PREFIX + "{nodes}:sessions:online", key) is None:
        assert asyncio.get_event_loop().time() < deadline, "never counted"
        await asyncio.sleep(0.1)
    cluster.redis.send(signal.SIGSTOP)
    try:
        await web.close()
        await figma.close()
        await asyncio.sleep(1.0)
    finally:
        cluster.redis.send(signal.SIGCONT)
    deadline = asyncio.get_event_loop().time() + 20 * SCALE
    while r.hget(PREFIX + "{nodes}:sessions:online", key) is not None:
        assert asyncio.get_event_loop().time() < deadline, \
            "still counted: %r" % r.hgetall(PREFIX + "{nodes}:sessions:online")
        await asyncio.sleep(0.2)
