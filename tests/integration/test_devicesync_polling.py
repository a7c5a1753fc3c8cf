"""Device sync (seed 001) with the seed's clients unchanged: Engine.IO long-polling
(and its upgrade to WebSocket) through haproxy balancing every HTTP request round
robin across three nodes, with no affinity. Clients: the stock socket.io-client 4
from npm (tests/sio-client, driven by client.js under node) and Debian's
python3-socketio, both with their default options and restricted to polling.

Also: polling requests sent by hand to three different nodes, bad input (the
Engine.IO error codes), a node killed under a polling client, device-sync state
outliving SESSION_TTL, and the sessions API without ADMIN_TOKEN."""

import json
import os
import queue
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import socketio
import websockets

from conftest import PREFIX, RECV_TIMEOUT, SCALE, redis_client
from test_devicesync import hs256, new_user

SECRET = "device-sync-test-secret"
SESSION_TTL = 2
HEARTBEAT = 2
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIO_CLIENT = os.environ.get("SYNCRELAY_SIO_CLIENT") or os.path.join(REPO, "build", "deps",
                                                                      "sio-client")


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=3, haproxy=True, lb_every_request=True,
                        env={"JWT_SECRET": SECRET, "HEARTBEAT_INTERVAL": HEARTBEAT,
                             "SESSION_TTL": SESSION_TTL, "AUTH_TIMEOUT": 5,
                             "MAX_MESSAGE_BYTES": 65536})


# ---- the stock JavaScript client ----------------------------------------------------------

