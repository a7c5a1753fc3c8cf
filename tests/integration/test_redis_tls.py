"""Redis over TLS (rediss://): two nodes relay through a redis-server that
only listens with TLS and asks for client certificates; a node refuses a
server whose certificate is not for the name it checks, or is not signed by
its CA. Every certificate is made here with the openssl command."""

import os
import shutil
import signal
import subprocess
import time

import pytest
import redis

from conftest import SCALE, paired, session_keys
from devcluster import Cluster, default_binary, free_port, tail_file


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=" + name, "-keyout", name + ".key", "-out", name + ".crt", cwd=d)


def make_cert(d, ca, name, san):
    """A key and certificate for name (subjectAltName san), signed by ca."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name,
            "-keyout", name + ".key", "-out", name + ".csr", cwd=d)
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write("subjectAltName=%s\n" % san)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
            "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".crt",
            cwd=d)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("pki"))
    make_ca(d, "ca")
    make_ca(d, "other-ca")
    make_cert(d, "ca", "server", "DNS:localhost,IP:127.0.0.1")
    make_cert(d, "ca", "client", "DNS:syncrelay-node")
    return d


@pytest.fixture(scope="module")
def tls_redis(pki):
    """redis-server with TLS only (--port 0) and client certificates required."""
    port = free_port()
    p = lambda n: os.path.join(pki, n)  # noqa: E731
    log = open(p("redis.log"), "w")
    proc = subprocess.Popen(
        [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", "0",
         "--tls-port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", pki, "--tls-cert-file", p("server.crt"), "--tls-key-file", p("server.key"),
         "--tls-ca-cert-file", p("ca.crt"), "--tls-auth-clients", "yes"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    client = redis.Redis(host="localhost", port=port, ssl=True, ssl_ca_certs=p("ca.crt"),
                         ssl_certfile=p("client.crt"), ssl_keyfile=p("client.key"),
                         decode_responses=True, socket_timeout=5)
    deadline = time.monotonic() + 10 * SCALE
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            assert proc.poll() is None, tail_file(p("redis.log"))
            assert time.monotonic() < deadline, "TLS redis-server not answering"
            time.sleep(0.05)
    yield port, client
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)
    log.close()


def tls_env(pki, port, host="localhost", **extra):
    env = {"REDIS_URL": "rediss://%s:%d" % (host, port),
           "REDIS_TLS_CA_FILE": os.path.join(pki, "ca.crt"),
           "REDIS_TLS_CERT": os.path.join(pki, "client.crt"),
           "REDIS_TLS_KEY": os.path.join(pki, "client.key")}
    env.update(extra)
    return env


async def test_two_nodes_relay_over_tls(make_cluster, pki, tls_redis):
    port, client = tls_redis
    # node 2 names the server by address: checked against the certificate's IP names
    cluster = make_cluster(nodes=2, wait_registered=False,
                           node_env={0: tls_env(pki, port), 1: tls_env(pki, port, "127.0.0.1")})
    web, figma = await paired(cluster.url(0), cluster.url(1))
    for i in range(5):
        await web.sync({"i": i})
    syncs, _ = await figma.recv_syncs(5)
    assert [m["payload"] for m in syncs] == [{"i": i} for i in range(5)]
    await figma.sync({"back": True})
    back, _ = await web.recv_syncs(1)
    assert back[0]["payload"] == {"back": True}
    # the session lives in the TLS Redis, not in the cluster's plain one
    assert session_keys(client, web.token)
    assert not session_keys(redis.Redis(port=cluster.redis_port, decode_responses=True),
                            web.token)
    await web.close()
    await figma.close()


def start_unready(env):
    """One node pointed at the TLS Redis with env, not waited for."""
    c = Cluster(nodes=1, haproxy=False, wait_registered=False, jwt_keys=False,
                node_env={0: env})
    c.start_node(0, wait=False)
    return c


def wait_log(c, text):
    deadline = time.monotonic() + 10 * SCALE
    while time.monotonic() < deadline:
        log = open(c.node_log(0)).read()
        if text in log:
            return log
        time.sleep(0.1)
    raise AssertionError("no %r in the node's log:\n%s" % (text, log[-3000:]))


@pytest.mark.parametrize("change, reason", [
    ({"REDIS_TLS_SERVER_NAME": "redis.example.com"}, "hostname mismatch"),
    ({"REDIS_TLS_CA_FILE": "other-ca.crt"}, "self-signed certificate in certificate chain"),
])
def test_node_refuses_a_server_it_cannot_verify(pki, tls_redis, change, reason):
    port, _ = tls_redis
    change = {k: os.path.join(pki, v) if v.endswith(".crt") else v for k, v in change.items()}
    c = start_unready(tls_env(pki, port, **change))
    try:
        log = wait_log(c, "server certificate refused: " + reason)
        assert c.ready_status(0) == 503
        assert "connected" not in log.replace("disconnected", "")
    finally:
        c.stop()


def test_verify_off_takes_any_certificate(pki, tls_redis):
    """REDIS_TLS_VERIFY=0 (tests only): a CA that did not sign the server is accepted."""
    port, _ = tls_redis
    c = start_unready(tls_env(pki, port, REDIS_TLS_CA_FILE=os.path.join(pki, "other-ca.crt"),
                              REDIS_TLS_SERVER_NAME="redis.example.com", REDIS_TLS_VERIFY="0"))
    try:
        c.wait_ready(0)
    finally:
        c.stop()


@pytest.mark.parametrize("var", ["REDIS_TLS_CA_FILE", "REDIS_TLS_CERT"])
def test_unreadable_tls_files_stop_the_node_at_start(pki, tls_redis, var):
    port, _ = tls_redis
    env = dict(os.environ, PORT=str(free_port()),
               **tls_env(pki, port, **{var: os.path.join(pki, "missing.pem")}))
    r = subprocess.run([default_binary()], env=env, capture_output=True, text=True,
                       timeout=10 * SCALE)
    assert r.returncode == 2, r.stderr
    assert "missing.pem" in r.stderr and "cannot load" in r.stderr, r.stderr
