"""A node started as `make run` starts it (embedded redis-server) and stopped
as a terminal's Ctrl-C stops it: a SIGINT to the whole process group. Also
LOG_LEVEL: which events each level writes, in both log formats; and the
start-up check of Redis' eviction policy."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import SCALE, paired
from devcluster import Cluster, default_binary, free_port, http_get


def start_embedded(tmp_path, **env_extra):
    tmp_path.mkdir(exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "LOG_LEVEL", "LOG_FORMAT")}  # REDIS_URL unset: embedded
    env.update({"PORT": str(port), "NODE_ID": "solo"}, **env_extra)
    log_path = tmp_path / "node.log"
    log = open(log_path, "w")
    # its own session, like a shell job: a signal to the group reaches what the node started
    proc = subprocess.Popen([default_binary()], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 10 * SCALE
    while True:
        if (http_get(port, "/ready") or [0])[0] == 200:
            break
        assert proc.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, "not ready: " + log_path.read_text()
        time.sleep(0.05)
    return proc, port, log_path


def test_ctrl_c_with_no_connections_stops_at_once_and_redis_after_the_node(tmp_path):
    proc, _, log_path = start_embedded(tmp_path, DRAIN_TIMEOUT="20")
    redis_pid = int(re.search(r"embedded redis-server \(pid (\d+)\)", log_path.read_text())[1])
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends to the foreground group
    assert proc.wait(10 * SCALE) == 0
    assert time.monotonic() - t0 < 3 * SCALE, "waited for a drain with nothing to drain"
    log = log_path.read_text()
    assert "no connections, stopping" in log
    # the Ctrl-C did not reach redis-server: the node kept its Redis to the end
    assert "cannot connect" not in log and "disconnected" not in log, log
    with pytest.raises(ProcessLookupError):
        os.kill(redis_pid, 0)  # and stopped it when it was done


async def test_log_levels_in_both_formats(tmp_path):
    procs = []
    try:
        debug, port_d, log_d = start_embedded(tmp_path / "d", LOG_LEVEL="debug", LOG_FORMAT="json")
        procs.append(debug)
        warn, port_w, log_w = start_embedded(tmp_path / "w", LOG_LEVEL="warn", LOG_FORMAT="text")
        procs.append(warn)
        for port in (port_d, port_w):
            web, figma = await paired("ws://127.0.0.1:%d/" % port, "ws://127.0.0.1:%d/" % port)
            await web.sync({"hello": 1})
            await figma.recv_syncs(1)
            await web.close()
            await figma.close()
        time.sleep(0.3)
        records = [json.loads(line) for line in log_d.read_text().splitlines()
                   if line.startswith("{")]  # the rest is the embedded redis-server's
        msgs = [(r["level"], r["msg"]) for r in records]
        assert all(r["node"] == "solo" for r in records)
        assert any(lv == "debug" and re.match(r"conn \d+: open \(\w+\) from 127\.0\.0\.1", m)
                   for lv, m in msgs), msgs
        assert any(lv == "info" and re.match(r"conn \d+: joined tokensync \w+ as ", m)
                   for lv, m in msgs), msgs
        assert any(lv == "debug" and '"type":"sync"' in m.replace(" ", "") for lv, m in msgs)
        assert any(lv == "info" and re.match(r"conn \d+: left tokensync ", m) for lv, m in msgs)
        assert any(lv == "debug" and re.match(r"conn \d+: closed", m) for lv, m in msgs)
        text = log_w.read_text()
        assert " info " not in text and " debug " not in text, text
        assert " warn " in text  # ADMIN_TOKEN unset
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            p.wait(10)


def wait_for_log(path, text):
    deadline = time.monotonic() + 10 * SCALE
    while time.monotonic() < deadline:
        log = open(path).read()
        if text in log:
            return log
        time.sleep(0.1)
    raise AssertionError("no %r in:\n%s" % (text, log[-3000:]))


def test_warns_when_redis_could_evict_keys_without_ttl():
    c = Cluster(nodes=1, haproxy=False, wait_registered=False, jwt_keys=False)
    try:
        c.start_redis()
        c.redis_command("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        c.start_node(0)
        wait_for_log(c.node_log(0), "maxmemory-policy is allkeys-lru")
    finally:
        c.stop()


def test_says_when_it_could_not_check_the_eviction_policy(tmp_path):
    """A managed Redis that refuses CONFIG (here renamed away)."""
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--rename-command", "CONFIG", ""],
                             stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        proc, _, log_path = start_embedded(tmp_path, REDIS_URL="redis://127.0.0.1:%d" % port)
        log = wait_for_log(log_path, "could not read maxmemory-policy")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert "redis store: connected" in log
    finally:
        redis.send_signal(signal.SIGTERM)
        redis.wait(10)
