"""Helpers for the peersync dialect tests (seed 003, path /ws): RS256 tokens
made with the openssl command line (hostile ones too), and a client speaking
the {"event":…,"data":…} envelope."""

import base64
import hashlib
import hmac
import itertools
import json
import subprocess
import time

from conftest import Client

_ids = itertools.count(1)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _json(obj):
    return obj if isinstance(obj, (bytes, str)) else json.dumps(obj, separators=(",", ":"))


def _bytes(s):
    return s.encode() if isinstance(s, str) else s


def signing_input(header, payload):
    return b64url(_bytes(_json(header))) + "." + b64url(_bytes(_json(payload)))


def rs256_sign(private_key_path, data):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", private_key_path],
                          input=data.encode(), stdout=subprocess.PIPE, check=True).stdout


def make_token(private_key_path, payload, header=None):
    """A compact RS256 JWS, as jsonwebtoken makes them."""
    s = signing_input(header or {"alg": "RS256", "typ": "JWT"}, payload)
    return s + "." + b64url(rs256_sign(private_key_path, s))


def hs256_token(secret, payload, header=None):
    s = signing_input(header or {"alg": "HS256", "typ": "JWT"}, payload)
    return s + "." + b64url(hmac.new(_bytes(secret), s.encode(), hashlib.sha256).digest())


def claims(user, display_name=None, email=None, lifetime=3600, **extra):
    now = int(time.time())
    c = {"userId": user, "iat": now, "exp": now + lifetime}
    if display_name is not None:
        c["displayName"] = display_name
    if email is not None:
        c["email"] = email
    c.update(extra)
    return c


def unique(prefix="user"):
    """A userId no other test uses (the module's cluster is shared)."""
    return "%s_%d_%d" % (prefix, int(time.time() * 1000) % 100000000, next(_ids))


class Peer(Client):
    """A peersync client: send(event, data); expect(event, **data fields)."""

    user = None
    session = None
    max_seq = 0  # highest inbox seq received

    async def recv(self, timeout=None):
        msg = await super().recv(timeout)
        if isinstance(msg.get("seq"), int):
            self.max_seq = max(self.max_seq, msg["seq"])
        return msg

    async def expect_after_replay(self, event, seen_seq, timeout=None, **fields):
        """The next frame that is not a replay (seq <= seen_seq) of what an earlier
        socket of this user already received (at-least-once after a supersede)."""
        while True:
            msg = await self.recv(timeout)
            if isinstance(msg.get("seq"), int) and msg["seq"] <= seen_seq:
                continue
            break
        assert msg.get("event") == event, "%s: wanted %s %r, got %r" % (self.name, event, fields, msg)
        for k, v in fields.items():
            assert msg["data"].get(k) == v, "%s: wanted %s=%r, got %r" % (self.name, k, v, msg)
        return msg

    async def emit(self, event, data=None):
        await self.send({"event": event, "data": {} if data is None else data})

    async def expect_event(self, event, timeout=None, **fields):
        msg = await self.recv(timeout)
        assert msg.get("event") == event, "%s: wanted %s %r, got %r" % (self.name, event, fields, msg)
        data = msg.get("data")
        assert isinstance(data, dict), msg
        for k, v in fields.items():
            assert data.get(k) == v, "%s: wanted %s=%r, got %r" % (self.name, k, v, msg)
        return msg

    async def expect_code(self, code, event="ERROR", timeout=None):
        msg = await self.expect_event(event, timeout, code=code)
        assert isinstance(msg["data"].get("message"), str) and msg["data"]["message"], msg
        return msg

    async def auth(self, token, **extra):
        await self.emit("AUTH", dict(token=token, **extra))
        return await self.expect_event("AUTH_SUCCESS")

    async def register(self, ide="vscode", role="guest", **extra):
        await self.emit("PEER_REGISTER", dict(ide=ide, role=role, **extra))
        return await self.expect_event("PEER_REGISTERED", id=self.user)

    async def discover(self, **filters):
        await self.emit("DISCOVER_PEERS", filters)
        msg = await self.expect_event("PEERS_LIST")
        return {p["id"]: p for p in msg["data"]["peers"]}


async def peer(url, private_key_path, user=None, name=None, register=None, last_seq=None,
               **claim_kw):
    """Connect to url (…/ws), AUTH as user (unique if None); register=dict of
    PEER_REGISTER data (or True for the defaults); last_seq: AUTH's lastSeq."""
    user = user or unique()
    p = await Peer.connect(url, name or user)
    p.user = user
    extra = {} if last_seq is None else {"lastSeq": last_seq}
    await p.auth(make_token(private_key_path, claims(user, **claim_kw)), **extra)
    if register:
        await p.register(**(register if isinstance(register, dict) else {}))
    return p


async def connect_pair(a, b):
    """b asks a; a accepts. Returns the session id (both sides' events consumed)."""
    await b.emit("CONNECTION_REQUEST", {"targetId": a.user})
    sent = await b.expect_event("CONNECTION_REQUEST_SENT", targetId=a.user)
    got = await a.expect_event("CONNECTION_REQUEST_RECEIVED", requestId=sent["data"]["requestId"])
    await a.emit("CONNECTION_RESPONSE", {"requestId": got["data"]["requestId"], "accepted": True})
    created = await a.expect_event("SESSION_CREATED")
    accepted = await b.expect_event("CONNECTION_ACCEPTED", requestId=sent["data"]["requestId"])
    assert accepted["data"]["sessionId"] == created["data"]["sessionId"]
    a.session = b.session = created["data"]["sessionId"]
    return created["data"]["sessionId"]


async def close_all(*peers):
    for p in peers:
        if p is not None:
            await p.close()
