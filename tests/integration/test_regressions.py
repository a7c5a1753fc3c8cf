"""Regression tests, one per defect found in review, named after the bug.

Each one failed (crash, loss, duplicate or wrong event) before its fix."""
import asyncio
import json
import signal

import pytest

from conftest import (PREFIX, SCALE, Client, clear_ratelimit, join, pair_web, paired,
                      redis_client, session_id)


@pytest.fixture(scope="module")
def cluster(make_cluster):
    # SESSION_TTL=10: the periodic refresh ("touch") runs every second.
    # HEARTBEAT_INTERVAL stays long so the raw sockets here are not pinged away.
    return make_cluster(nodes=2, env={"SESSION_TTL": 10, "MAX_MESSAGE_BYTES": 200000,
                                      "JOIN_RATE_LIMIT": 1000})


async def test_touch_with_many_local_members_does_not_crash_the_node(cluster):
    """The refresh of a session with 9+ local connections overran a 32-entry
    length array (any client could crash the node). Ten figma sockets racing
    for one role also exercise supersede: exactly one may survive."""
    web = await pair_web(cluster.url(0))
    figmas = await asyncio.gather(*[Client.connect(cluster.url(1), "figma%d" % i)
                                    for i in range(10)])
    await asyncio.gather(*[f.send({"type": "pair", "clientType": "figma",
                                   "sessionToken": web.token}) for f in figmas])
    await asyncio.sleep(3 * SCALE)  # several refreshes of the session
    assert cluster.node_running(1), "node2 died"
    survivors = [f for f in figmas if f.open]
    assert len(survivors) == 1, "%d figma sockets still open" % len(survivors)
    codes = [f.ws.close_code for f in figmas if not f.open]
    assert codes == [4001] * 9, codes
    await survivors[0].drain(0.3)
    await web.drain(0.3)
    await web.sync({"only": "one"})
    msg = await survivors[0].expect("sync")
    assert msg["payload"] == {"only": "one"}
    for c in [web] + figmas:
        await c.close()


async def test_superseded_socket_is_closed_even_when_its_notice_is_missed(cluster):
    """Supersede notices travel by pub/sub, which is at-most-once. A socket that
    missed its notice kept receiving its role's messages; now the node closes it
    as soon as Redis says it no longer holds the role (on publish or refresh)."""
    web = await pair_web(cluster.url(0))
    old, _ = await join(cluster.url(1), web.token, "figma", peer_online=True)
    await web.expect_peer("joined", "figma")
    # Take the role over behind the node's back, as if the notice was lost.
    r = redis_client(cluster)
    key = PREFIX + "session:tokensync:{%s}" % session_id(web.token)
    holder = r.hget(key, "m:figma")
    node, boot, _ = holder.split("/")
    r.hset(key, "m:figma", "%s/%s/999999" % (node, boot))
    await old.sync({"from": "old"})
    await old.expect_error("Superseded by a new connection")
    assert await old.wait_closed() == 4001
    await web.close()


async def test_frames_refused_to_a_slow_reader_are_not_recorded_as_delivered(cluster):
    """Frames refused by a full send queue still advanced the connection's seq,
    so the member's resume point (d:figma) skipped them and a client without
    lastSeq lost them for good."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await figma.close()
    await web.expect_peer("left", "figma")
    pad = "a" * 150000
    for i in range(100):  # 15 MB while figma is away: more than one send queue holds
        await web.sync({"i": i, "pad": pad})
    await asyncio.sleep(1.0)
    got = []
    for attempt in range(8):
        f = await Client.connect(cluster.url(1), "figma-%d" % attempt)
        await f.send({"type": "pair", "clientType": "figma", "sessionToken": web.token})
        msgs = await f.drain(1.0 * SCALE)
        got += [m["i"] for m in (x.get("payload") for x in msgs if x.get("type") == "sync")]
        await f.close()
        if len(set(got)) == 100:
            break
    missing = sorted(set(range(100)) - set(got))
    assert not missing, "never delivered: %r" % missing[:10]
    await web.close()


async def test_new_member_resume_point_survives_its_node_crashing(cluster):
    """A member's resume point was only written on leave or refresh; when its
    node died first, the rejoin started at the current seq and lost what was
    sent meanwhile."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    cluster.kill_node(1, signal.SIGKILL)
    try:
        await web.sync({"while": "away"})
        await asyncio.sleep(0.2)
        again, _ = await join(cluster.url(0), web.token, "figma")
        syncs, _ = await again.recv_syncs(1)
        assert syncs[0]["payload"] == {"while": "away"}
    finally:
        cluster.start_node(1)
    for c in (web, figma, again):
        await c.close()


async def test_second_pair_while_joining_does_not_corrupt_the_connection(cluster):
    """A second pair sent while the first was in flight overwrote the
    connection's role and token: the client was told a random token and its
    peer later got 'left' for the wrong role."""
    clear_ratelimit(cluster)
    web = await pair_web(cluster.url(0))
    f = await Client.connect(cluster.url(1), "figma")
    await f.send({"type": "pair", "clientType": "figma", "sessionToken": web.token})
    await f.send({"type": "pair", "clientType": "web"})
    msgs = [await f.recv(), await f.recv()]
    pair = [m for m in msgs if m.get("type") == "pair"]
    assert pair == [{"type": "pair", "sessionToken": web.token, "clientType": "figma"}], msgs
    assert {"type": "error", "error": "Pairing already in progress"} in msgs, msgs
    await web.expect_peer("joined", "figma")
    await f.close()
    await web.expect_peer("left", "figma")
    await web.close()


async def test_peer_left_is_sent_when_a_socket_closes_during_its_join(cluster):
    """A socket that closed while its join was in flight gave its role back
    silently: the peer saw 'joined' and never 'left'."""
    web = await pair_web(cluster.url(0))
    f = await Client.connect(cluster.url(1), "figma")
    # Hold every Redis command for a moment so the join is still in flight
    # when the socket goes.
    redis_client(cluster).execute_command("CLIENT", "PAUSE", int(500 * SCALE), "ALL")
    await f.send({"type": "pair", "clientType": "figma", "sessionToken": web.token})
    await asyncio.sleep(0.1)
    f.abort()
    await web.expect_peer("joined", "figma")
    await web.expect_peer("left", "figma")
    await web.close()


async def test_restarted_node_does_not_resurrect_its_old_connections(cluster):
    """With a fixed NODE_ID, a restarted node renewed the liveness that the old
    process's holders pointed at, so they looked online again."""
    web, figma = await paired(cluster.url(0), cluster.url(1))
    await web.close()
    cluster.kill_node(1, signal.SIGKILL)
    cluster.start_node(1)
    await asyncio.sleep(0.5)  # its first heartbeat renews node2's liveness
    back, _ = await join(cluster.url(0), web.token, "web", peer_online=False)
    await back.close()
    await figma.close()
