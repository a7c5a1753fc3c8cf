"""Drain on SIGTERM (SPEC section 5): /ready 503 at once, upgrades refused, live
sockets served for DRAIN_TIMEOUT, then close 1012, and data frames that cross
the close frame on the wire are still relayed; a second signal exits at once."""

import asyncio
import json
import os
import signal
import socket
import time

import pytest

from conftest import SCALE, eventually, join, raw_ws_handshake

DRAIN = 1


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2, env={"DRAIN_TIMEOUT": DRAIN})


@pytest.fixture
def restore(cluster):
    yield
    for i in range(cluster.n):
        if not cluster.node_running(i):
            cluster.start_node(i, registered=True)


def masked_frame(payload, opcode=0x1):
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    else:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawWs:
    """A WebSocket client that reads frames itself, so a test controls exactly
    when it answers the server's close frame."""

    def __init__(self, port):
        self.sock, self.buf = raw_ws_handshake(port)

    def send_json(self, obj):
        self.sock.sendall(masked_frame(json.dumps(obj).encode()))

    def send_close(self, code=1000):
        self.sock.sendall(masked_frame(code.to_bytes(2, "big"), opcode=0x8))

    def next_frame(self, timeout):
        """(opcode, payload) of the next server frame, or None on timeout/EOF."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                n, hdr = self.buf[1] & 0x7F, 2
                if n == 126 and len(self.buf) >= 4:
                    n, hdr = int.from_bytes(self.buf[2:4], "big"), 4
                elif n == 127 and len(self.buf) >= 10:
                    n, hdr = int.from_bytes(self.buf[2:10], "big"), 10
                if n < 126 or hdr > 2:
                    if len(self.buf) >= hdr + n:
                        op, payload = self.buf[0] & 0x0F, self.buf[hdr:hdr + n]
                        self.buf = self.buf[hdr + n:]
                        return op, payload
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def next_json(self, timeout):
        while True:
            f = self.next_frame(timeout)
            assert f is not None, "no frame within %.1fs" % timeout
            if f[0] == 0x1:
                return json.loads(f[1])
            assert f[0] in (0x9, 0xA), f  # pings may come in between

    def eof(self, timeout):
        """True when the server closes the TCP connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536) == b""
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        self.sock.close()


async def test_frames_crossing_the_close_frame_are_relayed(cluster, restore):
    """The client writes sync frames after the server's 1012 close frame left but
    before the client answered it (as a client does when the two cross on the
    wire): every one of them reaches the peer. lws drops data frames while it
    waits for the close reply, so the node sends the close frame itself."""
    web = await asyncio.to_thread(RawWs, cluster.node_port(0))
    web.send_json({"type": "pair", "clientType": "web"})
    token = (await asyncio.to_thread(web.next_json, 5 * SCALE))["sessionToken"]
    figma, _ = await join(cluster.url(1), token, "figma", peer_online=True)
    assert (await asyncio.to_thread(web.next_json, 5 * SCALE))["event"] == "joined"

    cluster.kill_node(0, signal.SIGTERM, wait=False)
    f = await asyncio.to_thread(web.next_frame, DRAIN + 5 * SCALE)
    while f and f[0] != 0x8:
        f = await asyncio.to_thread(web.next_frame, DRAIN + 5 * SCALE)
    assert f and f[0] == 0x8, "no close frame: %r" % (f,)
    assert int.from_bytes(f[1][:2], "big") == 1012, f
    for i in range(5):  # written before this client "saw" the close frame
        web.send_json({"type": "sync", "payload": {"late": i}})
        await asyncio.sleep(0.05)
    web.send_close(1012)
    assert await asyncio.to_thread(web.eof, 5 * SCALE), "node kept the socket after the close reply"
    web.close()
    got, others = await figma.recv_syncs(5)
    assert [m["payload"] for m in got] == [{"late": i} for i in range(5)], (got, others)
    assert await asyncio.to_thread(cluster.wait_node_exit, 0) == 0
    await figma.close()


async def test_close_reply_never_comes(cluster, restore):
    """A client that never answers the close frame is cut off within a few
    seconds; the node still exits cleanly."""
    web = await asyncio.to_thread(RawWs, cluster.node_port(0))
    web.send_json({"type": "ping"})
    assert (await asyncio.to_thread(web.next_json, 5 * SCALE)) == {"type": "pong"}
    t0 = time.monotonic()
    cluster.kill_node(0, signal.SIGTERM, wait=False)
    f = await asyncio.to_thread(web.next_frame, DRAIN + 5 * SCALE)
    assert f and f[0] == 0x8, f
    assert await asyncio.to_thread(web.eof, 6 * SCALE), "socket never closed"
    assert await asyncio.to_thread(cluster.wait_node_exit, 0) == 0
    assert time.monotonic() - t0 < DRAIN + 5 * SCALE
    web.close()


async def test_second_signal_exits_at_once(make_cluster):
    c = make_cluster(nodes=1, env={"DRAIN_TIMEOUT": 30})
    web = await asyncio.to_thread(RawWs, c.node_port(0))
    c.kill_node(0, signal.SIGTERM, wait=False)
    await eventually(lambda: c.ready_status(0) == 503, timeout=1, interval=0.02,
                     what="/ready 503 after SIGTERM")
    t0 = time.monotonic()
    c.kill_node(0, signal.SIGTERM, wait=False)
    assert await asyncio.to_thread(c.wait_node_exit, 0, 5 * SCALE) is not None
    assert time.monotonic() - t0 < 2 * SCALE
    web.close()
