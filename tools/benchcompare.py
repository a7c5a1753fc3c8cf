"""tools/bench --compare: syncrelay side by side with the Node relays it replaces.

Two contests, each contestant on two nodes and a Redis of its own, all on
loopback, driven by the same load generator (syncrelay-loadgen):

* token sync: syncrelay's token-sync dialect ("/") against baseline (a),
  tools/baselines/tokensync-relay.js (`ws` + `ioredis`, one PUBLISH per message);
* device sync: syncrelay's device-sync dialect ("/socket.io/") against
  baseline (b), tools/baselines/devicesync-socketio.js (Socket.IO v4 with
  @socket.io/redis-adapter); one registered user per pair, its two devices
  on the two nodes.

At each load (200 pairs x 1 in flight, 64 pairs x 8) the contestants run in
turn, baseline first (baseline, syncrelay, baseline, ...), ROUNDS times; the
report gives each contestant's median over its runs: relayed msgs/s, round
trip p50/p99, node CPU (both nodes) and Redis CPU in µs per relayed message,
and syncrelay's ratios to the baseline against the targets of the per-message
cost work. Then one short extra run per dialect counts syncrelay's system
calls per relayed message (perf stat on the syscall tracepoints when the
kernel allows it, else strace -c -f), over a window in the middle of the run
and divided by the messages the nodes' /metrics say they relayed in it.
"""

import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

from devcluster import REPO, Cluster, Proc, free_port, http_get, tail_file

BASELINES = os.path.join(REPO, "tools", "baselines")
LOADS = [(200, 1), (64, 8)]
JWT_SECRET = "bench-compare-secret"
SYSCALLS = ["epoll_ctl", "epoll_wait", "epoll_pwait", "read", "write", "writev", "recvfrom",
            "sendto", "recvmsg", "sendmsg"]
# syncrelay / baseline, as the issue sets them (node CPU, Redis CPU, msgs/s, p99)
TARGETS = {"node_us": ("<=", 0.25), "redis_us": ("<=", 2.0), "msgs_per_s": (">=", 2.5),
           "p99_ms": ("<=", 1 / 3.0)}


