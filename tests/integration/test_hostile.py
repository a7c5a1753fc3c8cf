"""Hostile clients against two nodes while two honest pairs keep relaying.

Per dialect: thousands of mutated frames (wrong types, 100 000 nesting levels,
huge numbers, lone surrogates, byte flips, binary for text), fragments with
interleaved pings, zero-length and oversized frames, invalid UTF-8; then a
slowloris upgrade, a 1 MB header, an oversized body, a connection flood and an
unauthenticated-socket flood from one IP, a message flood from one socket and a
message over the JSON member limit. Meanwhile the honest pairs (web and figma
on different nodes, both directions) must lose nothing and see every message
within hostile_util.HONEST_LATENCY_S (times SYNCRELAY_TIMEOUT_SCALE); every limit answers in
the dialect's error format with its close code and is counted in /metrics.

Client IPs: the cluster trusts X-Forwarded-For (TRUST_PROXY=1), so each kind of
hostile client names its own address and the per-IP limits of one do not touch
the honest pairs (plain 127.0.0.1) or the other hostile clients.
"""

import asyncio
import json
import random
import socket
import time

import pytest
import websockets

from conftest import SCALE, Client, http_get, paired
from hostile_util import Honest, RawWs, frame

MUTATIONS = 2000          # mutated frames per dialect
PER_SOCKET = 500          # frames per mutating socket (well under the message burst)

ENV = {
    "MAX_MESSAGE_BYTES": 262144,  # 100 000 nesting levels fit; 1 MB frames do not
    "TRUST_PROXY": 1,
    "MESSAGE_RATE": 1000, "MESSAGE_BURST": 1000,
    "MAX_JSON_MEMBERS": 5000,
    "MAX_PENDING_PER_IP": 20, "MAX_CONNECTIONS_PER_IP": 30,
    "HANDSHAKE_TIMEOUT": 2,
    "MAX_HTTP_BODY_BYTES": 65536,
    "JOIN_RATE_LIMIT": 1000000, "AUTH_RATE_LIMIT": 1000000,
    "LISTEN": "127.0.0.1",
}


@pytest.fixture(scope="module")
def cluster(make_cluster):
    # node 1 counts connections only (no pending limit), so its flood meets
    # MAX_CONNECTIONS_PER_IP rather than MAX_PENDING_PER_IP
    return make_cluster(nodes=2, env=ENV, node_env={1: {"MAX_PENDING_PER_IP": "0"}})


def xff(ip):
    return {"X-Forwarded-For": ip}


# ---- the dialects' frames, and mutations of them ----------------------------------

DIALECTS = {
    "/": [{"type": "pair", "clientType": "web"}, {"type": "ping"},
          {"type": "pair", "clientType": "figma", "sessionToken": "dts://000000000000"},
          {"type": "sync", "payload": {"a": [1, 2, {"b": "c"}]}}],
    "/mirror": [{"type": "CREATE_SESSION"}, {"type": "JOIN_SESSION", "sessionId": "ABC123"},
                {"type": "VIEW_PRODUCT", "payload": {"productId": "p1"}}],
    "/sync": [{"type": "join", "sessionId": "s1", "deviceId": "d1", "isHost": True},
              {"type": "start_recording", "timestamp": 1}, {"type": "ping"}],
    "/ws": [{"event": "AUTH", "data": {"token": "x.y.z"}}, {"event": "PING", "data": {}},
            {"event": "SEND_MESSAGE", "data": {"to": "u", "content": "hi"}}],
    "/socket.io/?EIO=4&transport=websocket": [
        "40", '42["session-update",{"sessionKey":"k","state":{"a":1}}]',
        '42["realtime-event",{"type":"t","payload":1}]', "3", '421["device-message",{}]'],
}
WRONG = [None, True, -1, 0.5, "x", "", [], {}, [[[]]], {"a": {}}, 10 ** 40, "\u0000", "\U0001F600"]


def _mutate_json(rng, obj):
    """Replace one value anywhere in obj with one of the wrong type."""
    if isinstance(obj, dict) and obj and rng.random() < 0.7:
        k = rng.choice(list(obj))
        obj[k] = _mutate_json(rng, obj[k])
        return obj
    if isinstance(obj, list) and obj and rng.random() < 0.7:
        i = rng.randrange(len(obj))
        obj[i] = _mutate_json(rng, obj[i])
        return obj
    return rng.choice(WRONG)


def _as_text(frame):
    return frame if isinstance(frame, str) else json.dumps(frame)


