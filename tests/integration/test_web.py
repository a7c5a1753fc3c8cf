"""The browser side: the demo page (GET / for a browser), the dashboard (GET /admin)
and the JSON and metrics they read.

HTTP-level tests run everywhere. The browser tests drive Debian's chromium headless
through chromedriver (python3-selenium): two windows on two nodes behind haproxy
pair through the demo page, exchange messages both ways, one drops its socket and
resumes without loss; the dashboard shows both nodes with the counts of /health;
with ADMIN_TOKEN set it shows only the prompt. Each page's screenshot (also at a
phone's size) is saved under the build directory, in screenshots/.
"""

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import websockets

from conftest import (Client, PREFIX, SCALE, eventually, http_get, metric_values, paired,
                      raw_ws_handshake, redis_client, session_id)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def cluster(make_cluster):
    return make_cluster(nodes=2, haproxy=True)


def shot_dir():
    binary = os.environ.get("SYNCRELAY_BIN") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build",
        "syncrelay")
    path = os.path.join(os.path.dirname(os.path.abspath(binary)), "screenshots")
    os.makedirs(path, exist_ok=True)
    return path


# ---- HTTP ------------------------------------------------------------------------------

def test_pages_for_browsers_only(cluster):
    port = cluster.node_port(0)
    status, headers, body = http_get(port, "/", headers=HTML)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8", headers
    assert b"/web/demo.js" in body and b"<script>" not in body  # no inline script (CSP)
    csp = headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
    assert "access-control-allow-origin" not in headers
    # API clients and anything that does not ask for HTML keep the JSON 404
    for h in ({}, {"Accept": "application/json"}, {"Accept": "*/*"}):
        status, headers, body = http_get(port, "/", headers=h)
        assert status == 404 and json.loads(body) == {"error": "Not found"}, (h, status, body)
    status, headers, body = http_get(port, "/admin")
    assert status == 200 and b"/web/admin.js" in body, (status, body[:200])
    for name, kind in (("demo.js", "text/javascript"), ("qr.js", "text/javascript"),
                       ("admin.js", "text/javascript"), ("style.css", "text/css")):
        status, headers, body = http_get(port, "/web/" + name)
        assert status == 200 and headers["content-type"].startswith(kind), (name, headers)
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "web", name), "rb") as f:
            assert body == f.read(), name  # embedded byte for byte
    for path in ("/web/nope.js", "/web/../README.md", "/web/"):
        status, _, body = http_get(port, path)
        assert status == 404, (path, status, body)


async def test_websocket_on_root_unchanged_and_hello(cluster):
    # a plain token sync client on "/" gets exactly what it always got
    web = await Client.connect(cluster.url(0), "web")
    await web.send({"type": "pair", "clientType": "web"})
    first = await web.expect("pair", clientType="web")
    assert set(first) == {"type", "sessionToken", "clientType"}, first
    web.token = first["sessionToken"]
    # "/?hello=1" says which node the socket reached first, then works the same
    figma = await Client.connect(cluster.url(1, "/?hello=1"), "figma")
    assert await figma.recv() == {"type": "hello", "node": "node2"}
    await figma.send({"type": "pair", "clientType": "figma", "sessionToken": web.token})
    await figma.expect("pair", clientType="figma")
    await figma.expect_peer("joined", "web")
    await web.expect_peer("joined", "figma")
    await web.sync({"a": 1})
    msg = await figma.expect("sync")
    assert msg["payload"] == {"a": 1}, msg
    await web.close()
    await figma.close()


