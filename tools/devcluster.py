#!/usr/bin/env python3
"""Developer cluster for syncrelay: one redis-server, N nodes and haproxy, all on loopback.

Used two ways:

* as a library by the integration tests (``from devcluster import Cluster``);
* as the ``tools/dev-cluster`` command, which starts redis + 3 nodes + haproxy,
  prints the URLs and stops everything on Ctrl-C / SIGTERM.

Standard library only, so any python3 >= 3.8 runs it. Every child process gets
its own process group (so a terminal Ctrl-C reaches only us, and we stop the
children in order); children started from the main thread also get
PR_SET_PDEATHSIG, so they do not outlive a killed parent; the rest are stopped
by a finalizer at interpreter exit.

Node indices are 0-based in the API; the node at index i is NODE_ID ``node<i+1>``.
"""

import argparse
import ctypes
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Configuration variables the node reads; stripped from the inherited
# environment so a developer's shell cannot change what a test sees.
NODE_CONFIG_VARS = (
    "PORT", "REDIS_URL", "NODE_ID", "SESSION_TTL", "MAX_MESSAGE_BYTES",
    "HEARTBEAT_INTERVAL", "AUTH_TIMEOUT", "JWT_SECRET", "JWT_PUBLIC_KEY",
    "JWT_PRIVATE_KEY", "ADMIN_TOKEN", "DEV_TOKENS", "DRAIN_TIMEOUT", "TLS_CERT",
    "TLS_KEY", "LOG_FORMAT", "JOIN_RATE_LIMIT", "TRUST_PROXY", "HISTORY_SIZE",
    "KEY_PREFIX", "AUTH_RATE_LIMIT", "LOG_LEVEL", "REDIS_TLS_CA_FILE", "REDIS_TLS_CERT",
    "REDIS_TLS_KEY", "REDIS_TLS_SERVER_NAME", "REDIS_TLS_VERIFY", "LISTEN",
    "MAX_CONNECTIONS_PER_IP", "MAX_PENDING_PER_IP", "MESSAGE_RATE", "MESSAGE_BURST",
    "MAX_JSON_MEMBERS", "MAX_HTTP_HEADER_BYTES", "MAX_HTTP_BODY_BYTES", "HANDSHAKE_TIMEOUT",
)

# A load generator is one client IP opening thousands of sockets and sending
# as fast as the relay allows: the per-IP and per-connection limits are lifted.
LOADGEN_ENV = {"MAX_CONNECTIONS_PER_IP": "0", "MAX_PENDING_PER_IP": "0", "MESSAGE_RATE": "0"}


class ClusterError(RuntimeError):
    pass


def default_binary():
    path = os.environ.get("SYNCRELAY_BIN") or os.path.join(REPO, "build", "syncrelay")
    return os.path.abspath(path)


def timeout_scale():
    """SYNCRELAY_TIMEOUT_SCALE stretches every wait (e.g. 3 for an ASan build)."""
    try:
        return max(1.0, float(os.environ.get("SYNCRELAY_TIMEOUT_SCALE", "1")))
    except ValueError:
        return 1.0


