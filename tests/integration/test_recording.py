"""Recording dialect (seed 004, path /sync) across nodes: host/guest join,
server-made ids, the two-device limit, device_connected/disconnected,
start/stop to every device with the state in Redis, supersede, resume on the
other node, bad input and 1009. Host and guest sit on different nodes unless
a test says otherwise."""

import json
import random
import re
import string
import time

import pytest
import websockets

from conftest import PREFIX, Client, clear_ratelimit, redis_client

MAX = 65536
SID_RE = re.compile(r"^[A-Z0-9]{6}$")
UNKNOWN_SID = "QQ8QQ8"


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2, haproxy=True, env={"MAX_MESSAGE_BYTES": MAX, "DRAIN_TIMEOUT": 0})


@pytest.fixture(autouse=True)
def _fresh_ratelimit(cluster):
    clear_ratelimit(cluster)
    yield
    clear_ratelimit(cluster)


# ---- helpers (also used by test_sessions_api) ------------------------------------

def rec_key(sid):
    return PREFIX + "session:recording:{%s}" % sid


def new_sid():
    return "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(6))


def is_recording(value):
    """The `s:recording` field: absent/empty/0/false while idle, anything else while recording."""
    return value not in (None, "", "0", "false", "null", "idle", "stopped")


class RecClient(Client):
    """A recording-dialect client: {"type":"error","message":…}, deviceId."""

    def __init__(self, ws, name):
        super().__init__(ws, name)
        self.sid = None
        self.device = None
        self.device_name = None
        self.joined = None

    async def recv(self, timeout=None):
        msg = await Client.recv(self, timeout)
        if isinstance(msg.get("seq"), int) and not isinstance(msg.get("seq"), bool):
            self.last_seq = msg["seq"]
        return msg

    async def expect_error(self, message=None, timeout=None):
        msg = await self.expect("error", timeout)
        assert isinstance(msg.get("message"), str) and msg["message"], \
            "%s: malformed error %r" % (self.name, msg)
        if message is not None:
            assert msg["message"] == message, "%s: wanted error %r, got %r" % (self.name, message, msg)
        return msg

    async def join(self, sid=None, is_host=False, device_name=None, device=None, last_seq=None,
                   others=()):
        """join; checks session_joined and one device_connected per device in `others`
        (RecClients already in the session). Returns the session_joined reply."""
        m = {"type": "join", "isHost": is_host, "deviceName": device_name or self.name}
        if sid is not None:
            m["sessionId"] = sid
        if device is not None:
            m["deviceId"] = device
        if last_seq is not None:
            m["lastSeq"] = last_seq
        await self.send(m)
        msg = await self.expect("session_joined")
        assert isinstance(msg.get("deviceId"), str) and msg["deviceId"].startswith("d"), msg
        assert SID_RE.match(msg.get("sessionId") or ""), msg
        if sid:
            assert msg["sessionId"] == sid, msg
        if device is not None:
            assert msg["deviceId"] == device, msg
        assert msg.get("isHost") is is_host, msg
        self.sid, self.device, self.device_name = msg["sessionId"], msg["deviceId"], m["deviceName"]
        self.joined = msg
        want = [{"deviceId": self.device, "deviceName": self.device_name, "isHost": is_host}]
        want += [{"deviceId": o.device, "deviceName": o.device_name,
                  "isHost": bool(o.joined and o.joined.get("isHost"))} for o in others]
        assert sorted(msg.get("devices") or [], key=lambda d: d.get("deviceId", "")) == \
            sorted(want, key=lambda d: d["deviceId"]), msg
        for _ in others:
            await self.expect_device("device_connected", [o for o in others])
        return msg

    async def expect_device(self, type_, candidates):
        """device_connected/device_disconnected naming one of candidates."""
        msg = await self.expect(type_)
        match = [o for o in candidates if o.device == msg.get("deviceId")]
        assert match, "%s: %s for an unexpected device: %r" % (self.name, type_, msg)
        assert msg == {"type": type_, "deviceId": match[0].device,
                       "deviceName": match[0].device_name, "sessionId": self.sid}, msg
        return msg

    async def start(self, timestamp=None, type_="start_recording"):
        m = {"type": type_}
        if timestamp is not None:
            m["timestamp"] = timestamp
        await self.send(m)

    async def expect_command(self, type_, initiator, timestamp=None, seq=None):
        msg = await self.expect(type_)
        assert set(msg) == {"type", "sessionId", "timestamp", "initiator", "seq"}, msg
        assert msg["sessionId"] == self.sid and msg["initiator"] == initiator.device, msg
        if timestamp is not None:
            assert msg["timestamp"] == timestamp, msg
        if seq is not None:
            assert msg["seq"] == seq, "%s: wanted seq %d, got %r" % (self.name, seq, msg)
        return msg


