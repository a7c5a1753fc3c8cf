"""HTTP endpoints on the WebSocket port: /health, /ready, /metrics."""

import json
from datetime import datetime

import pytest

from conftest import Client, eventually, http_get, metric_values, paired


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2, haproxy=True)


def get(cluster, i, path):
    r = http_get(cluster.node_port(i), path)
    assert r is not None, "no answer from %s%s" % (cluster.http_url(i), path)
    return r


def health(cluster, i):
    status, headers, body = get(cluster, i, "/health")
    assert status == 200, (status, body)
    assert headers.get("content-type", "").startswith("application/json"), headers
    return json.loads(body)


def metrics(cluster, i):
    status, headers, body = get(cluster, i, "/metrics")
    assert status == 200, (status, body)
    assert headers.get("content-type", "").startswith("text/plain"), headers
    return body.decode()


def test_ready(cluster):
    for i in range(cluster.n):
        status, _, _ = get(cluster, i, "/ready")
        assert status == 200
    status, _, _ = http_get(cluster.lb_port, "/ready")
    assert status == 200


def test_health_fields(cluster):
    for i in range(cluster.n):
        h = health(cluster, i)
        assert h["status"] == "healthy", h
        assert h["node"] == cluster.node_id(i), h
        ts = h["timestamp"].replace("Z", "+00:00")
        datetime.fromisoformat(ts)
        for f in ("connections", "sessions", "activeSessions", "totalConnections"):
            assert isinstance(h[f], int) and not isinstance(h[f], bool) and h[f] >= 0, (f, h)


async def test_health_counts_local_and_cluster_wide(cluster):
    base0, base1 = health(cluster, 0), health(cluster, 1)
    pairs = [await paired(cluster.url(0), cluster.url(1)) for _ in range(2)]
    extra = await Client.connect(cluster.url(0))  # connected, no session
    await extra.ping()
    h0 = await eventually(lambda: (lambda h: h if h["connections"] == base0["connections"] + 3
                                   else None)(health(cluster, 0)), what="node1 connections")
    assert h0["sessions"] >= base0["sessions"] + 2, h0
    h1 = health(cluster, 1)
    assert h1["connections"] == base1["connections"] + 2, h1
    want_total = base0["connections"] + base1["connections"] + 5
    for i in (0, 1):
        h = await eventually(lambda: (lambda h: h if h["totalConnections"] == want_total
                                      else None)(health(cluster, i)), timeout=6,
                             what="node%d totalConnections == %d" % (i + 1, want_total))
        assert h["activeSessions"] >= 2, h
    for w, f in pairs:
        await w.close()
        await f.close()
    await extra.close()
    await eventually(lambda: health(cluster, 0)["connections"] == base0["connections"],
                     what="node1 connections back to base")


async def test_metrics(cluster):
    m0 = metric_values(metrics(cluster, 0))
    m1 = metric_values(metrics(cluster, 1))
    for name in ("syncrelay_connections", "syncrelay_messages_in_total",
                 "syncrelay_messages_out_total", "syncrelay_redis_connected"):
        assert name in m0, (name, sorted(m0))
    assert m0["syncrelay_redis_connected"] == 1
    text = metrics(cluster, 0)
    for name in ("syncrelay_messages_in_total", "syncrelay_messages_out_total"):
        assert "# TYPE %s counter" % name in text, name

    web, figma = await paired(cluster.url(0), cluster.url(1))
    for i in range(5):
        await web.sync({"i": i})
    await figma.recv_syncs(5)
    a0 = metric_values(metrics(cluster, 0))
    a1 = metric_values(metrics(cluster, 1))
    assert a0["syncrelay_messages_in_total"] >= m0["syncrelay_messages_in_total"] + 6  # pair + 5
    assert a1["syncrelay_messages_out_total"] >= m1["syncrelay_messages_out_total"] + 5
    assert a0["syncrelay_connections"] == m0["syncrelay_connections"] + 1
    assert a1["syncrelay_connections"] == m1["syncrelay_connections"] + 1
    await web.close()
    await figma.close()


def test_health_and_metrics_through_haproxy(cluster):
    status, _, body = http_get(cluster.lb_port, "/health")
    assert status == 200 and json.loads(body)["status"] == "healthy"
    status, _, body = http_get(cluster.lb_port, "/metrics")
    assert status == 200 and b"syncrelay_connections" in body