def free_port():
    """A port to listen on, below the kernel's ephemeral range (32768+), so that
    client connections of other programs cannot take it between this check and
    the listener's bind (nodes listen on 0.0.0.0)."""
    import random
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("0.0.0.0", port))
                return port
            except OSError:
                continue
    raise ClusterError("no free port found in 20000-32000")


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def http_get(port, path, timeout=2.0, host="127.0.0.1", headers=None):
    """GET http://host:port/path -> (status, headers dict lower-cased, body bytes) or None."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _set_pdeathsig():
    # Runs in the child between fork and exec: die with the parent.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def tail_file(path, lines=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(data.splitlines()[-lines:])


class Proc:
    """One child process with its log file."""

    def __init__(self, name, argv, env, log_path, cwd):
        self.name, self.argv, self.env, self.log_path, self.cwd = name, argv, env, log_path, cwd
        self.popen = None
        self.expected_exit = True
        self.last_returncode = None

    def start(self):
        with open(self.log_path, "ab") as log:
            log.write(("==== %s start %s: %s\n" % (
                self.name, time.strftime("%H:%M:%S"), " ".join(self.argv))).encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                # PDEATHSIG fires when the forking *thread* exits, so only from the
                # main thread (tests start nodes from asyncio.to_thread workers).
                preexec_fn=_set_pdeathsig if threading.current_thread() is threading.main_thread()
                else None)
        self.expected_exit = False
        self.last_returncode = None
        self.started_ms = int(time.time() * 1000)

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def send(self, sig):
        self.expected_exit = True
        if self.running():
            try:
                self.popen.send_signal(sig)
            except ProcessLookupError:
                pass

    def wait(self, timeout):
        """Wait for exit; returns the exit code or None if still running."""
        if self.popen is None:
            return self.last_returncode
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.last_returncode = rc
        return rc

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Signal, wait up to timeout, then SIGKILL. Returns the exit code."""
        if self.popen is None:
            return self.last_returncode
        if self.running():
            self.send(sig)
            rc = self.wait(timeout)
            if rc is None:
                self.send(signal.SIGKILL)
                rc = self.wait(5)
        else:
            rc = self.wait(0)
        self.expected_exit = True
        self.popen = None
        return rc

    def died_unexpectedly(self):
        return self.popen is not None and not self.expected_exit and self.popen.poll() is not None


