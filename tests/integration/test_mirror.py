"""Mirror dialect (seed 002) across nodes: CREATE/JOIN, VIEW_CUSTOMER and
VIEW_PRODUCT stored in Redis and relayed to the other members (never echoed),
REQUEST_CUSTOMER_UPDATE answered from Redis, dialect choice on `/`, the
8-member limit, supersede, resume on the other node, bad input and 1009.
Members sit on different nodes unless a test says otherwise."""

import asyncio
import json
import re

import pytest
import websockets

from conftest import (PREFIX, Client, clear_ratelimit, eventually, join, pair_web, redis_client)

MAX = 65536
SID_RE = re.compile(r"^[A-Z0-9]{6}$")
UNKNOWN_SID = "QQ9QQ9"  # never made: 6 chars of A-Z0-9, checked absent before use


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2, haproxy=True, env={"MAX_MESSAGE_BYTES": MAX, "DRAIN_TIMEOUT": 0})


@pytest.fixture(autouse=True)
def _fresh_ratelimit(cluster):
    """Every client is 127.0.0.1: failed joins of one test must not refuse the next's."""
    clear_ratelimit(cluster)
    yield
    clear_ratelimit(cluster)


# ---- helpers (also used by test_sessions_api) ------------------------------------

def mirror_key(sid):
    return PREFIX + "session:mirror:{%s}" % sid


class MirrorClient(Client):
    """A mirror-dialect client: ERROR frames, SESSION_CREATED/JOINED, memberId."""

    def __init__(self, ws, name):
        super().__init__(ws, name)
        self.sid = None
        self.member = None

    async def recv(self, timeout=None):
        msg = await Client.recv(self, timeout)
        if isinstance(msg.get("seq"), int) and not isinstance(msg.get("seq"), bool):
            self.last_seq = msg["seq"]
        return msg

    async def expect_error(self, message=None, timeout=None):
        msg = await self.expect("ERROR", timeout)
        p = msg.get("payload")
        assert isinstance(p, dict) and isinstance(p.get("message"), str) and p["message"], \
            "%s: malformed ERROR %r" % (self.name, msg)
        if message is not None:
            assert p["message"] == message, "%s: wanted ERROR %r, got %r" % (self.name, message, msg)
        return msg

    async def alive(self):
        """The socket still answers (mirror has no ping: an unknown type gets an ERROR)."""
        await self.send({"type": "ALIVE_CHECK"})
        await self.expect_error("Unknown message type: ALIVE_CHECK")

    async def create(self):
        await self.send({"type": "CREATE_SESSION"})
        msg = await self.expect("SESSION_CREATED")
        assert SID_RE.match(msg.get("sessionId") or ""), msg
        assert isinstance(msg.get("memberId"), str) and msg["memberId"].startswith("m"), msg
        self.sid, self.member = msg["sessionId"], msg["memberId"]
        return msg

    async def join(self, sid, member=None, last_seq=None, want_sid=None):
        """JOIN_SESSION; returns the SESSION_JOINED reply (state frames are not read)."""
        m = {"type": "JOIN_SESSION", "sessionId": sid}
        if member is not None:
            m["memberId"] = member
        if last_seq is not None:
            m["lastSeq"] = last_seq
        await self.send(m)
        msg = await self.expect("SESSION_JOINED")
        assert msg.get("sessionId") == (want_sid or sid), msg
        assert isinstance(msg.get("memberId"), str) and msg["memberId"].startswith("m"), msg
        if member is not None:
            assert msg["memberId"] == member, msg
        self.sid, self.member = msg["sessionId"], msg["memberId"]
        return msg

    async def view(self, kind, payload, sid=None):
        await self.send({"type": kind, "sessionId": sid or self.sid, "payload": payload})

    async def expect_view(self, kind, payload, sid=None, seq=None):
        """A relayed VIEW_* frame: exactly type, sessionId, payload, seq."""
        msg = await self.expect(kind)
        assert set(msg) == {"type", "sessionId", "payload", "seq"}, msg
        assert msg["sessionId"] == (sid or self.sid) and msg["payload"] == payload, msg
        assert isinstance(msg["seq"], int) and msg["seq"] > 0, msg
        if seq is not None:
            assert msg["seq"] == seq, "%s: wanted seq %d, got %r" % (self.name, seq, msg)
        return msg


