"""Server pings: a client that never answers is closed; one that answers stays."""

import asyncio
import json
import os
import socket
import time

import pytest

from conftest import SCALE, Client, paired, raw_ws_handshake


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2, env={"HEARTBEAT_INTERVAL": 1})


def read_frames_until_closed(sock, limit):
    """Read server frames without ever answering; returns (opcodes seen, seconds until
    the server closed or limit)."""
    start = time.monotonic()
    buf = b""
    ops = []
    sock.settimeout(0.2)
    while time.monotonic() - start < limit:
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 2:
            n = buf[1] & 0x7F
            hdr = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, hdr = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, hdr = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < hdr + n:
                break
            ops.append(buf[0] & 0x0F)
            buf = buf[hdr + n:]
        if 0x8 in ops:
            break
    return ops, time.monotonic() - start


def _silent_client(port, limit):
    sock, _ = raw_ws_handshake(port)
    try:
        return read_frames_until_closed(sock, limit)
    finally:
        sock.close()


async def test_unresponsive_client_is_closed(cluster):
    limit = 8 * SCALE
    ops, elapsed = await asyncio.to_thread(_silent_client, cluster.node_port(0), limit)
    assert 0x9 in ops, "no ping from the server within %.1fs (frames: %r)" % (elapsed, ops)
    assert elapsed < limit, "socket still open after %.1fs without pongs (frames: %r)" % (
        elapsed, ops)
    assert elapsed <= 5 * SCALE, "closed only after %.1fs" % elapsed


async def test_responsive_clients_stay_connected(cluster):
    # websockets answers pings by itself; client-side keepalive is off.
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await asyncio.sleep(4)  # four intervals: two missed pongs would have closed it
    assert web.open and figma.open
    await web.sync({"still": "here"})
    m = await figma.expect("sync")
    assert m["payload"] == {"still": "here"}
    await web.close()
    await figma.close()


async def test_unresponsive_member_leaves(cluster):
    """A paired member that stops answering is dropped and its peer told."""
    web = await Client.connect(cluster.url(0), "web")
    await web.send({"type": "pair", "clientType": "web"})
    token = (await web.expect("pair"))["sessionToken"]

    def silent_figma():
        sock, _ = raw_ws_handshake(cluster.node_port(1))
        payload = json.dumps({"type": "pair", "clientType": "figma",
                              "sessionToken": token}).encode()
        mask = os.urandom(4)
        frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(
            b ^ mask[i % 4] for i, b in enumerate(payload))
        sock.sendall(frame)
        try:
            return read_frames_until_closed(sock, 8 * SCALE)
        finally:
            sock.close()

    task = asyncio.create_task(asyncio.to_thread(silent_figma))
    await web.expect_peer("joined", "figma")
    await web.expect_peer("left", "figma", timeout=8 * SCALE)
    ops, elapsed = await task
    assert 0x8 in ops or elapsed < 8 * SCALE
    await web.close()