class Cluster:
    """redis-server + N syncrelay nodes + haproxy on 127.0.0.1.

    env:       variables for every node (on top of the defaults below)
    node_env:  {index: {var: value}} per-node overrides
    redis_aof: AOF with appendfsync always, so stop_redis/start_redis keeps data
    slot_check: run redis-server in cluster mode as the only master, owning every
               slot (default: environment SYNCRELAY_REDIS_SLOT_CHECK=1). The
               node still sees one Redis, but Redis now refuses any command or
               script touching keys of more than one hash slot (see
               slot_violations), the rule a Redis Cluster deployment lives by
    wait_registered: start() also waits until every node has written its
               liveness record to Redis (a few hundred ms after /ready)
    jwt_keys:  make ONE RS256 key pair (openssl command) in the work directory and
               give every node JWT_PUBLIC_KEY / JWT_PRIVATE_KEY, so a token from any
               node verifies on all (unless env names key files already)
    """

    _live = weakref.WeakSet()

    def __init__(self, nodes=3, binary=None, env=None, node_env=None, haproxy=True,
                 redis_aof=False, workdir=None, keep_workdir=False, lb_port=None,
                 node_ports=None, redis_port=None, stats=False, ready_timeout=None,
                 wait_registered=True, jwt_keys=True, lb_every_request=False, slot_check=None):
        # lb_every_request: haproxy closes its server side after each response,
        # so every HTTP request (each long-poll GET and POST) is balanced anew:
        # round robin with no affinity at all
        self.lb_every_request = lb_every_request
        self.binary = os.path.abspath(binary) if binary else default_binary()
        self.n = nodes
        self.env = {"DRAIN_TIMEOUT": "1", "LOG_FORMAT": "text"}
        self.env.update({k: str(v) for k, v in (env or {}).items()})
        self.node_env = {i: {k: str(v) for k, v in e.items()} for i, e in (node_env or {}).items()}
        self.use_haproxy = haproxy
        self.jwt_keys = jwt_keys and not ({"JWT_PUBLIC_KEY", "JWT_PRIVATE_KEY"} & set(self.env))
        self.wait_registered_on_start = wait_registered
        self.redis_aof = redis_aof
        if slot_check is None:
            slot_check = os.environ.get("SYNCRELAY_REDIS_SLOT_CHECK") == "1"
        self.slot_check = slot_check
        self.keep_workdir = keep_workdir or os.environ.get("SYNCRELAY_KEEP_LOGS") == "1"
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="syncrelay-cluster-")
        os.makedirs(self.workdir, exist_ok=True)
        self.ready_timeout = (ready_timeout or 10.0) * timeout_scale()
        self.redis_port = redis_port or free_port()
        self.node_ports = list(node_ports) if node_ports else [free_port() for _ in range(nodes)]
        self.lb_port = (lb_port or free_port()) if haproxy else None
        self.stats_port = free_port() if (haproxy and stats) else None
        self.redis = None
        self.nodes = [None] * nodes
        self.haproxy = None
        self.started = False
        self.exit_codes = []  # (node id, exit code) of every node stopped or killed
        self._lock = threading.Lock()
        self._all_procs = []
        # Runs at garbage collection or interpreter exit, whichever comes first.
        self._finalizer = weakref.finalize(self, Cluster._cleanup, self._all_procs)

    # ---- naming and URLs -------------------------------------------------

    def node_id(self, i):
        return "node%d" % (i + 1)

    def node_port(self, i):
        return self.node_ports[i]

    def url(self, i, path="/"):
        """WebSocket URL of node i."""
        return "ws://127.0.0.1:%d%s" % (self.node_ports[i], path)

    def http_url(self, i, path="/"):
        return "http://127.0.0.1:%d%s" % (self.node_ports[i], path)

    def lb_url(self, path="/"):
        if not self.use_haproxy:
            raise ClusterError("cluster started without haproxy")
        return "ws://127.0.0.1:%d%s" % (self.lb_port, path)

    def lb_http_url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.lb_port, path)

    @property
    def redis_url(self):
        return "redis://127.0.0.1:%d" % self.redis_port

    def log_path(self, name):
        return os.path.join(self.workdir, name + ".log")

    def node_log(self, i):
        return self.log_path(self.node_id(i))

    # ---- lifecycle -------------------------------------------------------

    def start(self):
        if not os.access(self.binary, os.X_OK):
            raise ClusterError("syncrelay binary not found or not executable: %s "
                               "(build it, or set SYNCRELAY_BIN)" % self.binary)
        Cluster._live.add(self)
        self.started = True
        try:
            if self.jwt_keys:
                self.make_jwt_keys()
            self.start_redis()
            for i in range(self.n):
                self.start_node(i, wait=False)
            for i in range(self.n):
                self.wait_ready(i)
            if self.wait_registered_on_start:
                self.wait_registered()
            if self.use_haproxy:
                self._start_haproxy()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stop everything (nodes in parallel, then haproxy, then redis). Never raises."""
        with self._lock:
            drain = float(self.env.get("DRAIN_TIMEOUT", "20") or 0)
            live = [p for p in self.nodes if p is not None and p.running()]
            for p in live:
                p.send(signal.SIGTERM)
            deadline = time.monotonic() + drain + 5 * timeout_scale()
            for p in live:
                rc = p.wait(max(0.1, deadline - time.monotonic()))
                if rc is None:
                    p.send(signal.SIGKILL)
                    rc = p.wait(5)
                self.exit_codes.append((p.name, rc))
            for p in self.nodes:
                if p is not None:
                    p.stop(timeout=1)
            if self.haproxy:
                self.haproxy.stop(timeout=3)
            if self.redis:
                self.redis.stop(timeout=5)
            self.started = False
            Cluster._live.discard(self)
            if self._own_workdir and not self.keep_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @staticmethod
    def _cleanup(procs):
        for p in procs:
            try:
                p.stop(sig=signal.SIGKILL, timeout=2)
            except Exception:
                pass

    def _track(self, proc):
        if proc not in self._all_procs:
            self._all_procs.append(proc)

    # ---- JWT keys --------------------------------------------------------

    def make_jwt_keys(self):
        """One RSA-2048 pair for the whole cluster (peersync's RS256 tokens must
        verify on every node), made with the openssl command line."""
        priv = os.path.join(self.workdir, "jwt-private.pem")
        pub = os.path.join(self.workdir, "jwt-public.pem")
        if not (os.path.exists(priv) and os.path.exists(pub)):
            openssl = shutil.which("openssl") or "/usr/bin/openssl"
            for argv in ([openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt",
                          "rsa_keygen_bits:2048", "-out", priv],
                         [openssl, "pkey", "-in", priv, "-pubout", "-out", pub]):
                r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                if r.returncode != 0:
                    raise ClusterError("%s failed: %s" % (" ".join(argv), r.stdout.decode()))
        self.env.setdefault("JWT_PRIVATE_KEY", priv)
        self.env.setdefault("JWT_PUBLIC_KEY", pub)
        self.jwt_private_key, self.jwt_public_key = self.env["JWT_PRIVATE_KEY"], self.env["JWT_PUBLIC_KEY"]

    # ---- redis -----------------------------------------------------------

    def start_redis(self, wait=True):
        if self.redis and self.redis.running():
            raise ClusterError("redis already running")
        rdir = os.path.join(self.workdir, "redis")
        os.makedirs(rdir, exist_ok=True)
        argv = [shutil.which("redis-server") or "/usr/bin/redis-server",
                "--port", str(self.redis_port), "--bind", "127.0.0.1",
                "--dir", rdir, "--save", "", "--daemonize", "no", "--logfile", ""]
        if self.redis_aof:
            argv += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            argv += ["--appendonly", "no"]
        if self.slot_check:
            # The cluster bus would take port + 10000 by default, which can land in
            # the kernel's ephemeral range (32768+) and collide: give it a free port
            # of its own, kept across restarts.
            if not getattr(self, "redis_bus_port", None):
                self.redis_bus_port = free_port()
            argv += ["--cluster-enabled", "yes", "--cluster-config-file",
                     os.path.join(rdir, "nodes.conf"), "--cluster-port", str(self.redis_bus_port)]
        self.redis = Proc("redis", argv, dict(os.environ), self.log_path("redis"), rdir)
        self._track(self.redis)
        self.redis.start()
        if wait:
            self.wait_redis()

    def stop_redis(self, sig=signal.SIGKILL):
        """Stop redis (default SIGKILL, like a crash; AOF with fsync always keeps data)."""
        if self.redis:
            self.redis.stop(sig=sig, timeout=5)

    def redis_ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def wait_redis(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        while time.monotonic() < deadline:
            if not self.redis.running():
                raise ClusterError("redis-server exited:\n" + tail_file(self.redis.log_path))
            if self.redis_ping():
                if self.slot_check:
                    self._own_all_slots(deadline)
                return
            time.sleep(0.05)
        raise ClusterError("redis-server not answering PING:\n" + tail_file(self.redis.log_path))

    def _redis_command(self, *args):
        """One command over a fresh connection: a status, error or bulk reply as text."""
        cmd = "*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a), a) for a in args)
        with socket.create_connection(("127.0.0.1", self.redis_port), timeout=2) as s:
            s.sendall(cmd.encode())
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    return data.decode(errors="replace")
                data += chunk
            head, _, rest = data.partition(b"\r\n")
            if not head.startswith(b"$"):
                return head.decode(errors="replace")
            size = int(head[1:])
            while len(rest) < size:
                chunk = s.recv(65536)
                if not chunk:
                    break
                rest += chunk
            return rest[:max(size, 0)].decode(errors="replace")

    def _own_all_slots(self, deadline):
        """Slot check: this one master takes every slot (once: nodes.conf keeps
        them across restarts) and the node waits until the cluster is up."""
        if "cluster_slots_assigned:16384" not in self._redis_command("CLUSTER", "INFO"):
            self._redis_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        while time.monotonic() < deadline:
            if "cluster_state:ok" in self._redis_command("CLUSTER", "INFO"):
                return
            time.sleep(0.05)
        raise ClusterError("redis-server in cluster mode: cluster_state not ok")

    def slot_counters(self):
        """Slot check: Redis' counts of the refusals a multi-slot call gets
        (CROSSSLOT for declared keys, a failed EVALSHA for a script touching an
        undeclared key of another slot). {} when Redis is not reachable."""
        try:
            text = self._redis_command("INFO", "all")
        except OSError:
            return {}
        out = {}
        for line in text.splitlines():
            if line.startswith("errorstat_CROSSSLOT:"):
                out["CROSSSLOT"] = int(line.split("count=")[1])
            elif line.startswith(("cmdstat_evalsha:", "cmdstat_eval:")):
                out[line.split(":")[0]] = int(line.split("failed_calls=")[1].split(",")[0])
        return out

    def slot_violations(self, before):
        """What slot_counters grew by since `before` (a dict, empty when none)."""
        now = self.slot_counters()
        return {k: v - before.get(k, 0) for k, v in now.items() if v > before.get(k, 0)}

    # ---- nodes -----------------------------------------------------------

    def node_environment(self, i):
        env = {k: v for k, v in os.environ.items() if k not in NODE_CONFIG_VARS}
        env.update(self.env)
        env.update(self.node_env.get(i, {}))
        env.update({"PORT": str(self.node_ports[i]), "REDIS_URL": self.redis_url,
                    "NODE_ID": self.node_id(i)})
        # node_env may name the node, or point it at Redis another way (a test proxy)
        env.update({k: v for k, v in self.node_env.get(i, {}).items()
                    if k in ("NODE_ID", "REDIS_URL")})
        return env

    def start_node(self, i, wait=True, registered=False):
        """Start node i on its port (also after kill_node). wait: poll /ready for 200;
        registered: also wait for its liveness record in Redis."""
        if self.nodes[i] is not None and self.nodes[i].running():
            raise ClusterError("%s already running" % self.node_id(i))
        proc = Proc(self.node_id(i), [self.binary], self.node_environment(i),
                    self.node_log(i), self.workdir)
        self.nodes[i] = proc
        self._track(proc)
        proc.start()
        if wait:
            self.wait_ready(i)
        if registered:
            self.wait_registered()

    def kill_node(self, i, sig=signal.SIGKILL, wait=True, timeout=None):
        """Send sig to node i. wait: wait for it to exit and return its exit code
        (negative = killed by that signal). With wait=False returns None at once."""
        proc = self.nodes[i]
        if proc is None:
            return None
        proc.send(sig)
        if not wait:
            return None
        rc = self.wait_node_exit(i, timeout)
        return rc

    def wait_node_exit(self, i, timeout=None):
        proc = self.nodes[i]
        if timeout is None:
            timeout = float(self.env.get("DRAIN_TIMEOUT", "20") or 0) + 5 * timeout_scale()
        rc = proc.wait(timeout)
        if rc is None:
            raise ClusterError("%s did not exit within %.1fs:\n%s"
                               % (self.node_id(i), timeout, tail_file(proc.log_path)))
        self.exit_codes.append((proc.name, rc))
        return rc

    def node_running(self, i):
        return self.nodes[i] is not None and self.nodes[i].running()

    def ready_status(self, i):
        r = http_get(self.node_ports[i], "/ready", timeout=1)
        return r[0] if r else None

    def wait_ready(self, i, timeout=None, status=200):
        """Poll /ready of node i until it answers `status`."""
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        last = None
        while time.monotonic() < deadline:
            proc = self.nodes[i]
            if status == 200 and (proc is None or not proc.running()):
                raise ClusterError("%s exited during start-up:\n%s"
                                   % (self.node_id(i), tail_file(self.node_log(i))))
            last = self.ready_status(i)
            if last == status:
                return
            time.sleep(0.05)
        raise ClusterError("%s /ready is %s, wanted %s, after %.1fs:\n%s"
                           % (self.node_id(i), last, status, timeout or self.ready_timeout,
                              tail_file(self.node_log(i))))

    def redis_command(self, *args):
        """One command over a plain socket (stdlib only); returns the raw reply bytes."""
        cmd = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a) for a in (str(x).encode() for x in args))
        with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as sock:
            sock.sendall(cmd)
            return sock.recv(4096)

    def wait_registered(self, timeout=None):
        """Wait until every running node has written its liveness record
        (<KEY_PREFIX>{nodes}:node:<NODE_ID>, field `started`, design.md), then
        until every one has beaten again since: a node judges a member online
        by the live list its last heartbeat returned, so a member on a node
        registered after that beat counts as offline there until the next."""
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        missing = []
        while time.monotonic() < deadline:
            missing = []
            for i in range(self.n):
                if not self.node_running(i):
                    continue
                env = self.node_environment(i)
                key = env.get("KEY_PREFIX", "syncrelay:") + "{nodes}:node:" + env["NODE_ID"]
                try:
                    reply = self.redis_command("HGET", key, "started").split(b"\r\n")
                    started = int(reply[1]) if reply[0].startswith(b"$") and reply[0] != b"$-1" else 0
                except (OSError, ValueError, IndexError):
                    started = 0
                # The record must be this process's, not one left by a killed predecessor.
                if started < self.nodes[i].started_ms - 1000:
                    missing.append(key)
            if not missing:
                return self._wait_beaten_since(time.time() * 1000, deadline)
            time.sleep(0.05)
        raise ClusterError("nodes did not register in Redis within %.1fs: %r"
                           % (timeout or self.ready_timeout, missing))

    def _wait_beaten_since(self, since_ms, deadline):
        """Every running node's last heartbeat (its score in {nodes}:nodes) is
        later than since_ms. Nothing to wait for with one node."""
        def bulk(reply):
            head, _, rest = reply.partition(b"\r\n")
            return rest[:int(head[1:])].decode() if head.startswith(b"$") and head != b"$-1" else None
        running = [i for i in range(self.n) if self.node_running(i)]
        while len(running) > 1 and time.monotonic() < deadline:
            behind = []
            for i in running:
                env = self.node_environment(i)
                prefix = env.get("KEY_PREFIX", "syncrelay:") + "{nodes}:"
                try:
                    boot = bulk(self.redis_command("HGET", prefix + "node:" + env["NODE_ID"], "boot"))
                    score = bulk(self.redis_command("ZSCORE", prefix + "nodes",
                                                    "%s/%s" % (env["NODE_ID"], boot)))
                except (OSError, ValueError):
                    score = None
                if score is None or float(score) <= since_ms:
                    behind.append(env["NODE_ID"])
            if not behind:
                return
            time.sleep(0.05)

    def dead_nodes(self):
        """Indices of nodes that exited although nobody stopped them (crashes)."""
        return [i for i, p in enumerate(self.nodes) if p is not None and p.died_unexpectedly()]

    # ---- haproxy ---------------------------------------------------------

    def haproxy_config(self):
        servers = "\n".join(
            "    server %s 127.0.0.1:%d check" % (self.node_id(i), p)
            for i, p in enumerate(self.node_ports))
        stats = ""
        if self.stats_port:
            stats = ("\nlisten stats\n    bind 127.0.0.1:%d\n    stats enable\n"
                     "    stats uri /\n    stats refresh 2s\n" % self.stats_port)
        return """global
    maxconn 4096
    nbthread 1