def murl(cluster, i, path="/mirror"):
    return cluster.url(i, path)


async def mconnect(url, name="mirror"):
    return await MirrorClient.connect(url, name)


async def mirror_session(urls, names=None):
    """A session created on urls[0], joined from each further url. Returns the clients."""
    names = names or ["m%d" % i for i in range(len(urls))]
    creator = await mconnect(urls[0], names[0])
    await creator.create()
    out = [creator]
    for url, name in zip(urls[1:], names[1:]):
        c = await mconnect(url, name)
        await c.join(creator.sid)
        out.append(c)
    return out


async def close_all(*clients):
    for c in clients:
        await c.close()


def member_field(r, sid, member):
    return r.hget(mirror_key(sid), "m:" + member)


# ---- create / join ------------------------------------------------------------------

async def test_session_created_id_format_and_redis(cluster):
    r = redis_client(cluster)
    clients = await asyncio.gather(*[mconnect(murl(cluster, i % 2), "c%d" % i) for i in range(20)])
    replies = await asyncio.gather(*[c.create() for c in clients])
    ids = [m["sessionId"] for m in replies]
    assert all(SID_RE.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids), ids
    for c in clients:
        h = r.hgetall(mirror_key(c.sid))
        assert h.get("kind") == "mirror", h
        assert h.get("m:" + c.member), "creator %s not recorded as online: %r" % (c.member, h)
        assert 0 < r.ttl(mirror_key(c.sid)) <= 1800
    # Nothing else arrives after SESSION_CREATED.
    await clients[0].quiet()
    await close_all(*clients)


async def test_join_trimmed_case_insensitive_on_other_node(cluster):
    r = redis_client(cluster)
    a = await mconnect(murl(cluster, 0), "creator")
    await a.create()
    b = await mconnect(murl(cluster, 1), "joiner")
    msg = await b.join("  " + a.sid.lower() + " \t", want_sid=a.sid)
    assert msg["memberId"] != a.member
    assert set(msg) == {"type", "sessionId", "memberId"}, msg
    h = r.hgetall(mirror_key(a.sid))
    assert h.get("m:" + a.member) and h.get("m:" + b.member), h
    await b.quiet()  # empty session: no state frames
    await close_all(a, b)


# ---- relay and state ------------------------------------------------------------------

CUSTOMERS = [
    {"customerInfo": {"id": 17, "name": "Ana Lopez", "tags": ["vip", "north"]}},
    {"customerInfo": {"name": "h\u00e9llo \u2603 \U0001F600", "quote": "\"\\/\n\t", "n": None}},
    {"customerInfo": {"id": 18}, "seq": 999, "type": "JOIN_SESSION"},  # must not confuse the relay
]
PRODUCTS = [{"sku": "X-1", "price": 12.5, "stock": [1, 2, 3]}, {"sku": "Y-2", "big": "y" * 20000}]