def surl(cluster, i):
    return cluster.url(i, "/sync")


async def rconnect(url, name):
    return await RecClient.connect(url, name)


async def host_and_guest(host_url, guest_url, sid=None, host_name="iPhone 15", guest_name="Pixel 8"):
    host = await rconnect(host_url, host_name)
    await host.join(sid, is_host=True)
    guest = await rconnect(guest_url, guest_name)
    await guest.join(host.sid, is_host=False, others=[host])
    await host.expect_device("device_connected", [guest])
    return host, guest


async def close_all(*clients):
    for c in clients:
        await c.close()


async def start_stop_both(initiator, other, type_, ts):
    """initiator sends type_ with ts; both get it with the same seq; returns that seq."""
    await initiator.start(ts, type_)
    m = await initiator.expect_command(type_, initiator, timestamp=ts)
    await other.expect_command(type_, initiator, timestamp=ts, seq=m["seq"])
    return m["seq"]


# ---- join ----------------------------------------------------------------------------------

async def test_host_gets_server_made_id(cluster):
    r = redis_client(cluster)
    hosts = []
    for i, extra in enumerate([{}, {"sessionId": ""}, {}, {"sessionId": ""}]):
        h = await rconnect(surl(cluster, i % 2), "host%d" % i)
        m = {"type": "join", "isHost": True, "deviceName": "iPhone 15"}
        m.update(extra)
        await h.send(m)
        msg = await h.expect("session_joined")
        assert SID_RE.match(msg.get("sessionId") or ""), msg
        assert msg.get("isHost") is True and msg["deviceId"].startswith("d"), msg
        assert msg["devices"] == [{"deviceId": msg["deviceId"], "deviceName": "iPhone 15",
                                   "isHost": True}], msg
        h.sid, h.device = msg["sessionId"], msg["deviceId"]
        hf = r.hgetall(rec_key(h.sid))
        assert hf.get("kind") == "recording", hf
        assert hf.get("m:" + h.device), hf
        assert not is_recording(hf.get("s:recording")), hf
        hosts.append(h)
    assert len({h.sid for h in hosts}) == len(hosts)
    await hosts[0].quiet()
    await close_all(*hosts)


async def test_host_and_guest_on_different_nodes(cluster):
    sid = new_sid()
    host = await rconnect(surl(cluster, 0), "iPhone 15")
    await host.join(sid, is_host=True)
    guest = await rconnect(surl(cluster, 1), "Pixel 8")
    await guest.join(sid, others=[host])  # session_joined (both devices), device_connected(host)
    assert guest.device != host.device
    await host.expect_device("device_connected", [guest])
    await host.quiet()
    await guest.quiet()
    # The guest leaves: the host is told.
    await guest.close()
    await host.expect_device("device_disconnected", [guest])
    # A new guest (no isHost at all) on the other node.
    g2 = await rconnect(surl(cluster, 0), "iPad")
    await g2.send({"type": "join", "sessionId": sid, "deviceName": "iPad"})
    msg = await g2.expect("session_joined", sessionId=sid, isHost=False)
    g2.sid, g2.device, g2.device_name = sid, msg["deviceId"], "iPad"
    assert len(msg["devices"]) == 2, msg
    await g2.expect_device("device_connected", [host])
    await host.expect_device("device_connected", [g2])
    # The host leaves: the guest is told.
    await host.close()
    await g2.expect_device("device_disconnected", [host])
    await g2.quiet()
    await g2.close()


