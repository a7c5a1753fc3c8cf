"""A single node as the README's first command starts it (no REDIS_URL: a
private redis-server child), here also serving TLS directly (TLS_CERT and
TLS_KEY), which is what a user without a proxy in front does."""
import asyncio
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.request

import pytest
import websockets

from conftest import SANITIZER_RE, SCALE
from devcluster import default_binary, free_port


@pytest.fixture(scope="module")
def tls_node(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = str(d / "cert.pem"), str(d / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update({"PORT": str(port), "TLS_CERT": cert, "TLS_KEY": key, "NODE_ID": "tls",
                "DRAIN_TIMEOUT": "0"})
    log = open(d / "node.log", "w+")
    proc = subprocess.Popen([default_binary()], env=env, stdout=log, stderr=subprocess.STDOUT)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + 10 * SCALE
    while True:
        try:
            with urllib.request.urlopen("https://127.0.0.1:%d/ready" % port, context=ctx,
                                        timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert proc.poll() is None, "node exited: " + open(d / "node.log").read()[-2000:]
        assert time.monotonic() < deadline, "node not ready over https"
        time.sleep(0.1)
    yield port, ctx, proc, d / "node.log"
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10 * SCALE)
    log.close()


def test_connections_that_never_send_a_request_do_not_crash_the_node(tls_node):
    """A TLS connection closed before any HTTP request reached CLOSED_HTTP
    without per-connection data, and the node dereferenced it."""
    port, ctx, proc, _ = tls_node
    for _ in range(3):
        socket.create_connection(("127.0.0.1", port)).close()
        with socket.create_connection(("127.0.0.1", port)) as raw:
            ctx.wrap_socket(raw, server_hostname="localhost").close()
    with urllib.request.urlopen("https://127.0.0.1:%d/health" % port, context=ctx) as r:
        assert json.loads(r.read())["status"] == "healthy"
    assert proc.poll() is None


async def test_wss_pairing_and_sync_with_embedded_redis(tls_node):
    port, ctx, proc, _ = tls_node
    url = "wss://127.0.0.1:%d/" % port
    async with websockets.connect(url, ssl=ctx) as web, websockets.connect(url, ssl=ctx) as fig:
        await web.send(json.dumps({"type": "pair", "clientType": "web"}))
        token = json.loads(await web.recv())["sessionToken"]
        await fig.send(json.dumps({"type": "pair", "clientType": "figma", "sessionToken": token}))
        assert json.loads(await fig.recv())["type"] == "pair"
        assert json.loads(await web.recv()) == {"type": "peer", "event": "joined",
                                                "clientType": "figma"}
        await web.send(json.dumps({"type": "sync", "payload": {"over": "tls"}}))
        msg = json.loads(await asyncio.wait_for(fig.recv(), 5 * SCALE))
        while msg.get("type") == "peer":
            msg = json.loads(await asyncio.wait_for(fig.recv(), 5 * SCALE))
        assert msg == {"type": "sync", "payload": {"over": "tls"}, "seq": 1}


def test_sigterm_stops_node_and_its_redis_cleanly(tls_node):
    port, ctx, proc, log_path = tls_node
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10 * SCALE) == 0
    log = open(log_path).read()
    assert "stopped" in log
    assert not SANITIZER_RE.search(log), log[-3000:]
    pid = int(log.split("embedded redis-server (pid ")[1].split(")")[0])
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # the child is gone once the node has exited
            os.kill(pid, 0)
            time.sleep(0.1)