async def test_view_relayed_to_others_not_echoed_and_stored(cluster):
    r = redis_client(cluster)
    a, b, c = await mirror_session([murl(cluster, 0), murl(cluster, 1), murl(cluster, 0)],
                                   ["sfa", "mirror1", "mirror2"])
    sid = a.sid
    seq = None
    for p in CUSTOMERS:
        await a.view("VIEW_CUSTOMER", p)
        mb = await b.expect_view("VIEW_CUSTOMER", p, seq=None if seq is None else seq + 1)
        await c.expect_view("VIEW_CUSTOMER", p, seq=mb["seq"])
        seq = mb["seq"]
        assert json.loads(r.hget(mirror_key(sid), "s:customer")) == p
    await a.quiet()
    for p in PRODUCTS:
        await b.view("VIEW_PRODUCT", p)
        await a.expect_view("VIEW_PRODUCT", p, seq=seq + 1)
        await c.expect_view("VIEW_PRODUCT", p, seq=seq + 1)
        seq += 1
        assert json.loads(r.hget(mirror_key(sid), "s:product")) == p
    await b.quiet()
    # The customer stays what it was; a third member overrides it.
    assert json.loads(r.hget(mirror_key(sid), "s:customer")) == CUSTOMERS[-1]
    await c.view("VIEW_CUSTOMER", {"customerInfo": {"id": 99}})
    await a.expect_view("VIEW_CUSTOMER", {"customerInfo": {"id": 99}}, seq=seq + 1)
    await b.expect_view("VIEW_CUSTOMER", {"customerInfo": {"id": 99}}, seq=seq + 1)
    await c.quiet()
    assert json.loads(r.hget(mirror_key(sid), "s:customer")) == {"customerInfo": {"id": 99}}
    # Raw text with odd spacing: the same JSON value comes out.
    await a.send('{ "payload" : {"customerInfo" : [1 , 2]} , "sessionId" : "%s" , '
                 '"type" : "VIEW_CUSTOMER" }' % sid)
    await b.expect_view("VIEW_CUSTOMER", {"customerInfo": [1, 2]}, seq=seq + 2)
    await close_all(a, b, c)


async def test_request_customer_update_answered_from_redis(cluster):
    a, b = await mirror_session([murl(cluster, 0), murl(cluster, 1)], ["sfa", "mirror"])
    # Nothing stored yet: null.
    await b.send({"type": "REQUEST_CUSTOMER_UPDATE", "sessionId": a.sid})
    msg = await b.expect("VIEW_CUSTOMER", sessionId=a.sid)
    assert "payload" in msg and msg["payload"] is None, msg
    await a.quiet()
    # Set on node 1, asked on node 2 (and again on node 1).
    p = {"customerInfo": {"id": 5, "name": "Bo"}}
    await a.view("VIEW_CUSTOMER", p)
    await b.expect_view("VIEW_CUSTOMER", p)
    for asker, other in ((b, a), (a, b)):
        await asker.send({"type": "REQUEST_CUSTOMER_UPDATE", "sessionId": a.sid})
        msg = await asker.expect("VIEW_CUSTOMER", sessionId=a.sid)
        assert msg["payload"] == p, msg
        await other.quiet()  # the answer goes to the requester only
    # Written straight into Redis: the answer is read from there, not from a node cache.
    r = redis_client(cluster)
    r.hset(mirror_key(a.sid), "s:customer", json.dumps({"customerInfo": {"id": 6}}))
    await b.send({"type": "REQUEST_CUSTOMER_UPDATE", "sessionId": a.sid})
    assert (await b.expect("VIEW_CUSTOMER", sessionId=a.sid))["payload"] == {"customerInfo": {"id": 6}}
    await close_all(a, b)


async def test_joiner_gets_stored_customer_and_product(cluster):
    a = await mconnect(murl(cluster, 0), "sfa")
    await a.create()
    cust, prod = {"customerInfo": {"id": 1}}, {"sku": "P-1"}
    await a.view("VIEW_CUSTOMER", cust)
    await a.view("VIEW_PRODUCT", prod)
    await a.quiet()  # no other member: nothing echoed
    late = await mconnect(murl(cluster, 1), "late")
    await late.join(a.sid)
    got = [await late.recv(), await late.recv()]
    by_type = {m.get("type"): m for m in got}
    assert set(by_type) == {"VIEW_CUSTOMER", "VIEW_PRODUCT"}, got
    assert by_type["VIEW_CUSTOMER"]["payload"] == cust and by_type["VIEW_PRODUCT"]["payload"] == prod
    assert all(m.get("sessionId") == a.sid for m in got), got
    await late.quiet()  # no backlog replay for a new member
    await a.quiet()
    # Live traffic continues to the late joiner.
    await a.view("VIEW_PRODUCT", {"sku": "P-2"})
    await late.expect_view("VIEW_PRODUCT", {"sku": "P-2"})
    await close_all(a, late)


