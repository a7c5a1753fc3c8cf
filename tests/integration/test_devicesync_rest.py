"""Device-sync dialect REST (seed 001): register and login (scrypt records in
Redis without TTL, HS256 tokens that the Socket.IO side accepts on any node),
their error statuses, the per-IP rate limit across nodes, GET /api/devices,
GET /api/session and GET /api/health, through haproxy and directly."""

import json
import signal
import time
import urllib.error
import urllib.request
import uuid

import pytest
import socketio

from conftest import PREFIX, RECV_TIMEOUT, clear_ratelimit, redis_client
from test_devicesync import Device, devices, hs256, new_user  # noqa: F401 (fixture)

SECRET = "device-sync-test-secret"
RATE_LIMIT = 12


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2, haproxy=True,
                        env={"JWT_SECRET": SECRET, "AUTH_RATE_LIMIT": RATE_LIMIT,
                             "TRUST_PROXY": 1})


@pytest.fixture(autouse=True)
def _fresh_ratelimit(cluster):
    clear_ratelimit(cluster)
    yield
    clear_ratelimit(cluster)


def request(url, method="GET", body=None, token=None, raw=None, headers=None):
    """(status, parsed JSON body)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=RECV_TIMEOUT) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def new_email():
    return "user-%s@example.com" % uuid.uuid4().hex[:12]


def register(cluster, email, password="correct horse", node=None):
    url = cluster.lb_http_url("/api/auth/register") if node is None else \
        cluster.http_url(node, "/api/auth/register")
    return request(url, "POST", {"email": email, "password": password})


def login(cluster, email, password="correct horse", node=None):
    url = cluster.lb_http_url("/api/auth/login") if node is None else \
        cluster.http_url(node, "/api/auth/login")
    return request(url, "POST", {"email": email, "password": password})


def test_register_then_login_on_another_node(cluster):
    email = new_email()
    status, body = register(cluster, email, node=0)
    assert status == 201, body
    assert set(body) == {"token", "user"} and body["user"]["email"] == email
    uid = body["user"]["id"]
    assert uuid.UUID(uid).version == 4
    assert body["user"]["createdAt"].endswith("Z")
    status, body = login(cluster, email.upper(), node=1)  # emails match in any case
    assert status == 200, body
    assert body["user"] == {"id": uid, "email": email, "createdAt": body["user"]["createdAt"]}
    header, claims, _ = body["token"].split(".")
    claims = json.loads(__import__("base64").urlsafe_b64decode(claims + "=="))
    assert claims["userId"] == uid and claims["email"] == email
    assert claims["exp"] - claims["iat"] == 7 * 86400


def test_account_record_in_redis(cluster):
    email = new_email()
    status, body = register(cluster, email)
    assert status == 201
    r = redis_client(cluster)
    key = PREFIX + "account:{%s}" % email
    h = r.hgetall(key)
    assert h["id"] == body["user"]["id"] and h["email"] == email
    parts = h["password"].split("$")
    assert parts[:4] == ["scrypt", "14", "8", "1"] and len(parts) == 6
    assert "correct horse" not in json.dumps(h)
    assert r.ttl(key) == -1  # accounts do not expire


def test_register_errors(cluster):
    email = new_email()
    url = cluster.lb_http_url("/api/auth/register")
    assert register(cluster, email)[0] == 201
    status, body = register(cluster, email.upper(), password="another password")
    assert (status, body) == (409, {"error": "Email already registered"})
    for payload in [{"email": email}, {"password": "x" * 10}, {"email": 5, "password": "x" * 10},
                    {"email": "no-at-sign", "password": "x" * 10},
                    {"email": "a b@c.d", "password": "x" * 10},
                    {"email": new_email(), "password": "short"},
                    {"email": new_email(), "password": ["x"] * 10}, [1, 2]]:
        status, body = request(url, "POST", payload)
        assert status == 400 and body["error"], (payload, status, body)
    for raw in [b"{not json", b"", b"null"]:
        status, body = request(url, "POST", raw=raw)
        assert status == 400 and "JSON" in body["error"], (raw, body)
    assert request(url, "GET")[0] == 405


def test_login_errors(cluster):
    email = new_email()
    assert register(cluster, email)[0] == 201
    assert login(cluster, email, "wrong password") == (401, {"error": "Invalid email or password"})
    assert login(cluster, new_email()) == (401, {"error": "Invalid email or password"})
    url = cluster.lb_http_url("/api/auth/login")
    assert request(url, "POST", {"email": email})[0] == 400
    assert request(url, "POST", raw=b"[")[0] == 400
    assert request(url, "DELETE")[0] == 405


def test_register_and_login_are_rate_limited_per_ip_across_nodes(cluster):
    email = new_email()
    assert register(cluster, email, node=0)[0] == 201
    statuses = [login(cluster, email, "wrong password", node=i % 2)[0]
                for i in range(RATE_LIMIT + 2)]
    assert statuses[:RATE_LIMIT - 1] == [401] * (RATE_LIMIT - 1), statuses
    assert statuses[-2:] == [429, 429], statuses
    status, body = login(cluster, email, node=1)
    assert status == 429 and "Too many" in body["error"]
    assert register(cluster, new_email(), node=0)[0] == 429
    clear_ratelimit(cluster)
    assert login(cluster, email, node=1)[0] == 200


def test_registered_token_connects_and_lists_devices(cluster, devices):
    email = new_email()
    status, body = register(cluster, email)
    token, uid = body["token"], body["user"]["id"]
    a = devices(cluster.http_url(0, "/"), token, name="a",
                info={"name": "My Device", "type": "desktop", "viewport": "1920x1080"}).connect()
    assert a.restored["userId"] == uid
    b = devices(cluster.http_url(1, "/"), token, name="b", info={"name": "Phone"}).connect()
    a.expect("device-connected")
    status, body = request(cluster.lb_http_url("/api/devices"), token=token)
    assert status == 200, body
    assert body["count"] == 2
    by_id = {d["deviceId"]: d for d in body["devices"]}
    assert set(by_id) == {a.device_id, b.device_id}
    assert by_id[a.device_id]["deviceInfo"] == {"name": "My Device", "type": "desktop",
                                                "viewport": "1920x1080"}
    assert all(d["online"] is True for d in body["devices"])
    for d in body["devices"]:
        assert d["firstSeen"].endswith("Z") and d["lastSeen"].endswith("Z")
    b.close()
    a.expect("device-disconnected")
    time.sleep(0.2)
    status, body = request(cluster.http_url(0, "/api/devices"), token=token)
    by_id = {d["deviceId"]: d for d in body["devices"]}
    assert by_id[b.device_id]["online"] is False and by_id[a.device_id]["online"] is True
    assert body["devices"][0]["deviceId"] == a.device_id  # online first, then by last seen


def test_session_endpoint(cluster, devices):
    uid, token = new_user()
    status, body = request(cluster.lb_http_url("/api/session"), token=token)
    assert (status, body) == (200, {"userId": uid, "sessionData": {}, "versions": {}})
    a = devices(cluster.http_url(0, "/"), token, name="a").connect()
    a.call("session-update", {"sessionKey": "editor", "state": {"content": "Hello", "cursor": 5}})
    a.call("session-update", {"sessionKey": "editor", "state": {"content": "Hello!", "cursor": 6}})
    a.call("session-update", {"sessionKey": "theme", "state": "dark"})
    status, body = request(cluster.http_url(1, "/api/session"), token=token)
    assert status == 200
    assert body == {"userId": uid,
                    "sessionData": {"editor": {"content": "Hello!", "cursor": 6}, "theme": "dark"},
                    "versions": {"editor": 2, "theme": 1}}


@pytest.mark.parametrize("path", ["/api/devices", "/api/session"])
def test_bearer_required(cluster, path):
    url = cluster.lb_http_url(path)
    assert request(url)[0] == 401
    assert request(url, token="garbage")[0] == 401
    status, body = request(url, token=hs256({"userId": "u1"}, secret="other"))
    assert status == 401 and "signature" in body["error"]
    expired = hs256({"userId": "u1", "exp": int(time.time()) - 1})
    assert request(url, token=expired) == (401, {"error": "Invalid token: token expired"})
    assert request(url, "POST", body={}, token=new_user()[1])[0] == 405


def test_health(cluster):
    status, body = request(cluster.lb_http_url("/api/health"))
    assert status == 200 and body["status"] == "healthy"
    assert "activeSessions" in body and "totalConnections" in body


def test_empty_post_body_is_a_400_not_a_crash(cluster):
    """Regression: libwebsockets hands an empty POST body over as (NULL, 0), and
    appending it was a memcpy from NULL (UBSan aborted the node)."""
    for node in (0, 1):
        status, body = request(cluster.http_url(node, "/api/auth/login"), "POST", raw=b"")
        assert status == 400 and "JSON" in body["error"]
    assert request(cluster.http_url(0, "/api/health"))[0] == 200


def test_rate_limit_counts_the_forwarded_client_with_trust_proxy(cluster):
    """Behind a proxy (TRUST_PROXY=1) REST requests count against the client's
    X-Forwarded-For address, not the proxy's: one client over its limit does not
    lock out the others."""
    url = cluster.http_url(0, "/api/auth/login")
    body = {"email": new_email(), "password": "whatever password"}
    first = {"X-Forwarded-For": "203.0.113.7"}
    statuses = [request(url, "POST", body, headers=first)[0] for _ in range(RATE_LIMIT + 1)]
    assert statuses[-1] == 429 and statuses[0] == 401, statuses
    assert request(url, "POST", body, headers={"X-Forwarded-For": "203.0.113.8, 10.0.0.1"})[0] == 401
    assert redis_client(cluster).get(PREFIX + "ratelimit:auth:203.0.113.7") == str(RATE_LIMIT + 1)


def unavailable_count(cluster):
    with urllib.request.urlopen(cluster.http_url(0, "/metrics"), timeout=RECV_TIMEOUT) as r:
        for line in r.read().decode().splitlines():
            if line.startswith('syncrelay_errors_total{kind="unavailable"}'):
                return int(float(line.split()[1]))
    raise AssertionError("no unavailable error counter in /metrics")


def test_redis_down_answers_503_and_counts_each_unavailable(make_cluster, devices):
    """With Redis gone, every Redis-backed call of device sync (devicesync_store.h)
    answers "Service unavailable" instead of hanging, and each is counted once
    as an `unavailable` error; after Redis is back they work again."""
    c = make_cluster(nodes=1, env={"JWT_SECRET": SECRET, "DRAIN_TIMEOUT": 0})
    uid, token = new_user()
    before = unavailable_count(c)
    c.stop_redis(signal.SIGKILL)
    down = {"error": "Service unavailable"}
    assert request(c.http_url(0, "/api/devices"), token=token) == (503, down)
    assert request(c.http_url(0, "/api/session"), token=token) == (503, down)
    body = {"email": new_email(), "password": "correct horse"}
    assert request(c.http_url(0, "/api/auth/register"), "POST", body) == (503, down)
    assert request(c.http_url(0, "/api/auth/login"), "POST", body) == (503, down)
    d = devices(c.http_url(0, "/"), token)
    with pytest.raises(socketio.exceptions.ConnectionError):
        d.connect()
    assert unavailable_count(c) - before == 5
    c.start_redis()
    c.wait_ready(0)
    assert request(c.http_url(0, "/api/auth/register"), "POST", body)[0] == 201
    assert request(c.http_url(0, "/api/devices"), token=token) == (200, {"devices": [], "count": 0})