async def test_cluster_endpoint_and_holders(cluster):
    web, figma = await paired(cluster.url(0), cluster.url(1))
    sid = session_id(web.token)

    def nodes_ready():
        status, headers, body = http_get(cluster.node_port(1), "/api/cluster")
        assert status == 200 and "access-control-allow-origin" not in headers, (status, headers)
        c = json.loads(body)
        ids = sorted(n["id"] for n in c["nodes"])
        ok = ids == ["node1", "node2"] and all(
            n["stats"] and n["stats"]["dialects"]["tokensync"]["sessions"] >= 1 for n in c["nodes"])
        return c if ok else None

    c = await eventually(nodes_ready, timeout=6, what="both nodes with their stats")
    assert c["node"] == "node2"
    for n in c["nodes"]:
        assert n["uptimeSeconds"] >= 0 and n["boot"] and n["started"].endswith("Z"), n
        assert n["stats"]["draining"] is False and n["stats"]["relayed"] >= 0, n
    status, _, body = http_get(cluster.node_port(0), "/api/sessions/" + sid)
    s = json.loads(body)
    holders = {m["member"]: m.get("holder", "") for m in s["members"]}
    assert holders["web"].startswith("node1/") and holders["figma"].startswith("node2/"), s
    await web.close()
    await figma.close()


async def test_metrics_per_dialect_latency_and_process(cluster):
    before = metric_values(http_get(cluster.node_port(1), "/metrics")[2].decode())
    web, figma = await paired(cluster.url(0), cluster.url(1))
    for i in range(10):
        await web.sync({"i": i})
    await figma.recv_syncs(10)
    text = http_get(cluster.node_port(1), "/metrics")[2].decode()
    after = metric_values(text)
    # written on node2, published by node1: ten observations of the relay latency
    assert after["syncrelay_relay_latency_seconds_count"] >= \
        before.get("syncrelay_relay_latency_seconds_count", 0) + 10
    count = re.search(r'^syncrelay_relay_latency_seconds_bucket\{le="\+Inf"\} (\d+)$', text, re.M)
    assert count and int(count.group(1)) == after["syncrelay_relay_latency_seconds_count"]
    assert 0 < after["syncrelay_relay_latency_seconds_sum"] < after[
        "syncrelay_relay_latency_seconds_count"]  # well under a second each, on loopback
    m = re.search(r'^syncrelay_messages_out_total\{dialect="tokensync"\} (\d+)$', text, re.M)
    assert m and int(m.group(1)) >= 10, text
    assert re.search(r'^syncrelay_sessions\{dialect="tokensync"\} [1-9]', text, re.M), text
    assert re.search(r'^syncrelay_connections\{dialect="devicesync"\} 0$', text, re.M), text
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                 "process_start_time_seconds", "process_max_fds"):
        assert after.get(name, 0) > 0, (name, sorted(after))
    assert abs(after["process_start_time_seconds"] - time.time()) < 3600
    await figma.send("not json")
    await figma.expect_error("Invalid JSON")
    errors = metric_values(http_get(cluster.node_port(1), "/metrics")[2].decode())
    assert errors["syncrelay_client_errors_total"] >= after.get("syncrelay_client_errors_total", 0) + 1
    await web.close()
    await figma.close()


# ---- the browser ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="syncrelay-chromium-")
    opts = Options()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--window-size=1100,900",
                 "--user-data-dir=" + profile):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(15)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(driver, fn, what, timeout=8.0):
    deadline = time.monotonic() + timeout * SCALE
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
        except Exception as e:  # the element is not there yet
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.05)
    try:
        page = driver.find_element("css selector", "main").text
    except Exception:
        page = "?"
    raise AssertionError("%s: not within %.0fs (last: %r)\npage: %s" % (
        what, timeout * SCALE, last, page))


def text_of(driver, css):
    return driver.find_element("css selector", css).text


def visible(driver, css):
    return driver.find_element("css selector", css).is_displayed()


def log_items(driver, kind):
    """The page's message log, oldest first: [(text, data-seq, data-n)]."""
    items = driver.find_elements("css selector", "#log li." + kind)
    out = [(li.find_element("css selector", ".body").text, li.get_attribute("data-seq"),
            li.get_attribute("data-n")) for li in items]
    return list(reversed(out))


def type_and_send(driver, text):
    box = driver.find_element("css selector", "#text")
    box.send_keys(text)
    driver.find_element("css selector", "#send").click()