async def test_through_haproxy(cluster):
    lb = cluster.lb_url("/mirror")
    a, b, c = await mirror_session([lb, lb, cluster.lb_url("/")], ["lb1", "lb2", "lb3"])
    for i in range(10):
        await (a, b, c)[i % 3].view("VIEW_CUSTOMER", {"i": i})
        others = [x for x in (a, b, c) if x is not (a, b, c)[i % 3]]
        s = (await others[0].expect_view("VIEW_CUSTOMER", {"i": i}))["seq"]
        await others[1].expect_view("VIEW_CUSTOMER", {"i": i}, seq=s)
    for x in (a, b, c):
        await x.quiet()
    await close_all(a, b, c)


# ---- dialect selection on / ----------------------------------------------------------

async def test_dialect_chosen_by_first_message_on_root(cluster):
    # Upper-case first message on `/`: mirror; members on `/` and `/mirror`, both nodes.
    a = await mconnect(cluster.url(0, "/"), "root-creator")
    await a.create()
    b = await mconnect(cluster.url(1, "/"), "root-joiner")
    await b.join(a.sid)
    c = await mconnect(murl(cluster, 1), "path-joiner")
    await c.join(a.sid)
    await c.view("VIEW_PRODUCT", {"sku": "root"})
    s = (await a.expect_view("VIEW_PRODUCT", {"sku": "root"}))["seq"]
    await b.expect_view("VIEW_PRODUCT", {"sku": "root"}, seq=s)
    # A mirror socket does not speak token-sync afterwards.
    await a.send({"type": "pair", "clientType": "web"})
    await a.expect_error("Unknown message type: pair")
    await a.send({"type": "ping"})
    await a.expect_error("Unknown message type: ping")
    await b.quiet()

    # Lower-case first message on `/`: token-sync as before, across nodes.
    web = await pair_web(cluster.url(1))
    figma, _ = await join(cluster.url(0), web.token, "figma", peer_online=True)
    await web.expect_peer("joined", "figma")
    await web.sync({"still": "token-sync"})
    assert (await figma.expect("sync"))["payload"] == {"still": "token-sync"}
    # ... and a token-sync socket does not speak mirror.
    await figma.send({"type": "CREATE_SESSION"})
    await figma.expect_error("Unknown message type: CREATE_SESSION")
    await figma.ping()
    await web.quiet()
    # The first message alone picks: JOIN_SESSION first on `/` is mirror too.
    d = await mconnect(cluster.lb_url("/"), "root-lb-joiner")
    await d.join(a.sid)
    got = await d.recv()
    assert got.get("type") == "VIEW_PRODUCT" and got.get("payload") == {"sku": "root"}, got
    await close_all(a, b, c, d, web, figma)


# ---- limits, supersede, resume --------------------------------------------------------

async def test_ninth_member_gets_session_full(cluster):
    r = redis_client(cluster)
    members = await mirror_session([murl(cluster, i % 2) for i in range(8)],
                                   ["member%d" % i for i in range(8)])
    sid = members[0].sid
    ninth = await mconnect(murl(cluster, 1), "ninth")
    await ninth.send({"type": "JOIN_SESSION", "sessionId": sid})
    await ninth.expect_error("Session full")
    await ninth.alive()
    # The eight still relay; the refused socket gets nothing.
    await members[3].view("VIEW_CUSTOMER", {"full": True})
    s = (await members[0].expect_view("VIEW_CUSTOMER", {"full": True}))["seq"]
    for m in members[1:]:
        if m is not members[3]:
            await m.expect_view("VIEW_CUSTOMER", {"full": True}, seq=s)
    await ninth.quiet()
    await ninth.send({"type": "VIEW_CUSTOMER", "sessionId": sid, "payload": {"x": 1}})
    await ninth.expect_error("Not a member of this session")
    # One leaves (on the other node): the ninth fits.
    gone = members.pop(4)
    await gone.close()
    await eventually(lambda: member_field(r, sid, gone.member) in ("", None),
                     what="left member marked away")
    await ninth.join(sid)
    got = await ninth.recv()
    assert got.get("type") == "VIEW_CUSTOMER" and got.get("payload") == {"full": True}, got
    await ninth.view("VIEW_PRODUCT", {"ninth": 1})
    for m in members:
        await m.expect_view("VIEW_PRODUCT", {"ninth": 1}, seq=s + 1)
    await close_all(ninth, *members)


