"""Shared fixtures and helpers for the syncrelay integration tests.

Real processes only: redis-server, syncrelay nodes and haproxy started by
tools/devcluster.py, talked to with the `websockets` asyncio client and redis-py.

* `async def test_...` functions run under asyncio.run (pytest-asyncio is not
  needed), with an overall time limit.
* `make_cluster(**kw)` starts a Cluster that is stopped when the module ends;
  each module builds its own from a module-scoped fixture.
* On a failure, the tail of every running node's log is attached to the report.
* After every test, a node that died without being told to fails the test and
  is restarted, so one crash does not take the rest of the module with it.

Environment: SYNCRELAY_BIN (node binary), SYNCRELAY_TIMEOUT_SCALE (stretch all
timeouts, e.g. 3 for ASan), SYNCRELAY_KEEP_LOGS=1 (keep cluster directories),
SYNCRELAY_REDIS_SLOT_CHECK=1 (Redis in cluster mode, one master: a call whose keys
span hash slots fails the test that made it; Redis then takes ~2 s more to start).
"""

import asyncio
import inspect
import json
import os
import re
import shutil
import socket
import sys
import time

import pytest
import redis
import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))

from devcluster import Cluster, ClusterError, http_get, tail_file, timeout_scale  # noqa: E402

SCALE = timeout_scale()
RECV_TIMEOUT = 5.0 * SCALE       # a message that should come, comes within this
QUIET_TIMEOUT = 0.5               # how long to listen for "nothing more arrives"
TEST_TIMEOUT = 90.0 * SCALE       # hard limit per async test
PREFIX = "syncrelay:"
TOKEN_RE = re.compile(r"^dts://[0-9A-F]{12}$")


# ---- async tests without pytest-asyncio ---------------------------------------

@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {a: pyfuncitem.funcargs[a] for a in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(asyncio.wait_for(pyfuncitem.obj(**args), TEST_TIMEOUT))
        return True
    return None


# ---- node logs on failure -------------------------------------------------------

SANITIZER_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)|"
                          r"runtime error:|SUMMARY: UndefinedBehaviorSanitizer")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for c in list(Cluster._live):
            if c.started:
                c.had_failure = True  # keep its directory (logs, redis data)
                rep.sections.append(("syncrelay cluster %s (kept)" % c.workdir, c.log_tails(30)))


def _log_sizes():
    sizes = {}
    for c in list(Cluster._live):
        for i in range(c.n):
            try:
                sizes[c.node_log(i)] = os.path.getsize(c.node_log(i))
            except OSError:
                pass
    return sizes


def _new_sanitizer_reports(before):
    """Sanitizer reports written to node logs since `before` (log sizes)."""
    out = []
    for c in list(Cluster._live):
        for i in range(c.n):
            path = c.node_log(i)
            try:
                with open(path, "r", errors="replace") as f:
                    f.seek(before.get(path, 0))
                    lines = f.read().splitlines()
            except OSError:
                continue
            for n, line in enumerate(lines):
                if SANITIZER_RE.search(line):
                    out.append("%s: %s" % (c.node_id(i), "\n".join(lines[max(0, n - 2):n + 30])))
                    break
    return out


@pytest.fixture(autouse=True)
def _no_node_crashed(request):
    """Fails the test during which a node crashed or a sanitizer reported, then
    restarts the crashed node so the rest of the module can go on."""
    before = _log_sizes()
    slots = {c: c.slot_counters() for c in list(Cluster._live)
             if c.slot_check and c.redis and c.redis.running()}
    yield
    crashed = _new_sanitizer_reports(before)
    for c in [c for c in list(Cluster._live) if c.slot_check and c.redis and c.redis.running()]:
        grown = c.slot_violations(slots.get(c, {}))
        if grown:
            crashed.append("Redis refused calls touching keys of more than one hash slot "
                           "during %s: %s" % (request.node.name, grown))
    for c in list(Cluster._live):
        for i in c.dead_nodes():
            rc = c.nodes[i].popen.returncode
            crashed.append("%s exited with %s during %s:\n%s" % (
                c.node_id(i), rc, request.node.name, tail_file(c.node_log(i), 60)))
            c.nodes[i].expected_exit = True
            try:
                c.start_node(i)
            except ClusterError as e:
                crashed.append("restart failed: %s" % e)
    if crashed:
        pytest.fail("node crashed or sanitizer report:\n" + "\n".join(crashed), pytrace=False)