def mutations(rng, frames, n):
    out = []
    for _ in range(n):
        base = rng.choice(frames)
        text = _as_text(base)
        op = rng.randrange(10)
        if op == 0 and not isinstance(base, str):
            out.append(json.dumps(_mutate_json(rng, json.loads(text))))
        elif op == 1:  # byte flips (as text: invalid UTF-8 gets its own test)
            b = bytearray(text.encode())
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(32, 127)
            out.append(b.decode(errors="replace"))
        elif op == 2:
            out.append(text[:rng.randrange(len(text) + 1)])
        elif op == 3:  # huge numbers
            out.append(text.replace("1", rng.choice(["1" * 400, "1e99999", "-0.0e-99999", "9" * 30])))
        elif op == 4:  # lone surrogates in \u escapes
            out.append(text.replace('"', '"\\ud800', 2).replace('"k"', '"\\udfff"'))
        elif op == 5:
            out.append(text + rng.choice([" trailing", "}", "]", "\u0000", ",{}"]))
        elif op == 6:  # binary where text is expected
            out.append(text.encode())
        elif op == 7:
            out.append(rng.choice(["", " ", "null", "[]", "{}", "4", "42", '"x"', "\U0001F600"]))
        elif op == 8:  # deep, but under the member limit
            d = rng.choice([300, 1000, 2000])
            out.append(text.replace("{", "{" + '"z":' + "[" * d + "]" * d + ",", 1))
        else:
            out.append(text)
    return out


def raw_frames_one_dialect(port, path, ip):
    """Fragments with a ping between them, zero-length, binary, oversized, invalid UTF-8."""
    ws = RawWs(port, path, ip)
    first = _as_text(DIALECTS[path][-1]).encode()
    ws.send(frame(0x1, first[:5], fin=False) + frame(0x9, b"mid") + frame(0x0, first[5:]))
    op, data = ws.recv_until({0xA})  # the pong comes in the middle of the message
    assert data == b"mid"
    ws.send(frame(0x1, b""))  # zero-length text: the dialect's error
    ws.send(frame(0x2, b"\x00\x01\x02"))  # binary where text is expected
    ws.send(frame(0x9, b"alive"))
    op, data = ws.recv_until({0xA})
    assert data == b"alive", "socket not alive after zero-length and binary frames"
    ws.send(frame(0x1, b"x" * 16, length=1 << 40))  # declares a terabyte
    code = ws.close_code()
    assert code == 1009, "oversized frame on %s: close %r" % (path, code)
    ws.close()
    ws = RawWs(port, path, ip)
    ws.send(frame(0x1, b'{"type":"\xff\xfe"}'))
    code = ws.close_code()
    assert code in (1007, None), "invalid UTF-8 on %s: close %r" % (path, code)
    ws.close()


async def drain_quietly(ws):
    try:
        while True:
            await ws.recv()
    except websockets.ConnectionClosed:
        return