async def test_host_joins_existing_session(cluster):
    """isHost with an existing id joins it (the host's app restarted)."""
    host, guest = await host_and_guest(surl(cluster, 0), surl(cluster, 1), sid=new_sid())
    await host.close()
    await guest.expect_device("device_disconnected", [host])
    host2 = await rconnect(surl(cluster, 1), "iPhone 15 again")
    await host2.join(guest.sid, is_host=True, others=[guest])
    await guest.expect_device("device_connected", [host2])
    await start_stop_both(host2, guest, "start_recording", 1640995200000)
    await close_all(host2, guest)


async def test_guest_needs_existing_session(cluster):
    c = await rconnect(surl(cluster, 1), "lost guest")
    for m in ({"type": "join", "sessionId": UNKNOWN_SID, "isHost": False, "deviceName": "x"},
              {"type": "join", "sessionId": UNKNOWN_SID, "deviceName": "x"}):
        await c.send(m)
        await c.expect_error("Session not found")
        await c.ping()
    assert not redis_client(cluster).exists(rec_key(UNKNOWN_SID))
    await c.close()


async def test_third_device_gets_session_full(cluster):
    host, guest = await host_and_guest(surl(cluster, 0), surl(cluster, 1))
    for url, is_host in ((surl(cluster, 0), False), (surl(cluster, 1), False),
                         (cluster.lb_url("/sync"), True)):
        third = await rconnect(url, "third")
        await third.send({"type": "join", "sessionId": host.sid, "isHost": is_host,
                          "deviceName": "third"})
        await third.expect_error("Session full")
        await third.ping()
        await third.send({"type": "start_recording", "timestamp": 1})
        await third.expect_error("Not in a session")
        await third.close()
    await host.quiet()
    await guest.quiet()
    # Still a working pair.
    await start_stop_both(guest, host, "start_recording", 1)
    await start_stop_both(host, guest, "stop_recording", 2)
    # Once one leaves, a new device fits.
    await guest.close()
    await host.expect_device("device_disconnected", [guest])
    g2 = await rconnect(surl(cluster, 1), "replacement")
    await g2.join(host.sid, others=[host])
    await host.expect_device("device_connected", [g2])
    await close_all(host, g2)


# ---- start / stop ---------------------------------------------------------------------------

async def test_start_stop_to_every_device_state_in_redis(cluster):
    r = redis_client(cluster)
    host, guest = await host_and_guest(surl(cluster, 0), surl(cluster, 1))
    assert not is_recording(r.hget(rec_key(host.sid), "s:recording"))
    s1 = await start_stop_both(guest, host, "start_recording", 1640995200000)
    assert is_recording(r.hget(rec_key(host.sid), "s:recording")), r.hgetall(rec_key(host.sid))
    # Starting again, from the other device on the other node: refused, nobody else told.
    await host.start(1640995200500)
    await host.expect_error("Already recording")
    await guest.start(1640995200600)
    await guest.expect_error("Already recording")
    await host.quiet()
    await guest.quiet()
    s2 = await start_stop_both(host, guest, "stop_recording", 1640995260000)
    assert s2 == s1 + 1
    assert not is_recording(r.hget(rec_key(host.sid), "s:recording")), r.hgetall(rec_key(host.sid))
    # Stopping while idle, from either node.
    await guest.start(1640995261000, "stop_recording")
    await guest.expect_error("Not recording")
    await host.start(None, "stop_recording")
    await host.expect_error("Not recording")
    await host.quiet()
    await guest.quiet()
    # And again: a second take; errors took no seq.
    s3 = await start_stop_both(host, guest, "start_recording", 1640995300000)
    assert s3 == s2 + 1
    s4 = await start_stop_both(guest, host, "stop_recording", 1640995400000)
    assert s4 == s3 + 1
    await close_all(host, guest)


