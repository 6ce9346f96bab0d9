"""Emulator throughput: one client reads (GET) and writes (PUT) one resource group over a
kept-alive HTTPS connection; then the emulator's CPU per deployment PUT as its subscription grows
to 10,000 deployments.

    python benchmarks/emulator_throughput.py [--seconds 10] [--deployments 10000]

The emulator runs as `provision emulator serve --port 0 --instant` in its own process (as a
developer would run it), so client and server do not share a GIL. Three loops are measured one
after the other: a bare httpx.Client GET (the emulator's own cost per read: TLS, the token's
signature check, api-version, throttling, one SQLite transaction), a bare httpx.Client PUT with
tags (the same plus the body's validation against the API's model) and the SDK's
ResourceManagementClient.resource_groups.get (what provision sees). Not a pytest test.

Besides requests/second and latency it reports the emulator process's CPU time per request (user +
system, from /proc on Linux): on a shared machine the wall-clock numbers follow the load of other
processes, the CPU cost per request much less.

The PUT measurement seeds deployments (100 accounts, capacity 1 each) and measures the server
process's CPU seconds (from /proc) per deployment PUT at 100 deployments and at --deployments:
quota in use is checked on every PUT, and must not cost more in a larger subscription.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import httpx
from azure.mgmt.resource.resources import ResourceManagementClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from provisioner.emulator import EmulatorCredential  # noqa: E402

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"
GROUP_API = "2024-11-01"
COGNITIVE_API = "2024-10-01"
ACCOUNTS = 100


def server_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) the process has used so far (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def put_cost(process: subprocess.Popen, client: httpx.Client, base_url: str, sizes: list[int],
             sample: int = 200) -> list[dict]:
    """Grow one subscription to each size in turn; at each, the server's CPU ms per deployment PUT over
    `sample` new deployments (and the wall time of seeding, which must grow linearly)."""
    group = f"{base_url}/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-put"
    cognitive = f"{group}/providers/Microsoft.CognitiveServices/accounts"

    def ok(response: httpx.Response) -> None:
        if response.status_code not in (200, 201, 202, 204):
            raise SystemExit(f"unexpected {response.status_code}: {response.text}")

    ok(client.put(f"{group}?api-version={GROUP_API}", json={"location": "eastus"}))
    control = f"{base_url}/_emulator/quota"
    ok(client.put(control, json={"subscription": SUBSCRIPTION, "region": "eastus",
                                 "usage_name": "OpenAI.Standard.gpt-35-turbo", "limit": 10 ** 7}))
    for a in range(ACCOUNTS):
        ok(client.put(f"{cognitive}/put-{a}?api-version={COGNITIVE_API}",
                      json={"kind": "OpenAI", "sku": {"name": "S0"}, "location": "eastus",
                            "properties": {"customSubDomainName": f"put-{a}"}}))
    count = 0

    def put() -> None:
        nonlocal count
        body = {"sku": {"name": "Standard", "capacity": 1},
                "properties": {"model": {"format": "OpenAI", "name": "gpt-35-turbo", "version": "0125"}}}
        ok(client.put(f"{cognitive}/put-{count % ACCOUNTS}/deployments/d{count}?api-version={COGNITIVE_API}",
                      json=body))
        count += 1

    rows = []
    for size in sizes:
        started = time.perf_counter()
        seeded = max(0, size - count)
        while count < size:
            put()
        seeding = time.perf_counter() - started
        cpu, wall = server_cpu(process.pid), time.perf_counter()
        for _ in range(sample):
            put()
        rows.append({"deployments": size, "cpu_ms": 1000 * (server_cpu(process.pid) - cpu) / sample,
                     "wall_ms": 1000 * (time.perf_counter() - wall) / sample,
                     "seed_ms": 1000 * seeding / seeded if seeded else 0.0})
    return rows


def start_emulator() -> tuple[subprocess.Popen, str, str, str]:
    """(process, base_url, ca_path, token) of a fresh `serve --instant` on a free port."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from provisioner.cli.app import main; main()", "emulator", "serve", "--port", "0",
         "--instant"], cwd=REPO, env=env, text=True, stdout=subprocess.PIPE)
    printed = ""
    for line in process.stdout:  # serve's last line names the token file
        printed += line
        if "PROVISION_EMULATOR_TOKEN_FILE=" in line:
            break
    found = {name: re.search(rf"{name}=(\S+)", printed) for name in ("URL", "CA", "TOKEN_FILE")}
    if not all(found.values()):
        process.kill()
        raise SystemExit(f"the emulator did not start:\n{printed}")
    token = Path(found["TOKEN_FILE"].group(1)).read_text()
    return process, found["URL"].group(1), found["CA"].group(1), token


