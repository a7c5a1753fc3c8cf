"""tools/loadgen (syncrelay-loadgen) against a real 2-node cluster: a short
smoke run of each mode and of device sync that asserts correctness only
(every message arrived, in order, once; every pair came up), never speed."""

import json
import os
import subprocess

import pytest
import redis

from conftest import SCALE
from devcluster import LOADGEN_ENV


def loadgen_bin():
    path = os.environ.get("SYNCRELAY_LOADGEN")
    if not path:
        node = os.environ.get("SYNCRELAY_BIN") or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "syncrelay")
        path = os.path.join(os.path.dirname(os.path.abspath(node)), "syncrelay-loadgen")
    if not os.access(path, os.X_OK):
        pytest.fail("load generator not built: %s" % path, pytrace=False)
    return path


def run(*args):
    """Runs the load generator; returns (exit status, report text, parsed JSON line)."""
    argv = [loadgen_bin()] + [str(a) for a in args]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=60 * SCALE)
    lines = p.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("{"), "no JSON line from %s:\n%s" % (argv, p.stdout)
    return p.returncode, p.stdout, json.loads(lines[-1])


def assert_exact(rc, text, r, pairs):
    assert r["ramp"]["pairs_ready"] == pairs and r["ramp"]["pairs_failed"] == 0, text
    assert r["sent"] > 0 and r["received"] == r["sent"], text
    assert (r["lost"], r["out_of_order"], r["duplicated"], r["invalid"]) == (0, 0, 0, 0), text
    assert r["errors"]["total"] == 0 and r["errors"]["pairs_failed"] == 0, text
    assert rc == 0, text


@pytest.fixture(scope="module")
def cluster(make_cluster):
    # device sync: one JWT secret for both nodes, and room for a user per pair;
    # one client IP sending as fast as the relay allows: the per-IP and rate limits lifted
    return make_cluster(nodes=2, haproxy=True,
                        env=dict(LOADGEN_ENV, JWT_SECRET="loadgen-test-secret",
                                 AUTH_RATE_LIMIT=1000))


def test_closed_loop_across_nodes(cluster):
    rc, text, r = run("--web", cluster.url(0), "--figma", cluster.url(1), "--pairs", 8,
                      "--inflight", 8, "--duration", 2, "--warmup", 0.5,
                      "--drain-timeout", 5 * SCALE)
    assert_exact(rc, text, r, 8)
    assert r["mode"] == "closed" and r["relayed"] > 0 and r["msgs_per_s"] > 0, text
    assert r["rtt_us"]["count"] > 0 and r["rtt_us"]["p50"] <= r["rtt_us"]["max"], text
    assert r["oneway_us"]["count"] == r["relayed"], text
    assert r["ramp"]["connections"] == 16, text


def test_fixed_rate_through_load_balancer(cluster):
    rc, text, r = run("--url", cluster.lb_url(), "--pairs", 4, "--rate", 400, "--size", 1000,
                      "--duration", 1.5, "--warmup", 0.3, "--drain-timeout", 5 * SCALE)
    assert_exact(rc, text, r, 4)
    assert r["mode"] == "rate" and r["size"] == 1000 and r["relayed"] > 0, text


def test_capacity_idle_pairs_from_several_source_addresses(cluster):
    pids = [cluster.nodes[0].pid, cluster.nodes[1].pid]
    rc, text, r = run("--web", cluster.url(0), "--figma", cluster.url(1), "--capacity", 200,
                      "--sources", 4, "--hold", 0.5, "--pid-web", pids[0], "--pid-figma", pids[1])
    assert rc == 0, text
    assert r["mode"] == "capacity" and r["ramp"]["connections"] == 200, text
    assert r["ramp"]["pairs_ready"] == 100 and r["errors"]["total"] == 0, text
    assert r["ramp"]["connects_per_s"] > 0, text
    nodes = r["procs"]
    assert nodes["web_node"]["connections"] == 100 and nodes["figma_node"]["connections"] == 100
    assert nodes["web_node"]["rss_after_kib"] > 0, text


def test_device_sync_across_nodes_registers_then_logs_in(cluster):
    """Two devices of one user per pair, on different nodes, over Socket.IO:
    session-update and realtime-event in turn, both ways. The second run finds
    the users taken and logs them in."""
    pids = [cluster.nodes[0].pid, cluster.nodes[1].pid]
    for _ in range(2):
        rc, text, r = run("--dialect", "devicesync", "--web", cluster.url(0, "/socket.io/"),
                          "--figma", cluster.url(1, "/socket.io/"), "--pairs", 4, "--inflight", 4,
                          "--duration", 1, "--warmup", 0.3, "--accounts", "smoke",
                          "--drain-timeout", 5 * SCALE, "--pid-web", pids[0], "--pid-figma", pids[1])
        assert_exact(rc, text, r, 4)
        assert r["dialect"] == "devicesync" and r["relayed"] > 0, text
        assert r["oneway_us"]["count"] == r["relayed"], text
        assert r["procs"]["web_node"]["connections"] == 4, text
    users = redis.Redis(port=cluster.redis_port, decode_responses=True).keys(
        "syncrelay:account:{smoke-*")
    assert len(users) == 4, users