def _sanitizer_reports(cluster):
    out = []
    for i in range(cluster.n):
        try:
            with open(cluster.node_log(i), "r", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for n, line in enumerate(lines):
            if SANITIZER_RE.search(line):
                out.append("%s: %s" % (cluster.node_id(i), "\n".join(lines[n:n + 25])))
                break
    return out


@pytest.fixture(scope="module")
def make_cluster(request):
    """Factory: make_cluster(nodes=2, env={...}, ...) -> started Cluster, stopped at module end.

    At teardown, sanitizer reports in node logs and non-zero exits after SIGTERM
    are reported as errors."""
    made = []

    def factory(**kw):
        kw.setdefault("nodes", 2)
        kw.setdefault("haproxy", False)
        kw.setdefault("slot_check", slot_check_for(request))
        c = Cluster(**kw)
        made.append(c)
        try:
            c.start()
        except ClusterError as e:
            pytest.fail(str(e), pytrace=False)
        return c

    yield factory
    problems = []
    for c in made:
        c.keep_workdir = True
        c.stop()
        problems += _sanitizer_reports(c)
        problems += ["%s exited with code %s after SIGTERM" % (name, rc)
                     for name, rc in c.exit_codes if rc not in (0, None, -9)]
        if not problems and not getattr(c, "had_failure", False) \
                and not os.environ.get("SYNCRELAY_KEEP_LOGS"):
            shutil.rmtree(c.workdir, ignore_errors=True)
    if problems:
        pytest.fail("problems at cluster shutdown:\n" + "\n".join(problems), pytrace=False)


def redis_client(cluster):
    return redis.Redis(host="127.0.0.1", port=cluster.redis_port, decode_responses=True,
                       socket_timeout=5)


def clear_ratelimit(cluster):
    r = redis_client(cluster)
    for k in r.scan_iter(PREFIX + "ratelimit:*"):
        r.delete(k)


# Redis calls that still touch keys of more than one hash slot (docs/design.md,
# "One slot per script call"): the peersync scripts and the routed session_post.
# Their modules run against a plain Redis even under SYNCRELAY_REDIS_SLOT_CHECK=1;
# remove a module from here once its calls are single-slot.
CROSS_SLOT_MODULES = {"test_peersync", "test_peersync_auth"}


# A cluster-mode Redis takes 2 s to accept writes, so `make integration` checks
# slots only in the modules that run every script family
# (SYNCRELAY_REDIS_SLOT_CHECK=core); `make slot-check` checks every module (=1).
SLOT_CHECK_CORE_MODULES = {"test_tokensync", "test_mirror", "test_recording", "test_devicesync",
                           "test_devicesync_rest", "test_sessions_api", "test_redis_keys",
                           "test_heartbeat", "test_resume"}


def slot_check_for(request):
    """slot_check= for make_cluster: None (follow the environment) unless the
    module still makes cross-slot calls, or only the core modules are checked."""
    name = request.module.__name__.split(".")[-1]
    if name in CROSS_SLOT_MODULES:
        return False
    if os.environ.get("SYNCRELAY_REDIS_SLOT_CHECK") == "core":
        return name in SLOT_CHECK_CORE_MODULES
    return None


# ---- WebSocket client helper ---------------------------------------------------------

class Client:
    """A token-sync WebSocket client with short, failing-fast receives."""

    def __init__(self, ws, name):
        self.ws = ws
        self.name = name
        self.token = None
        self.last_seq = None

    @classmethod
    async def connect(cls, url, name="client", headers=None, retry_for=0.0, **kw):
        """Open a WebSocket. retry_for: keep retrying failed handshakes for that long
        (for reconnects while a load balancer notices a dead node)."""
        kw.setdefault("ping_interval", None)
        kw.setdefault("open_timeout", RECV_TIMEOUT)
        kw.setdefault("close_timeout", 2)
        kw.setdefault("max_size", 16 * 1024 * 1024)
        deadline = time.monotonic() + retry_for * SCALE
        while True:
            try:
                ws = await websockets.connect(url, extra_headers=headers, **kw)
                return cls(ws, name)
            except (OSError, asyncio.TimeoutError, websockets.InvalidHandshake,
                    websockets.InvalidStatusCode):
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.1)

    async def send(self, msg):
        await self.ws.send(msg if isinstance(msg, (str, bytes)) else json.dumps(msg))

    async def recv_raw(self, timeout=None):
        try:
            return await asyncio.wait_for(self.ws.recv(), timeout or RECV_TIMEOUT)
        except asyncio.TimeoutError:
            raise AssertionError("%s: no message within %.1fs" % (self.name, timeout or RECV_TIMEOUT))
        except websockets.ConnectionClosed as e:
            raise AssertionError("%s: connection closed (%s %s) while waiting for a message"
                                 % (self.name, e.code, e.reason))

    async def recv(self, timeout=None):
        raw = await self.recv_raw(timeout)
        try:
            msg = json.loads(raw)
        except ValueError:
            raise AssertionError("%s: not JSON: %r" % (self.name, raw[:200]))
        assert isinstance(msg, dict), "%s: not an object: %r" % (self.name, raw[:200])
        if msg.get("type") == "sync" and isinstance(msg.get("seq"), int):
            self.last_seq = msg["seq"]
        return msg

    async def expect(self, type_, timeout=None, **fields):
        """The next message must have this type and these fields."""
        msg = await self.recv(timeout)
        assert msg.get("type") == type_, "%s: wanted %s %r, got %r" % (self.name, type_, fields, msg)
        for k, v in fields.items():
            assert msg.get(k) == v, "%s: wanted %s=%r, got %r" % (self.name, k, v, msg)
        return msg

    async def expect_error(self, error=None, timeout=None):
        msg = await self.expect("error", timeout)
        assert isinstance(msg.get("error"), str) and msg["error"], msg
        if error is not None:
            assert msg["error"] == error, "%s: wanted error %r, got %r" % (self.name, error, msg)
        return msg

    async def expect_peer(self, event, client_type, timeout=None):
        return await self.expect("peer", timeout, event=event, clientType=client_type)

    async def quiet(self, timeout=QUIET_TIMEOUT):
        """Nothing arrives within timeout."""
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            return
        except websockets.ConnectionClosed as e:
            raise AssertionError("%s: closed (%s) while expecting silence" % (self.name, e.code))
        raise AssertionError("%s: expected nothing, got %r" % (self.name, raw[:300]))

    async def drain(self, timeout=QUIET_TIMEOUT):
        """Read and return whatever arrives until timeout of silence."""
        out = []
        while True:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), timeout)
            except (asyncio.TimeoutError, websockets.ConnectionClosed):
                return out
            out.append(json.loads(raw))

    async def ping(self):
        await self.send({"type": "ping"})
        await self.expect("pong")

    async def sync(self, payload):
        await self.send({"type": "sync", "payload": payload})

    async def recv_syncs(self, n, timeout=None, allow_peer=True):
        """Receive n sync messages; peer events in between are returned separately."""
        syncs, others = [], []
        while len(syncs) < n:
            try:
                msg = await self.recv(timeout)
            except AssertionError as e:
                raise AssertionError("%s after %d of %d syncs (seqs %r ... %r; others %r)" % (
                    e, len(syncs), n, [m.get("seq") for m in syncs[:3]],
                    [m.get("seq") for m in syncs[-3:]], others))
            if msg.get("type") == "sync":
                syncs.append(msg)
            elif allow_peer and msg.get("type") == "peer":
                others.append(msg)
            else:
                raise AssertionError("%s: wanted sync #%d, got %r" % (self.name, len(syncs) + 1, msg))
        return syncs, others

    async def wait_closed(self, timeout=None):
        """Wait for the server to close; return the close code."""
        try:
            await asyncio.wait_for(self.ws.wait_closed(), timeout or RECV_TIMEOUT)
        except asyncio.TimeoutError:
            raise AssertionError("%s: not closed within %.1fs" % (self.name, timeout or RECV_TIMEOUT))
        return self.ws.close_code

    @property
    def open(self):
        return self.ws.open

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 3)
        except Exception:
            pass

    def abort(self):
        """Drop the TCP connection without a close frame."""
        self.ws.transport.abort()