async def test_state_in_redis_survives_reconnects(cluster):
    """Recording state lives in Redis, not in a node: a new pair of sockets on
    swapped nodes still sees 'Already recording'."""
    host, guest = await host_and_guest(surl(cluster, 0), surl(cluster, 1), sid=new_sid())
    await start_stop_both(host, guest, "start_recording", 10)
    await guest.close()
    await host.expect_device("device_disconnected", [guest])
    g2 = await rconnect(surl(cluster, 0), "guest-again")
    await g2.join(host.sid, others=[host])
    await host.expect_device("device_connected", [g2])
    await g2.start(11)
    await g2.expect_error("Already recording")
    await start_stop_both(g2, host, "stop_recording", 12)
    await close_all(host, g2)


async def test_timestamp_default_and_invalid(cluster):
    host, guest = await host_and_guest(surl(cluster, 1), surl(cluster, 0))
    before = int(time.time() * 1000)
    await guest.start()
    m = await guest.expect_command("start_recording", guest)
    after = int(time.time() * 1000)
    assert isinstance(m["timestamp"], int) and before - 5000 <= m["timestamp"] <= after + 5000, \
        (before, m, after)
    await host.expect_command("start_recording", guest, timestamp=m["timestamp"], seq=m["seq"])
    for bad in ("1640995260000", "abc", None, [1], {"t": 1}, True):
        await host.send({"type": "stop_recording", "timestamp": bad})
        if bad is None:
            # null: like missing (server time) would also be reasonable; only an error or the
            # stop itself is acceptable, so restart if it stopped.
            msg = await host.recv()
            if msg.get("type") == "stop_recording":
                await guest.expect("stop_recording")
                await start_stop_both(host, guest, "start_recording", 5)
            else:
                assert msg == {"type": "error", "message": "Invalid timestamp"}, msg
            continue
        await host.expect_error("Invalid timestamp")
    await guest.quiet()
    await start_stop_both(host, guest, "stop_recording", 1640995260000)
    await close_all(host, guest)


async def test_through_haproxy(cluster):
    lb = cluster.lb_url("/sync")
    host, guest = await host_and_guest(lb, lb)
    for i in range(5):
        await start_stop_both(host if i % 2 else guest, guest if i % 2 else host,
                              "start_recording", 1000 + i)
        await start_stop_both(guest if i % 2 else host, host if i % 2 else guest,
                              "stop_recording", 2000 + i)
    await host.ping()
    await guest.ping()
    await close_all(host, guest)


async def test_ping_pong(cluster):
    c = await rconnect(surl(cluster, 0), "pinger")
    await c.ping()
    host, guest = await host_and_guest(surl(cluster, 0), surl(cluster, 1))
    await guest.ping()
    await host.quiet()
    await close_all(c, host, guest)


# ---- supersede and resume ----------------------------------------------------------------

async def test_same_device_id_supersedes_across_nodes(cluster):
    host, old = await host_and_guest(surl(cluster, 0), surl(cluster, 0))
    new = await rconnect(surl(cluster, 1), old.name)
    await new.send({"type": "join", "sessionId": host.sid, "isHost": False,
                    "deviceName": old.device_name, "deviceId": old.device})
    msg = await new.expect("session_joined", sessionId=host.sid, deviceId=old.device)
    new.sid, new.device, new.device_name = host.sid, old.device, old.device_name
    while True:  # device events about the swap may come first
        m = await old.recv()
        if m.get("type") not in ("device_connected", "device_disconnected"):
            assert m == {"type": "error", "message": "Device connected elsewhere"}, m
            break
    assert await old.wait_closed() == 4001
    assert len(msg["devices"]) == 2, msg
    # The new socket hears the host; the host may see the swap as events, nothing else.
    await new.drain(0.3)
    got = await host.drain(0.3)
    assert all(m.get("type") in ("device_connected", "device_disconnected") for m in got), got
    await start_stop_both(host, new, "start_recording", 7)
    await start_stop_both(new, host, "stop_recording", 8)
    await close_all(host, new)


