"""Token sync dialect (seed 000) across nodes: pairing, sync, peer events,
leniency, rejoin, supersede, ping. The two ends sit on different nodes unless
a test says otherwise."""

import asyncio
import json

import pytest

from conftest import (Client, TOKEN_RE, assert_consecutive, join, pair_web, paired,
                      clear_ratelimit)


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2, haproxy=True, env={"MAX_MESSAGE_BYTES": 65536})


PAYLOADS = [
    {"collections": [{"name": "colors", "modes": ["light", "dark"],
                      "variables": [{"name": "primary", "values": {"light": "#fff", "dark": "#000"}}]}]},
    {"unicode": "h\u00e9llo \u2603 \U0001F600", "nul": "a\u0000b", "quote": "\"\\/\n\t"},
    {"seq": 999, "type": "pair", "payload": {"seq": -1}},  # must not confuse the relay
    [1, 2.5, -3e10, 12345678901234567890, True, False, None, "x"],
    "just a string",
    0,
    {"big": "x" * 30000},
    {},
]


async def test_pair_reply_and_token_format(cluster):
    web = await pair_web(cluster.url(0))
    assert TOKEN_RE.match(web.token)
    other = await pair_web(cluster.url(1))
    assert other.token != web.token
    await web.close()
    await other.close()


async def test_sync_both_ways_in_order_never_echoed(cluster):
    web, figma = await paired(cluster.url(0), cluster.url(1))
    for i in range(50):
        await web.sync({"i": i, "from": "web"})
    syncs, others = await figma.recv_syncs(50)
    assert not others
    assert [m["payload"] for m in syncs] == [{"i": i, "from": "web"} for i in range(50)]
    assert all(set(m) == {"type", "payload", "seq"} for m in syncs), syncs[0]
    seqs = [m["seq"] for m in syncs]
    assert_consecutive(seqs, start=1)

    for i in range(50):
        await figma.sync({"i": i, "from": "figma"})
    back, _ = await web.recv_syncs(50)
    assert [m["payload"] for m in back] == [{"i": i, "from": "figma"} for i in range(50)]
    assert_consecutive([m["seq"] for m in back], start=seqs[-1] + 1)
    await web.quiet()
    await figma.quiet()
    await web.close()
    await figma.close()


async def test_payloads_relayed_exactly(cluster):
    web, figma = await paired(cluster.url(0), cluster.url(1))
    for p in PAYLOADS:
        await web.sync(p)
    syncs, _ = await figma.recv_syncs(len(PAYLOADS))
    assert [m["payload"] for m in syncs] == PAYLOADS
    # Raw text with unusual spacing is still spliced in as the same JSON value.
    await figma.send('{ "payload" : {"a" : [1 , 2]} , "type" : "sync" }')
    msg = await web.expect("sync")
    assert msg["payload"] == {"a": [1, 2]}
    assert msg["seq"] == syncs[-1]["seq"] + 1
    await web.close()
    await figma.close()


async def test_concurrent_both_ways(cluster):
    web, figma = await paired(cluster.url(1), cluster.url(0))

    async def send(c, tag):
        for i in range(25):
            await c.sync({"tag": tag, "i": i})
            await asyncio.sleep(0)

    await asyncio.gather(send(web, "w"), send(figma, "f"))
    at_figma, _ = await figma.recv_syncs(25)
    at_web, _ = await web.recv_syncs(25)
    assert [m["payload"] for m in at_figma] == [{"tag": "w", "i": i} for i in range(25)]
    assert [m["payload"] for m in at_web] == [{"tag": "f", "i": i} for i in range(25)]
    s1 = [m["seq"] for m in at_figma]
    s2 = [m["seq"] for m in at_web]
    assert s1 == sorted(s1) and s2 == sorted(s2)
    assert sorted(s1 + s2) == list(range(1, 51)), sorted(s1 + s2)
    await web.quiet()
    await figma.quiet()
    await web.close()
    await figma.close()


async def test_sync_through_haproxy(cluster):
    web, figma = await paired(cluster.lb_url(), cluster.lb_url())
    for i in range(20):
        await web.sync({"n": i})
        await figma.sync({"m": i})
    a, _ = await figma.recv_syncs(20)
    b, _ = await web.recv_syncs(20)
    assert [m["payload"] for m in a] == [{"n": i} for i in range(20)]
    assert [m["payload"] for m in b] == [{"m": i} for i in range(20)]
    assert sorted(m["seq"] for m in a + b) == list(range(1, 41))
    await web.quiet()
    await figma.quiet()
    await web.close()
    await figma.close()


@pytest.mark.parametrize("variant", ["lower", "no_prefix", "no_prefix_lower", "whitespace",
                                     "upper_prefix"])
async def test_token_leniency(cluster, variant):
    web = await pair_web(cluster.url(0))
    hexpart = web.token[len("dts://"):]
    token = {
        "lower": "dts://" + hexpart.lower(),
        "no_prefix": hexpart,
        "no_prefix_lower": hexpart.lower(),
        "whitespace": "  \t" + web.token + " \n",
        "upper_prefix": "DTS://" + hexpart.lower(),
    }[variant]
    figma, _ = await join(cluster.url(1), token, "figma", peer_online=True)
    assert figma.token == web.token
    await web.expect_peer("joined", "figma")
    await figma.sync({"ok": variant})
    assert (await web.expect("sync"))["payload"] == {"ok": variant}
    await web.close()
    await figma.close()