class JsDevice:
    """client.js under node: io(url, {auth, query, ...}); events as JSON lines."""

    def __init__(self, url, token, info, **opts):
        if not os.path.isdir(os.path.join(SIO_CLIENT, "node_modules", "socket.io-client")):
            pytest.fail("socket.io-client is not installed in %s (make sio-client)" % SIO_CLIENT)
        opts = dict({"auth": {"token": token}, "query": {"deviceInfo": json.dumps(info)}}, **opts)
        env = dict(os.environ, NODE_PATH=os.path.join(SIO_CLIENT, "node_modules"))
        self.proc = subprocess.Popen(
            ["node", os.path.join(REPO, "tests", "sio-client", "client.js"), url, json.dumps(opts)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.lines = queue.Queue()
        self.seen, self.taken = [], set()
        threading.Thread(target=self._read, daemon=True).start()
        self.device_id = None

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def expect(self, pred, what, timeout=RECV_TIMEOUT * 2):
        """The first line not taken yet that pred accepts (lines may come in any order:
        the upgrade can overtake an event)."""
        deadline = time.monotonic() + timeout
        i = 0
        while True:
            while i < len(self.seen):
                if i not in self.taken and pred(self.seen[i]):
                    self.taken.add(i)
                    return self.seen[i]
                i += 1
            try:
                self.seen.append(self.lines.get(timeout=max(0.05, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError("%s never came; got %r" % (what, self.seen)) from None

    def event(self, name):
        return self.expect(lambda m: m.get("event") == name, name)["args"][0]

    def send(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def call(self, event, data):
        self.send(emit=event, data=data, ack=True)
        m = self.expect(lambda m: m.get("ack") == event, "ack of " + event)
        assert "error" not in m, m
        return m["args"][0]

    def connected(self):
        self.expect(lambda m: "connect" in m, "connect")
        self.device_id = self.event("session-restored")["deviceId"]
        return self

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send(close=True)
                self.proc.wait(timeout=5)
            except Exception:
                self.proc.kill()
        self.proc.wait()


@pytest.fixture
def js():
    made = []

    def factory(*a, **kw):
        d = JsDevice(*a, **kw)
        made.append(d)
        return d

    yield factory
    for d in made:
        d.close()


def exercise(a, b):
    """Everything in the device sync section between two devices of one user."""
    ack = a.call("session-update", {"sessionKey": "editor", "state": {"text": "hi"}})
    assert ack["success"] is True and ack["version"] == 1, ack
    up = b.event("session-updated")
    assert up["sessionKey"] == "editor" and up["state"] == {"text": "hi"}
    assert up["deviceId"] == a.device_id and up["version"] == 1
    # a stale update loses, whichever node it reaches
    b.send(emit="session-update", data={"sessionKey": "editor", "state": {"x": 1}, "version": 0})
    conflict = b.event("session-conflict")
    assert conflict["version"] == 1 and conflict["state"] == {"text": "hi"}, conflict
    ack = b.call("realtime-event", {"type": "cursor", "payload": {"line": 3}})
    assert ack["success"] is True
    ev = a.event("realtime-event")
    assert ev["payload"] == {"line": 3} and ev["sourceDeviceId"] == b.device_id
    a.send(emit="device-message", data={"targetDeviceId": b.device_id, "message": {"n": 1}})
    msg = b.event("device-message")
    assert msg["message"] == {"n": 1} and msg["sourceDeviceId"] == a.device_id


def test_stock_js_client_default_options_polls_then_upgrades(cluster, js):
    _, token = new_user()
    url = cluster.lb_http_url("")
    a = js(url, token, {"name": "a", "type": "desktop"})
    a.expect(lambda m: "connect" in m, "connect")
    restored = a.event("session-restored")
    a.device_id = restored["deviceId"]
    a.expect(lambda m: m.get("upgrade") == "websocket", "upgrade to websocket")
    b = js(url, token, {"name": "b", "type": "mobile"}).connected()
    b.expect(lambda m: m.get("upgrade") == "websocket", "upgrade to websocket")
    assert a.event("device-connected")["deviceId"] == b.device_id
    exercise(a, b)
    b.close()
    assert a.event("device-disconnected")["deviceId"] == b.device_id


def test_stock_js_client_polling_only(cluster, js):
    _, token = new_user()
    url = cluster.lb_http_url("")
    a = js(url, token, {"name": "a"}, transports=["polling"]).connected()
    b = js(url, token, {"name": "b"}, transports=["polling"]).connected()
    exercise(a, b)
    for d in (a, b):
        d.send(transport=True)
        assert d.expect(lambda m: "transport" in m and "connect" not in m,
                        "transport")["transport"] == "polling"
    # a third device on the WebSocket transport hears the polling ones
    c = js(url, token, {"name": "c"}, transports=["websocket"]).connected()
    a.send(emit="realtime-event", data={"type": "t", "payload": 7})
    assert c.event("realtime-event")["payload"] == 7


# ---- Debian's python3-socketio -------------------------------------------------------------

def py_device(url, token, **kw):
    sio = socketio.Client(reconnection_delay=0.2, reconnection_delay_max=1)
    events = queue.Queue()
    sio.on("*", lambda ev, *args: events.put((ev, args[0] if args else None)))
    sio.connect(url + "/?deviceInfo=%7B%7D", auth={"token": token}, wait_timeout=10, **kw)
    sio.events = events
    return sio


def py_wait(sio, name, timeout=RECV_TIMEOUT * 2):
    deadline = time.monotonic() + timeout
    while True:
        ev, data = sio.events.get(timeout=max(0.05, deadline - time.monotonic()))
        if ev == name:
            return data


def test_python_client_defaults_and_polling_only(cluster):
    _, token = new_user()
    url = cluster.lb_http_url("")
    a = py_device(url, token)
    b = py_device(url, token, transports=["polling"])
    try:
        a_id = py_wait(a, "session-restored")["deviceId"]
        b_id = py_wait(b, "session-restored")["deviceId"]
        deadline = time.monotonic() + RECV_TIMEOUT
        while a.transport() != "websocket" and time.monotonic() < deadline:
            time.sleep(0.05)  # the upgrade
        assert a.transport() == "websocket" and b.transport() == "polling"
        ack = b.call("session-update", {"sessionKey": "k", "state": [1]}, timeout=10)
        assert ack["success"] is True
        assert py_wait(a, "session-updated")["deviceId"] == b_id
        a.emit("device-message", {"targetDeviceId": b_id, "message": "hello"})
        assert py_wait(b, "device-message")["sourceDeviceId"] == a_id
    finally:
        a.disconnect()
        b.disconnect()


# ---- polling requests by hand, to three different nodes ---------------------------------------

def http(url, data=None, method=None, timeout=10):
    """(status, body) of one request."""
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "text/plain;charset=UTF-8"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def eio(cluster, i, query):
    return cluster.http_url(i, "/socket.io/?EIO=4&transport=polling&" + query)


def handshake(cluster, i=0):
    status, body = http(eio(cluster, i, "t=1"))
    assert status == 200 and body[0] == "0", (status, body)
    opened = json.loads(body[1:])
    assert opened["upgrades"] == ["websocket"] and opened["maxPayload"] == 65536
    return opened["sid"]


def test_one_session_over_three_nodes_by_hand(cluster):
    uid, token = new_user()
    sid = handshake(cluster, 0)
    assert http(eio(cluster, 1, "sid=" + sid), ("40" + json.dumps({"token": token})).encode(),
                "POST") == (200, "ok")
    status, body = http(eio(cluster, 2, "sid=" + sid))
    packets = body.split("\x1e")
    assert status == 200 and packets[0].startswith("40{\"sid\":"), body
    if len(packets) == 1:  # the restore may come in the next poll
        packets += http(eio(cluster, 0, "sid=" + sid))[1].split("\x1e")
    restored = json.loads(packets[1][2:])
    assert restored[0] == "session-restored" and restored[1]["userId"] == uid
    # an ack'd event posted to node 3, answered in a poll on node 2; pings answered by POST
    assert http(eio(cluster, 2, "sid=" + sid), b'421["realtime-event",{"type":"t"}]',
                "POST") == (200, "ok")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status, body = http(eio(cluster, 1, "sid=" + sid))
        assert status == 200, body
        if "2" in body.split("\x1e"):
            assert http(eio(cluster, 0, "sid=" + sid), b"3", "POST") == (200, "ok")
        if any(p.startswith("431[") for p in body.split("\x1e")):
            break
    else:
        raise AssertionError("no ack")
    # the client closes: the session is gone everywhere
    assert http(eio(cluster, 1, "sid=" + sid), b"1", "POST") == (200, "ok")
    for i in range(3):
        assert eventually_status(eio(cluster, i, "sid=" + sid), 400) == json.dumps(
            {"code": 1, "message": "Session ID unknown"}, separators=(",", ":"))


def eventually_status(url, status, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        got, body = http(url)
        if got == status or time.monotonic() > deadline:
            assert got == status, (got, body)
            return body
        time.sleep(0.1)


def err(code, message):
    return json.dumps({"code": code, "message": message}, separators=(",", ":"))


def test_bad_requests_get_engine_io_errors(cluster):
    unknown = err(1, "Session ID unknown")
    bad = err(3, "Bad request")
    # the handshake
    assert http(cluster.http_url(0, "/socket.io/?EIO=3&transport=polling")) == (
        400, err(5, "Unsupported protocol version"))
    assert http(cluster.http_url(1, "/socket.io/?EIO=4&transport=carrier-pigeon")) == (
        400, err(0, "Transport unknown"))
    assert http(eio(cluster, 2, "t=1"), b"40", "POST") == (400, err(2, "Bad handshake method"))
    # unknown sids: never made, of a node that does not exist, malformed
    for sid in ("zzzzzzzzAAAAAAAAAAAAAAAA", "a" * 24, "short", "%25", "x" * 300):
        for i in range(3):
            assert http(eio(cluster, i, "sid=" + sid)) == (400, unknown), sid
    sid = handshake(cluster, 0)
    # malformed payloads: 400, and the session is over (Engine.IO's parse error)
    assert http(eio(cluster, 1, "sid=" + sid), b"4hello\x1e\x1e3", "POST") == (400, bad)
    eventually_status(eio(cluster, 2, "sid=" + sid), 400)
    for payload in (b"", b"9", b"0{}", b"\x1e", b"3\x1e", b"5"):
        sid = handshake(cluster, 1)
        status, _ = http(eio(cluster, 2, "sid=" + sid), payload, "POST")
        assert status == 400, payload
    # oversized body (maxPayload 65536)
    sid = handshake(cluster, 2)
    assert http(eio(cluster, 0, "sid=" + sid), b"4" + b"x" * 70000, "POST") == (413, bad)
    eventually_status(eio(cluster, 1, "sid=" + sid), 400)  # and the session is over
    # two polls at once: the second gets 400, the first the close packet
    sid = handshake(cluster, 0)
    with ThreadPoolExecutor(2) as ex:
        first = ex.submit(http, eio(cluster, 1, "sid=" + sid))
        time.sleep(0.3 * SCALE)
        second = ex.submit(http, eio(cluster, 2, "sid=" + sid))
        assert second.result() == (400, bad)
        assert first.result() == (200, "1")
    eventually_status(eio(cluster, 0, "sid=" + sid), 400)
    # a flood of polls on one sid: one is held, the rest refused; nodes keep serving
    sid = handshake(cluster, 1)
    with ThreadPoolExecutor(16) as ex:
        results = list(ex.map(lambda i: http(eio(cluster, i % 3, "sid=" + sid)), range(48)))
    assert sum(1 for s, _ in results if s == 200) <= 2, results
    assert all(s in (200, 400) for s, _ in results), results
    for i in range(3):
        assert http(cluster.http_url(i, "/health"))[0] == 200
    handshake(cluster, 2)


# ---- a node dies under a polling client --------------------------------------------------------

def owner_node(cluster, sid):
    r = redis_client(cluster)
    for i in range(3):
        if r.hget(PREFIX + "{nodes}:node:" + cluster.node_id(i), "boot") == sid[:8]:
            return i
    raise AssertionError("no node owns " + sid)


def test_node_killed_under_a_polling_client(cluster):
    _, token = new_user()
    a = py_device(cluster.lb_http_url(""), token, transports=["polling"])
    b = py_device(cluster.lb_http_url(""), token)
    victim = None
    try:
        py_wait(a, "session-restored")
        a.call("session-update", {"sessionKey": "doc", "state": {"v": 1}}, timeout=10)
        py_wait(b, "session-updated")
        victim = owner_node(cluster, a.eio.sid)
        cluster.kill_node(victim)
        # the client reconnects through the balancer and gets its state back
        restored = py_wait(a, "session-restored", timeout=30 * SCALE)
        assert restored["sessionData"] == {"doc": {"v": 1}} and restored["versions"] == {"doc": 1}
        # b may have been on the dead node too (its owner or its WebSocket's):
        # events flow again once both are back
        deadline = time.monotonic() + 30 * SCALE
        while True:
            a.emit("realtime-event", {"type": "after", "payload": 1})
            try:
                if py_wait(b, "realtime-event", timeout=0.5)["type"] == "after":
                    break
            except queue.Empty:
                assert time.monotonic() < deadline, "no event across nodes after the kill"
    finally:
        a.disconnect()
        b.disconnect()
        if victim is not None:
            cluster.start_node(victim)


# ---- state that lasts ------------------------------------------------------------------------

def test_state_outlives_session_ttl(cluster, js):
    uid, token = new_user()
    a = js(cluster.lb_http_url(""), token, {"name": "a"}).connected()
    a.call("session-update", {"sessionKey": "editor", "state": {"text": "before lunch"}})
    a.close()
    r = redis_client(cluster)
    key = PREFIX + "session:devicesync:{%s}" % uid
    time.sleep(3 * SESSION_TTL + 1)
    assert r.ttl(key) == -1 and r.ttl(key + ":log") == -1
    req = urllib.request.Request(cluster.lb_http_url("/api/session"),
                                 headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as resp:
        got = json.loads(resp.read())
    assert got["sessionData"] == {"editor": {"text": "before lunch"}}, got
    b = js(cluster.lb_http_url(""), token, {"name": "a"})
    b.expect(lambda m: "connect" in m, "connect")
    restored = b.event("session-restored")
    assert restored["sessionData"] == {"editor": {"text": "before lunch"}}
    assert restored["versions"] == {"editor": 1}


# ---- the sessions API without ADMIN_TOKEN ----------------------------------------------------

async def test_sessions_api_without_admin_token_shows_no_user_data(cluster):
    """Without ADMIN_TOKEN: recording and token sync sessions only, never a
    device-sync user's state nor mirror's customer data."""
    uid, token = new_user()
    sio = py_device(cluster.lb_http_url(""), token, transports=["websocket"])
    try:
        py_wait(sio, "session-restored")
        sio.call("session-update", {"sessionKey": "secret", "state": "diary"}, timeout=10)
        async with websockets.connect(cluster.url(1, "/sync")) as ws, \
                websockets.connect(cluster.url(2, "/mirror")) as mirror:
            await ws.send(json.dumps({"type": "join", "isHost": True, "deviceName": "cam"}))
            joined = json.loads(await asyncio_wait(ws.recv()))
            rec = joined["sessionId"]
            await mirror.send(json.dumps({"type": "CREATE_SESSION"}))
            mirror_sid = json.loads(await asyncio_wait(mirror.recv()))["sessionId"]
            status, body = http(cluster.http_url(0, "/api/sessions"))
            listed = json.loads(body)["sessions"]
            assert status == 200 and rec in [s["id"] for s in listed]
            assert {s["kind"] for s in listed} <= {"recording", "tokensync"}, listed
            assert "diary" not in body and uid not in body and mirror_sid not in body
            assert http(cluster.http_url(1, "/api/sessions/" + mirror_sid))[0] == 404
            assert http(cluster.http_url(1, "/api/sessions/" + rec))[0] == 200
            assert http(cluster.http_url(2, "/api/sessions/" + uid)) == (
                404, '{"error":"Session not found"}')
            assert http(cluster.http_url(2, "/api/sessions/" + uid), None, "DELETE")[0] == 404
            assert redis_client(cluster).exists(PREFIX + "session:devicesync:{%s}" % uid)
    finally:
        sio.disconnect()


async def asyncio_wait(aw):
    import asyncio
    return await asyncio.wait_for(aw, RECV_TIMEOUT)
