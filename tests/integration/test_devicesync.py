"""Device-sync dialect (seed 001, path /socket.io/) with Debian's python3-socketio
client: two (or three) devices of one user on different nodes and through haproxy.
Covers session-restored, session-update -> session-updated, versions and
conflicts (two devices racing the same key), last-writer-wins, realtime-event,
device-message to one device on another node (and to unknown/offline ones),
device-connected/-disconnected, acks, stable device ids on reconnect, supersede,
bad tokens, other namespaces, the Engine.IO handshake and heartbeat, malformed
and binary packets, and the Redis records. REST is in test_devicesync_rest.py."""

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import socketio

from conftest import PREFIX, QUIET_TIMEOUT, RECV_TIMEOUT, SCALE, Client, redis_client

SECRET = "device-sync-test-secret"
ADMIN_TOKEN = "device-sync-admin"
HEARTBEAT = 1  # seconds: Engine.IO pingInterval 1000 ms, pingTimeout 1000 ms


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2, haproxy=True,
                        env={"JWT_SECRET": SECRET, "HEARTBEAT_INTERVAL": HEARTBEAT,
                             "AUTH_TIMEOUT": 2, "MAX_MESSAGE_BYTES": 65536,
                             "ADMIN_TOKEN": ADMIN_TOKEN})


# ---- helpers (also used by test_devicesync_rest) -------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(claims, secret=SECRET, header=None):
    """A JWT signed like jsonwebtoken does (HS256)."""
    h = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    p = b64url(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), ("%s.%s" % (h, p)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (h, p, b64url(sig))


def new_user():
    """A user id and a valid token for it (accounts are only needed by REST tests)."""
    uid = str(uuid.uuid4())
    now = int(time.time())
    return uid, hs256({"userId": uid, "email": uid + "@example.com", "iat": now,
                       "exp": now + 3600})


class Device:
    """A python-socketio client that queues every event it gets."""

    def __init__(self, base_url, token, info=None, device_id=None, last_seq=None, name="device",
                 query=None):
        self.base_url, self.token, self.name = base_url, token, name
        self.info = {"name": name, "type": "desktop"} if info is None else info
        self.device_id = device_id
        self.last_seq = last_seq
        self.query = query
        self.events = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._on_any)
        self.sio.on("connect_error", lambda data: self.events.put(("connect_error", data)))
        self.sio.on("disconnect", lambda: self.events.put(("disconnect", None)))
        self.restored = None

    def _on_any(self, event, *args):
        self.events.put((event, args[0] if args else None))

    def url(self):
        q = {"deviceInfo": json.dumps(self.info)} if self.info is not False else {}
        q.update(self.query or {})
        return self.base_url.rstrip("/") + "/?" + urllib.parse.urlencode(q)

    def connect(self, restored=True, wait_timeout=None):
        auth = {"token": self.token}
        if self.device_id:
            auth["deviceId"] = self.device_id
        if self.last_seq is not None:
            auth["lastSeq"] = self.last_seq
        self.sio.connect(self.url(), auth=auth, transports=["websocket"],
                         wait_timeout=wait_timeout or RECV_TIMEOUT)
        if restored:
            self.restored = self.expect("session-restored")
            self.device_id = self.restored["deviceId"]
        return self

    def get(self, timeout=None):
        try:
            return self.events.get(timeout=timeout or RECV_TIMEOUT)
        except queue.Empty:
            raise AssertionError("%s: no event within %.1fs" % (self.name, timeout or RECV_TIMEOUT))

    def expect(self, event, timeout=None, skip=(), **fields):
        """The next event (ignoring those named in skip) must be `event` with these fields."""
        while True:
            ev, data = self.get(timeout)
            if ev in skip:
                continue
            assert ev == event, "%s: wanted %s, got %s %r" % (self.name, event, ev, data)
            for k, v in fields.items():
                assert data.get(k) == v, "%s: wanted %s=%r in %r" % (self.name, k, v, data)
            return data

    def quiet(self, timeout=QUIET_TIMEOUT, ignore=()):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                ev, data = self.events.get(timeout=left)
            except queue.Empty:
                return
            assert ev in ignore, "%s: expected nothing, got %s %r" % (self.name, ev, data)

    def emit(self, event, data):
        self.sio.emit(event, data)

    def call(self, event, data):
        return self.sio.call(event, data, timeout=RECV_TIMEOUT)

    def close(self):
        try:
            self.sio.disconnect()
        except Exception:
            pass


