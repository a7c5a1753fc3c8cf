"""Redis topologies beyond one server, for tests and the bench: a Redis Cluster
(masters with replicas) and a Sentinel set (one master, replicas, sentinels),
all real redis-server processes on 127.0.0.1, started and stopped here.

    with RedisClusterTopology(workdir, masters=3, replicas=1) as rc:
        url = rc.url                     # redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...
        rc.kill_master_of_slot(1234)     # SIGKILL; returns once a replica is promoted

    with RedisSentinelTopology(workdir, replicas=1, sentinels=3) as rs:
        url = rs.url                     # redis+sentinel://127.0.0.1:s1,.../mymaster
        rs.kill_master()                 # SIGKILL; returns once the sentinels switch

Only redis-server and redis-cli from Debian's redis package are used; the
cluster is built the way an operator builds one (`redis-cli --cluster create`).
"""

import os
import shutil
import signal
import socket
import subprocess
import time

import random

from devcluster import ClusterError, Proc, free_port, port_is_free, tail_file, timeout_scale

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
SENTINEL_MASTER = "mymaster"


def redis_call(port, *args, timeout=2.0):
    """One command through redis-cli; returns its output as text (raw mode)."""
    out = subprocess.run([REDIS_CLI, "-p", str(port), "--raw"] + [str(a) for a in args],
                         capture_output=True, text=True, timeout=timeout)
    return out.stdout.strip()


def cluster_port():
    """A port for a cluster node whose bus port (port + 10000) is free too; both
    below the kernel's ephemeral range (32768+), like devcluster's ports."""
    for _ in range(200):
        port = random.randint(20000, 22700)
        if port_is_free(port) and port_is_free(port + 10000):
            return port
    raise ClusterError("no free port pair for a cluster node")


def _ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _wait(what, cond, timeout):
    deadline = time.monotonic() + timeout * timeout_scale()
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise ClusterError("timed out waiting for " + what)


