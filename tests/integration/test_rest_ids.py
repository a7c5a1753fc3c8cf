"""The sessions REST API takes ids the way pairing takes tokens (any case,
with or without dts://), keeps case-sensitive ids exact, answers bad query
values with 400, and names every status it sends (201 Created)."""

import http.client
import json
import urllib.parse

import pytest

from conftest import paired, session_id
from test_mirror import mirror_session

ADMIN_TOKEN = "rest-ids-admin"


@pytest.fixture(scope="module")
def cluster(make_cluster):
    # ADMIN_TOKEN: without it the sessions API sees recording and token sync sessions only
    return make_cluster(nodes=2, env={"DRAIN_TIMEOUT": 0, "DEV_TOKENS": 1,
                                      "ADMIN_TOKEN": ADMIN_TOKEN})


def request(cluster, method, path, body=None, node=1):
    conn = http.client.HTTPConnection("127.0.0.1", cluster.node_port(node), timeout=5)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        headers["Authorization"] = "Bearer " + ADMIN_TOKEN
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.reason, json.loads(resp.read() or b"null")
    finally:
        conn.close()


async def test_a_token_in_any_form_finds_its_session(cluster):
    web, figma = await paired(cluster.url(0), cluster.url(1))
    sid = session_id(web.token)
    forms = [sid, sid.lower(), "dts://" + sid.lower(), "DTS://" + sid,
             urllib.parse.quote("dts://" + sid, safe="")]
    for form in forms:
        status, _, body = request(cluster, "GET", "/api/sessions/" + form)
        assert status == 200, (form, body)
        assert body["id"] == sid and body["kind"] == "tokensync", (form, body)
    assert request(cluster, "GET", "/api/sessions/dts://nothex123456")[0] == 404
    status, _, body = request(cluster, "DELETE", "/api/sessions/dts://" + sid.lower())
    assert status == 200 and body == {"deleted": True, "id": sid, "kind": "tokensync"}
    await web.close()
    await figma.close()


async def test_mirror_codes_in_lower_case(cluster):
    a, b = await mirror_session([cluster.url(0), cluster.url(1)])
    code = a.sid
    status, _, body = request(cluster, "GET", "/api/sessions/" + code.lower())
    assert status == 200 and body["id"] == code and body["kind"] == "mirror", body
    await a.close()
    await b.close()


@pytest.mark.parametrize("query", ["limit=abc", "limit=", "limit=0", "limit=-1", "limit=5x",
                                   "other=1&limit=1e3"])
def test_bad_limit_is_400(cluster, query):
    status, reason, body = request(cluster, "GET", "/api/sessions?" + query)
    assert (status, reason) == (400, "Bad Request"), (query, body)
    assert "limit" in body["error"]


@pytest.mark.parametrize("query", ["limit=1", "limit=99999", "x=abc", "nolimit=abc"])
def test_good_limits_and_other_parameters_pass(cluster, query):
    status, _, body = request(cluster, "GET", "/api/sessions?" + query)
    assert status == 200 and "sessions" in body, (query, body)


def test_201_has_its_reason_phrase(cluster):
    status, reason, body = request(cluster, "POST", "/api/v1/auth/dev-token",
                                   {"userId": "user_123"})
    assert (status, reason) == (201, "Created") and body["token"]
