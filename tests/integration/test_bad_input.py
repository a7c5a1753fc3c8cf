"""Nothing a client sends breaks its socket, its node or anyone else's session:
bad JSON, wrong shapes, unknown types, oversize messages (1009)."""

import asyncio
import json

import pytest
import websockets

from conftest import Client, clear_ratelimit, paired

MAX = 65536


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2, env={"MAX_MESSAGE_BYTES": MAX})


# (text sent, exact error expected or None = any non-empty error string)
BAD = [
    ("not json", "Invalid JSON"),
    ('{"type":"ping"', "Invalid JSON"),
    ("", "Invalid JSON"),
    ("{'type': 'ping'}", "Invalid JSON"),
    ('{"type":"ping"} trailing', "Invalid JSON"),
    ("[]", None),
    ('["type","ping"]', None),
    ('"ping"', None),
    ("42", None),
    ("null", None),
    ("true", None),
    ("{}", None),
    ('{"type":5}', None),
    ('{"type":null}', None),
    ('{"type":{"a":1}}', None),
    ('{"type":"foo"}', "Unknown message type: foo"),
    ('{"type":"pair"}', None),
    ('{"type":"pair","clientType":"desktop"}', None),
    ('{"type":"pair","clientType":5}', None),
    ('{"type":"pair","clientType":null}', None),
    ('{"type":"pair","clientType":"figma","sessionToken":["dts://000000000000"]}', None),
    ('{"type":"sync","payload":{"a":1}}', "Not paired"),
]


async def check_alive(bad, web, figma, expect_seq):
    """The bad socket still answers ping, and the bystander pair still syncs."""
    await bad.ping()
    await web.sync({"still": "ok"})
    m = await figma.expect("sync")
    assert m["payload"] == {"still": "ok"} and m["seq"] == expect_seq, m
    return expect_seq + 1


async def test_bad_inputs_one_socket(cluster):
    """Every bad input on one unpaired socket, with a pair on the same node watching."""
    web, figma = await paired(cluster.url(0), cluster.url(0))
    bad = await Client.connect(cluster.url(0), "bad")
    await bad.ping()  # a token-sync message first: `/` picks the dialect from it
    seq = 1
    try:
        for text, error in BAD:
            await bad.send(text)
            msg = await bad.recv()
            assert msg.get("type") == "error", (text, msg)
            assert isinstance(msg.get("error"), str) and msg["error"], (text, msg)
            if error:
                assert msg["error"] == error, (text, msg)
            seq = await check_alive(bad, web, figma, seq)
        await bad.quiet()
        # The socket can still pair normally after all of that.
        await bad.send({"type": "pair", "clientType": "web"})
        await bad.expect("pair", clientType="web")
    finally:
        clear_ratelimit(cluster)
    await web.quiet()
    for c in (bad, web, figma):
        await c.close()


async def test_bad_inputs_on_paired_socket(cluster):
    """Errors on a paired socket do not consume a seq or reach the peer."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    try:
        for text, error in BAD:
            if text.startswith('{"type":"pair') or text.startswith('{"type":"PAIR'):
                continue  # re-pairing a paired socket is a different question
            if error == "Not paired":
                continue
            await web.send(text)
            msg = await web.expect_error()
            if error:
                assert msg["error"] == error, (text, msg)
            await web.ping()
        await figma.quiet()
        await web.sync({"after": "errors"})
        m = await figma.expect("sync")
        assert m["payload"] == {"after": "errors"} and m["seq"] == 1, m
    finally:
        clear_ratelimit(cluster)
    await web.close()
    await figma.close()


async def test_nasty_payloads_do_not_crash(cluster):
    """Deep nesting, binary frames, huge numbers: any answer is fine, the node survives."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    nasty = [
        '{"type":"sync","payload":' + "[" * 20000 + "]" * 20000 + "}",
        "[" * 30000,
        '{"type":"sync","payload":' + '{"a":' * 5000 + "1" + "}" * 5000 + "}",
        '{"type":"sync","payload":1e999999}',
        '{"type":"sync","payload":"\\ud800"}',
        '{"type":"sync","payload":"\\u00"}',
        '{"type":"sync","payload":}',
        '{"type":"sync"}',
        '{"type":"sync","payload":{"a":1},"seq":5}',
        '{"type":"sync","type":"ping"}',
        '{"type":"ping","type":"sync","payload":1}',
        "\u0000",
    ]
    prober = await Client.connect(cluster.url(0), "prober")
    await prober.ping()
    for text in nasty:
        await prober.send(text)
        await prober.drain(0.2)
    await prober.send(b'{"type":"ping"}')  # binary frame
    try:
        await asyncio.wait_for(prober.ws.recv(), 2)
    except (asyncio.TimeoutError, websockets.ConnectionClosed):
        pass
    # Same thing on a paired socket; the peer may receive relayed syncs, nothing else.
    for text in nasty:
        await web.send(text)
    await web.drain(0.5)
    got = await figma.drain(0.5)
    assert all(m.get("type") == "sync" for m in got), got
    if got:
        assert [m["seq"] for m in got] == list(range(1, len(got) + 1)), got
    # Whatever happened, both nodes still serve this pair and new ones.
    if web.open:
        await web.ping()
    await web.close()
    await figma.close()
    await prober.close()
    a, b = await paired(cluster.url(1), cluster.url(0))
    await a.sync({"fine": True})
    assert (await b.expect("sync"))["payload"] == {"fine": True}
    await a.close()
    await b.close()