async def test_resume_on_other_node_with_device_id_and_last_seq(cluster):
    host, guest = await host_and_guest(surl(cluster, 0), surl(cluster, 1))
    seen = await start_stop_both(host, guest, "start_recording", 100)
    device = guest.device
    guest.abort()
    await host.expect_device("device_disconnected", [guest])
    s1 = await start_stop_both_alone(host, "stop_recording", 200)
    s2 = await start_stop_both_alone(host, "start_recording", 300)
    assert (s1, s2) == (seen + 1, seen + 2)

    back = await rconnect(surl(cluster, 0), guest.name)  # the other node now
    await back.send({"type": "join", "sessionId": host.sid, "isHost": False,
                     "deviceName": guest.device_name, "deviceId": device, "lastSeq": seen})
    await back.expect("session_joined", sessionId=host.sid, deviceId=device, isHost=False)
    back.sid, back.device, back.device_name = host.sid, device, guest.device_name
    got = [await back.recv() for _ in range(3)]
    commands = [m for m in got if m.get("type") in ("start_recording", "stop_recording")]
    events = [m for m in got if m not in commands]
    assert events == [{"type": "device_connected", "deviceId": host.device,
                       "deviceName": host.device_name, "sessionId": host.sid}], got
    assert [(m["type"], m["timestamp"], m["seq"], m["initiator"]) for m in commands] == [
        ("stop_recording", 200, seen + 1, host.device),
        ("start_recording", 300, seen + 2, host.device)], got
    await host.expect_device("device_connected", [back])
    await back.quiet()
    s3 = await start_stop_both(back, host, "stop_recording", 400)
    assert s3 == seen + 3
    await close_all(host, back)


async def start_stop_both_alone(initiator, type_, ts):
    await initiator.start(ts, type_)
    return (await initiator.expect_command(type_, initiator, timestamp=ts))["seq"]


# ---- bad input -------------------------------------------------------------------------------

BAD_UNJOINED = [
    ("not json", "Invalid JSON"),
    ('{"type":"join"', "Invalid JSON"),
    ("", "Invalid JSON"),
    ('{"type":"ping"} trailing', "Invalid JSON"),
    ("[]", None),
    ("42", None),
    ("null", None),
    ("{}", "Missing type"),
    ('{"sessionId":"ABC123","isHost":true}', "Missing type"),
    ('{"type":5}', None),
    ('{"type":null}', None),
    ('{"type":"foo"}', "Unknown message type: foo"),
    ('{"type":"START_RECORDING"}', "Unknown message type: START_RECORDING"),
    ('{"type":"start_recording","timestamp":1}', "Not in a session"),
    ('{"type":"stop_recording","timestamp":1}', "Not in a session"),
    ('{"type":"join","isHost":false,"deviceName":"x"}', None),
    ('{"type":"join","sessionId":"%s","isHost":false,"deviceName":"x"}' % UNKNOWN_SID,
     "Session not found"),
    ('{"type":"join","sessionId":123,"isHost":true,"deviceName":"x"}', "Invalid sessionId"),
    # a host-chosen id is 6 alphanumerics, as in the seed
    ('{"type":"join","sessionId":"AB","isHost":true,"deviceName":"x"}', "Invalid sessionId"),
    ('{"type":"join","sessionId":"ABC-12","isHost":true,"deviceName":"x"}', "Invalid sessionId"),
    ('{"type":"join","sessionId":"ABC1234","isHost":true,"deviceName":"x"}', "Invalid sessionId"),
    ('{"type":"join","sessionId":["ABC123"],"isHost":false,"deviceName":"x"}', None),
    ('{"type":"join","sessionId":{"id":"ABC123"},"isHost":true,"deviceName":"x"}', None),
    ('{"type":"join","isHost":"yes","deviceName":"x"}', None),
    ('{"type":"join","isHost":true,"deviceName":5}', None),
]


async def bystander_check(a, b, n):
    """The bystander session (a, b on different nodes) still works."""
    await start_stop_both(a, b, "start_recording" if n % 2 == 0 else "stop_recording", n)