class NodeBaseline:
    """redis-server + two Node processes of one baseline, on loopback."""

    SCRIPT = {"tokensync": "tokensync-relay.js", "devicesync": "devicesync-socketio.js"}
    HEALTH = {"tokensync": "/health", "devicesync": "/api/health"}

    def __init__(self, dialect, workdir):
        self.dialect, self.workdir = dialect, workdir
        self.redis_port = free_port()
        self.ports = [free_port(), free_port()]
        self.redis, self.nodes = None, []

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        argv = [shutil.which("redis-server"), "--port", str(self.redis_port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.workdir]
        self.redis = Proc("redis", argv, dict(os.environ),
                          os.path.join(self.workdir, "redis.log"), self.workdir)
        self.redis.start()
        for i, port in enumerate(self.ports):
            env = dict(os.environ, PORT=str(port), JWT_SECRET=JWT_SECRET,
                       REDIS_URL="redis://127.0.0.1:%d" % self.redis_port, NODE_ENV="production")
            p = Proc("baseline%d" % (i + 1), [shutil.which("node"), self.SCRIPT[self.dialect]],
                     env, os.path.join(self.workdir, "baseline%d.log" % (i + 1)), BASELINES)
            p.start()
            self.nodes.append(p)
        deadline = time.monotonic() + 20
        for p, port in zip(self.nodes, self.ports):
            while True:
                r = http_get(port, self.HEALTH[self.dialect], timeout=1)
                if r and r[0] == 200:
                    break
                if time.monotonic() > deadline or not p.running():
                    raise RuntimeError("baseline did not start:\n" + tail_file(p.log_path))
                time.sleep(0.1)
        return self

    def url(self, i):
        return "ws://127.0.0.1:%d/%s" % (self.ports[i],
                                         "socket.io/" if self.dialect == "devicesync" else "")

    @property
    def pids(self):
        return [self.nodes[0].pid, self.nodes[1].pid, self.redis.pid]

    def stop(self):
        for p in self.nodes + [self.redis]:
            if p:
                p.stop(timeout=3)


class Syncrelay:
    """Two syncrelay nodes and their Redis (tools/devcluster.py), no haproxy."""

    def __init__(self, dialect, build):
        self.dialect = dialect
        env = {"DRAIN_TIMEOUT": "0", "HEARTBEAT_INTERVAL": "30", "JWT_SECRET": JWT_SECRET,
               "AUTH_RATE_LIMIT": "1000000"}
        self.cluster = Cluster(nodes=2, haproxy=False, env=env, jwt_keys=False,
                               binary=os.path.join(build, "syncrelay"))

    def start(self):
        self.cluster.start()
        return self

    def url(self, i):
        return self.cluster.url(i, "/socket.io/" if self.dialect == "devicesync" else "/")

    @property
    def pids(self):
        c = self.cluster
        return [c.nodes[0].pid, c.nodes[1].pid, c.redis.pid]

    def stop(self):
        self.cluster.stop()


def loadgen_argv(args, dialect, side, pairs, inflight, duration, warmup):
    return ["--dialect", dialect, "--web", side.url(0), "--figma", side.url(1), "--pairs", pairs,
            "--inflight", inflight, "--size", args.size, "--duration", duration, "--warmup",
            warmup, "--accounts", "bench", "--pid-web", side.pids[0], "--pid-figma",
            side.pids[1], "--pid-redis", side.pids[2]]


def summarize(r):
    """One loadgen run -> the figures compared."""
    pr, rate = r.get("procs", {}), r["msgs_per_s"] or 1e-9
    cpu = {k: pr.get(k, {}).get("cpu_percent", 0.0) for k in ("web_node", "figma_node", "redis")}
    return {"msgs_per_s": r["msgs_per_s"], "p50_ms": r["rtt_us"]["p50"] / 1e3,
            "p99_ms": r["rtt_us"]["p99"] / 1e3,
            "node_us": (cpu["web_node"] + cpu["figma_node"]) * 1e4 / rate,
            "redis_us": cpu["redis"] * 1e4 / rate,
            "exact": r["exit"] == 0 and r["lost"] == 0 and r["duplicated"] == 0
            and r["out_of_order"] == 0,
            "other_load_pct": r["load"]["other_load_pct"]}


# ---- system calls per relayed message -------------------------------------------

def relayed_total(cluster):
    """Messages the nodes' clients published, from both nodes' /metrics."""
    total = 0
    for i in range(cluster.n):
        r = http_get(cluster.node_port(i), "/metrics", timeout=2)
        for line in (r[2].decode() if r and r[0] == 200 else "").splitlines():
            if line.startswith("syncrelay_messages_relayed_total "):
                total += int(float(line.split()[1]))
    return total


def perf_syscalls(pids, seconds, edge):
    """System calls of pids over `seconds`, counted by perf stat on the syscall
    tracepoints, started with counting off and switched on and off through its
    control pipe, so the window is exact: edge() runs right before it opens and
    right after it closes. None when perf cannot count here."""
    events = ["raw_syscalls:sys_enter"] + ["syscalls:sys_enter_" + s for s in SYSCALLS]
    cr, cw = os.pipe()
    ar, aw = os.pipe()
    argv = ["perf", "stat", "-x", ",", "-e", ",".join(events), "-p",
            ",".join(str(p) for p in pids), "-D", "-1", "--control", "fd:%d,%d" % (cr, aw)]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         pass_fds=(cr, aw))
    os.close(cr)
    os.close(aw)

    def command(c):  # answered once perf has attached
        os.write(cw, c)
        return bool(select.select([ar], [], [], 20)[0]) and os.read(ar, 64).startswith(b"ack")

    try:
        ok = command(b"disable\n")
        edge()
        ok = ok and command(b"enable\n")
        time.sleep(seconds)
        ok = ok and command(b"disable\n")
        edge()
    finally:
        p.send_signal(signal.SIGINT)
        err = p.communicate(timeout=30)[1]
        os.close(cw)
        os.close(ar)
    counts = {}
    for line in err.splitlines():
        f = line.split(",")
        if len(f) > 2 and f[0].strip().isdigit():
            name = f[2].split(":")[-1].replace("sys_enter_", "")
            counts["total" if name == "sys_enter" else name] = int(f[0])
    return counts if ok and "total" in counts else None


