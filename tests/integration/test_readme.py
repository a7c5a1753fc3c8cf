"""The README's own blocks, run against a dev cluster (tools/devcluster.py with
tools/dev-cluster's environment), so the documentation cannot drift from the
product. A block is run when the Markdown has `<!-- readme-run: NAME -->` on
the line before it; every such block must have a test here, and every test
here a block. The examples address `localhost:8080` (where `make run` and
`make cluster` listen); they run with the cluster's haproxy address there
instead, since tests never take fixed ports."""

import asyncio
import json
import os
import re
import subprocess

import pytest

from conftest import SCALE, paired, session_id
from devcluster import REPO, Cluster, dev_environment

BLOCK_RE = re.compile(r"^<!-- readme-run: ([\w-]+) -->\n```(\w+)\n(.*?)^```$", re.S | re.M)
RUN = {"quick-start-pair", "devicesync-rest", "peersync", "walkthrough"}


def readme_blocks():
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    blocks = {}
    for m in BLOCK_RE.finditer(text):
        assert m[1] not in blocks, "two README blocks named %s" % m[1]
        blocks[m[1]] = (m[2], m[3])
    return blocks


def test_every_marked_block_is_run_here():
    assert set(readme_blocks()) == RUN


@pytest.fixture(scope="module")
def dev(make_cluster):
    """The README's examples' cluster: make cluster's settings, behind haproxy."""
    return make_cluster(nodes=2, haproxy=True, env=dev_environment())


def run_sh(text, cluster, **env):
    if cluster.lb_port:
        text = text.replace("localhost:8080", "127.0.0.1:%d" % cluster.lb_port)
    full = dict(os.environ, REDIS_PORT=str(cluster.redis_port), **env)
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", text], env=full, capture_output=True,
                       text=True, timeout=60 * SCALE)
    assert r.returncode == 0, "README block failed (%d):\n%s\n%s" % (r.returncode, text, r.stderr)
    return r.stdout.splitlines()


def test_quick_start_pairing(dev):
    lang, text = readme_blocks()["quick-start-pair"]
    out = run_sh(text, dev)
    reply = json.loads(out[0])
    assert reply["type"] == "pair" and reply["clientType"] == "web"
    assert re.fullmatch(r"dts://[0-9A-F]{12}", reply["sessionToken"])


def test_device_sync_rest(dev):
    lang, text = readme_blocks()["devicesync-rest"]
    out = run_sh(text, dev)
    assert out[0] == '"ada@example.com"'
    # the block's last line says what it prints
    assert json.loads(out[1]) == json.loads(text.rsplit("# ", 1)[1])


@pytest.fixture(scope="module")
def dev_peersync(make_cluster):
    # peersync's scripts still span hash slots (conftest.CROSS_SLOT_MODULES)
    return make_cluster(nodes=2, haproxy=True, env=dev_environment(), slot_check=False)


def test_peersync_example(dev_peersync):
    lang, text = readme_blocks()["peersync"]
    out = [json.loads(line) for line in run_sh(text, dev_peersync)]
    assert [m["event"] for m in out] == ["AUTH_SUCCESS", "PEER_REGISTERED", "PEERS_LIST"]
    assert out[0]["data"]["userId"] == "user_123"
    assert out[1]["data"]["profile"]["ide"] == "vscode"


# ---- the redis-cli walk-through ------------------------------------------------

def console_commands(text):
    """[(command, [README output lines])] of a console block."""
    out = []
    for line in text.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def shapes(lines, sid):
    """Keys and channels with the session id and the boot ids made generic."""
    return {re.sub(r"(node\d/|chan:eio:)[a-z0-9]{8}", r"\1BOOT", l.strip().replace(sid, "ID"))
            for l in lines if l.strip()}


async def make_walkthrough_state(cluster):
    """What the walk-through describes: web on node1, figma on node2, one sync
    each way, then figma gone."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await web.sync({"color.primary": "#0055ff"})
    await figma.recv_syncs(1)
    await figma.sync({"ack": 1})
    await web.recv_syncs(1)
    await figma.close()
    await web.expect_peer("left", "figma")
    return web


async def test_redis_cli_walkthrough(make_cluster):
    cluster = make_cluster(nodes=2, haproxy=False, env=dev_environment())
    web = await make_walkthrough_state(cluster)
    sid = session_id(web.token)
    lang, text = readme_blocks()["walkthrough"]
    assert lang == "console"
    readme_sid = re.search(r"tokensync:\{([0-9A-F]{12})\}", text)[1]
    commands = console_commands(text)
    assert len(commands) >= 8
    for command, shown in commands:
        if " SUBSCRIBE " in command:  # blocks until Ctrl-C: shown, not run
            continue
        verb = command.split()[3]
        run = command.replace(readme_sid, sid)
        if verb == "LRANGE":  # as a terminal shows it (entries hold newlines)
            run = run.replace("redis-cli ", "redis-cli --no-raw ", 1)
        real = await asyncio.to_thread(run_sh, run, cluster)
        shown = [re.sub(r"\s+#.*$", "", l) for l in shown]  # the README's comments
        where = "README walk-through: %s" % command
        if "--scan" in command or "PUBSUB CHANNELS" in command:
            assert shapes(real, sid) == shapes(shown, readme_sid), where
        elif "HGETALL" in command:
            fields = {l.split()[0] for l in shown if l.strip()}
            assert set(real[0::2]) == fields, where
        elif verb == "LRANGE":  # the envelopes exactly, sender, seq and frame (not the time)
            def same(lines, id_):
                return [re.sub(r'"m \d{16}\\n', '"m TIME\\n', l.replace(id_, "ID")) for l in lines]
            assert same(real, sid) == same(shown, readme_sid), where
        elif verb == "ZRANGE":
            assert len(real) == len(shown), where  # one line per element either way
        elif verb == "TTL":
            assert int(real[0]) > 0, where
        else:
            raise AssertionError("no check for README command: " + command)
    await web.close()
