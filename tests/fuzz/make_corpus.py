#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ and the dictionaries
tests/fuzz/dict/<protocol>.dict: the messages the seeds' documents show and
the frames the integration tests send, in each target's input format (see the
comment at the top of each tests/fuzz/fuzz_<target>.c). Deterministic: file
names are content hashes, so running it again changes nothing. The corpora
are committed; run this after changing it. RS256 seed tokens were signed once
with a key whose public half is tests/fuzz/support/fuzz_keys.h; they are kept
in rs256_tokens.txt (the private half was not kept)."""

import base64
import hashlib
import hmac
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEP = b"\xff"
HS256_SECRET = b"fuzz-secret-0123456789"

# ---- frames per dialect (seeds' documents, integration tests) ----
TOKENSYNC = [
    {"type": "pair", "clientType": "web"},
    {"type": "pair", "clientType": "figma", "sessionToken": "dts://123456789012"},
    {"type": "pair", "clientType": "web", "sessionToken": "dts://123456789012", "lastSeq": 3},
    {"type": "sync", "payload": {"collections": [{"name": "c", "modes": [], "variables": []}]}},
    {"type": "ping"},
]
MIRROR = [
    {"type": "CREATE_SESSION"},
    {"type": "JOIN_SESSION", "sessionId": "ABC123", "memberId": "m1", "lastSeq": 0},
    {"type": "VIEW_PRODUCT", "payload": {"productId": "p1", "name": "Shoe"}},
    {"type": "VIEW_CUSTOMER", "payload": {"customerId": "c1"}},
    {"type": "REQUEST_CUSTOMER_UPDATE", "payload": {"field": "email"}},
]
RECORDING = [
    {"type": "join", "sessionId": "s1", "deviceId": "d1", "deviceName": "Phone", "isHost": True},
    {"type": "join", "sessionId": "s1", "deviceId": "d2", "lastSeq": 2},
    {"type": "start_recording", "timestamp": 1700000000000},
    {"type": "stop_recording", "timestamp": 1700000001000},
    {"type": "ping"},
]
PEERSYNC = [
    {"type": "AUTH", "token": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"},
    {"type": "PEER_REGISTER", "data": {"displayName": "A"}},
    {"type": "DISCOVER_PEERS"},
    {"type": "CONNECTION_REQUEST", "data": {"targetUserId": "u2"}, "correlationId": "c1"},
    {"type": "CONNECTION_RESPONSE", "data": {"requesterId": "u1", "accepted": True}},
    {"type": "SEND_MESSAGE", "data": {"to": "u2", "content": "hi"}, "lastSeq": 1},
    {"type": "PING"},
]
DEVICESYNC = [
    "40", "40{\"token\":\"x\"}", "2", "3", "3probe", "41", "1",
    '42["session-update",{"sessionKey":"editor-state","state":{"a":1}}]',
    '42["session-update",{"sessionKey":"doc","state":0,"baseVersion":1}]',
    '42["realtime-event",{"type":"cursor-move","payload":{"position":10}}]',
    '42["device-message",{"targetDeviceId":"d2","message":{"type":"ping","data":{}}}]',
    '421["session-update",{"sessionKey":"k","state":null}]',
    '42/admin,7["ev",{}]', "431[]", '44{"message":"x"}', '451-["b",{"_placeholder":true}]',
]
BAD = [  # test_bad_input.py and friends: the same for every dialect
    "not json", '{"type":"ping"', "", "{'type': 'ping'}", '{"type":"ping"} trailing', "[]",
    '["type","ping"]', '"ping"', "42", "null", "true", "{}", '{"type":5}', '{"type":null}',
    '{"type":{"a":1}}', '{"type":"foo"}', '{"type":"\\ud800"}', '{"type":"a\\u0000b"}',
    '{"type":"sync","payload":' + "[" * 300 + "]" * 300 + "}",
    '{"type":"sync","payload":1e999999,"lastSeq":99999999999999999999999}',
    '{"type":"pair","lastSeq":-1}', '{"type":"pair","lastSeq":1.5}',
]
QUERIES = [
    "EIO=4&transport=websocket",
    "EIO=4&transport=websocket&deviceInfo=%7B%22name%22%3A%22A%22%2C%22type%22%3A%22desktop%22%7D",
    "EIO=4&transport=websocket&token=abc&lastSeq=3", "EIO=3&transport=polling", "EIO=4&transport=websocket&sid=x",
    "token=eyJ.e30.x", "a=%zz&b=%00&c=+",
]
REST = [  # method, path, query, authorization, body
    ("GET", "/health", "", "", ""), ("GET", "/ready", "", "", ""), ("GET", "/metrics", "", "", ""),
    ("GET", "/api/sessions", "limit=10", "Bearer fuzz-admin", ""),
    ("GET", "/api/sessions/ABC123", "", "Bearer fuzz-admin", ""),
    ("DELETE", "/api/sessions/ABC123", "kind=mirror", "Bearer fuzz-admin", ""),
    ("POST", "/api/auth/register", "", "", '{"email":"a@example.com","password":"secret123"}'),
    ("POST", "/api/auth/login", "", "", '{"email":"a@example.com","password":"secret123"}'),
    ("GET", "/api/devices", "", "Bearer x.y.z", ""), ("GET", "/api/session", "key=k", "Bearer x.y.z", ""),
    ("GET", "/api/health", "", "", ""), ("GET", "/api/v1/auth/public-key", "", "", ""),
    ("GET", "/api/v1/auth/verify", "", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", ""),
    ("POST", "/api/v1/auth/dev-token", "", "", '{"userId":"u1","email":"dev@example.com","displayName":"D"}'),
    ("OPTIONS", "/api/auth/login", "", "", ""), ("POST", "/api/auth/login", "", "", "{bad"),
]
CONFIG = [
    b"redis://localhost:6379/0\nPORT=8080\nHISTORY_SIZE=100",
    b"redis://user:pa:ss@[::1]:6380/15\nTRUST_PROXY=1\n--port 9000",
    b"unix:///var/run/redis.sock?db=3\nLOG_FORMAT=json\nKEY_PREFIX=x:",
    b"redis://:secret@host\nTLS_CERT=/a\nTLS_KEY=/b\n--max-message-bytes=65536",
    b"redis://h:99999\nNODE_ID=a b\n--help", b"rediss://host:6380\nSESSION_TTL=0",
]
RESP = [
    b"+OK\r\n", b"-ERR unknown\r\n", b":42\r\n", b"$-1\r\n", b"*-1\r\n",
    b"*3\r\n$2\r\nok\r\n$0\r\n\r\n*4\r\n$6\r\ns:doc1\r\n$3\r\nabc\r\n$6\r\nv:doc1\r\n$1\r\n7\r\n",
    b"*3\r\n$7\r\nmessage\r\n$20\r\nsyncrelay:{mirror:A}\r\n$16\r\nm\n3\nweb\n*\n{\"a\":1}\r\n",
    b"*2\r\n:0\r\n*2\r\n$14\r\nm\n1\nweb\n*\n{}\r\n$14\r\nm\n2\nweb\n*\n[]\r\n",
    b"%1\r\n+a\r\n:1\r\n", b",3.14\r\n", b"#t\r\n", b"_\r\n", b"~1\r\n+x\r\n",
    b"SET\xffkey\xffvalue", b"EVALSHA\xff0123\xff1\xffk\xff\r\n$3\r\n",
]
ENVELOPES = [b"m\n1\nweb\n*\n{\"type\":\"sync\"}", b"e\n0\nd1\n@\n42[\"x\"]", b"x\n3\nowner/boot/1\nweb\n",
             b"k\n0\n\n@\n", b"m\n18446744073709551615\na\nb\nc", b"m\n99999999999999999999\na\nb\n"]


def bulk(s):
    return b"$%d\r\n%s\r\n" % (len(s), s)


def shard(ranges, node_id, port, health=b"online"):
    """One shard of a RESP2 CLUSTER SHARDS reply (a master and a replica)."""
    def node(role, p):
        return (b"*12\r\n" + bulk(b"id") + bulk(node_id) + bulk(b"port") + b":%d\r\n" % p +
                bulk(b"ip") + bulk(b"127.0.0.1") + bulk(b"endpoint") + bulk(b"127.0.0.1") +
                bulk(b"role") + bulk(role) + bulk(b"health") + bulk(health if role == b"master" else b"online"))
    slots = b"*%d\r\n" % (2 * len(ranges)) + b"".join(b":%d\r\n:%d\r\n" % r for r in ranges)
    return (b"*4\r\n" + bulk(b"slots") + slots + bulk(b"nodes") + b"*2\r\n" +
            node(b"master", port) + node(b"replica", port + 100))


def cluster_seeds():
    a, b, c = (x * 40 for x in (b"a", b"b", b"c"))
    return [b"*3\r\n" + shard([(0, 5460)], a, 7001) + shard([(5461, 10922)], b, 7002) +
            shard([(10923, 16383)], c, 7003),
            b"*2\r\n" + shard([(0, 100), (200, 16383)], a, 7001) + shard([(101, 199)], b, 7002, b"fail"),
            b"*1\r\n" + shard([(16383, 0)], a, 7001), b"*0\r\n",
            b"MOVED 3999 127.0.0.1:6381", b"ASK 16383 [::1]:7000", b"MOVED 99999 h:1",
            b"syncrelay:session:{tokensync:ABC}", b"foo{}{bar}"]


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def hs256(header, payload):
    h, p = b64u(json.dumps(header).encode()), b64u(json.dumps(payload).encode())
    sig = hmac.new(HS256_SECRET, h + b"." + p, hashlib.sha256).digest()
    return h + b"." + p + b"." + b64u(sig)


def jwt_seeds():
    claims = {"userId": "u1", "sub": "u1", "iat": 1699999000, "exp": 1700003600}
    seeds = [b"\x00" + hs256({"alg": "HS256", "typ": "JWT"}, claims),
             b"\x04" + hs256({"alg": "HS256"}, {"userId": "u1", "exp": 1600000000}),
             b"\x00" + hs256({"alg": "none"}, claims), b"\x01" + hs256({"alg": "HS256"}, claims),
             b"\x02" + json.dumps({"alg": "HS256", "typ": "JWT"}).encode() + b"\n" + json.dumps(claims).encode(),
             b"\x06" + b'{"alg":"HS256"}\n{"userId":"","nbf":"x"}',
             b"\x0e" + b'{"alg":"HS256","crit":["b64"]}\n{"sub":"a","exp":1700000010}',
             b"\x00eyJhbGciOiJIUzI1NiJ9..", b"\x00a.b.c.d", b"\x00" + b"A" * 300]
    path = os.path.join(HERE, "rs256_tokens.txt")
    if os.path.exists(path):
        for line in open(path, "rb").read().split(b"\n"):
            if line.strip():
                seeds += [b"\x01" + line.strip(), b"\x05" + line.strip()]
    return seeds


def frames(items):
    return [x if isinstance(x, (bytes, str)) else json.dumps(x) for x in items]


def enc(x):
    return x if isinstance(x, bytes) else x.encode()


def dialect_seeds():
    seeds = []
    per_path = [(0, TOKENSYNC, ""), (1, MIRROR, ""), (2, RECORDING, ""), (3, PEERSYNC, "token=eyJ.e30.x"),
                (4, DEVICESYNC, QUERIES[1].replace("%7B", "{").replace("%22", '"').replace("%3A", ":")
                 .replace("%2C", ",").replace("%7D", "}"))]
    for idx, msgs, query in per_path:
        fs = frames(msgs)
        seeds.append(bytes([idx]) + enc(query) + SEP + SEP.join(enc(f) for f in fs))
        for f in fs:
            seeds.append(bytes([idx]) + enc(query) + SEP + enc(f))
        seeds.append(bytes([idx]) + SEP + SEP.join(enc(f) for f in BAD))
        seeds.append(bytes([idx]) + SEP + b"\xfe\x00\x01" + SEP + b"\xfe" + enc(fs[0]))
    return seeds


def rest_seeds():
    return [SEP.join(enc(x) for x in r) for r in REST]


CORPORA = {
    "json": lambda: [enc(f) for f in frames(TOKENSYNC + MIRROR + RECORDING + PEERSYNC) + BAD]
    + [b'["a",1,-0.5e+3,true,false,null,{"k":"\\u00e9\\ud83d\\ude00\\n"}]', b' {"a" : [ ] } '],
    "envelope": lambda: ENVELOPES,
    "socketio": lambda: [enc(x) for x in DEVICESYNC + QUERIES],
    "jwt": jwt_seeds,
    "config": lambda: CONFIG,
    "resp": lambda: RESP,
    "cluster": cluster_seeds,
    "dialect": dialect_seeds,
    "rest": rest_seeds,
}

DICTS = {
    "json": ['"{"', '"}"', '"["', '"]"', '":"', '","', '"\\""', '"\\\\u"', '"\\\\ud800"', '"\\\\udc00"',
             '"true"', '"false"', '"null"', '"-0.0e+1"', '"1e999"', '"\\xc3\\xa9"', '"\\xed\\xa0\\x80"',
             '"\\xff"', '"\\"type\\""', '"\\"payload\\""', '"\\"lastSeq\\""'],
    "socketio": ['"40"', '"41"', '"42"', '"43"', '"44"', '"45"', '"2probe"', '"3probe"', '"/admin,"',
                 '"[\\"session-update\\","', '"EIO=4"', '"transport=websocket"', '"&sid="', '"%00"',
                 '"%7B"', '"deviceInfo="', '"+"'],
    "jwt": ['"eyJ"', '"."', '"\\"alg\\":\\"HS256\\""', '"\\"alg\\":\\"RS256\\""', '"\\"alg\\":\\"none\\""',
            '"\\"exp\\":"', '"\\"nbf\\":"', '"\\"iat\\":"', '"\\"userId\\":"', '"\\"sub\\":"', '"\\"crit\\":"',
            '"\\"typ\\":\\"JWT\\""', '"1700000000"'],
    "config": ['"redis://"', '"unix://"', '"rediss://"', '"@"', '":"', '"[::1]"', '"/15"', '"?db="',
               '"PORT="', '"REDIS_URL="', '"HISTORY_SIZE="', '"MAX_MESSAGE_BYTES="', '"--port"', '"--help"',
               '"TRUST_PROXY=1"', '"LISTEN="', '"99999999999999999999"'],
    "resp": ['"\\x0d\\x0a"', '"*"', '"$"', '":"', '"+"', '"-"', '"%"', '"~"', '"_"', '","', '"#"', '"$-1"',
             '"*-1"', '"m\\x0a"', '"\\xff"'],
    "cluster": ['"\\x0d\\x0a"', '"*"', '"$"', '":"', '"slots"', '"nodes"', '"id"', '"port"',
                '"tls-port"', '"ip"', '"endpoint"', '"hostname"', '"role"', '"master"', '"replica"',
                '"health"', '"online"', '"MOVED "', '"ASK "', '"{"', '"}"', '"16383"'],
    "envelope": ['"m\\x0a"', '"e\\x0a"', '"x\\x0a"', '"k\\x0a"', '"\\x0a*\\x0a"', '"\\x0a@\\x0a"',
                 '"18446744073709551616"'],
}
DICTS["dialect"] = DICTS["json"] + DICTS["socketio"] + ['"\\xff"', '"\\xfe"'] + [
    '"\\"%s\\""' % t for t in ["pair", "sync", "ping", "web", "figma", "sessionToken", "clientType",
                               "CREATE_SESSION", "JOIN_SESSION", "sessionId", "memberId", "VIEW_PRODUCT",
                               "join", "deviceId", "isHost", "start_recording", "stop_recording", "AUTH",
                               "token", "PEER_REGISTER", "DISCOVER_PEERS", "SEND_MESSAGE", "CONNECTION_REQUEST",
                               "correlationId", "accepted", "sessionKey", "state", "baseVersion",
                               "targetDeviceId", "realtime-event", "device-message", "session-update"]]
DICTS["rest"] = DICTS["json"] + ['"\\xff"', '"GET"', '"POST"', '"DELETE"', '"OPTIONS"', '"HEAD"',
                                 '"/api/sessions"', '"/api/auth/login"', '"/api/auth/register"', '"/api/devices"',
                                 '"/api/session"', '"/api/v1/auth/dev-token"', '"/api/v1/auth/verify"',
                                 '"Bearer "', '"limit="', '"kind="', '"\\"email\\""', '"\\"password\\""']


def main():
    for target, make in CORPORA.items():
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for seed in make():
            seed = enc(seed)
            with open(os.path.join(d, hashlib.sha1(seed).hexdigest()), "wb") as f:
                f.write(seed)
    os.makedirs(os.path.join(HERE, "dict"), exist_ok=True)
    for name, words in DICTS.items():
        with open(os.path.join(HERE, "dict", name + ".dict"), "w") as f:
            f.write("# libFuzzer dictionary for fuzz_%s (tests/fuzz/make_corpus.py)\n" % name)
            f.write("\n".join(words) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
