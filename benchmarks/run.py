"""Every performance figure of the project side by side, each as a ratio against its bound or baseline.

    python benchmarks/run.py [--quick]

Start-up is measured against benchmarks/bare_typer.py (the same command names, no work), in
alternating fresh interpreters, medians. `plan` and `apply` run in their own process
(benchmarks/_worker.py) against an in-process emulator (its own threads), so their peak RSS is
their own. Apply rows compare the makespan with the larger of two lower bounds: the operation
bound (Azure takes one write at a time per account: the busiest account's sum of operation
durations) and the throttle bound (ARM's buckets, ARM-FACTS §8: for each kind, the requests the
run sent beyond the bucket's size, at its refill rate; polls included). The baseline is what users
write today: a sequential SDK loop with default polling. --quick runs smaller sizes (a few minutes);
the rows say which sizes ran.
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from provisioner.emulator import Config, Emulator  # noqa: E402

SUBSCRIPTION = "00000000-0000-0000-0000-00000000be0c"
REGIONS = ("eastus2", "swedencentral")
MODEL = ("gpt-4o", "2024-11-20", "OpenAI.GlobalStandard.gpt-4o")
ARM = {"reads": (250, 25), "writes": (200, 10), "deletes": (200, 10)}  # ARM-FACTS §8: size, refill/s
CLI = [sys.executable, "-c", "from provisioner.cli.app import main; main()"]
rows: list[tuple[str, str, str, str]] = []  # what, measured, target, met


def row(what: str, measured: str, target: str, met: bool | None) -> None:
    rows.append((what, measured, target, {True: "yes", False: "NO", None: "n/a"}[met]))
    print(f"  {what}: {measured} (target {target})", flush=True)


# --- start-up --------------------------------------------------------------------------------------

def seconds(argv: list[str], cwd: Path = REPO) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, env={**os.environ, "COLUMNS": "120"})
    if done.returncode not in (0, 2):
        raise SystemExit(f"{argv} failed: {done.stderr.decode()[-500:]}")
    return time.perf_counter() - started


def side_by_side(ours: list[str], reps: int, cwd: Path = REPO) -> tuple[float, float]:
    """Medians of ours and the bare Typer app's --help, run alternately (load changes hit both alike)."""
    bare = [sys.executable, str(REPO / "benchmarks" / "bare_typer.py"), "--help"]
    a, b = [], []
    for _ in range(reps):
        a.append(seconds(ours, cwd))
        b.append(seconds(bare, cwd))
    return statistics.median(a), statistics.median(b)


def spec_text(accounts: int, deployments: int, regions: int = 1, *, name: str = "bench",
              blocklist: bool = False) -> str:
    lines = ["version: 1", f"name: {name}", "defaults:", f"  subscription: {SUBSCRIPTION}",
             "  resource_group: rg-bench", f"  location: {REGIONS[0]}"]
    if blocklist:
        lines += ["content_filters:", "  strict:", "    mode: blocking", "    blocklists: [banned]",
                  "blocklists:", "  banned:", "    items: [forbidden phrase]"]
    lines.append("accounts:")
    for a in range(accounts):
        lines += [f"  - name: {name}-{a:03d}", f"    location: {REGIONS[a % regions]}", "    deployments:"]
        for d in range(deployments):
            lines += [f"      - name: d{d:03d}", f"        model: {MODEL[0]}", f'        version: "{MODEL[1]}"',
                      "        capacity: 1"]
            if blocklist and a == 0 and d == 0:
                lines.append("        content_filter: strict")
    return "\n".join(lines) + "\n"