async def pair_web(url, name="web"):
    c = await Client.connect(url, name)
    await c.send({"type": "pair", "clientType": "web"})
    msg = await c.expect("pair", clientType="web")
    assert TOKEN_RE.match(msg.get("sessionToken", "")), msg
    c.token = msg["sessionToken"]
    return c


async def join(url, token, client_type="figma", name=None, last_seq=None, peer_online=None,
               retry_for=0.0):
    """Connect and pair as figma (or rejoin as web) with token. Returns (client, others)
    where others are the non-pair messages that arrived with the reply (peer events,
    replayed syncs) within a short window; the pair reply must come first.
    peer_online: True/False asserts whether a `peer joined` for the other side came."""
    c = await Client.connect(url, name or client_type, retry_for=retry_for)
    msg = {"type": "pair", "clientType": client_type, "sessionToken": token}
    if last_seq is not None:
        msg["lastSeq"] = last_seq
    await c.send(msg)
    reply = await c.expect("pair", clientType=client_type)
    assert TOKEN_RE.match(reply.get("sessionToken", "")), reply
    c.token = reply["sessionToken"]
    others = []
    if peer_online is not None:
        other = "web" if client_type == "figma" else "figma"
        if peer_online:
            while True:
                m = await c.recv()
                others.append(m)
                if m.get("type") == "peer":
                    assert m == {"type": "peer", "event": "joined", "clientType": other}, m
                    break
        else:
            others += await c.drain()
            assert not [m for m in others if m.get("type") == "peer"], others
    return c, others


