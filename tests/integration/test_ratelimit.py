"""Failed join attempts are rate limited per client IP across the cluster."""

import pytest

from conftest import PREFIX, Client, clear_ratelimit, join, pair_web, redis_client

LIMIT = 5


@pytest.fixture(scope="module")
def cluster(make_cluster):
    # node3 trusts X-Forwarded-For; node1 and node2 do not.
    c = make_cluster(nodes=3, env={"JOIN_RATE_LIMIT": LIMIT}, node_env={2: {"TRUST_PROXY": 1}})
    yield c
    clear_ratelimit(c)


@pytest.fixture(autouse=True)
def _fresh_counters(cluster):
    clear_ratelimit(cluster)
    yield
    clear_ratelimit(cluster)


async def attempt(url, token, headers=None):
    c = await Client.connect(url, "guesser", headers=headers)
    await c.send({"type": "pair", "clientType": "figma", "sessionToken": token})
    msg = await c.recv()
    if msg.get("type") == "error":
        await c.ping()  # the socket survives a refusal
    await c.close()
    return msg


def bad_token(i):
    return "dts://%012X" % (0xBAD000000000 + i)


async def test_limit_counts_across_nodes(cluster):
    web = await pair_web(cluster.url(0))
    # LIMIT failures spread over two nodes: all plain refusals.
    for i in range(LIMIT):
        msg = await attempt(cluster.url(i % 2), bad_token(i))
        assert msg == {"type": "error", "error": "Invalid session token"}, (i, msg)
    # One more failure: refused either way (the limit is "LIMIT a minute").
    msg = await attempt(cluster.url(1), bad_token(99))
    assert msg["type"] == "error" and msg["error"] in (
        "Invalid session token", "Too many pairing attempts"), msg
    # Past the limit even the right token is refused, on either node.
    for n in (0, 1):
        msg = await attempt(cluster.url(n), web.token)
        assert msg == {"type": "error", "error": "Too many pairing attempts"}, (n, msg)
    await web.quiet()  # nobody joined

    r = redis_client(cluster)
    key = PREFIX + "ratelimit:join:127.0.0.1"
    assert int(r.get(key)) >= LIMIT
    assert 0 < r.ttl(key) <= 60, r.ttl(key)

    # Once the window is gone, the right token works again.
    clear_ratelimit(cluster)
    figma, _ = await join(cluster.url(1), web.token, "figma", peer_online=True)
    await web.expect_peer("joined", "figma")
    await web.close()
    await figma.close()


async def test_successful_joins_are_not_counted(cluster):
    web = await pair_web(cluster.url(0))
    for i in range(LIMIT + 3):
        figma, _ = await join(cluster.url(i % 2), web.token, "figma")
        await figma.close()
    r = redis_client(cluster)
    assert not list(r.scan_iter(PREFIX + "ratelimit:*"))
    await web.close()


async def test_forwarded_for_with_trust_proxy(cluster):
    """node3 (TRUST_PROXY=1) keys the limit on the last X-Forwarded-For address
    (the one the trusted proxy appended): addresses a client puts before it are
    forged at will and must not give it fresh buckets."""
    web = await pair_web(cluster.url(0))
    for i in range(LIMIT + 1):
        spoiled = {"X-Forwarded-For": "192.0.2.%d, 10.1.1.1" % i}
        msg = await attempt(cluster.url(2), bad_token(i), headers=spoiled)
        assert msg["type"] == "error", msg
    msg = await attempt(cluster.url(2), web.token, headers={"X-Forwarded-For": "192.0.2.99, 10.1.1.1"})
    assert msg == {"type": "error", "error": "Too many pairing attempts"}, msg
    r = redis_client(cluster)
    assert r.exists(PREFIX + "ratelimit:join:10.1.1.1")
    # Another forwarded address, and the direct address, are unaffected.
    msg = await attempt(cluster.url(2), web.token, headers={"X-Forwarded-For": "10.2.2.2"})
    assert msg == {"type": "pair", "sessionToken": web.token, "clientType": "figma"}, msg
    await web.drain()
    msg = await attempt(cluster.url(0), web.token)
    assert msg == {"type": "pair", "sessionToken": web.token, "clientType": "figma"}, msg
    await web.close()


async def test_forwarded_for_ignored_without_trust_proxy(cluster):
    for i in range(2):
        msg = await attempt(cluster.url(0), bad_token(i), headers={"X-Forwarded-For": "10.3.3.3"})
        assert msg["type"] == "error", msg
    r = redis_client(cluster)
    assert not r.exists(PREFIX + "ratelimit:join:10.3.3.3")
    assert r.exists(PREFIX + "ratelimit:join:127.0.0.1")