def measure(call: Callable[[], None], seconds: float, pid: int, warmup: float = 1.0) -> dict:
    """Call back to back for `seconds` (after `warmup`); requests/second, latency percentiles and the
    emulator's CPU milliseconds per request."""
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        call()
    latencies = []
    cpu_before = server_cpu(pid)
    started = time.perf_counter()
    end = started + seconds
    while (before := time.perf_counter()) < end:
        call()
        latencies.append(time.perf_counter() - before)
    elapsed = time.perf_counter() - started
    cpu_after = server_cpu(pid)
    latencies.sort()
    cpu_ms = None if cpu_before is None or cpu_after is None else 1000 * (cpu_after - cpu_before) / len(latencies)
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "cpu_ms": cpu_ms,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time per client (default 10)")
    parser.add_argument("--deployments", type=int, default=10_000,
                        help="the largest subscription for the PUT measurement (default 10,000; 0 skips it)")
    args = parser.parse_args()

    load_before = _load()
    process, base_url, ca, token = start_emulator()
    try:
        sdk = ResourceManagementClient(EmulatorCredential(token), SUBSCRIPTION, base_url=base_url,
                                       connection_verify=ca, retry_total=0)
        sdk.resource_groups.create_or_update("rg", {"location": "eastus"})

        # One connection, kept alive: a pool of one, HTTP/1.1, the bearer token on every request.
        with httpx.Client(verify=ssl.create_default_context(cafile=ca), http2=False,
                          headers={"Authorization": f"Bearer {token}"},
                          limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)) as client:
            url = f"{base_url}/subscriptions/{SUBSCRIPTION}/resourcegroups/rg?api-version={GROUP_API}"

            def bare_get() -> None:
                response = client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"unexpected {response.status_code}: {response.text}")

            writes = iter(range(10**9))

            def bare_put() -> None:
                body = {"location": "eastus", "tags": {"team": "platform", "n": str(next(writes))}}
                response = client.put(url, json=body)
                if response.status_code != 200:
                    raise SystemExit(f"unexpected {response.status_code}: {response.text}")

            pid = process.pid
            results = {"httpx.Client GET (keep-alive)": measure(bare_get, args.seconds, pid),
                       "httpx.Client PUT with tags (keep-alive)": measure(bare_put, args.seconds, pid),
                       "SDK resource_groups.get": measure(lambda: sdk.resource_groups.get("rg"), args.seconds, pid)}
            puts = put_cost(process, client, base_url, [100, args.deployments]) if args.deployments else []
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)

    print(f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {args.seconds:g} s per client")
    print(f"load average before: {load_before}, after: {_load()}")
    print("| client | requests | requests/s | p50 ms | p99 ms | emulator CPU ms/request |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        cpu = "n/a" if r["cpu_ms"] is None else f"{r['cpu_ms']:.2f}"
        print(f"| {name} | {r['requests']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {cpu} |")

    if puts:
        print("\n| deployments in the subscription | emulator CPU ms per PUT | wall ms per PUT | seeding ms per PUT |")
        print("|---:|---:|---:|---:|")
        for r in puts:
            print(f"| {r['deployments']} | {r['cpu_ms']:.2f} | {r['wall_ms']:.2f} | {r['seed_ms']:.2f} |")


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


if __name__ == "__main__":
    main()
