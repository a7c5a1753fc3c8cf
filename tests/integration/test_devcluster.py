"""tools/dev-cluster: starts from any directory, serves through haproxy, and
Ctrl-C stops every process it started."""

import os
import re
import signal
import socket
import subprocess
import time

from conftest import SCALE, paired

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "dev-cluster")


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


async def test_dev_cluster_runs_and_stops(tmp_path):
    proc = subprocess.Popen([os.path.abspath(TOOL), "--port", "0", "-n", "2",
                             "-e", "DRAIN_TIMEOUT=0"], cwd=str(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = []
    try:
        deadline = time.monotonic() + 20 * SCALE
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if line.startswith("logs"):
                break
        text = "".join(out)
        assert proc.poll() is None, text
        lb = re.search(r"^haproxy\s+(ws://127\.0\.0\.1:\d+/)", text, re.M)
        nodes = re.findall(r"^node\d+\s+ws://127\.0\.0\.1:(\d+)/", text, re.M)
        redis_port = re.search(r"redis-cli -p (\d+)", text)
        assert lb and len(nodes) == 2 and redis_port, text

        web, figma = await paired(lb.group(1), lb.group(1))
        await web.sync({"dev": 1})
        assert (await figma.expect("sync"))["payload"] == {"dev": 1}
        await web.close()
        await figma.close()

        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=15 * SCALE)
        assert rc == 0, "".join(out) + proc.stdout.read()
        ports = [int(p) for p in nodes] + [int(redis_port.group(1)),
                                           int(re.search(r":(\d+)/", lb.group(1)).group(1))]
        time.sleep(0.2)
        assert not [p for p in ports if port_open(p)], "something still listening: %r" % ports
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
