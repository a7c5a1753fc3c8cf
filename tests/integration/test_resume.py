"""Offline delivery and resume: a member that comes back, on the other node, gets
exactly what it missed (with or without lastSeq), in order, then live traffic."""

import asyncio

import pytest

from conftest import (PREFIX, assert_consecutive, eventually, join, paired, redis_client,
                      session_id)


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2)


async def collect_after_join(c, n_syncs):
    """After a join reply: n_syncs replayed syncs (peer events may interleave)."""
    syncs, others = await c.recv_syncs(n_syncs)
    assert all(m["type"] == "peer" and m["event"] == "joined" for m in others), others
    return syncs


async def test_offline_delivery_to_figma_without_last_seq(cluster):
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await web.sync({"live": 0})
    first = (await figma.expect("sync"))["seq"]
    await figma.close()
    await web.expect_peer("left", "figma")
    for i in range(5):
        await web.sync({"offline": i})
    await web.quiet()  # no error: syncing to an absent peer is fine once paired

    figma, _ = await join(cluster.url(0), web.token, "figma")  # the other node now
    syncs = await collect_after_join(figma, 5)
    assert [m["payload"] for m in syncs] == [{"offline": i} for i in range(5)]
    assert_consecutive([m["seq"] for m in syncs], start=first + 1)
    await web.expect_peer("joined", "figma")
    await figma.drain()  # its own peer-joined if it came after the replay
    await web.sync({"live": 1})
    m = await figma.expect("sync")
    assert m["payload"] == {"live": 1} and m["seq"] == first + 6
    await figma.quiet()
    await web.quiet()
    await web.close()
    await figma.close()


async def test_offline_delivery_to_web_without_last_seq(cluster):
    web, figma = await paired(cluster.url(1), cluster.url(0))
    await web.close()
    await figma.expect_peer("left", "web")
    for i in range(7):
        await figma.sync({"while_away": i})
    await figma.quiet()
    web, _ = await join(cluster.url(0), web.token, "web")
    syncs = await collect_after_join(web, 7)
    assert [m["payload"] for m in syncs] == [{"while_away": i} for i in range(7)]
    assert_consecutive([m["seq"] for m in syncs], start=1)
    await figma.expect_peer("joined", "web")
    await web.drain()
    await figma.sync({"live": True})
    m = await web.expect("sync")
    assert m == {"type": "sync", "payload": {"live": True}, "seq": 8}
    await web.close()
    await figma.close()


async def test_resume_with_last_seq(cluster):
    web, figma = await paired(cluster.url(0), cluster.url(1))
    for i in range(10):
        await web.sync({"i": i})
    syncs, _ = await figma.recv_syncs(10)
    seqs = [m["seq"] for m in syncs]
    assert_consecutive(seqs)
    seen = seqs[4]  # pretend it only processed the first five
    await figma.close()
    await web.expect_peer("left", "figma")
    for i in range(10, 15):
        await web.sync({"i": i})

    figma, _ = await join(cluster.url(0), web.token, "figma", last_seq=seen)
    got = await collect_after_join(figma, 10)
    assert [m["payload"] for m in got] == [{"i": i} for i in range(5, 15)]
    assert_consecutive([m["seq"] for m in got], start=seen + 1)
    await figma.drain()
    await web.expect_peer("joined", "figma")
    await web.sync({"i": 15})
    m = await figma.expect("sync")
    assert m["payload"] == {"i": 15} and m["seq"] == got[-1]["seq"] + 1
    await figma.quiet()
    await web.close()
    await figma.close()


async def test_resume_last_seq_zero_and_current(cluster):
    web, figma = await paired(cluster.url(1), cluster.url(0))
    for i in range(4):
        await figma.sync({"i": i})
    syncs, _ = await web.recv_syncs(4)
    last = syncs[-1]["seq"]
    await web.close()
    await figma.expect_peer("left", "web")

    # lastSeq 0: everything retained, in order.
    web, _ = await join(cluster.url(0), figma.token, "web", last_seq=0)
    got = await collect_after_join(web, 4)
    assert [m["payload"] for m in got] == [{"i": i} for i in range(4)]
    assert_consecutive([m["seq"] for m in got], start=1)
    await web.drain()
    await figma.expect_peer("joined", "web")
    await web.close()
    await figma.expect_peer("left", "web")

    # lastSeq = the latest: nothing replayed, live traffic continues.
    web, others = await join(cluster.url(1), figma.token, "web", last_seq=last)
    others += await web.drain()
    assert not [m for m in others if m.get("type") == "sync"], others
    await figma.expect_peer("joined", "web")
    await figma.sync({"next": 1})
    m = await web.expect("sync")
    assert m["payload"] == {"next": 1} and m["seq"] == last + 1
    await web.close()
    await figma.close()


async def test_resume_in_middle_of_live_traffic(cluster):
    """figma drops (no close frame) while web keeps sending; it comes back on the
    other node with lastSeq: every message exactly once, in order."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    total = 150
    sent = asyncio.Event()

    async def sender():
        for i in range(total):
            await web.sync({"i": i})
            await asyncio.sleep(0.005)
        sent.set()

    task = asyncio.create_task(sender())
    received = []
    syncs, _ = await figma.recv_syncs(30)
    received += syncs
    figma.abort()
    await asyncio.sleep(0.2)
    figma, _ = await join(cluster.url(0), web.token, "figma", last_seq=received[-1]["seq"])
    rest = total - len(received)
    syncs, _ = await figma.recv_syncs(rest, timeout=10)
    received += syncs
    await task
    assert [m["payload"]["i"] for m in received] == list(range(total))
    assert_consecutive([m["seq"] for m in received], start=1)
    await figma.quiet()
    await web.drain()
    await web.close()
    await figma.close()


async def test_both_sides_resume(cluster):
    """Both away at once; each comes back (swapped nodes) and gets the other's messages."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await web.sync({"w": 0})
    await figma.expect("sync")
    await figma.sync({"f": 0})
    await web.expect("sync")
    token = web.token
    await web.close()
    await figma.expect_peer("left", "web")
    await figma.sync({"f": 1})      # web is away
    await figma.close()
    r = redis_client(cluster)        # wait until figma's node has noticed it went away
    await eventually(lambda: r.hget(PREFIX + "session:tokensync:{%s}" % session_id(token),
                                    "m:figma") == "", what="figma marked away")
    web, _ = await join(cluster.url(1), token, "web")
    m = await web.expect("sync")    # f:1, sent while web was away; figma is away: no peer event
    assert m["payload"] == {"f": 1} and m["seq"] == 3
    await web.sync({"w": 1})        # figma is away
    await web.quiet()
    figma, _ = await join(cluster.url(0), token, "figma")
    got = await collect_after_join(figma, 1)
    assert got[0]["payload"] == {"w": 1} and got[0]["seq"] == 4
    await figma.drain()
    await web.expect_peer("joined", "figma")
    await web.close()
    await figma.close()