async def paired(web_url, figma_url):
    """A web client on web_url and a figma client on figma_url, paired, with the
    peer-joined notifications consumed on both sides."""
    web = await pair_web(web_url)
    figma, _ = await join(figma_url, web.token, "figma", peer_online=True)
    await web.expect_peer("joined", "figma")
    return web, figma


def assert_consecutive(seqs, start=None):
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "seqs not consecutive: %r" % seqs
    if start is not None:
        assert seqs[0] == start, "first seq %r, wanted %r (all: %r)" % (seqs[0], start, seqs)


def session_id(token):
    return token[len("dts://"):]


def session_keys(r, token):
    sid = session_id(token)
    return sorted(k for k in r.scan_iter(PREFIX + "*") if "{%s}" % sid in k)


def metric_values(text):
    """Prometheus text -> {name: summed value over all label sets}."""
    vals = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if m:
            vals[m.group(1)] = vals.get(m.group(1), 0.0) + float(m.group(3))
    return vals


async def eventually(fn, timeout=5.0, interval=0.1, what="condition"):
    """Poll fn() (sync) until truthy; return its value."""
    deadline = time.monotonic() + timeout * SCALE
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError("%s not reached within %.1fs (last: %r)" % (what, timeout * SCALE, last))


def raw_ws_handshake(port, path="/", timeout=5.0, headers=""):
    """Open a TCP socket and complete a WebSocket handshake by hand; returns the socket
    and any bytes received after the response headers."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n%s\r\n" % (path, port, headers)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise AssertionError("connection closed during handshake: %r" % buf)
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s, rest


__all__ = [
    "Client", "Cluster", "PREFIX", "QUIET_TIMEOUT", "RECV_TIMEOUT", "SCALE", "TOKEN_RE",
    "assert_consecutive", "clear_ratelimit", "eventually", "http_get", "join", "metric_values",
    "pair_web", "paired", "raw_ws_handshake", "redis_client", "session_id", "session_keys",
]