async def test_same_member_id_supersedes_across_nodes(cluster):
    a, old = await mirror_session([murl(cluster, 0), murl(cluster, 0)], ["sfa", "old"])
    new = await mconnect(murl(cluster, 1), "new")
    await new.join(a.sid, member=old.member)
    await old.expect_error("Session taken over by another connection")
    assert await old.wait_closed() == 4001
    await a.view("VIEW_CUSTOMER", {"to": "new"})
    await new.expect_view("VIEW_CUSTOMER", {"to": "new"})
    await new.view("VIEW_PRODUCT", {"from": "new"})
    await a.expect_view("VIEW_PRODUCT", {"from": "new"})
    await new.quiet()
    await close_all(a, new)


async def test_resume_on_other_node_with_member_id_and_last_seq(cluster):
    a, b = await mirror_session([murl(cluster, 0), murl(cluster, 1)], ["sfa", "mirror"])
    for i in range(6):
        await a.view("VIEW_CUSTOMER", {"i": i})
    seqs = [(await b.expect_view("VIEW_CUSTOMER", {"i": i}))["seq"] for i in range(6)]
    assert seqs == list(range(seqs[0], seqs[0] + 6)), seqs
    seen = seqs[2]  # pretend it only processed the first three
    member = b.member
    b.abort()
    r = redis_client(cluster)
    await eventually(lambda: member_field(r, a.sid, member) in ("", None), what="member away")
    for i in range(6, 9):
        await a.view("VIEW_PRODUCT", {"i": i})
    await a.quiet()

    b = await mconnect(murl(cluster, 0), "mirror-back")  # the other node now
    await b.join(a.sid, member=member, last_seq=seen)
    relayed = []
    while len(relayed) < 6:
        m = await b.recv()
        if "seq" in m:
            relayed.append(m)
        else:  # state frames for stock clients may come too
            assert m.get("type") in ("VIEW_CUSTOMER", "VIEW_PRODUCT"), m
    assert [m["payload"]["i"] for m in relayed] == list(range(3, 9)), relayed
    assert [m["seq"] for m in relayed] == list(range(seen + 1, seen + 7)), relayed
    assert [m["type"] for m in relayed] == ["VIEW_CUSTOMER"] * 3 + ["VIEW_PRODUCT"] * 3
    await b.drain(0.3)
    await a.view("VIEW_CUSTOMER", {"live": 1})
    await b.expect_view("VIEW_CUSTOMER", {"live": 1}, seq=seen + 7)
    await b.quiet()
    await close_all(a, b)


# ---- bad input --------------------------------------------------------------------------

# (text, exact ERROR message or None = any)
BAD_UNJOINED = [
    ("not json", "Invalid JSON"),
    ('{"type":"CREATE_SESSION"', "Invalid JSON"),
    ("", "Invalid JSON"),
    ('{"type":"CREATE_SESSION"} trailing', "Invalid JSON"),
    ("[]", None),
    ("42", None),
    ("null", None),
    ("{}", "Missing type"),
    ('{"sessionId":"ABC123"}', "Missing type"),
    ('{"type":5}', None),
    ('{"type":null}', None),
    ('{"type":"NOPE"}', "Unknown message type: NOPE"),
    ('{"type":"JOIN_SESSION"}', "Invalid session ID"),
    ('{"type":"JOIN_SESSION","sessionId":5}', "Invalid session ID"),
    ('{"type":"JOIN_SESSION","sessionId":["%s"]}' % UNKNOWN_SID, "Invalid session ID"),
    ('{"type":"JOIN_SESSION","sessionId":"%s"}' % UNKNOWN_SID, "Invalid session ID"),
    ('{"type":"JOIN_SESSION","sessionId":"AB"}', "Invalid session ID"),
    ('{"type":"JOIN_SESSION","sessionId":""}', "Invalid session ID"),
    ('{"type":"VIEW_PRODUCT","sessionId":"%s","payload":{}}' % UNKNOWN_SID,
     "Not a member of this session"),
    ('{"type":"REQUEST_CUSTOMER_UPDATE","sessionId":"%s"}' % UNKNOWN_SID,
     "Not a member of this session"),
]