def strace_syscalls(pids, seconds, edge):
    """The same with strace -c -f, which counts from its attach (a few ms after
    it starts, taken as the first edge) to its end (the second); it slows the
    nodes, so calls that batch under load batch less: an upper bound."""
    out = os.path.join("/tmp", "syncrelay-bench-strace.%d" % os.getpid())
    argv = ["strace", "-c", "-f", "-q", "-o", out] + [a for p in pids for a in ("-p", str(p))]
    s = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    edge()
    time.sleep(seconds)
    edge()
    s.send_signal(signal.SIGINT)
    s.wait(30)
    counts = {}
    with open(out) as f:
        for line in f:
            v = line.split()
            if len(v) >= 5 and v[-1] != "syscall" and v[3].isdigit():
                counts["total" if v[-1] == "total" else v[-1]] = int(v[3])
    os.unlink(out)
    return counts


def syscalls(args, dialect, side, say):
    """One run of 64 pairs x 8; counts over a window in its middle, divided by
    the messages the nodes relayed in that window (their /metrics)."""
    c = side.cluster
    opts = loadgen_argv(args, dialect, side, 64, 8, 9, 1)
    lg = subprocess.Popen([os.path.join(args.build, "syncrelay-loadgen")] + [str(o) for o in opts],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    marks, window, counts, tool = [], 3, None, "perf stat"
    try:
        deadline = time.monotonic() + 60
        start = relayed_total(c)
        while relayed_total(c) - start < 1000 and time.monotonic() < deadline:
            time.sleep(0.1)  # accounts and ramp done, traffic flowing
        edge = lambda: marks.append(relayed_total(c))  # noqa: E731
        if shutil.which("perf"):
            counts = perf_syscalls(side.pids[:2], window, edge)
        if counts is None and shutil.which("strace"):
            marks, tool = [], "strace -c -f"
            counts = strace_syscalls(side.pids[:2], window, edge)
    finally:
        lg.communicate(timeout=120)
    relayed = marks[-1] - marks[-2] if len(marks) >= 2 else 0
    if not counts or relayed <= 0:
        say("syscalls: neither perf nor strace could count")
        return None
    per = {k: v / relayed for k, v in counts.items() if v}
    say("syscalls (%s): %.2f per relayed message" % (tool, per.get("total", 0)))
    return {"tool": tool, "relayed": relayed, "window_s": window, "per_message": per}


# ---- the contest -----------------------------------------------------------------

def contest(args, dialect, measure, loadgen, say):
    d = 0.4 if args.quick else 1.0
    rounds = 1 if args.quick else args.rounds
    work = os.path.join("/tmp", "syncrelay-compare-%d-%s" % (os.getpid(), dialect))
    sides = {"baseline": NodeBaseline(dialect, work), "syncrelay": Syncrelay(dialect, args.build)}
    out = {"runs": [], "loads": []}
    try:
        for side in sides.values():
            side.start()
        every_pid = [p for s in sides.values() for p in s.pids]
        for pairs, inflight in LOADS:
            runs = {name: [] for name in sides}
            for k in range(rounds):
                for name, side in sides.items():
                    say("%s %dx%d round %d/%d: %s" % (dialect, pairs, inflight, k + 1, rounds,
                                                      name))
                    r = measure(every_pid, lambda: loadgen(args, *loadgen_argv(
                        args, dialect, side, pairs, inflight, 5 * d, 1 * d)))
                    r["contestant"] = name
                    out["runs"].append(r)
                    runs[name].append(summarize(r))
            med = {name: {k: statistics.median(x[k] for x in v) for k in v[0]
                          if k not in ("exact",)} for name, v in runs.items()}
            for name, v in runs.items():
                med[name]["exact"] = all(x["exact"] for x in v)
                med[name]["runs"] = len(v)
                med[name]["other_load_max"] = max(x["other_load_pct"] for x in v)
            out["loads"].append({"pairs": pairs, "inflight": inflight, "median": med})
        out["syscalls"] = syscalls(args, dialect, sides["syncrelay"], say)
    finally:
        for side in sides.values():
            side.stop()
        shutil.rmtree(work, ignore_errors=True)
    return out


def compare(args, machine, measure, loadgen):
    say = (lambda *a: None) if args.quiet else (lambda *a: print("bench:", *a, file=sys.stderr))
    if not shutil.which("redis-server"):
        sys.exit("bench: redis-server not found (run tools/install-deps.sh)")
    subprocess.run([os.path.join(BASELINES, "install.sh")], check=True)  # node, npm ci
    res = {"compare": True, "machine": machine(), "size": args.size, "quick": args.quick,
           "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
           "node": subprocess.run(["node", "--version"], stdout=subprocess.PIPE,
                                  text=True).stdout.strip()}
    for dialect in ("tokensync", "devicesync"):
        res[dialect] = contest(args, dialect, measure, loadgen, say)
    res["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    res["loadavg_after"] = os.getloadavg()
    return res


# ---- report ----------------------------------------------------------------------

NAMES = {"tokensync": ("token sync", "Node ws + ioredis"),
         "devicesync": ("device sync", "Socket.IO 4 + redis-adapter")}


def fmt(n):
    return "{:,.0f}".format(n).replace(",", " ")


def met(key, ratio):
    op, limit = TARGETS[key]
    ok = ratio <= limit if op == "<=" else ratio >= limit
    return "%.2fx (%s %.2gx: %s)" % (ratio, op, limit, "yes" if ok else "no")


def report(res):
    m = res["machine"]
    out = []
    w = out.append
    w("### Comparison run of %s (payload %d bytes%s)" % (res["started"], res["size"],
                                                         ", --quick" if res["quick"] else ""))
    w("")
    w("Machine: %s, %d cores, %d MiB, Linux %s, Redis %s, Node %s. Load average %.2f before, "
      "%.2f after." % (m["cpu"], m["cores"], m["memory_mib"], m["kernel"], m["redis"],
                       res["node"], m["loadavg"][0], res["loadavg_after"][0]))
    w("Medians over each contestant's runs; CPU per relayed message is the processes' CPU time "
      "over the measured window divided by the messages relayed in it; \"other load\" is the "
      "highest CPU busy outside the processes under test in any of the runs, in % of all cores.")
    for dialect in ("tokensync", "devicesync"):
        c = res[dialect]
        title, base = NAMES[dialect]
        w("")
        w("| %s | pairs x in flight | relayed msgs/s | RTT p50 / p99 ms | node CPU µs/msg "
          "(both) | Redis CPU µs/msg | exact | other load |" % title)
        w("| --- | --- | ---: | --- | ---: | ---: | --- | ---: |")
        for ld in c["loads"]:
            for name in ("baseline", "syncrelay"):
                x = ld["median"][name]
                who = base if name == "baseline" else "syncrelay"
                w("| %s (%d run%s) | %d x %d | %s | %.2f / %.2f | %.1f | %.1f | %s | %.0f %% |" % (
                    who, x["runs"], "s" if x["runs"] > 1 else "", ld["pairs"], ld["inflight"],
                    fmt(x["msgs_per_s"]), x["p50_ms"], x["p99_ms"], x["node_us"], x["redis_us"],
                    "yes" if x["exact"] else "NO", x["other_load_max"]))
        w("")
        w("| %s: syncrelay / baseline | msgs/s | p99 round trip | node CPU per msg | "
          "Redis CPU per msg |" % title)
        w("| --- | --- | --- | --- | --- |")
        for ld in c["loads"]:
            b, s = ld["median"]["baseline"], ld["median"]["syncrelay"]
            r = {k: s[k] / b[k] if b[k] else float("inf") for k in TARGETS}
            w("| %d x %d | %s | %s | %s | %s |" % (
                ld["pairs"], ld["inflight"], met("msgs_per_s", r["msgs_per_s"]),
                met("p99_ms", r["p99_ms"]), met("node_us", r["node_us"]),
                met("redis_us", r["redis_us"])))
        sc = c.get("syscalls")
        if sc:
            per = sc["per_message"]
            named = sorted(((k, v) for k, v in per.items() if k != "total"), key=lambda kv: -kv[1])
            w("")
            w("syncrelay %s, system calls per relayed message (both nodes, %s, 64 x 8, %d "
              "messages in %d s): **%.2f** in all; %s." % (
                  title, sc["tool"], sc["relayed"], sc["window_s"], per.get("total", 0),
                  ", ".join("%s %.2f" % kv for kv in named[:8])))
    return "\n".join(out)