async def test_peer_events(cluster):
    web = await pair_web(cluster.url(0))
    figma, _ = await join(cluster.url(1), web.token, "figma", peer_online=True)
    await web.expect_peer("joined", "figma")

    await figma.close()
    await web.expect_peer("left", "figma")
    await web.quiet()

    figma, _ = await join(cluster.url(0), web.token, "figma", peer_online=True)
    await web.expect_peer("joined", "figma")

    await web.close()
    await figma.expect_peer("left", "web")
    await figma.quiet()

    web, _ = await join(cluster.url(1), figma.token, "web", peer_online=True)
    await figma.expect_peer("joined", "web")
    await web.quiet()
    await figma.quiet()
    await web.close()
    await figma.close()


async def test_figma_joins_while_web_away(cluster):
    web = await pair_web(cluster.url(0))
    token = web.token
    await web.close()
    figma, _ = await join(cluster.url(1), token, "figma", peer_online=False)
    web, _ = await join(cluster.url(0), token, "web", peer_online=True)
    await figma.expect_peer("joined", "web")
    await web.sync({"hello": 1})
    assert (await figma.expect("sync"))["payload"] == {"hello": 1}
    await web.close()
    await figma.close()


async def test_sync_before_pair_is_not_paired(cluster):
    lone = await Client.connect(cluster.url(0))
    await lone.sync({"x": 1})
    await lone.expect_error("Not paired")
    await lone.ping()
    web = await pair_web(cluster.url(1))
    await web.sync({"x": 1})
    await web.expect_error("Not paired")
    await web.ping()
    await lone.close()
    await web.close()


async def test_web_rejoin(cluster):
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await web.sync({"a": 1})
    s1 = (await figma.expect("sync"))["seq"]
    await web.close()
    await figma.expect_peer("left", "web")
    web, others = await join(cluster.url(1), web.token, "web", peer_online=True)
    assert not [m for m in others if m.get("type") == "sync"], others
    await figma.expect_peer("joined", "web")
    await web.sync({"a": 2})
    m = await figma.expect("sync")
    assert m["payload"] == {"a": 2} and m["seq"] == s1 + 1
    await figma.sync({"b": 1})
    m = await web.expect("sync")
    assert m["payload"] == {"b": 1} and m["seq"] == s1 + 2
    await web.quiet()
    await web.close()
    await figma.close()


@pytest.mark.parametrize("role", ["figma", "web"])
async def test_supersede_across_nodes(cluster, role):
    """A second connection of the same role, on the other node, takes over."""
    if role == "figma":  # old figma on node1 (with web), new figma on node2
        peer, old = await paired(cluster.url(0), cluster.url(0))
        new_url = cluster.url(1)
    else:  # old web on node2, figma on node1, new web on node1
        old, peer = await paired(cluster.url(1), cluster.url(0))
        new_url = cluster.url(0)
    new, _ = await join(new_url, old.token, role, name=role + "2", peer_online=True)
    await old.expect_error("Superseded by a new connection")
    assert await old.wait_closed() == 4001
    # the peer may or may not see left/joined for the swap; it must end up talking to `new`.
    await peer.drain()
    await peer.sync({"to": "new " + role})
    assert (await new.expect("sync"))["payload"] == {"to": "new " + role}
    await new.sync({"from": "new " + role})
    assert (await peer.expect("sync"))["payload"] == {"from": "new " + role}
    await new.quiet()
    await peer.close()
    await new.close()


async def test_ping_pong(cluster):
    for url in (cluster.url(0), cluster.url(1), cluster.lb_url()):
        c = await Client.connect(url)
        for _ in range(3):
            await c.ping()
        await c.close()
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await web.ping()
    await figma.ping()
    await figma.quiet()
    await web.close()
    await figma.close()


async def test_invalid_token_rejected(cluster):
    try:
        for token in ["dts://000000000000", "dts://XYZ", "", "dts://", 12345, None]:
            c = await Client.connect(cluster.url(0))
            msg = {"type": "pair", "clientType": "figma"}
            if token is not None:
                msg["sessionToken"] = token
            await c.send(msg)
            err = await c.expect_error()
            if isinstance(token, str) or token is None:
                assert err["error"] == "Invalid session token", (token, err)
            await c.ping()
            await c.close()
    finally:
        clear_ratelimit(cluster)


async def test_unknown_session_not_reachable(cluster):
    """A client that has not joined a session gets nothing from it."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    outsider = await Client.connect(cluster.url(1))
    await web.sync({"secret": 1})
    await figma.expect("sync")
    await outsider.quiet()
    await outsider.send(json.dumps({"type": "sync", "payload": {"x": 1}}))
    await outsider.expect_error("Not paired")
    await figma.quiet()
    await web.close()
    await figma.close()
    await outsider.close()


async def test_joiner_always_told_peer_online(cluster):
    """Many cross-node pairings in a row: every figma is told its web is online."""
    for n in range(40):
        a, b = n % 2, 1 - n % 2
        web = await pair_web(cluster.url(a))
        figma, _ = await join(cluster.url(b), web.token, "figma", peer_online=True,
                              name="figma#%d(node%d, web on node%d)" % (n, b + 1, a + 1))
        await web.expect_peer("joined", "figma")
        await web.close()
        await figma.close()


async def test_a_reader_that_stops_gets_everything_in_order(cluster):
    """A receiver that stops reading fills its socket: the node then writes
    only part of a frame, keeps the rest and the frames after it, and sends
    them when the socket drains. Nothing is lost, cut or reordered."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    pad = "p" * 50000
    for i in range(100):  # 5 MB: more than the reader's buffers, under the send queue's limit
        await web.sync({"i": i, "pad": pad})
    await asyncio.sleep(1.0)  # figma reads nothing meanwhile
    syncs, _ = await figma.recv_syncs(100)
    assert [m["payload"]["i"] for m in syncs] == list(range(100))
    assert all(m["payload"]["pad"] == pad for m in syncs)
    assert_consecutive([m["seq"] for m in syncs])
    await web.close()
    await figma.close()
