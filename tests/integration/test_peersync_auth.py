"""peersync authentication (seed 003): every refused token over AUTH and over
GET /api/v1/auth/verify, the public key, dev tokens (on with DEV_TOKENS=1
only), the AUTH timeout, pending requests expiring after SESSION_TTL, and a
node without key files (ephemeral pair, warning). Tokens are made with the
openssl command line from the cluster's shared key pair."""

import asyncio
import http.client
import json
import os
import subprocess
import time

import pytest

from conftest import SCALE, http_get
from peersync_util import (Peer, b64url, claims, close_all, hs256_token, make_token, peer,
                           signing_input, unique)

AUTH_TIMEOUT = 1
TTL = 3


@pytest.fixture(scope="module")
def cluster(make_cluster):
    """Shared keys, DEV_TOKENS off, a short AUTH_TIMEOUT and SESSION_TTL."""
    return make_cluster(nodes=2, env={"AUTH_TIMEOUT": AUTH_TIMEOUT, "SESSION_TTL": TTL,
                                      "DEV_TOKENS": "0"})


@pytest.fixture(scope="module")
def ephemeral(make_cluster):
    """One node without key files: it makes its own pair."""
    return make_cluster(nodes=1, jwt_keys=False, env={"DEV_TOKENS": "1"})


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if data else None
    finally:
        conn.close()


def other_key(cluster):
    path = os.path.join(cluster.workdir, "other-private.pem")
    if not os.path.exists(path):
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", path], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def bad_tokens(cluster):
    """(description, token, expected code) of every refusal."""
    priv, user = cluster.jwt_private_key, unique("bad")
    good = make_token(priv, claims(user))
    with open(cluster.jwt_public_key, "rb") as f:
        public_pem = f.read()
    now = int(time.time())
    h, p, s = good.split(".")
    flipped = s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1]
    none_body = signing_input({"alg": "none", "typ": "JWT"}, claims(user))
    return [
        ("not three parts", "abc", "ERR_1002"),
        ("alg none", none_body + ".", "ERR_1002"),
        ("alg None with a signature", make_token(priv, claims(user), {"alg": "None"}), "ERR_1002"),
        ("HS256 keyed with the public key PEM", hs256_token(public_pem, claims(user)), "ERR_1002"),
        ("RS512 header", make_token(priv, claims(user), {"alg": "RS512", "typ": "JWT"}), "ERR_1002"),
        ("signature altered", h + "." + p + "." + flipped, "ERR_1002"),
        ("payload swapped", h + "." + b64url(json.dumps(claims("mallory")).encode()) + "." + s,
         "ERR_1002"),
        ("another key pair", make_token(other_key(cluster), claims(user)), "ERR_1002"),
        ("padded base64url", h + "=." + p + "." + s, "ERR_1002"),
        ("standard base64 alphabet", h + "." + p + "." + s.replace("-", "+").replace("_", "/")
         if ("-" in s or "_" in s) else h + "." + p + "." + s + "+", "ERR_1002"),
        ("payload not JSON", make_token(priv, b"{not json"), "ERR_1002"),
        ("header not JSON", make_token(priv, claims(user), b"{alg"), "ERR_1002"),
        ("expired", make_token(priv, dict(claims(user), exp=now - 10)), "ERR_1003"),
        ("not yet valid", make_token(priv, dict(claims(user), nbf=now + 3600)), "ERR_1002"),
        ("no userId", make_token(priv, {"iat": now, "exp": now + 60}), "ERR_1002"),
        ("empty userId", make_token(priv, claims("")), "ERR_1002"),
        ("userId not a string", make_token(priv, dict(claims(user), userId=42)), "ERR_1002"),
        ("userId with braces", make_token(priv, claims("a{b}")), "ERR_1002"),
        ("userId too long", make_token(priv, claims("u" * 101)), "ERR_1002"),
        ("exp not a number", make_token(priv, dict(claims(user), exp="tomorrow")), "ERR_1002"),
        ("over 16 KiB", make_token(priv, claims(user, pad="x" * 17000)), "ERR_1002"),
    ]


async def test_every_bad_token_is_refused_and_the_socket_stays(cluster):
    p = await Peer.connect(cluster.url(0, "/ws"), "p")
    for data in ({}, {"token": ""}, {"token": None}):
        await p.emit("AUTH", data)
        await p.expect_code("ERR_1001", event="AUTH_FAILED")
    await p.send('{"event":"AUTH"}')
    await p.expect_code("ERR_1001", event="AUTH_FAILED")
    await p.emit("AUTH", {"token": 123})
    await p.expect_code("ERR_1002", event="AUTH_FAILED")
    for what, token, code in bad_tokens(cluster):
        await p.emit("AUTH", {"token": token})
        msg = await p.recv()
        assert msg.get("event") == "AUTH_FAILED" and msg["data"]["code"] == code, (what, msg)
    await p.emit("PING")
    await p.expect_code("ERR_5005")  # still not authenticated
    user = unique()
    await p.auth(make_token(cluster.jwt_private_key, claims(user)))  # and still open for a good one
    await close_all(p)


async def test_sub_names_the_user_when_there_is_no_userid(cluster):
    user = unique("sub")
    now = int(time.time())
    p = await Peer.connect(cluster.url(1, "/ws"), "p")
    msg = await p.auth(make_token(cluster.jwt_private_key, {"sub": user, "iat": now}))
    assert msg["data"] == {"userId": user, "displayName": None, "email": None}
    await close_all(p)