async def test_bad_input_on_unjoined_socket(cluster):
    r = redis_client(cluster)
    a, b = await host_and_guest(surl(cluster, 0), surl(cluster, 1))
    bad = await rconnect(surl(cluster, 0), "bad")
    n = 0
    for text, message in BAD_UNJOINED:
        await bad.send(text)
        msg = await bad.recv()
        assert msg.get("type") == "error", (text, msg)
        assert isinstance(msg.get("message"), str) and msg["message"], (text, msg)
        if message is not None:
            assert msg["message"] == message, (text, msg)
        await bad.ping()
        clear_ratelimit(cluster)
        await bystander_check(a, b, n)
        n += 1
    # Naming the bystanders' session without joining it reaches nothing.
    for t in ("start_recording", "stop_recording"):
        await bad.send({"type": t, "sessionId": a.sid, "timestamp": 5})
        await bad.expect_error("Not in a session")
    await a.quiet()
    await b.quiet()
    assert not r.exists(rec_key(UNKNOWN_SID))
    # The socket can still join normally.
    await bad.join(None, is_host=True)
    await close_all(a, b, bad)


async def test_bad_input_on_joined_socket(cluster):
    a, b = await host_and_guest(surl(cluster, 1), surl(cluster, 0))
    x, y = await host_and_guest(surl(cluster, 0), surl(cluster, 1))
    seq = await start_stop_both(x, y, "start_recording", 1)
    cases = [
        ("not json", "Invalid JSON"),
        ("{}", "Missing type"),
        ('{"type":"foo"}', "Unknown message type: foo"),
        ('{"type":"start_recording","timestamp":"soon"}', "Invalid timestamp"),
        ('{"type":"stop_recording","timestamp":{}}', "Invalid timestamp"),
        ('{"type":"start_recording","timestamp":2}', "Already recording"),
    ]
    for i, (text, message) in enumerate(cases):
        await x.send(text)
        await x.expect_error(message)
        await x.ping()
        await bystander_check(a, b, i)
    await y.quiet()
    await a.quiet()
    # A join message on a joined socket with another session's id: refused or ignored,
    # never a way into that session.
    await x.send({"type": "join", "sessionId": a.sid, "isHost": True, "deviceName": "sneaky"})
    await x.drain(0.3)
    await a.quiet()
    await b.quiet()
    await start_stop_both(a, b, "start_recording" if len(cases) % 2 == 0 else "stop_recording", 99)
    await a.quiet()
    # The errors took no seq.
    if x.open:
        await y.start(3, "stop_recording")
        m = await y.expect_command("stop_recording", y, timestamp=3)
        assert m["seq"] == seq + 1, m
    await close_all(a, b, x, y)


def command_of_size(n):
    base = json.dumps({"type": "start_recording", "timestamp": 1, "pad": ""}, separators=(",", ":"))
    text = base.replace('"pad":""', '"pad":"' + "x" * (n - len(base)) + '"')
    assert len(text.encode()) == n
    return text


@pytest.mark.parametrize("how", ["just_over", "fragmented"])
async def test_oversize_closes_1009(cluster, how):
    r = redis_client(cluster)
    host, guest = await host_and_guest(surl(cluster, 0), surl(cluster, 1))
    if how == "just_over":
        await guest.send(command_of_size(MAX + 1))
    else:
        text = command_of_size(MAX * 3)
        try:
            await guest.ws.send([text[i:i + 8192] for i in range(0, len(text), 8192)])
        except websockets.ConnectionClosed:
            pass
    code = await guest.wait_closed()
    assert code == 1009, "close code %r (%r)" % (code, guest.ws.close_reason)
    await host.expect_device("device_disconnected", [guest])
    await host.quiet()
    assert not is_recording(r.hget(rec_key(host.sid), "s:recording"))
    await start_stop_both_alone(host, "start_recording", 1)
    await host.close()


async def test_largest_message_accepted(cluster):
    host, guest = await host_and_guest(surl(cluster, 1), surl(cluster, 0))
    await guest.send(command_of_size(MAX))
    m = await guest.expect_command("start_recording", guest, timestamp=1)
    await host.expect_command("start_recording", guest, timestamp=1, seq=m["seq"])
    await close_all(host, guest)