def screenshot(driver, name, phone=False):
    """Saves the whole page (at a phone's width with phone=True)."""
    size = driver.get_window_size()
    width = 390 if phone else size["width"]
    driver.set_window_size(width, 844 if phone else size["height"])
    time.sleep(0.2)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(height + 140, 600), 3000))  # + the browser's frame
    time.sleep(0.2)
    path = os.path.join(shot_dir(), name)
    driver.save_screenshot(path)
    driver.set_window_size(size["width"], size["height"])
    return path


def holder_node(cluster, token, member):
    r = redis_client(cluster)
    holder = r.hget(PREFIX + "session:tokensync:{%s}" % session_id(token), "m:" + member) or ""
    return holder.split("/")[0]


def qr_text(driver):
    """Decodes the page's QR code (zbarimg on a screenshot of the canvas)."""
    path = os.path.join(shot_dir(), "demo-qr.png")
    driver.find_element("css selector", "#qr").screenshot(path)
    r = subprocess.run(["zbarimg", "-q", "--raw", path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=20)
    return r.stdout.decode().strip()


@pytest.mark.browser
def test_demo_two_windows_on_two_nodes(cluster, browser):
    d = browser
    d.get(cluster.lb_http_url("/"))
    web = d.current_window_handle
    wait(d, lambda: visible(d, "#start"), "the start button")
    screenshot(d, "demo-start.png")
    screenshot(d, "demo-start-phone.png", phone=True)
    d.find_element("css selector", "#start").click()
    token = wait(d, lambda: re.match(r"^dts://[0-9A-F]{12}$", text_of(d, "#token")) and
                 text_of(d, "#token"), "web's token")
    join_url = d.find_element("css selector", "#join-url").get_attribute("href")
    assert join_url == cluster.lb_http_url("/#join=" + session_id(token)), join_url
    assert qr_text(d) == join_url  # the QR code the page drew reads back as the link

    d.switch_to.new_window("window")
    figma = d.current_window_handle
    d.get(join_url)
    wait(d, lambda: text_of(d, "#state") == "paired", "figma paired")
    # behind round-robin both sockets may land on one node: drop until they differ
    for _ in range(4):
        node_f = wait(d, lambda: text_of(d, "#state") == "paired" and text_of(d, "#node"),
                      "figma's node")
        d.switch_to.window(web)
        node_w = wait(d, lambda: text_of(d, "#state") == "paired" and text_of(d, "#node"),
                      "web's node")
        d.switch_to.window(figma)
        if node_f != node_w:
            break
        d.find_element("css selector", "#drop").click()
        wait(d, lambda: text_of(d, "#state") == "offline", "figma offline")
    assert {node_w, node_f} == {"node1", "node2"}, (node_w, node_f)
    assert holder_node(cluster, token, "web") == node_w
    assert holder_node(cluster, token, "figma") == node_f

    # figma -> web and web -> figma, each with its seq
    type_and_send(d, "hello from figma")
    d.switch_to.window(web)
    wait(d, lambda: text_of(d, "#peer") == "figma online", "web sees figma")
    got = wait(d, lambda: log_items(d, "in"), "web receives")
    assert got[0][0] == "hello from figma" and int(got[0][1]) >= 1, got
    type_and_send(d, "hello from web")
    d.switch_to.window(figma)
    got = wait(d, lambda: log_items(d, "in"), "figma receives")
    assert got[0][0] == "hello from web" and int(got[0][1]) > 0, got

    # figma drops its socket; web sends while it is away; figma resumes with lastSeq
    d.find_element("css selector", "#drop").click()
    wait(d, lambda: text_of(d, "#state") == "offline", "figma offline")
    d.switch_to.window(web)
    wait(d, lambda: text_of(d, "#peer") == "figma away", "web sees figma leave")
    for i in range(3):
        type_and_send(d, "while away %d" % i)
    wait(d, lambda: text_of(d, "#peer") == "figma online", "web sees figma back")
    d.switch_to.window(figma)
    try:
        got = wait(d, lambda: len(log_items(d, "in")) == 4 and log_items(d, "in"), "figma resumed")
    except AssertionError:
        log = redis_client(cluster).lrange(
            PREFIX + "session:tokensync:{%s}:log" % session_id(token), 0, -1)
        print("session log in Redis:", log)
        raise
    assert [g[0] for g in got] == ["hello from web"] + ["while away %d" % i for i in range(3)], got
    seqs = [int(g[1]) for g in got]
    assert seqs == sorted(set(seqs)), seqs  # in order, each once
    assert [int(g[2]) for g in got] == [1, 2, 3, 4], got  # nothing missing
    assert "none missing" in text_of(d, "#tally"), text_of(d, "#tally")
    assert text_of(d, "#notice").startswith("resumed from seq"), text_of(d, "#notice")
    r = redis_client(cluster)
    assert int(r.hget(PREFIX + "session:tokensync:{%s}" % session_id(token), "seq")) == seqs[-1] + 0
    screenshot(d, "demo-figma.png")
    screenshot(d, "demo-figma-phone.png", phone=True)
    d.switch_to.window(web)
    screenshot(d, "demo-web.png")
    screenshot(d, "demo-web-phone.png", phone=True)

    # the join link opened again takes figma over; the first tab stands down for good
    d.switch_to.new_window("window")
    again = d.current_window_handle
    d.get(join_url)
    wait(d, lambda: text_of(d, "#state") == "paired", "figma paired in a third window")
    d.switch_to.window(figma)
    wait(d, lambda: text_of(d, "#state") == "taken over elsewhere", "the old figma tab stands down")
    time.sleep(1.5)  # longer than a reconnect's delay: no tug of war between the two
    assert text_of(d, "#state") == "taken over elsewhere"
    d.switch_to.window(again)
    assert text_of(d, "#state") == "paired"
    for handle in (again, figma):
        d.switch_to.window(handle)
        d.close()
    d.switch_to.window(web)


@pytest.mark.browser
def test_qr_code_versions_read_back(cluster, browser):
    """The page's QR encoder at versions 1 (the smallest), 7 (the first with version
    blocks) and 10 (16-bit length): each code zbarimg reads is the text drawn."""
    d = browser
    d.get(cluster.lb_http_url("/"))
    for text, version in (("dts://A1B2", 1), ("https://relay.example.com/#join=" + "7" * 80, 7),
                          ("x" * 210, 10)):
        got = d.execute_script(
            "var c = document.getElementById('qr'); SyncQR.draw(c, arguments[0], 4);"
            "document.getElementById('start-view').hidden = true;"
            "document.getElementById('session-view').hidden = false;"
            "document.getElementById('invite').hidden = false;"
            "return SyncQR.encode(arguments[0]).version;", text)
        assert got == version, (text, got)
        assert qr_text(d) == text, version


def health(cluster, i):
    return json.loads(http_get(cluster.node_port(i), "/health")[2])


def dashboard_rows(d):
    rows = {}
    for tr in d.find_elements("css selector", "#nodes tbody tr"):
        rows[tr.get_attribute("data-node")] = (
            int(tr.find_element("css selector", "td.connections").text),
            int(tr.find_element("css selector", "td.sessions").text))
    return rows


@pytest.mark.browser
async def test_dashboard_matches_health(cluster, browser):
    d = browser
    pairs = [await paired(cluster.url(0), cluster.url(1)) for _ in range(2)]
    extra = await Client.connect(cluster.url(1))  # a socket without a session
    await extra.ping()
    d.get(cluster.lb_http_url("/admin"))
    await asyncio.to_thread(wait, d, lambda: visible(d, "#dash"), "dashboard")
    assert not visible(d, "#login")  # no ADMIN_TOKEN: no prompt

    def matches():  # each node's row, and the cluster's totals (both refreshed every 2 s)
        hs = [health(cluster, i) for i in (0, 1)]
        want = {"node%d" % (i + 1): (hs[i]["connections"], hs[i]["sessions"]) for i in (0, 1)}
        totals = (int(text_of(d, "#sum-connections")), int(text_of(d, "#sum-sessions")))
        return (dashboard_rows(d) == want and
                totals == (hs[0]["totalConnections"], hs[0]["activeSessions"]) and want)

    want = await asyncio.to_thread(wait, d, matches, "dashboard counts == /health", 10)
    assert want["node2"][0] >= 3 and want["node1"][1] >= 2, want
    assert int(text_of(d, "#sum-nodes")) == 2

    # messages relayed by node1's clients show as node1's rate (from two of its reports)
    w1, f1 = pairs[1]
    for i in range(30):
        await w1.sync({"i": i})
    await f1.recv_syncs(30)

    def node1_rate():
        tr = d.find_element("css selector", '#nodes tbody tr[data-node="node1"]')
        return float(tr.find_element("css selector", "td.rate").text) > 0
    await asyncio.to_thread(wait, d, node1_rate, "node1's msgs/s above 0", 10)

    # search finds the session; its detail names each member's node; End session ends it
    web, figma = pairs[0]
    sid = session_id(web.token)
    d.find_element("css selector", "#search").send_keys(sid[:8])
    rows = await asyncio.to_thread(
        wait, d, lambda: [tr.get_attribute("data-id") for tr in
                          d.find_elements("css selector", "#sessions tbody tr")] == [sid] and True,
        "search narrows to one session")
    assert rows
    d.find_element("css selector", "#sessions tbody tr").click()
    await asyncio.to_thread(wait, d, lambda: text_of(d, "#detail-id") == sid and
                            len(d.find_elements("css selector", "#detail-members tbody tr")) == 2,
                            "session detail")
    nodes = {tr.find_elements("css selector", "td")[0].text:
             tr.find_element("css selector", "td.node").text
             for tr in d.find_elements("css selector", "#detail-members tbody tr")}
    assert nodes == {"web": "node1", "figma": "node2"}, nodes
    screenshot(d, "admin.png")
    screenshot(d, "admin-phone.png", phone=True)
    d.find_element("css selector", "#end-session").click()
    d.find_element("css selector", "#end-session").click()
    await web.expect_error("Session ended")
    await figma.expect_error("Session ended")
    assert await web.wait_closed() == 1000
    assert not redis_client(cluster).exists(PREFIX + "session:tokensync:{%s}" % sid)
    for w, f in pairs[1:]:
        await w.close()
        await f.close()
    await extra.close()


@pytest.mark.browser
def test_dashboard_with_admin_token(make_cluster, browser):
    c = make_cluster(nodes=1, env={"ADMIN_TOKEN": "s3cret-token", "DRAIN_TIMEOUT": "8"})
    assert http_get(c.node_port(0), "/api/cluster")[0] == 401
    assert http_get(c.node_port(0), "/admin")[0] == 200  # the page; its data needs the token
    d = browser
    d.get(c.http_url(0, "/admin"))
    wait(d, lambda: visible(d, "#login"), "the prompt")
    time.sleep(0.5)
    assert not visible(d, "#dash")
    assert d.find_elements("css selector", "#nodes tbody tr") == []
    assert d.execute_script("return sessionStorage.getItem('syncrelay.adminToken')") is None
    screenshot(d, "admin-login.png")
    d.find_element("css selector", "#token-input").send_keys("wrong")
    d.find_element("css selector", "#login-form button").click()
    wait(d, lambda: text_of(d, "#login-error") == "That token was refused.", "refused")
    assert not visible(d, "#dash")
    d.find_element("css selector", "#token-input").send_keys("s3cret-token")
    d.find_element("css selector", "#login-form button").click()
    wait(d, lambda: visible(d, "#dash") and dashboard_rows(d).get("node1"), "signed in")
    assert d.execute_script("return sessionStorage.getItem('syncrelay.adminToken')") == "s3cret-token"
    # a node told to stop shows as draining while it still serves (a client keeps it draining)
    sock, _ = raw_ws_handshake(c.node_port(0))
    try:
        c.kill_node(0, signal.SIGTERM, wait=False)
        wait(d, lambda: text_of(d, '#nodes tbody tr[data-node="node1"] .badge') == "draining",
             "node1 draining", timeout=6)
    finally:
        sock.close()
