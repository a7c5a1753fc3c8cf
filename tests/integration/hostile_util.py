"""Helpers of the hostile-client and slow-reader tests: a hand-driven WebSocket
client (any frame, server frames one by one) and an honest pair that measures
what it gets."""

import asyncio
import os
import socket
import struct
import time

from conftest import SCALE

HONEST_LATENCY_S = 1.0   # the bound every honest message meets (x SCALE)
HONEST_INTERVAL_S = 0.02  # each honest web client sends a sync this often


# ---- raw WebSocket frames ------------------------------------------------------------

def frame(opcode, payload=b"", fin=True, length=None):
    """A masked client frame; length overrides the declared payload length."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawWs:
    """A hand-driven WebSocket client: any frame, read server frames one by one."""

    def __init__(self, port, path, ip="127.0.0.1", rcvbuf=None):
        """ip: sent as X-Forwarded-For. rcvbuf: the socket's receive buffer (a
        small one makes a reader that stops reading stall the node quickly)."""
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(5 * SCALE)
        self.s.connect(("127.0.0.1", port))
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\nX-Forwarded-For: %s\r\n\r\n"
                        % (path, ip)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            assert chunk, "closed during the handshake: %r" % self.buf
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """(opcode, payload) of the next server frame."""
        b0, b1 = self._need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._need(8))[0]
        return b0 & 0x0F, self._need(n)

    def recv_until(self, opcodes):
        while True:
            op, data = self.recv()
            if op in opcodes:
                return op, data

    def send(self, data):
        self.s.sendall(data)

    def close_code(self):
        """Reads to the server's close frame; its code (None: the socket just closed)."""
        try:
            op, data = self.recv_until({8})
            return struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
        except (EOFError, ConnectionResetError, socket.timeout):
            return None

    def send_text(self, text):
        self.send(frame(0x1, text.encode()))

    def close(self):
        self.s.close()


# ---- the honest pairs ---------------------------------------------------------------

class Honest:
    """web sends a numbered sync every HONEST_INTERVAL_S; figma checks order and latency."""

    def __init__(self, web, figma, name):
        self.web, self.figma, self.name = web, figma, name
        self.sent, self.got, self.latencies = 0, [], []
        self.stop = asyncio.Event()

    async def send_loop(self):
        while not self.stop.is_set():
            await self.web.sync({"n": self.sent, "t": time.monotonic()})
            self.sent += 1
            await asyncio.sleep(HONEST_INTERVAL_S)

    async def recv_loop(self):
        while not self.stop.is_set() or len(self.got) < self.sent:
            try:
                msg = await self.figma.recv(5 * SCALE)
            except AssertionError:
                return
            if msg.get("type") == "sync":
                self.got.append(msg["payload"]["n"])
                self.latencies.append(time.monotonic() - msg["payload"]["t"])

    def check(self):
        assert self.got == list(range(self.sent)), "%s lost or reordered: %d sent, got %r" % (
            self.name, self.sent, self.got[:5] + ["..."] + self.got[-5:])
        worst = max(self.latencies)
        assert worst < HONEST_LATENCY_S * SCALE, "%s: a message took %.3f s" % (self.name, worst)
        return worst