@pytest.fixture
def devices():
    """Factory for Devices that are disconnected when the test ends."""
    made = []

    def make(*args, **kw):
        d = Device(*args, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def two_devices(cluster, devices, via_lb=False):
    """Device a on node 0 and b on node 1 (or both through haproxy) of one new user;
    a's device-connected for b is consumed."""
    uid, token = new_user()
    url_a = cluster.lb_http_url("/") if via_lb else cluster.http_url(0, "/")
    url_b = cluster.lb_http_url("/") if via_lb else cluster.http_url(1, "/")
    a = devices(url_a, token, name="a").connect()
    b = devices(url_b, token, name="b").connect()
    a.expect("device-connected", deviceId=b.device_id)
    return uid, token, a, b


# ---- connecting ---------------------------------------------------------------------

def test_two_devices_on_two_nodes(cluster, devices):
    uid, token = new_user()
    a = devices(cluster.http_url(0, "/"), token, name="a",
                info={"name": "Chrome Desktop", "type": "desktop", "viewport": "1920x1080"})
    a.connect()
    assert a.restored["userId"] == uid
    assert a.restored["sessionData"] == {} and a.restored["versions"] == {}
    assert uuid.UUID(a.device_id).version == 4
    assert [d["deviceId"] for d in a.restored["devices"]] == [a.device_id]
    b = devices(cluster.http_url(1, "/"), token, name="b", info={"name": "Phone", "type": "mobile"})
    b.connect()
    assert b.device_id != a.device_id
    online = {d["deviceId"]: d["deviceInfo"] for d in b.restored["devices"]}
    assert online == {b.device_id: {"name": "Phone", "type": "mobile"},
                      a.device_id: {"name": "Chrome Desktop", "type": "desktop",
                                    "viewport": "1920x1080"}}
    msg = a.expect("device-connected", deviceId=b.device_id)
    assert msg["deviceInfo"] == {"name": "Phone", "type": "mobile"}
    assert isinstance(msg["timestamp"], int)
    b.quiet()
    b.close()
    a.expect("device-disconnected", deviceId=b.device_id)


def test_through_haproxy(cluster, devices):
    _, _, a, b = two_devices(cluster, devices, via_lb=True)
    assert a.call("realtime-event", {"type": "t", "payload": 1})["success"] is True
    assert b.expect("realtime-event")["sourceDeviceId"] == a.device_id


def test_device_id_is_stable_on_reconnect(cluster, devices):
    uid, token, a, b = two_devices(cluster, devices)
    a.call("session-update", {"sessionKey": "editor", "state": {"text": "v1"}})
    b.expect("session-updated")
    old = b.device_id
    b.close()
    a.expect("device-disconnected", deviceId=old)
    # back on the other node with its id: same device, state restored with versions
    b2 = devices(cluster.http_url(0, "/"), token, name="b2", device_id=old).connect()
    assert b2.device_id == old
    assert b2.restored["sessionData"] == {"editor": {"text": "v1"}}
    assert b2.restored["versions"] == {"editor": 1}
    a.expect("device-connected", deviceId=old)
    # the query works too; an id that is not one of this user's devices gets a new one
    b2.close()
    a.expect("device-disconnected", deviceId=old)
    b3 = devices(cluster.http_url(1, "/"), token, name="b3", query={"deviceId": old}).connect()
    assert b3.device_id == old
    _, other_token = new_user()
    c = devices(cluster.http_url(1, "/"), other_token, name="c", device_id=old).connect()
    assert c.device_id != old
    d = devices(cluster.http_url(1, "/"), token, name="d", device_id="not-a-device").connect()
    assert d.device_id not in (old, a.device_id)


def wait_seen_leaving(cluster, uid, device):
    """Until device_seen recorded the device's leaving (last seen after its claim)."""
    r, key = redis_client(cluster), PREFIX + "devices:{%s}" % uid
    deadline = time.monotonic() + 5 * SCALE
    while int(r.hget(key, "l:" + device) or 0) <= int(r.hget(key, "c:" + device) or 0):
        assert time.monotonic() < deadline, "%s not seen leaving" % device
        time.sleep(0.05)


def test_device_without_id_gets_its_offline_record_back(cluster, devices):
    """The seed's client never sends auth.deviceId: a device that names no id gets
    the most recently seen offline record of its user with the same deviceInfo (so
    reconnects do not pile up records); an online or just handed-out one never."""
    uid, token = new_user()
    info = {"name": "Chrome", "type": "desktop"}
    n0, n1 = cluster.http_url(0, "/"), cluster.http_url(1, "/")
    a = devices(n0, token, name="a", info=info).connect()
    b = devices(n1, token, name="b", info=info).connect()  # a is online: b is another
    assert b.device_id != a.device_id
    a.expect("device-connected", deviceId=b.device_id)
    b.close()
    a.expect("device-disconnected", deviceId=b.device_id)
    wait_seen_leaving(cluster, uid, b.device_id)
    c = devices(n0, token, name="c", info=info).connect()
    assert c.device_id == b.device_id
    d = devices(n1, token, name="d", info={"name": "Phone", "type": "mobile"}).connect()
    assert d.device_id not in (a.device_id, b.device_id)
    # two offline records with this info: the one seen last comes back first
    c.close()
    wait_seen_leaving(cluster, uid, c.device_id)
    a.close()
    wait_seen_leaving(cluster, uid, a.device_id)
    e = devices(n1, token, name="e", info=info).connect()
    f = devices(n0, token, name="f", info=info).connect()
    g = devices(n1, token, name="g", info=info).connect()
    assert (e.device_id, f.device_id) == (a.device_id, b.device_id)
    assert g.device_id not in (a.device_id, b.device_id, d.device_id)
    r, key = redis_client(cluster), PREFIX + "devices:{%s}" % uid
    assert len([k for k in r.hkeys(key) if k.startswith("f:")]) == 4
    # a record handed out moments ago (not joined yet) is not handed out again
    claimed = str(uuid.uuid4())
    now = int(time.time() * 1000)
    other = {"name": "Tablet", "type": "tablet"}
    r.hset(key, mapping={"f:" + claimed: now - 60000, "l:" + claimed: now - 1000,
                         "i:" + claimed: json.dumps(other), "c:" + claimed: now})
    h = devices(n0, token, name="h", info=other).connect()
    assert h.device_id != claimed
    # ... until the claim lapses (AUTH_TIMEOUT, 2 s here)
    h.close()
    wait_seen_leaving(cluster, uid, h.device_id)
    r.hdel(key, *(p + h.device_id for p in ("f:", "l:", "i:", "c:")))
    then = int(time.time() * 1000) - 3000
    r.hset(key, mapping={"l:" + claimed: then, "c:" + claimed: then})
    i = devices(n1, token, name="i", info=other).connect()
    assert i.device_id == claimed
    # two tabs at once, one offline record with their info: two ids, nobody superseded
    i.close()
    wait_seen_leaving(cluster, uid, claimed)
    tabs = [devices(n, token, name="tab%d" % k, info=other) for k, n in enumerate((n0, n1))]
    threads = [threading.Thread(target=t.connect) for t in tabs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert claimed in {t.device_id for t in tabs} and tabs[0].device_id != tabs[1].device_id
    for t in tabs:
        t.quiet(ignore=("device-connected",))


def test_same_device_twice_supersedes_across_nodes(cluster, devices):
    uid, token, a, b = two_devices(cluster, devices)
    b2 = devices(cluster.http_url(0, "/"), token, name="b2", device_id=b.device_id).connect()
    assert b2.device_id == b.device_id
    err = b.expect("error", skip=("device-connected",))
    assert err["message"] == "Device connected elsewhere"
    b.expect("disconnect")
    # the replacement gets what is sent to that device
    a.call("device-message", {"targetDeviceId": b.device_id, "message": "hi"})
    assert b2.expect("device-message")["message"] == "hi"


# ---- session state ---------------------------------------------------------------------

def test_session_update_reaches_other_devices_not_the_sender(cluster, devices):
    _, token, a, b = two_devices(cluster, devices)
    c = devices(cluster.http_url(1, "/"), token, name="c").connect()
    a.expect("device-connected", deviceId=c.device_id)
    b.expect("device-connected", deviceId=c.device_id)
    state = {"text": "Hello World", "cursor": 5, "selection": {"start": 0, "end": 11}}
    a.emit("session-update", {"sessionKey": "editor-state", "state": state})
    # without an ack the sender learns its version from session-saved
    saved = a.expect("session-saved")
    assert saved == {"success": True, "sessionKey": "editor-state", "version": 1,
                     "seq": saved["seq"]}
    for dev in (b, c):
        msg = dev.expect("session-updated")
        assert msg["sessionKey"] == "editor-state" and msg["state"] == state
        assert msg["deviceId"] == a.device_id and msg["version"] == 1
    a.quiet()
    # with an ack: the ack carries the version
    ack = b.call("session-update", {"sessionKey": "editor-state", "state": {"text": "x"},
                                    "version": 1})
    assert ack == {"success": True, "sessionKey": "editor-state", "version": 2, "seq": ack["seq"]}
    assert a.expect("session-updated")["version"] == 2
    b.quiet(ignore=("session-updated",))  # c's copy is not b's business; b gets no echo


def test_last_writer_wins_without_version(cluster, devices):
    _, _, a, b = two_devices(cluster, devices)
    versions = []
    for i in range(3):
        dev = (a, b)[i % 2]
        versions.append(dev.call("session-update", {"sessionKey": "k", "state": i})["version"])
    assert versions == [1, 2, 3]
    states = [m["state"] for m in (a.expect("session-updated"),)]  # from b's update
    assert states == [1]


def test_conflict_on_stale_version(cluster, devices):
    _, _, a, b = two_devices(cluster, devices)
    assert a.call("session-update", {"sessionKey": "doc", "state": {"v": "a"}, "version": 0})[
        "version"] == 1
    b.expect("session-updated", version=1)
    ack = b.call("session-update", {"sessionKey": "doc", "state": {"v": "stale"}, "version": 0})
    assert ack["success"] is False and ack["error"] == "Version conflict"
    conflict = b.expect("session-conflict")
    assert conflict == {"sessionKey": "doc", "state": {"v": "a"}, "version": 1, "baseVersion": 0,
                        "message": "Version conflict"}
    assert ack["conflict"] == conflict
    a.quiet()  # nothing was published
    # retrying on the current version works
    assert b.call("session-update", {"sessionKey": "doc", "state": {"v": "b"}, "version": 1})[
        "version"] == 2
    assert a.expect("session-updated")["state"] == {"v": "b"}
    # no ack asked: the conflict event alone
    a.emit("session-update", {"sessionKey": "doc", "state": 0, "baseVersion": 1})
    assert a.expect("session-conflict")["version"] == 2


def test_two_devices_racing_the_same_key(cluster, devices):
    """Both devices update one key from the same version at once, on different
    nodes: exactly one wins each round; the other gets session-conflict with the
    winner's state and version."""
    _, _, a, b = two_devices(cluster, devices)
    version = 0
    for round_ in range(5):
        results = {}

        def update(dev):
            results[dev.name] = dev.call("session-update", {
                "sessionKey": "race", "state": {"by": dev.name, "round": round_},
                "version": version})

        threads = [threading.Thread(target=update, args=(d,)) for d in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [n for n, r in results.items() if r["success"]]
        assert len(winners) == 1, results
        winner, loser = (a, b) if winners == ["a"] else (b, a)
        assert results[winner.name]["version"] == version + 1
        conflict = loser.expect("session-conflict", skip=("session-updated",))
        assert conflict["state"] == {"by": winner.name, "round": round_}
        assert conflict["version"] == version + 1
        assert results[loser.name]["conflict"] == conflict
        # the loser also hears the winner's update; the winner hears nothing
        loser.quiet(0.2, ignore=("session-updated",))
        winner.quiet(0.2)
        version += 1
    r = redis_client(cluster)
    uid = a.restored["userId"]
    assert r.hget(PREFIX + "session:devicesync:{%s}" % uid, "v:race") == str(version)
    assert json.loads(r.hget(PREFIX + "session:devicesync:{%s}" % uid, "s:race"))["round"] == 4


def test_session_update_errors(cluster, devices):
    _, _, a, b = two_devices(cluster, devices)
    bad = [
        ({"state": 1}, "Invalid sessionKey"),
        ({"sessionKey": "", "state": 1}, "Invalid sessionKey"),
        ({"sessionKey": "x" * 129, "state": 1}, "Invalid sessionKey"),
        ({"sessionKey": 5, "state": 1}, "Invalid sessionKey"),
        ({"sessionKey": "k"}, "Missing state"),
        ({"sessionKey": "k", "state": 1, "version": -1}, "Invalid version"),
        ({"sessionKey": "k", "state": 1, "version": "1"}, "Invalid version"),
        ({"sessionKey": "k", "state": 1, "version": 1.5}, "Invalid version"),
    ]
    for payload, msg in bad:
        ack = a.call("session-update", payload)
        assert ack["success"] is False and ack["error"].startswith(msg), (payload, ack)
        err = a.expect("error")
        assert err["message"].startswith(msg) and err["event"] == "session-update"
    ack = a.call("session-update", ["not", "an", "object"])
    assert ack["success"] is False and "expected an object" in ack["error"]
    a.expect("error")
    b.quiet()


# ---- realtime events and device messages ----------------------------------------------

def test_realtime_event_with_source_device(cluster, devices):
    _, _, a, b = two_devices(cluster, devices)
    a.emit("realtime-event", {"type": "cursor-move", "payload": {"position": 10}})
    msg = b.expect("realtime-event")
    assert msg["type"] == "cursor-move" and msg["payload"] == {"position": 10}
    assert msg["sourceDeviceId"] == a.device_id
    assert isinstance(msg["timestamp"], int) and isinstance(msg["seq"], int)
    a.quiet()
    # order is kept across nodes
    for i in range(20):
        b.emit("realtime-event", {"type": "n", "payload": i})
    assert [a.expect("realtime-event")["payload"] for _ in range(20)] == list(range(20))
    ack = a.call("realtime-event", {"type": "acked"})
    assert ack["success"] is True and isinstance(ack["seq"], int)
    assert b.expect("realtime-event")["payload"] is None


def test_device_message_to_one_device_on_another_node(cluster, devices):
    _, token, a, b = two_devices(cluster, devices)
    c = devices(cluster.http_url(0, "/"), token, name="c").connect()
    a.expect("device-connected")
    b.expect("device-connected")
    a.emit("device-message", {"targetDeviceId": b.device_id,
                              "message": {"type": "ping", "data": {}}})
    msg = b.expect("device-message")
    assert msg["message"] == {"type": "ping", "data": {}}
    assert msg["sourceDeviceId"] == a.device_id and msg["targetDeviceId"] == b.device_id
    c.quiet()
    a.quiet()
    assert b.call("device-message", {"targetDeviceId": a.device_id, "message": 1})["success"]
    assert a.expect("device-message")["message"] == 1


def test_device_message_to_unknown_or_offline_device(cluster, devices):
    _, token, a, b = two_devices(cluster, devices)
    for target in (str(uuid.uuid4()), "nonsense id", a.device_id):
        ack = a.call("device-message", {"targetDeviceId": target, "message": "x"})
        assert ack["success"] is False, (target, ack)
        err = a.expect("error")
        assert err["event"] == "device-message"
    ack = a.call("device-message", {"message": "x"})
    assert ack["success"] is False and "targetDeviceId" in ack["error"]
    a.expect("error")
    # a string too long to be an id is an unknown device, not a non-string
    for target in ("x" * 38, a.device_id + "0", "y" * 5000, ""):
        ack = a.call("device-message", {"targetDeviceId": target, "message": "x"})
        assert ack == {"success": False, "error": "Target device not found or offline"}, target
        assert a.expect("error")["message"] == "Target device not found or offline"
    ack = a.call("device-message", {"targetDeviceId": 12, "message": "x"})
    assert ack == {"success": False, "error": "Invalid targetDeviceId: expected a string"}
    a.expect("error")
    gone = b.device_id
    b.close()
    a.expect("device-disconnected", deviceId=gone)
    ack = a.call("device-message", {"targetDeviceId": gone, "message": "x"})
    assert ack == {"success": False, "error": "Target device not found or offline"}
    assert a.expect("error")["message"] == "Target device not found or offline"
    # a device of another user is unknown here
    _, other = new_user()
    o = devices(cluster.http_url(1, "/"), other, name="other").connect()
    ack = a.call("device-message", {"targetDeviceId": o.device_id, "message": "x"})
    assert ack["success"] is False
    o.quiet()


def test_missed_messages_are_delivered_on_return(cluster, devices):
    """A device that reconnects with its id gets what was sent to the user's
    devices while it was away, after session-restored."""
    _, token, a, b = two_devices(cluster, devices)
    gone = b.device_id
    b.close()
    a.expect("device-disconnected", deviceId=gone)
    a.emit("realtime-event", {"type": "while-away", "payload": 1})
    a.call("session-update", {"sessionKey": "k", "state": "new"})
    b2 = devices(cluster.http_url(0, "/"), token, name="b2", device_id=gone).connect()
    assert b2.restored["sessionData"] == {"k": "new"}
    assert b2.expect("realtime-event")["type"] == "while-away"
    last = b2.expect("session-updated")
    assert last["state"] == "new"
    # lastSeq in auth asks for everything retained after it, on any node
    b2.close()
    a.expect("device-disconnected", deviceId=gone, skip=("device-connected",))
    b3 = devices(cluster.http_url(1, "/"), token, name="b3", device_id=gone,
                 last_seq=last["seq"] - 2).connect()
    assert b3.restored["seq"] == last["seq"]
    assert b3.expect("realtime-event")["seq"] == last["seq"] - 1
    assert b3.expect("session-updated")["seq"] == last["seq"]
    b3.quiet()


def test_unknown_event_gets_an_error(cluster, devices):
    _, _, a, b = two_devices(cluster, devices)
    ack = a.call("no-such-event", {"x": 1})
    assert ack == {"success": False, "error": "Unknown event: no-such-event"}
    assert a.expect("error") == {"message": "Unknown event: no-such-event",
                                 "event": "no-such-event"}
    b.quiet()


# ---- refused connections ----------------------------------------------------------------

def refused(cluster, devices, token, **kw):
    """A python-socketio connect that must be refused; returns the connect_error data.
    (The client waits wait_timeout after a CONNECT_ERROR before it gives up.)"""
    d = devices(cluster.http_url(0, "/"), token, name="refused", **kw)
    with pytest.raises(socketio.exceptions.ConnectionError):
        d.connect(wait_timeout=1.0 * SCALE)
    return d.expect("connect_error", skip=("disconnect",))


def test_expired_token_gets_connect_error(cluster, devices):
    data = refused(cluster, devices, hs256({"userId": "u1", "exp": int(time.time()) - 10}))
    assert data == {"message": "Authentication error", "data": {"reason": "token expired"}}


def test_bad_device_info_gets_connect_error(cluster, devices):
    _, token = new_user()
    data = refused(cluster, devices, token, info=False, query={"deviceInfo": "{not json"})
    assert data == {"message": "Invalid deviceInfo: expected a JSON object"}


@pytest.mark.parametrize("auth,reason", [
    ({"token": hs256({"userId": "u1"}, secret="another secret")}, "invalid signature"),
    ({"token": hs256({"email": "x@y.z"})}, None),
    ({"token": hs256({"userId": "a/b"})}, None),
    ({"token": hs256({"userId": "u1"}, header={"alg": "none", "typ": "JWT"})}, None),
    ({"token": "not a token"}, None),
    ({"token": 42}, "malformed token"),
    ({"token": None}, "no token"),
    ({}, "no token"),
    (None, "no token"),
    ({"token": "x", "lastSeq": -1}, None),
])
async def test_bad_auth_gets_connect_error(cluster, auth, reason):
    c = await Client.connect(raw_url(cluster, 1), "badauth")
    assert (await c.recv_raw())[0] == "0"
    await c.send("40" + (json.dumps(auth) if auth is not None else ""))
    m = await c.recv_raw()
    assert m.startswith("44{"), m
    data = json.loads(m[2:])
    assert data["message"] == "Authentication error", data
    if reason:
        assert data["data"]["reason"] == reason or reason in data["data"]["reason"], data
    await c.close()


def test_other_namespace_is_refused(cluster):
    _, token = new_user()
    sio = socketio.Client(reconnection=False)
    errors = queue.Queue()
    sio.on("connect_error", lambda data: errors.put(data), namespace="/admin")
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(cluster.http_url(0, "/"), auth={"token": token}, transports=["websocket"],
                    namespaces=["/admin"], wait_timeout=1.0 * SCALE)
    assert errors.get(timeout=RECV_TIMEOUT) == {"message": "Invalid namespace"}
    sio.disconnect()


# ---- the wire, raw -------------------------------------------------------------------------

def raw_url(cluster, i=0, query="EIO=4&transport=websocket"):
    return cluster.url(i, "/socket.io/?" + query)


async def raw_connect(cluster, token, i=0, query="EIO=4&transport=websocket"):
    c = await Client.connect(raw_url(cluster, i, query), "raw")
    opened = await c.recv_raw()
    assert opened[0] == "0", opened
    await c.send("40" + json.dumps({"token": token}))
    connected = await c.recv_raw()
    assert connected.startswith("40{\"sid\":"), connected
    restored = await c.recv_raw()
    assert restored.startswith("42[\"session-restored\""), restored
    return c, json.loads(opened[1:]), json.loads(restored[2:])[1]


async def test_open_packet_and_heartbeat(cluster):
    _, token = new_user()
    c, opened, _ = await raw_connect(cluster, token)
    assert set(opened) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
    assert opened["upgrades"] == [] and opened["maxPayload"] == 65536
    assert opened["pingInterval"] == HEARTBEAT * 1000 and opened["pingTimeout"] == HEARTBEAT * 1000
    t0 = time.monotonic()
    for _ in range(3):  # answering keeps the socket open
        assert await c.recv_raw(timeout=3 * HEARTBEAT * SCALE) == "2"
        await c.send("3")
    assert time.monotonic() - t0 >= 2 * HEARTBEAT * 0.8
    # not answering: closed after pingTimeout
    assert await c.recv_raw(timeout=3 * HEARTBEAT * SCALE) == "2"
    await c.wait_closed(timeout=4 * HEARTBEAT * SCALE)


async def test_acks_and_malformed_packets(cluster):
    uid, token = new_user()
    c, _, restored = await raw_connect(cluster, token)

    async def next_packet():
        while True:
            m = await c.recv_raw()
            if m == "2":
                await c.send("3")
                continue
            return m

    await c.send('4217["realtime-event",{"type":"t"}]')
    ack = await next_packet()
    assert ack.startswith("4317[") and json.loads(ack[4:])[0]["success"] is True
    await c.send('42["session-update",{"sessionKey":"a","state":[1,2]}]')
    saved = await next_packet()
    assert saved.startswith('42["session-saved"')
    for bad in ["42[", "4", "42{\"x\":1}", "49", "42[1]", "4217", "42[\"x\"]junk", "451-[\"ev\",{\"_placeholder\":true,\"num\":0}]"]:
        await c.send(bad)
        err = await next_packet()
        assert err.startswith('42["error",'), (bad, err)
        assert json.loads(err[2:])[1]["message"], err
    await c.send(b"\x00\x01binary")
    await c.send(b"\x00\x01binary")  # attachments after a refused packet: no more errors
    await c.send("6")  # noop
    await c.send(b"\x00\x02lone binary")
    err = await next_packet()
    assert "Binary attachments are not supported" in err
    await c.send("40/admin," + json.dumps({"token": token}))
    assert await next_packet() == '44/admin,{"message":"Invalid namespace"}'
    await c.send('42/admin,["realtime-event",{}]')  # not connected there: ignored
    await c.send('421["realtime-event",{"type":"still-open"}]')
    assert (await next_packet()).startswith("431[")
    # a client DISCONNECT leaves "/"; events are then ignored, a new CONNECT works
    await c.send("41")
    await c.send('422["realtime-event",{}]')
    await c.send("40" + json.dumps({"token": token, "deviceId": restored["deviceId"]}))
    assert (await next_packet()).startswith("40{")
    again = json.loads((await next_packet())[2:])
    assert again[0] == "session-restored" and again[1]["deviceId"] == restored["deviceId"]
    await c.send("1")  # Engine.IO close
    await c.wait_closed()


async def test_handshake_without_eio4_or_connect_is_closed(cluster):
    c = await Client.connect(raw_url(cluster, 1, "EIO=3&transport=websocket"), "eio3")
    assert await c.wait_closed() == 1008
    c = await Client.connect(raw_url(cluster, 1, "transport=websocket"), "noeio")
    assert await c.wait_closed() == 1008
    # no CONNECT within AUTH_TIMEOUT: closed
    c = await Client.connect(raw_url(cluster, 1), "idle")
    assert (await c.recv_raw())[0] == "0"
    t0 = time.monotonic()
    while True:
        try:
            m = await c.recv_raw(timeout=5 * SCALE)
        except AssertionError:
            break
        if m == "2":
            await c.send("3")
    assert c.ws.close_code == 1008 and time.monotonic() - t0 >= 1.5


# ---- Redis records ---------------------------------------------------------------------------

def test_redis_records(cluster, devices):
    uid, token, a, b = two_devices(cluster, devices)
    a.call("session-update", {"sessionKey": "editor", "state": {"t": 1}})
    r = redis_client(cluster)
    session = PREFIX + "session:devicesync:{%s}" % uid
    h = r.hgetall(session)
    assert h["kind"] == "devicesync" and json.loads(h["s:editor"]) == {"t": 1}
    assert h["v:editor"] == "1"
    assert h["m:" + a.device_id] and h["m:" + b.device_id]
    assert json.loads(h["i:" + b.device_id])["deviceInfo"] == {"name": "b", "type": "desktop"}
    assert r.ttl(session) == -1  # a user's state lasts like the account (DEVICE_STATE_TTL)
    devs = r.hgetall(PREFIX + "devices:{%s}" % uid)
    assert set(devs) == {p + d for p in ("f:", "l:", "i:", "c:")
                         for d in (a.device_id, b.device_id)}
    assert r.ttl(PREFIX + "devices:{%s}" % uid) == -1
    first_seen = int(devs["l:" + b.device_id])
    b.close()
    a.expect("device-disconnected")
    time.sleep(0.2)
    assert r.hget(session, "m:" + b.device_id) == ""
    assert int(r.hget(PREFIX + "devices:{%s}" % uid, "l:" + b.device_id)) >= first_seen


def test_admin_delete_ends_the_users_session(cluster, devices):
    uid, _, a, b = two_devices(cluster, devices)
    a.call("session-update", {"sessionKey": "k", "state": 1})
    req = urllib.request.Request(cluster.lb_http_url("/api/sessions/" + uid), method="DELETE",
                                 headers={"Authorization": "Bearer " + ADMIN_TOKEN})
    with urllib.request.urlopen(req, timeout=RECV_TIMEOUT) as r:
        assert json.loads(r.read()) == {"deleted": True, "id": uid, "kind": "devicesync"}
    for dev in (a, b):
        assert dev.expect("error", skip=("session-updated",))["message"] == "Session ended"
        dev.expect("disconnect")
    assert redis_client(cluster).exists(PREFIX + "session:devicesync:{%s}" % uid) == 0
