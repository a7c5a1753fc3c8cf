"""A reader that stops reading while its peer sends 1000 messages a second.

The node cuts it off (4008) once HISTORY_SIZE sequenced frames are queued for
it, frees the queue at once and names in the close reason the lastSeq to
resume from; meanwhile the node's memory stays within the bound the README
states and an honest pair on the same nodes relays on time. The reader then
resumes with that lastSeq and gets every message after it, once and in order:
the log still holds them, because the queue never held more than
HISTORY_SIZE and the reader came back before HISTORY_SIZE more were published.
"""

import asyncio
import json
import re
import time

import pytest

from conftest import SCALE, Client, http_get, pair_web, paired
from hostile_util import Honest, RawWs

HISTORY = 2000     # HISTORY_SIZE: the queue limit in messages, and what the log holds
RATE = 1000        # messages per second from the slow reader's peer
PAD = "x" * 1000   # about 1 KB a message
# The node's memory for the slow socket: at most HISTORY queued frames of this
# size (payload + 104 bytes of queue overhead each, transport_lws.c), one
# message being written and one being received; the rest is allocator slack.
RSS_BOUND = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2, env={"HISTORY_SIZE": HISTORY, "MESSAGE_RATE": 5000,
                                      "MESSAGE_BURST": 5000})


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def read_until_close(ws):
    """The syncs the stalled reader still gets, then the close frame's code and reason."""
    syncs = []
    while True:
        op, data = ws.recv()
        if op == 8:
            return syncs, int.from_bytes(data[:2], "big"), data[2:].decode()
        if op == 1:
            msg = json.loads(data)
            if msg.get("type") == "sync":
                syncs.append(msg)


def slow_reader_cuts(cluster, i):
    text = http_get(cluster.node_port(i), "/metrics")[2].decode()
    return float(re.search(r'^syncrelay_errors_total\{kind="slow_reader"\} (\S+)$', text, re.M)
                 .group(1))


async def test_slow_reader_is_cut_off_bounded_and_resumes_without_loss(cluster):
    honest = Honest(*(await paired(cluster.url(0), cluster.url(1))), "honest pair")
    honest_tasks = [asyncio.ensure_future(honest.send_loop()),
                    asyncio.ensure_future(honest.recv_loop())]

    web = await pair_web(cluster.url(0))
    slow = RawWs(cluster.node_port(1), "/", rcvbuf=4096)
    slow.send_text(json.dumps({"type": "pair", "clientType": "figma", "sessionToken": web.token}))
    await web.expect_peer("joined", "figma")
    pid = cluster.nodes[1].pid
    base = rss(pid)

    # the peer sends RATE messages a second; the reader reads nothing
    cuts = slow_reader_cuts(cluster, 1)
    sent, peak, cut_at, t0 = 0, base, None, time.monotonic()
    while time.monotonic() - t0 < 30 * SCALE:
        if cut_at is None and sent % (RATE // 10) == 0 and slow_reader_cuts(cluster, 1) > cuts:
            cut_at = sent
        if cut_at is not None and sent >= cut_at + RATE // 4:
            break  # a quarter second of messages after the cut, then stop
        for _ in range(RATE // 100):
            await web.sync({"i": sent, "pad": PAD})
            sent += 1
        peak = max(peak, rss(pid))
        await asyncio.sleep(0.01)
    assert cut_at is not None, "the stalled reader was never cut off (%d sent)" % sent
    grew = peak - base
    print("cut off after about %d messages; node RSS grew %.1f MB" % (cut_at, grew / 1e6))
    if SCALE == 1:  # ASan's quarantine keeps freed memory: no bound to check there
        assert grew < RSS_BOUND, "node RSS grew %d bytes" % grew

    # what was already on the wire still arrives, then 4008 naming lastSeq
    before, code, reason = await asyncio.to_thread(read_until_close, slow)
    slow.close()
    await web.expect_peer("left", "figma")
    assert code == 4008, (code, reason)
    m = re.fullmatch(r"slow reader: resume with lastSeq=(\d+)", reason)
    assert m, reason
    last_seq = int(m.group(1))
    assert last_seq == (before[-1]["seq"] if before else 0), (last_seq, before[-1:])

    # resume: every message after lastSeq, once and in order, up to the last one sent
    again = await Client.connect(cluster.url(1), "figma-again")
    await again.send({"type": "pair", "clientType": "figma", "sessionToken": web.token,
                      "lastSeq": last_seq})
    await again.expect("pair", clientType="figma")
    after = []
    while not after or after[-1]["payload"]["i"] < sent - 1:
        msg = await again.recv()
        if msg.get("type") == "sync":
            after.append(msg)
    seqs = [m["seq"] for m in before + after]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "seq gap or repeat"
    ids = [m["payload"]["i"] for m in before + after]
    assert ids == list(range(sent)), "lost or repeated: %d ids of %d" % (len(ids), sent)
    print("before the close %d messages, resumed from lastSeq=%d: %d more (%d published after "
          "the cut)" % (len(before), last_seq, len(after), sent - cut_at))
    await again.quiet()

    honest.stop.set()
    await asyncio.gather(*honest_tasks)
    worst = honest.check()
    print("honest pair: %d messages, worst latency %.3f s" % (honest.sent, worst))
    for c in (web, again, honest.web, honest.figma):
        await c.close()
