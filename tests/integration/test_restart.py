"""Node restarts (SIGKILL, SIGTERM drain) and a Redis restart keep sessions and
lose no message."""

import asyncio
import json
import signal

import pytest
import websockets

from conftest import (SCALE, Client, assert_consecutive, eventually, http_get, join, metric_values,
                      pair_web, paired)

DRAIN = 2


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2, haproxy=True, env={"DRAIN_TIMEOUT": DRAIN})


@pytest.fixture(scope="module")
def aof_cluster(make_cluster):
    return make_cluster(nodes=2, redis_aof=True)


@pytest.fixture
def restore(cluster):
    yield
    for i in range(cluster.n):
        if not cluster.node_running(i):
            cluster.start_node(i, registered=True)


async def test_sigkill_node_resume_elsewhere(cluster, restore):
    web, figma = await paired(cluster.url(0), cluster.url(1))
    for i in range(5):
        await figma.sync({"i": i})
    syncs, _ = await web.recv_syncs(5)
    seen = syncs[-1]["seq"]

    rc = cluster.kill_node(0, signal.SIGKILL)
    assert rc == -signal.SIGKILL
    await web.wait_closed()
    for i in range(5, 10):  # web is gone; figma keeps writing
        await figma.sync({"i": i})
    await figma.drain(0.3)  # a `left` for web may or may not come

    # web resumes on the surviving node with the last seq it saw.
    web, _ = await join(cluster.url(1), figma.token, "web", last_seq=seen)
    got, _ = await web.recv_syncs(5)
    assert [m["payload"]["i"] for m in got] == list(range(5, 10))
    assert_consecutive([m["seq"] for m in got], start=seen + 1)

    # The killed node comes back on the same port and serves the session again.
    await asyncio.to_thread(cluster.start_node, 0, registered=True)
    await web.drain(0.2)
    await figma.drain(0.2)
    last = got[-1]["seq"]
    await web.close()
    web, _ = await join(cluster.url(0), figma.token, "web", last_seq=last)
    await web.drain(0.3)
    await figma.drain(0.3)
    await web.sync({"back": True})
    m = await figma.expect("sync")
    assert m["payload"] == {"back": True} and m["seq"] == last + 1
    await figma.sync({"to": "restarted"})
    m = await web.expect("sync")
    assert m["payload"] == {"to": "restarted"} and m["seq"] == last + 2

    # New pairings on the restarted node work too.
    a, b = await paired(cluster.url(0), cluster.url(1))
    await b.sync({"new": 1})
    assert (await a.expect("sync"))["payload"] == {"new": 1}
    for c in (a, b, web, figma):
        await c.close()