def sync_of_size(n):
    """A sync message of exactly n bytes."""
    base = json.dumps({"type": "sync", "payload": {"pad": ""}}, separators=(",", ":"))
    text = base.replace('"pad":""', '"pad":"' + "x" * (n - len(base)) + '"')
    assert len(text.encode()) == n
    return text


async def test_largest_message_is_relayed(cluster):
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await web.send(sync_of_size(MAX))
    m = await figma.expect("sync")
    assert len(m["payload"]["pad"]) == MAX - len('{"type":"sync","payload":{"pad":""}}')
    await web.ping()
    await web.close()
    await figma.close()


@pytest.mark.parametrize("how", ["one_frame", "just_over", "fragmented"])
async def test_oversize_closes_1009(cluster, how):
    web, figma = await paired(cluster.url(1), cluster.url(0))
    if how == "one_frame":
        await web.send(sync_of_size(MAX * 2))
    elif how == "just_over":
        await web.send(sync_of_size(MAX + 1))
    else:
        text = sync_of_size(MAX * 3)
        chunks = [text[i:i + 8192] for i in range(0, len(text), 8192)]
        try:
            await web.ws.send(chunks)
        except websockets.ConnectionClosed:
            pass
    # Anything before the close is fine only if it is not a relayed sync.
    code = await web.wait_closed()
    assert code == 1009, "close code %r (%r)" % (code, web.ws.close_reason)
    # The peer never receives the oversize message, only the departure.
    await figma.expect_peer("left", "web")
    await figma.quiet()
    # The session goes on with a fresh connection.
    web2 = await Client.connect(cluster.url(1), "web2")
    await web2.send({"type": "pair", "clientType": "web", "sessionToken": web.token})
    await web2.expect("pair", clientType="web")
    await web2.drain(0.3)
    await figma.drain(0.3)
    await web2.sync({"after": how})
    m = await figma.expect("sync")
    assert m["payload"] == {"after": how} and m["seq"] == 1
    await web2.close()
    await figma.close()


async def test_many_connections_one_node(cluster):
    """A burst of sessions on one node all pair and relay."""
    pairs = await asyncio.gather(*[paired(cluster.url(i % 2), cluster.url((i + 1) % 2))
                                   for i in range(20)])
    for n, (w, f) in enumerate(pairs):
        await w.sync({"n": n})
    for n, (w, f) in enumerate(pairs):
        m = await f.expect("sync")
        assert m["payload"] == {"n": n} and m["seq"] == 1
    for w, f in pairs:
        await w.close()
        await f.close()


async def test_invalid_utf8_closes_1007(cluster):
    """A text message that is not UTF-8 closes its socket with 1007 and is not
    relayed; a character split between two fragments is valid and relayed."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    head = b'{"type":"sync","payload":{"s":"caf\xc3'
    await web.ws.write_frame(False, 1, head)  # text, not final: cut inside the é
    await web.ws.write_frame(True, 0, b'\xa9 \xf0\x9f\x98\x80"}}')
    m = await figma.expect("sync")
    assert m["payload"] == {"s": "caf\u00e9 \U0001f600"}, m
    await web.ws.write_frame(True, 1, b'{"type":"sync","payload":{"s":"\xed\xa0\x80"}}')
    code = await web.wait_closed()
    assert code == 1007, "close code %r (%r)" % (code, web.ws.close_reason)
    await figma.expect_peer("left", "web")
    await figma.quiet()
    await figma.close()