async def mutate_dialect(cluster, path, seed):
    """MUTATIONS frames on sockets of their own IP; a socket closed by a limit is replaced."""
    rng = random.Random(seed)
    frames = mutations(rng, DIALECTS[path], MUTATIONS)
    frames.insert(1, "[" * 100000 + "]" * 100000)  # 100 000 nesting levels
    ip = "198.51.100.%d" % (seed + 1)
    closes = []
    for start in range(0, len(frames), PER_SOCKET):
        c = await Client.connect(cluster.url(start // PER_SOCKET % 2, path), headers=xff(ip))
        reader = asyncio.ensure_future(drain_quietly(c.ws))
        try:
            for f in frames[start:start + PER_SOCKET]:
                await c.ws.send(f)
        except websockets.ConnectionClosed:
            pass
        await c.close()
        await reader
        if c.ws.close_code not in (1000, 1005):
            closes.append(c.ws.close_code)
    # a mutation may cross a limit (too big, too many members): nothing else closes
    assert set(closes) <= {1009}, "%s: unexpected closes %r" % (path, closes)


async def refused(url, ip, n):
    """Opens n sockets from ip; returns (still open, [(error frame, close code)] of the refused)."""
    socks = [await Client.connect(url, headers=xff(ip)) for _ in range(n)]

    async def first(c):
        try:
            raw = await asyncio.wait_for(c.ws.recv(), 1.0 * SCALE)
        except asyncio.TimeoutError:
            return None
        except websockets.ConnectionClosed:
            raw = ""
        await c.wait_closed()
        return raw, c.ws.close_code

    answers = await asyncio.gather(*(first(c) for c in socks))
    kept = [c for c, a in zip(socks, answers) if a is None]
    return kept, [a for a in answers if a is not None]


def slowloris(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10 * SCALE)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < 15 * SCALE:
            s.sendall(b"X-Slow: 1\r\n")
            time.sleep(0.3)
    except OSError:
        return time.monotonic() - t0
    finally:
        s.close()
    raise AssertionError("a slowloris upgrade stayed for 15 s")


def big_header(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5 * SCALE)
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
    except OSError:
        pass  # the node may close before the whole megabyte is in
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    s.close()
    assert not data.startswith(b"HTTP/1.1 200"), data[:100]


def big_body(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5 * SCALE)
    s.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 1000000\r\n\r\n")
    data = s.recv(4096)
    s.close()
    assert data.startswith(b"HTTP/1.1 413"), data[:100]


def limited(cluster, i):
    text = http_get(cluster.node_port(i), "/metrics")[2].decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("syncrelay_limited_total{"):
            name = line.split('"')[1]
            out[name] = float(line.split()[-1])
    return out


async def test_hostile_clients_while_honest_pairs_relay(cluster):
    before = [limited(cluster, i) for i in (0, 1)]
    pairs = [Honest(*(await paired(cluster.url(0), cluster.url(1))), "pair 0->1"),
             Honest(*(await paired(cluster.url(1), cluster.url(0))), "pair 1->0")]
    tasks = [asyncio.ensure_future(f()) for h in pairs for f in (h.send_loop, h.recv_loop)]
    p0, p1 = cluster.node_port(0), cluster.node_port(1)
    try:
        # every dialect: mutated frames, then raw frames
        await asyncio.gather(*(mutate_dialect(cluster, path, k) for k, path in enumerate(DIALECTS)))
        for k, path in enumerate(DIALECTS):
            await asyncio.to_thread(raw_frames_one_dialect, (p0, p1)[k % 2], path, "198.51.100.99")

        # HTTP: a slowloris upgrade, a 1 MB header, a body over MAX_HTTP_BODY_BYTES
        held = await asyncio.to_thread(slowloris, p0)
        assert held < (2 + 2) * SCALE, "slowloris dropped only after %.1f s" % held
        await asyncio.to_thread(big_header, p0)
        await asyncio.to_thread(big_body, p0)

        # unauthenticated sockets from one IP (node 0: 20 allowed), connections (node 1: 30)
        kept, refusals = await refused(cluster.url(0), "203.0.113.8", 25)
        assert len(kept) == 20 and len(refusals) == 5, (len(kept), refusals)
        for raw, code in refusals:
            assert json.loads(raw) == {"type": "error",
                                       "error": "Too many unauthenticated connections from this address"}
            assert code == 1008
        for c in kept:
            await c.close()
        kept, refusals = await refused(cluster.url(1, "/mirror"), "203.0.113.9", 35)
        assert len(kept) == 30 and len(refusals) == 5, (len(kept), refusals)
        for raw, code in refusals:
            assert json.loads(raw) == {"type": "ERROR", "payload": {
                "message": "Too many connections from this address"}}
            assert code == 1008
        for c in kept:
            await c.close()

        # a message flood from one socket: error, then 1008 (unjoined, on /sync)
        flood = await Client.connect(cluster.url(0, "/sync"), headers=xff("203.0.113.10"))
        reader = asyncio.ensure_future(flood.drain(2 * SCALE))
        try:
            for _ in range(20000):
                await flood.ws.send('{"type":"ping"}')
        except websockets.ConnectionClosed:
            pass
        got = await reader
        assert {"type": "error", "message": "Message rate limit exceeded"} in got, got[-3:]
        assert flood.ws.close_code == 1008
        # ... and from a paired socket: its peer gets the burst, then nothing more
        # (what the flooder sends until it answers the close frame is dropped)
        flood, peer = await paired(cluster.url(0), cluster.url(1))
        t0 = time.monotonic()
        try:
            for i in range(20000):
                await flood.sync({"f": i})
        except websockets.ConnectionClosed:
            pass
        syncs = []
        while True:
            msg = await peer.recv()
            if msg.get("type") == "peer":
                break  # the flooder left
            syncs.append(msg)
        allowed = ENV["MESSAGE_BURST"] + ENV["MESSAGE_RATE"] * (time.monotonic() - t0)
        assert [m["payload"]["f"] for m in syncs] == list(range(len(syncs)))
        assert ENV["MESSAGE_BURST"] * 0.9 <= len(syncs) <= allowed, (len(syncs), allowed)
        await peer.close()

        # over the JSON member limit: error, then 1009
        big = await Client.connect(cluster.url(1, "/ws"), headers=xff("203.0.113.11"))
        await big.send({"event": "PING", "data": {"a": list(range(6000))}})
        msg = await big.recv()
        assert msg["event"] == "ERROR" and msg["data"]["code"] == "ERR_5004", msg
        assert await big.wait_closed() == 1009

        await asyncio.sleep(0.5)
    finally:
        for h in pairs:
            h.stop.set()
        await asyncio.gather(*tasks)
    worst = [h.check() for h in pairs]
    print("honest pairs: %s messages, worst latency %.3f s" % ([h.sent for h in pairs], max(worst)))

    after = [limited(cluster, i) for i in (0, 1)]
    grew = {k: after[0][k] - before[0][k] for k in after[0]}
    for k in ("pending_per_ip", "message_rate", "handshake_time", "http_headers", "http_body"):
        assert grew[k] >= 1, (k, grew)
    assert grew["pending_per_ip"] == 5, grew
    assert after[1]["connections_per_ip"] - before[1]["connections_per_ip"] == 5, after[1]
    assert after[1]["json_members"] - before[1]["json_members"] >= 1, after[1]
    for i in (0, 1):
        assert http_get(cluster.node_port(i), "/health")[0] == 200


def test_listen_address_binds_one_interface(cluster):
    """LISTEN=127.0.0.1: the node's listening socket is on loopback only."""
    port = "%04X" % cluster.node_port(0)
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    listening = [r[1] for r in rows if r[1].endswith(":" + port) and r[3] == "0A"]
    assert listening == ["0100007F:" + port], listening