def startup(reps: int, tmp: Path) -> None:
    # as `pip install` leaves it: bytecode compiled (an editable install under PYTHONDONTWRITEBYTECODE
    # would otherwise compile every module of ours from source on every run; the bare app's are compiled)
    compileall.compile_dir(str(REPO / "provisioner"), quiet=1)
    ours, bare = side_by_side([*CLI, "--help"], reps)
    row("`provision --help`", f"{ours:.2f} s vs bare Typer {bare:.2f} s = {ours / bare:.2f}×", "≤ 1.3×",
        ours / bare <= 1.3)
    ours, bare = side_by_side([*CLI, "validate", "deployments.yaml"], reps)
    row("`provision validate` of the example", f"{ours:.2f} s = {ours / bare:.2f}× bare --help", "≤ 1.6×",
        ours / bare <= 1.6)
    for count, bound in ((1_000, 2), (10_000, 10)):
        spec = tmp / f"validate-{count}.yaml"
        spec.write_text(spec_text(count // 50, 50))
        ours, bare = side_by_side([*CLI, "validate", str(spec)], max(1, reps // 3))
        row(f"`validate`, {count:,} deployments", f"{ours:.2f} s = {ours / bare:.2f}× bare --help",
            f"≤ {bound}×", ours / bare <= bound)


# --- plan and apply --------------------------------------------------------------------------------

def worker(mode: str, spec: Path, parallelism: int = 10) -> dict:
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "_worker.py"), mode, str(spec),
                           str(parallelism)], capture_output=True, text=True, env=dict(os.environ))
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def emulator(*, throttle: bool, account_seconds: float = 0.0, deployment_seconds: float = 0.0) -> Iterator[Emulator]:
    config = Config(lro_durations={"default": 0.0, "accounts.create": account_seconds,
                                   "deployments.create": deployment_seconds},
                    throttle={**Config().throttle, "enabled": throttle})
    with Emulator(config=config) as emu:
        for region in REGIONS:
            emu.control.set_quota(SUBSCRIPTION, region, MODEL[2], 10 ** 7)
            emu.control.set_quota(SUBSCRIPTION, region, "OpenAI.S0.AccountCount", 10 ** 4)
        os.environ.update(emu.environment())
        yield emu


def requests_by_kind(emu: Emulator) -> dict[str, int]:
    kinds = {"reads": 0, "writes": 0, "deletes": 0}
    for route, n in emu.control.requests()["counts"].items():
        method = route.split(" ", 1)[0]
        kinds[{"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}.get(method, "writes")] += n
    return kinds


def throttle_bound(kinds: dict[str, int]) -> float:
    return max(max(0, n - ARM[k][0]) / ARM[k][1] for k, n in kinds.items())


def large_plan(tmp: Path, accounts: int, deployments: int) -> None:
    spec = tmp / "large" / "deployments.yaml"
    spec.parent.mkdir()
    spec.write_text(spec_text(accounts, deployments, regions=2, blocklist=True))
    total = accounts * deployments
    with emulator(throttle=False) as emu:
        applied = worker("apply", spec, parallelism=20)
        emu.control.clear_requests()
        planned = worker("plan", spec)
        count = emu.control.requests()["total"]
    bound = 3 * accounts + 2 * 2 + 1 + 1  # 3A + 2R + G + one managed blocklist
    row(f"`plan` requests, everything exists (A={accounts}, D={total:,}, R=2, G=1)",
        f"{count} (G + 3A + 2R + 1 = {1 + 3 * accounts + 4 + 1}: per account deployments, RAI policies, "
        f"blocklists; no account with grants or diagnostics, so none of those lists)",
        f"≤ 3A + 2R + G + 1 = {bound}", count <= bound)
    row(f"whole `plan`, {total:,} deployments, everything exists",
        f"{planned['seconds']:.1f} s, {planned['changes']} changes", "≤ 8 s", planned["seconds"] <= 8)
    row(f"peak RSS, {total:,}-deployment plan / apply", f"{planned['rss_mib']:.0f} / {applied['rss_mib']:.0f} MiB",
        "≤ 200 MiB", max(planned["rss_mib"], applied["rss_mib"]) <= 200)


def apply_row(tmp: Path, accounts: int, deployments: int, account_s: float, deployment_s: float, *,
              throttle: bool, target: float, extra_429: bool = False) -> None:
    spec = tmp / f"apply-{accounts}x{deployments}-{int(throttle)}" / "deployments.yaml"
    spec.parent.mkdir()
    spec.write_text(spec_text(accounts, deployments))
    with emulator(throttle=throttle, account_seconds=account_s, deployment_seconds=deployment_s) as emu:
        result = worker("apply", spec, parallelism=accounts)
        kinds = requests_by_kind(emu)
    op_bound = account_s + deployments * deployment_s
    bound = max(op_bound, throttle_bound(kinds) if throttle else 0.0)
    ratio = result["seconds"] / bound
    writes = kinds["writes"]
    what = f"`apply` {accounts} × {deployments}, {account_s:g} s / {deployment_s:g} s operations" + \
           (", throttling on" if throttle else "")
    detail = (f"{result['seconds']:.1f} s = {ratio:.2f}× bound {bound:.1f} s (operations {op_bound:.0f} s"
              + (f", throttle {throttle_bound(kinds):.1f} s" if throttle else "") + f"); {result['throttled']} × 429"
              f" ({100 * result['throttled'] / max(1, writes):.1f} % of {writes} writes), "
              f"{'FAILURES' if result['failed'] else '0 failures'}")
    met = ratio <= target and not result["failed"] and (not extra_429 or result["throttled"] <= 0.02 * writes)
    row(what, detail, f"≤ {target}×" + (", 429s ≤ 2 % of writes, 0 failures" if extra_429 else ""), met)


def naive_baseline(tmp: Path, accounts: int, deployments: int, seconds_each: float) -> None:
    """What users write today: one SDK call after another, each waited for with the SDK's default polling."""
    from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    with emulator(throttle=True, account_seconds=seconds_each, deployment_seconds=seconds_each) as emu:
        kwargs = {"base_url": emu.base_url, "connection_verify": emu.ca_path}
        groups = ResourceManagementClient(emu.credential, SUBSCRIPTION, **kwargs)
        cognitive = CognitiveServicesManagementClient(emu.credential, SUBSCRIPTION, **kwargs)
        started = time.monotonic()
        groups.resource_groups.create_or_update("rg-naive", {"location": REGIONS[0]})
        for a in range(accounts):
            name = f"naive-{a:03d}"
            cognitive.accounts.begin_create("rg-naive", name, {
                "kind": "OpenAI", "sku": {"name": "S0"}, "location": REGIONS[0],
                "properties": {"customSubDomainName": name}}).result()
            for d in range(deployments):
                cognitive.deployments.begin_create_or_update("rg-naive", name, f"d{d:03d}", {
                    "sku": {"name": "GlobalStandard", "capacity": 1},
                    "properties": {"model": {"format": "OpenAI", "name": MODEL[0], "version": MODEL[1]}}}).result()
        naive = time.monotonic() - started
    spec = tmp / "naive" / "deployments.yaml"
    spec.parent.mkdir()
    spec.write_text(spec_text(accounts, deployments))
    with emulator(throttle=True, account_seconds=seconds_each, deployment_seconds=seconds_each):
        ours = worker("apply", spec, parallelism=accounts)["seconds"]
    row(f"baseline: naive sequential SDK loop, {accounts} × {deployments}, {seconds_each:g} s operations",
        f"{naive:.1f} s; `provision apply` of the same {ours:.1f} s = {naive / ours:.1f}× faster", "(reference)", None)


def emulator_puts(largest: int) -> None:
    import signal

    import ssl

    import httpx
    from emulator_throughput import put_cost, start_emulator

    process, base_url, ca, token = start_emulator()
    try:
        with httpx.Client(verify=ssl.create_default_context(cafile=ca), headers={"Authorization": f"Bearer {token}"},
                          limits=httpx.Limits(max_connections=1)) as client:
            small, large = put_cost(process, client, base_url, [100, largest], sample=500)  # /proc counts 10 ms ticks
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    ratio = large["cpu_ms"] / small["cpu_ms"]
    row("emulator CPU per deployment PUT", f"{small['cpu_ms']:.2f} ms at 100, {large['cpu_ms']:.2f} ms at "
        f"{largest:,} deployments = {ratio:.2f}×", "flat (≤ 1.2×)", ratio <= 1.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a few minutes instead of an hour")
    args = parser.parse_args()
    quick = args.quick
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}, {'--quick' if quick else 'full'}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        startup(5 if quick else 15, tmp)
        large_plan(tmp, *((20, 50) if quick else (50, 200)))
        apply_row(tmp, *((5, 4) if quick else (20, 10)), 3.0, 3.0, throttle=False, target=1.10)
        apply_row(tmp, *((10, 10) if quick else (50, 20)), 5.0, 3.0, throttle=True, target=1.2)
        if not quick:
            apply_row(tmp, 100, 20, 0.0, 0.0, throttle=True, target=1.05, extra_429=True)
        naive_baseline(tmp, *((2, 3) if quick else (5, 4)), 3.0)
        emulator_puts(2_000 if quick else 10_000)
    print("\n| what | measured | target | met |\n|---|---|---|---|")
    for what, measured, target, met in rows:
        print(f"| {what} | {measured} | {target} | {met} |")


if __name__ == "__main__":
    main()