async def test_token_from_one_node_key_works_on_every_node(cluster):
    token = make_token(cluster.jwt_private_key, claims(unique(), display_name="X"))
    for i in range(2):
        p = await Peer.connect(cluster.url(i, "/ws"), "p%d" % i)
        await p.auth(token)
        await close_all(p)


def test_rest_verify(cluster):
    user = unique()
    token = make_token(cluster.jwt_private_key, claims(user, display_name="Dev", email="d@x.io"))
    for port in cluster.node_ports:
        status, body = request(port, "GET", "/api/v1/auth/verify",
                            headers={"Authorization": "Bearer " + token})
        assert status == 200, body
        assert body == {"valid": True, "userId": user, "displayName": "Dev", "email": "d@x.io"}
    port = cluster.node_ports[1]
    status, body = request(port, "GET", "/api/v1/auth/verify")
    assert status == 401 and body["code"] == "ERR_1001" and body["valid"] is False
    for what, bad, code in bad_tokens(cluster):
        if len(bad) > 1000:
            continue  # Authorization headers are limited in size (see the README)
        status, body = request(port, "GET", "/api/v1/auth/verify",
                            headers={"Authorization": "Bearer " + bad})
        assert (status, body["code"]) == (401, code), (what, body)


def test_rest_public_key_and_dev_tokens_off(cluster):
    with open(cluster.jwt_public_key) as f:
        pem = f.read()
    for port in cluster.node_ports:
        status, body = request(port, "GET", "/api/v1/auth/public-key")
        assert status == 200 and body["algorithm"] == "RS256"
        assert body["publicKey"].strip() == pem.strip()
    status, _ = request(cluster.node_ports[0], "POST", "/api/v1/auth/public-key", body="{}")
    assert status == 405
    status, _ = request(cluster.node_ports[0], "POST", "/api/v1/auth/dev-token",
                     body=json.dumps({"userId": "u1"}))
    assert status == 404  # DEV_TOKENS=0


async def test_auth_timeout_closes_the_socket(cluster):
    silent = await Peer.connect(cluster.url(0, "/ws"), "silent")
    failed = await Peer.connect(cluster.url(1, "/ws"), "failed")
    authed = await peer(cluster.url(1, "/ws"), cluster.jwt_private_key, name="authed")
    started = time.monotonic()
    await failed.emit("AUTH", {"token": "nope"})
    await failed.expect_code("ERR_1002", event="AUTH_FAILED")  # a failure does not stop the clock
    for p in (silent, failed):
        msg = await p.expect_code("ERR_1001", timeout=(AUTH_TIMEOUT + 3) * SCALE)
        assert "timeout" in msg["data"]["message"].lower()
        assert await p.wait_closed() == 1008
    assert time.monotonic() - started >= AUTH_TIMEOUT - 0.2
    await asyncio.sleep(0.3)
    await authed.emit("PING")  # authenticated in time: not closed
    await authed.expect_event("PONG")
    await close_all(authed)


async def test_pending_request_expires(cluster):
    a = await peer(cluster.url(0, "/ws"), cluster.jwt_private_key, name="a", register=True)
    b = await peer(cluster.url(1, "/ws"), cluster.jwt_private_key, name="b", register=True)
    await b.emit("CONNECTION_REQUEST", {"targetId": a.user})
    rid = (await b.expect_event("CONNECTION_REQUEST_SENT"))["data"]["requestId"]
    await a.expect_event("CONNECTION_REQUEST_RECEIVED", requestId=rid)
    await b.emit("CONNECTION_REQUEST", {"targetId": a.user})
    await b.expect_code("ERR_2005")
    # presence and inboxes are kept alive by the live sockets; the request is not
    await asyncio.sleep(TTL + 1)
    await a.emit("CONNECTION_RESPONSE", {"requestId": rid, "accepted": True})
    await a.expect_code("ERR_6001")
    await b.emit("CONNECTION_REQUEST", {"targetId": a.user})  # no longer pending: allowed
    await b.expect_event("CONNECTION_REQUEST_SENT")
    assert a.user in await b.discover()
    await close_all(a, b)


async def test_ephemeral_keys_single_node(ephemeral, cluster):
    with open(ephemeral.node_log(0)) as f:
        log = f.read()
    assert "ephemeral RS256 key pair" in log
    port = ephemeral.node_ports[0]
    status, body = request(port, "POST", "/api/v1/auth/dev-token",
                        body=json.dumps({"userId": "dev_1", "email": "dev@example.com",
                                         "displayName": "Developer"}),
                        headers={"Content-Type": "application/json"})
    assert status == 201 and isinstance(body["token"], str), body
    p = await Peer.connect(ephemeral.url(0, "/ws"), "p")
    msg = await p.auth(body["token"])
    assert msg["data"] == {"userId": "dev_1", "displayName": "Developer",
                           "email": "dev@example.com"}
    # the other cluster's keys mean nothing here, and the reverse
    await p.close()
    p = await Peer.connect(ephemeral.url(0, "/ws"), "p")
    await p.emit("AUTH", {"token": make_token(cluster.jwt_private_key, claims("x"))})
    await p.expect_code("ERR_1002", event="AUTH_FAILED")
    q = await Peer.connect(cluster.url(0, "/ws"), "q")
    await q.emit("AUTH", {"token": body["token"]})
    await q.expect_code("ERR_1002", event="AUTH_FAILED")
    for bad in ("", "[]", '{"email":"x"}', '{"userId":""}', '{"userId":7}', '{"userId":"a}"}'):
        status, _ = request(port, "POST", "/api/v1/auth/dev-token", body=bad)
        assert status == 400, bad
    assert http_get(port, "/api/v1/auth/dev-token")[0] == 405
    await close_all(p, q)