async def bystander_check(a, b, n):
    """The bystander session (a, b on different nodes) still relays."""
    await a.view("VIEW_PRODUCT", {"bystander": n})
    await b.expect_view("VIEW_PRODUCT", {"bystander": n})


async def test_bad_input_on_unjoined_socket(cluster):
    r = redis_client(cluster)
    assert not r.exists(mirror_key(UNKNOWN_SID))
    a, b = await mirror_session([murl(cluster, 0), murl(cluster, 1)], ["bystander-a", "bystander-b"])
    secret = {"customerInfo": {"secret": True}}
    await a.view("VIEW_CUSTOMER", secret)
    await b.expect_view("VIEW_CUSTOMER", secret)
    bad = await mconnect(murl(cluster, 0), "bad")
    n = 0
    for text, message in BAD_UNJOINED:
        await bad.send(text)
        msg = await bad.recv()
        assert msg.get("type") == "ERROR", (text, msg)
        assert isinstance(msg.get("payload"), dict) and msg["payload"].get("message"), (text, msg)
        if message is not None:
            assert msg["payload"]["message"] == message, (text, msg)
        await bad.alive()
        clear_ratelimit(cluster)
        await bystander_check(a, b, n)
        n += 1
    # Acting in the bystanders' session without joining it: refused, nothing leaks or arrives.
    await bad.send({"type": "VIEW_CUSTOMER", "sessionId": a.sid, "payload": {"intruder": 1}})
    await bad.expect_error("Not a member of this session")
    await bad.send({"type": "REQUEST_CUSTOMER_UPDATE", "sessionId": a.sid})
    await bad.expect_error("Not a member of this session")
    await bad.send({"type": "VIEW_PRODUCT", "sessionId": a.sid, "payload": {"intruder": 2}})
    await bad.expect_error("Not a member of this session")
    await a.quiet()
    await b.quiet()
    assert json.loads(r.hget(mirror_key(a.sid), "s:customer")) == secret
    assert json.loads(r.hget(mirror_key(a.sid), "s:product")) == {"bystander": n - 1}
    await bad.quiet()
    # The socket can still create a session afterwards.
    await bad.create()
    await close_all(a, b, bad)


async def test_bad_input_on_joined_socket(cluster):
    a, b = await mirror_session([murl(cluster, 0), murl(cluster, 1)], ["bystander-a", "bystander-b"])
    x, y = await mirror_session([murl(cluster, 1), murl(cluster, 0)], ["x", "y"])
    await x.view("VIEW_CUSTOMER", {"n": 0})
    seq = (await y.expect_view("VIEW_CUSTOMER", {"n": 0}))["seq"]
    cases = [
        ("not json", "Invalid JSON"),
        ("{}", "Missing type"),
        ('{"type":"NOPE","sessionId":"%s"}' % x.sid, "Unknown message type: NOPE"),
        ('{"type":"VIEW_CUSTOMER","sessionId":"%s"}' % x.sid, "Missing payload"),
        ('{"type":"VIEW_PRODUCT","sessionId":"%s"}' % x.sid, "Missing payload"),
        ('{"type":"VIEW_CUSTOMER","sessionId":"%s","payload":{"to":"elsewhere"}}' % a.sid,
         "Not a member of this session"),
        ('{"type":"REQUEST_CUSTOMER_UPDATE","sessionId":"%s"}' % a.sid,
         "Not a member of this session"),
        ('{"type":"VIEW_CUSTOMER","sessionId":"%s","payload":{}}' % UNKNOWN_SID,
         "Not a member of this session"),
        ('{"type":"VIEW_CUSTOMER","sessionId":5,"payload":{}}', None),
    ]
    for i, (text, message) in enumerate(cases):
        await x.send(text)
        await x.expect_error(message)
        await bystander_check(a, b, i)
    await y.quiet()
    await a.quiet()
    # Errors took no seq: the next relayed frame is the next one.
    await x.view("VIEW_CUSTOMER", {"n": 1})
    await y.expect_view("VIEW_CUSTOMER", {"n": 1}, seq=seq + 1)
    await close_all(a, b, x, y)