class _Servers:
    """Bookkeeping shared by both topologies: one Proc per server, by port."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = {}  # port -> Proc

    def _start_server(self, port, extra, name=None):
        d = os.path.join(self.workdir, "redis-%d" % port)
        os.makedirs(d, exist_ok=True)
        argv = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""] + extra
        proc = Proc(name or "redis-%d" % port, argv, dict(os.environ),
                    os.path.join(self.workdir, "redis-%d.log" % port), d)
        proc.start()
        self.procs[port] = proc
        _wait("redis-server on port %d" % port, lambda: _ping(port) or not proc.running(), 10)
        if not proc.running():
            raise ClusterError("redis-server %d exited:\n%s" % (port, tail_file(proc.log_path)))

    def kill(self, port, sig=signal.SIGKILL):
        self.procs[port].stop(sig=sig, timeout=5)

    def restart(self, port):
        self.procs[port].start()
        _wait("redis-server on port %d" % port, lambda: _ping(port), 10)

    def stop(self):
        for proc in self.procs.values():
            proc.stop(timeout=5)

    def log_tails(self, lines=20):
        return "\n".join("---- %s\n%s" % (p.name, tail_file(p.log_path, lines))
                         for p in self.procs.values())

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


class RedisClusterTopology(_Servers):
    """masters x (1 + replicas) cluster-enabled redis-servers joined by
    `redis-cli --cluster create`, waiting for cluster_state:ok everywhere."""

    def __init__(self, workdir, masters=3, replicas=1, node_timeout_ms=2000):
        super().__init__(workdir)
        self.masters, self.replicas, self.node_timeout_ms = masters, replicas, node_timeout_ms
        self.ports = [cluster_port() for _ in range(masters * (1 + replicas))]

    @property
    def url(self):
        return "redis+cluster://" + ",".join("127.0.0.1:%d" % p for p in self.ports[:3])

    def start(self):
        for port in self.ports:
            self._start_server(port, ["--cluster-enabled", "yes",
                                      "--cluster-config-file", "nodes-%d.conf" % port,
                                      "--cluster-node-timeout", str(self.node_timeout_ms)])
        out = subprocess.run([REDIS_CLI, "--cluster", "create"] +
                             ["127.0.0.1:%d" % p for p in self.ports] +
                             ["--cluster-replicas", str(self.replicas), "--cluster-yes"],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise ClusterError("redis-cli --cluster create failed:\n" + out.stdout + out.stderr)
        self.wait_ok()
        # A replica that never synced refuses to take over (its data is too
        # old), so the cluster counts as up once every replica is in sync.
        def synced():
            roles = [redis_call(p, "INFO", "replication") for p in self.ports]
            replicas = [r for r in roles if "role:slave" in r]
            return (len(replicas) == self.masters * self.replicas and
                    all("master_link_status:up" in r for r in replicas))
        _wait("replicas in sync", synced, 30)

    def wait_ok(self, timeout=30):
        def ok():
            return all("cluster_state:ok" in redis_call(p, "CLUSTER", "INFO")
                       for p, proc in self.procs.items() if proc.running())
        _wait("cluster_state:ok on every node", ok, timeout)

    def live_port(self):
        return next(p for p, proc in self.procs.items() if proc.running())

    def slot_owner(self, slot):
        """Port of the master serving slot (as a live node sees it)."""
        for line in redis_call(self.live_port(), "CLUSTER", "NODES").splitlines():
            f = line.split()
            if "master" not in f[2] or "fail" in f[2]:
                continue
            for r in f[8:]:
                lo, _, hi = r.partition("-")
                if r[0] != "[" and int(lo) <= slot <= int(hi or lo):
                    return int(f[1].split("@")[0].rsplit(":", 1)[1])
        return None

    def keyslot(self, key):
        return int(redis_call(self.live_port(), "CLUSTER", "KEYSLOT", key))

    def kill_master_of_slot(self, slot, sig=signal.SIGKILL):
        """Kill the master serving slot; return once another node serves it."""
        port = self.slot_owner(slot)
        self.kill(port, sig)
        _wait("a replica promoted for slot %d" % slot,
              lambda: self.slot_owner(slot) not in (None, port), 30)
        self.wait_ok()
        return port


class RedisSentinelTopology(_Servers):
    """One master, replicas replicating it, and sentinels watching it under
    the name mymaster (quorum: a majority of the sentinels)."""

    def __init__(self, workdir, replicas=1, sentinels=3, down_after_ms=1000):
        super().__init__(workdir)
        self.master_port = free_port()
        self.replica_ports = [free_port() for _ in range(replicas)]
        self.sentinel_ports = [free_port() for _ in range(sentinels)]
        self.down_after_ms = down_after_ms

    @property
    def url(self):
        return "redis+sentinel://%s/%s" % (
            ",".join("127.0.0.1:%d" % p for p in self.sentinel_ports), SENTINEL_MASTER)

    def start(self):
        self._start_server(self.master_port, [])
        for port in self.replica_ports:
            self._start_server(port, ["--replicaof", "127.0.0.1", str(self.master_port)])
        quorum = len(self.sentinel_ports) // 2 + 1
        for port in self.sentinel_ports:
            conf = os.path.join(self.workdir, "sentinel-%d.conf" % port)
            with open(conf, "w") as f:
                f.write("port %d\nbind 127.0.0.1\nsentinel monitor %s 127.0.0.1 %d %d\n"
                        "sentinel down-after-milliseconds %s %d\n"
                        "sentinel failover-timeout %s 10000\n" % (
                            port, SENTINEL_MASTER, self.master_port, quorum, SENTINEL_MASTER,
                            self.down_after_ms, SENTINEL_MASTER))
            proc = Proc("sentinel-%d" % port, [REDIS_SERVER, conf, "--sentinel"],
                        dict(os.environ), os.path.join(self.workdir, "sentinel-%d.log" % port),
                        self.workdir)
            proc.start()
            self.procs[port] = proc
            _wait("sentinel on port %d" % port, lambda p=port: _ping(p), 10)
        _wait("replicas in sync", lambda: all(
            "master_link_status:up" in redis_call(p, "INFO", "replication")
            for p in self.replica_ports), 20)

    def current_master(self):
        """Port of the master the first live sentinel names."""
        for port in self.sentinel_ports:
            if self.procs[port].running():
                out = redis_call(port, "SENTINEL", "get-master-addr-by-name", SENTINEL_MASTER)
                lines = out.splitlines()
                if len(lines) == 2:
                    return int(lines[1])
        return None

    def kill_master(self, sig=signal.SIGKILL):
        """Kill the master; return once the sentinels name a replica instead."""
        old = self.current_master()
        self.kill(old, sig)
        _wait("sentinels to promote a replica",
              lambda: self.current_master() not in (None, old), 30)
        return old