defaults
    mode http
    option forwardfor
    option redispatch
    retries 3
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    timeout http-request 10s
    timeout queue 5s
    timeout check 2s%s

frontend syncrelay
    bind 127.0.0.1:%d
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk
    http-check send meth GET uri /ready ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 1
%s
%s""" % ("\n    option http-server-close" if self.lb_every_request else "",
        self.lb_port, servers, stats)

    def _start_haproxy(self):
        cfg = os.path.join(self.workdir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(self.haproxy_config())
        argv = [shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", cfg]
        self.haproxy = Proc("haproxy", argv, dict(os.environ), self.log_path("haproxy"),
                            self.workdir)
        self._track(self.haproxy)
        self.haproxy.start()
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if not self.haproxy.running():
                raise ClusterError("haproxy exited:\n" + tail_file(self.haproxy.log_path))
            r = http_get(self.lb_port, "/ready", timeout=1)
            if r and r[0] == 200:
                return
            time.sleep(0.05)
        raise ClusterError("haproxy /ready never answered 200:\n"
                           + tail_file(self.haproxy.log_path))

    # ---- diagnostics -----------------------------------------------------

    def log_tails(self, lines=40):
        parts = []
        for i in range(self.n):
            parts.append("---- %s (port %d) %s\n%s" % (
                self.node_id(i), self.node_ports[i], self.node_log(i),
                tail_file(self.node_log(i), lines)))
        parts.append("---- redis\n" + tail_file(self.log_path("redis"), 10))
        if self.use_haproxy:
            parts.append("---- haproxy\n" + tail_file(self.log_path("haproxy"), 10))
        return "\n".join(parts)

    def describe(self):
        lines = []
        if self.use_haproxy:
            lines.append("haproxy     %s   (http %s)" % (self.lb_url(), self.lb_http_url()))
            lines.append("browser     demo %s   dashboard %s" % (self.lb_http_url(),
                                                             self.lb_http_url("/admin")))
            if self.stats_port:
                lines.append("haproxy stats  http://127.0.0.1:%d/" % self.stats_port)
        for i in range(self.n):
            lines.append("%-11s %s   health %s   log %s" % (
                self.node_id(i), self.url(i), self.http_url(i, "/health"), self.node_log(i)))
        lines.append("redis       %s   inspect: redis-cli -p %d   (e.g. redis-cli -p %d "
                     "--scan --pattern 'syncrelay:*')" % (self.redis_url, self.redis_port,
                                                          self.redis_port))
        if self.jwt_keys:
            lines.append("jwt keys    %s, %s (RS256, shared by every node)"
                         % (self.env["JWT_PUBLIC_KEY"], self.env["JWT_PRIVATE_KEY"]))
        lines.append("logs        %s" % self.workdir)
        return "\n".join(lines)


# ---- command line ----------------------------------------------------------

def dev_environment():
    """What `tools/dev-cluster` gives every node (the README's examples rely on
    it): dev tokens on, and one HS256 secret for every node, so device-sync
    tokens work on all of them."""
    return {"DEV_TOKENS": "1", "DRAIN_TIMEOUT": "2", "JWT_SECRET": os.urandom(16).hex()}


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="dev-cluster",
        description="Run redis + N syncrelay nodes + haproxy on loopback until Ctrl-C.")
    ap.add_argument("-n", "--nodes", type=int, default=3, help="number of nodes (3)")
    ap.add_argument("-p", "--port", type=int, default=8080,
                    help="haproxy port (8080; a free one if busy, 0 = any free port)")
    ap.add_argument("--binary", help="node binary (default $SYNCRELAY_BIN or build/syncrelay)")
    ap.add_argument("-e", "--env", action="append", default=[], metavar="VAR=VALUE",
                    help="extra node environment, repeatable (e.g. -e SESSION_TTL=60)")
    ap.add_argument("--aof", action="store_true", help="redis with AOF (appendfsync always)")
    ap.add_argument("--no-haproxy", action="store_true", help="nodes only")
    ap.add_argument("--every-request", action="store_true",
                    help="haproxy balances each HTTP request anew (no affinity at all: every "
                         "long-poll may reach another node)")
    ap.add_argument("--logs", help="directory for logs and redis data (kept on exit)")
    args = ap.parse_args(argv)

    env = dev_environment()
    for item in args.env:
        if "=" not in item:
            ap.error("--env wants VAR=VALUE, got %r" % item)
        k, v = item.split("=", 1)
        env[k] = v

    lb_port = None
    if not args.no_haproxy and args.port:
        if port_is_free(args.port):
            lb_port = args.port
        else:
            print("dev-cluster: port %d is busy, using a free port" % args.port, file=sys.stderr)

    cluster = Cluster(nodes=args.nodes, binary=args.binary, env=env, haproxy=not args.no_haproxy,
                      redis_aof=args.aof, workdir=os.path.abspath(args.logs) if args.logs else None,
                      keep_workdir=bool(args.logs), lb_port=lb_port, stats=True,
                      lb_every_request=args.every_request)

    stopping = {"n": 0}

    def on_signal(signum, _frame):
        stopping["n"] += 1
        if stopping["n"] == 1:
            raise KeyboardInterrupt
        # Second Ctrl-C: do not wait for the drain.
        Cluster._cleanup(cluster._all_procs)
        os._exit(130)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    try:
        cluster.start()
        print("syncrelay dev cluster is up (Ctrl-C stops it)\n" + cluster.describe(), flush=True)
        reported = set()
        while True:
            time.sleep(1)
            for i in cluster.dead_nodes():
                if i not in reported:
                    reported.add(i)
                    print("dev-cluster: %s exited unexpectedly (code %s); last log lines:\n%s"
                          % (cluster.node_id(i), cluster.nodes[i].popen.returncode,
                             tail_file(cluster.node_log(i), 20)), file=sys.stderr, flush=True)
            if cluster.redis and not cluster.redis.running():
                print("dev-cluster: redis-server exited:\n" + tail_file(cluster.redis.log_path),
                      file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        print("\ndev-cluster: stopping (Ctrl-C again to kill at once)", file=sys.stderr, flush=True)
        return 0
    except ClusterError as e:
        print("dev-cluster: %s" % e, file=sys.stderr)
        return 1
    finally:
        cluster.stop()
        if args.logs:
            print("dev-cluster: logs kept in %s" % cluster.workdir, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