async def test_sigterm_drain_and_resume_without_last_seq(cluster, restore):
    """SIGTERM: /ready 503 at once, live sockets still served for DRAIN_TIMEOUT,
    new upgrades refused, then 1012; the client rejoins elsewhere like a stock
    client (no lastSeq) and gets what was sent meanwhile."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await web.sync({"before": 1})
    first = (await figma.expect("sync"))["seq"]

    cluster.kill_node(0, signal.SIGTERM, wait=False)
    await eventually(lambda: cluster.ready_status(0) == 503, timeout=1, interval=0.05,
                     what="/ready 503 after SIGTERM")
    # Still serving the live socket during the drain.
    await web.sync({"during": 1})
    m = await figma.expect("sync")
    assert m["payload"] == {"during": 1} and m["seq"] == first + 1
    await figma.sync({"during": 2})
    m = await web.expect("sync")
    assert m["payload"] == {"during": 2} and m["seq"] == first + 2
    # New upgrades refused.
    with pytest.raises((websockets.InvalidStatusCode, websockets.InvalidHandshake, OSError,
                        asyncio.TimeoutError)):
        c = await Client.connect(cluster.url(0), "latecomer")
        await c.close()

    assert await web.wait_closed(timeout=DRAIN + 5 * SCALE) == 1012
    assert await asyncio.to_thread(cluster.wait_node_exit, 0) == 0
    await figma.expect_peer("left", "web")
    for i in range(3):
        await figma.sync({"after": i})

    web, _ = await join(cluster.url(1), figma.token, "web")
    got, _ = await web.recv_syncs(3)
    assert [m["payload"] for m in got] == [{"after": i} for i in range(3)]
    assert_consecutive([m["seq"] for m in got], start=first + 3)
    await web.drain(0.3)
    await asyncio.to_thread(cluster.start_node, 0, registered=True)
    await figma.drain(0.2)
    for c in (web, figma):
        await c.close()


async def test_rolling_restart_through_haproxy_loses_nothing(cluster, restore):
    """Both clients behind haproxy; every node is restarted in turn (SIGTERM) while
    web keeps sending. Each message web sent before it saw the close frame is
    delivered exactly once, in order."""
    web, figma = await paired(cluster.lb_url(), cluster.lb_url())
    token = web.token
    sent = []          # payload numbers whose send() succeeded
    received = []      # sync messages at figma, across its reconnects
    state = {"web": web, "figma": figma, "done": False}

    async def web_loop():
        n = 0
        while not state["done"]:
            try:
                await state["web"].sync({"n": n})
                sent.append(n)
                n += 1
            except websockets.ConnectionClosed:
                await state["web"].wait_closed()
                state["web"], _ = await join(cluster.lb_url(), token, "web", retry_for=10)
            await asyncio.sleep(0.01)

    async def figma_loop():
        while True:
            try:
                msg = await asyncio.wait_for(state["figma"].ws.recv(), 0.2)
            except asyncio.TimeoutError:
                if state["done"]:
                    return
                continue
            except websockets.ConnectionClosed:
                last = received[-1]["seq"] if received else 0
                state["figma"], _ = await join(cluster.lb_url(), token, "figma",
                                               last_seq=last, retry_for=10)
                continue
            m = json.loads(msg)
            if m["type"] == "sync":
                received.append(m)
            else:
                assert m["type"] == "peer", m

    tasks = [asyncio.create_task(web_loop()), asyncio.create_task(figma_loop())]
    await asyncio.sleep(0.5)
    for i in range(cluster.n):
        await asyncio.to_thread(cluster.kill_node, i, signal.SIGTERM)
        await asyncio.to_thread(cluster.start_node, i, registered=True)
        await eventually(lambda: (http_get(cluster.lb_port, "/ready") or [0])[0] == 200,
                         what="haproxy ready")
        await asyncio.sleep(1.0)
    state["done"] = True
    await asyncio.wait_for(tasks[0], 10 * SCALE)
    await asyncio.sleep(1.0)
    # figma may still be catching up

    def caught_up():
        if tasks[1].done():
            tasks[1].result()  # re-raises what broke the figma side
        return len(received) >= len(sent)
    try:
        await eventually(caught_up, timeout=10, what="all delivered")
    except AssertionError as e:
        got = [m["payload"]["n"] for m in received]
        raise AssertionError("%s: sent %d, received %d, missing %r, seqs at the end %r" % (
            e, len(sent), len(got), sorted(set(sent) - set(got))[:20],
            [m["seq"] for m in received[-5:]]))
    tasks[1].cancel()
    got = [m["payload"]["n"] for m in received]
    assert got == sent, "lost or duplicated: sent %d, got %d; missing %r; extra %r" % (
        len(sent), len(got), sorted(set(sent) - set(got))[:20],
        [x for x in got if got.count(x) > 1][:20])
    assert_consecutive([m["seq"] for m in received], start=1)
    await state["web"].close()
    await state["figma"].close()


async def test_redis_restart_recovers(aof_cluster):
    c = aof_cluster
    web, figma = await paired(c.url(0), c.url(1))
    for i in range(3):
        await web.sync({"i": i})
    syncs, _ = await figma.recv_syncs(3)
    seen_f = syncs[-1]["seq"]

    c.stop_redis(signal.SIGKILL)
    for i in range(c.n):
        await eventually(lambda: c.ready_status(i) == 503, timeout=5,
                         what="node%d /ready 503 with Redis down" % (i + 1))
        assert metric_values(http_get(c.node_port(i), "/metrics")[2].decode())[
            "syncrelay_redis_connected"] == 0
    # Clients get an answer, not silence: a pair attempt and a sync are refused.
    lone = await Client.connect(c.url(0), "lone")
    await lone.send({"type": "pair", "clientType": "web"})
    await lone.expect_error(timeout=5 * SCALE)
    await lone.ping()
    if web.open:
        await web.sync({"lost": True})
        await web.expect_error(timeout=5 * SCALE)

    await asyncio.sleep(1.0)
    await asyncio.to_thread(c.start_redis)
    for i in range(c.n):
        await eventually(lambda: c.ready_status(i) == 200, timeout=20,
                         what="node%d /ready 200 after Redis is back" % (i + 1))

    # Existing sockets, if the node kept them, work again (resubscribed).
    if web.open and figma.open:
        await web.drain(0.3)
        await figma.drain(0.3)
        await web.sync({"i": 3})
        m = await figma.expect("sync")
        assert m["payload"] == {"i": 3} and m["seq"] == seen_f + 1, m
        seen_f = m["seq"]
    await web.close()
    await figma.close()

    # Rejoin with lastSeq on swapped nodes: the session survived in Redis.
    figma, _ = await join(c.url(0), web.token, "figma", last_seq=seen_f)
    web, _ = await join(c.url(1), figma.token, "web")
    await web.drain(0.3)
    await figma.drain(0.3)
    await web.sync({"after": "restart"})
    m = await figma.expect("sync")
    assert m["payload"] == {"after": "restart"} and m["seq"] == seen_f + 1, m

    # New pairings work on both nodes.
    a, b = await paired(c.url(1), c.url(0))
    await a.sync({"new": 1})
    assert (await b.expect("sync"))["payload"] == {"new": 1}
    for x in (a, b, web, figma, lone):
        await x.close()


async def test_members_of_a_just_started_node_count_as_online(cluster, restore):
    """A node serves clients as soon as /ready says 200: a figma joining at that
    moment, on another node, is told that the web client on the new node is online."""
    cluster.kill_node(0, signal.SIGKILL)
    await asyncio.to_thread(cluster.start_node, 0)  # /ready 200, nothing more
    web = await pair_web(cluster.url(0))
    figma, _ = await join(cluster.url(1), web.token, "figma", peer_online=True)
    await web.expect_peer("joined", "figma")
    await web.close()
    await figma.close()