async def test_failed_joins_rate_limited(cluster):
    c = await mconnect(murl(cluster, 1), "guesser")
    messages = []
    for i in range(12):
        await c.send({"type": "JOIN_SESSION", "sessionId": "QQ%04d" % i})
        messages.append((await c.expect_error())["payload"]["message"])
    assert set(messages) <= {"Invalid session ID", "Too many attempts"}, messages
    assert messages[-1] == "Too many attempts", messages
    await c.alive()
    await c.close()


def view_of_size(sid, n):
    base = json.dumps({"type": "VIEW_CUSTOMER", "sessionId": sid, "payload": {"pad": ""}},
                      separators=(",", ":"))
    text = base.replace('"pad":""', '"pad":"' + "x" * (n - len(base)) + '"')
    assert len(text.encode()) == n
    return text


@pytest.mark.parametrize("how", ["exact_max", "just_over", "fragmented"])
async def test_message_size_limit(cluster, how):
    r = redis_client(cluster)
    a, b = await mirror_session([murl(cluster, 1), murl(cluster, 0)], ["big", "peer"])
    await a.view("VIEW_CUSTOMER", {"small": 1})
    seq = (await b.expect_view("VIEW_CUSTOMER", {"small": 1}))["seq"]
    if how == "exact_max":
        await a.send(view_of_size(a.sid, MAX))
        m = await b.expect("VIEW_CUSTOMER", seq=seq + 1)
        assert len(m["payload"]["pad"]) > MAX - 100
        await close_all(a, b)
        return
    if how == "just_over":
        await a.send(view_of_size(a.sid, MAX + 1))
    else:
        text = view_of_size(a.sid, MAX * 3)
        try:
            await a.ws.send([text[i:i + 8192] for i in range(0, len(text), 8192)])
        except websockets.ConnectionClosed:
            pass
    code = await a.wait_closed()
    assert code == 1009, "close code %r (%r)" % (code, a.ws.close_reason)
    await b.quiet()
    assert json.loads(r.hget(mirror_key(a.sid), "s:customer")) == {"small": 1}
    # The session goes on: the member comes back with its id.
    a2 = await mconnect(murl(cluster, 1), "big-again")
    await a2.join(a.sid, member=a.member, last_seq=seq)
    await a2.drain(0.3)
    await b.view("VIEW_PRODUCT", {"after": how})
    await a2.expect_view("VIEW_PRODUCT", {"after": how}, seq=seq + 1)
    await close_all(a2, b)


# ---- node log ---------------------------------------------------------------------------

def test_nodes_log_active_session_counts(cluster):
    """Seed 002 logs its active sessions every 30 s. The 30 s period is not waited
    for here; a node writes the line (its own and the cluster's count) on its first
    heartbeat, so every node's log has one."""
    line = re.compile(r"active sessions\D*(\d+) on this node, (\d+) in the cluster", re.I)
    for i in range(cluster.n):
        with open(cluster.node_log(i), errors="replace") as f:
            text = f.read()
        assert line.search(text), "%s logged no active-session count:\n%s" % (
            cluster.node_id(i), text[-2000:])
