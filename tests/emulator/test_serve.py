"""`provision emulator serve` in its own process: what it prints is enough for a client."""
from __future__ import annotations

import os
import queue
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from azure.mgmt.resource.resources import ResourceManagementClient

from provisioner.emulator import EmulatorCredential
from tests.conftest import SUBSCRIPTION

REPO = Path(__file__).resolve().parents[2]


def start(*args: str) -> tuple[subprocess.Popen, "queue.Queue[str | None]"]:
    command = [sys.executable, "-c", "from provisioner.cli.app import main; main()", "emulator", "serve", *args]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen(command, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:  # in a thread, so waiting for a line can time out instead of blocking for ever
        for line in process.stdout:
            lines.put(line)
        lines.put(None)  # end of output

    threading.Thread(target=read, daemon=True).start()
    return process, lines


def read_until(lines: "queue.Queue[str | None]", pattern: str, timeout: float = 20) -> tuple[str, list[str]]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if re.search(pattern, line):
            return line, seen
    raise AssertionError(f"no line matching {pattern!r} in {seen}")


def test_serve_prints_what_a_client_needs(tmp_path):
    process, lines = start("--port", "0", "--instant")
    try:
        _, output = read_until(lines, r"PROVISION_EMULATOR_TOKEN_FILE=")  # the last line serve prints
        text = "".join(output)
        url = re.search(r"Emulated Azure Resource Manager at (https://127\.0\.0\.1:(\d+))\n", text)
        assert url and int(url.group(2)) > 0, text  # the port actually bound, not 0
        ca = re.search(r"CA certificate: (\S+)", text).group(1)
        assert f"export PROVISION_EMULATOR_URL={url.group(1)}\n" in text
        assert f"export PROVISION_EMULATOR_CA={ca}\n" in text
        token_file = Path(re.search(r"PROVISION_EMULATOR_TOKEN_FILE=(\S+)", text).group(1))
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text()

        client = ResourceManagementClient(EmulatorCredential(token), SUBSCRIPTION, base_url=url.group(1),
                                          connection_verify=ca, retry_total=0)
        group = client.resource_groups.create_or_update("rg", {"location": "eastus"})
        assert group.properties.provisioning_state == "Succeeded"
        assert [g.name for g in client.resource_groups.list()] == ["rg"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    output.extend(iter(lambda: lines.get(timeout=10), None))  # the rest, up to the end of output
    assert process.returncode == 0
    assert token and token not in "".join(output)
    assert not token_file.exists()  # SIGTERM stops it cleanly: the in-memory emulator's files are gone
