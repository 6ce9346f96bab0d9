"""How long does `provision validate` take on a large spec?

Writes a spec of DEPLOYMENTS deployments (100 per account, one flow mapping per
deployment with a version, a capacity and a content filter; a shared
content filter with a blocklist)
and times `provision validate` on it in a fresh process, REPEAT times, printing
the best and the median wall time. `--profile` also prints where the time goes
inside one in-process run (cProfile, top 15 by cumulative time).

    python benchmarks/validate_speed.py [--deployments 1000 10000] [--repeat 5] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PER_ACCOUNT = 100


def write_spec(path: Path, deployments: int) -> None:
    lines = [
        "version: 1",
        "name: bench",
        "defaults:",
        "  subscription: 00000000-0000-0000-0000-00000000be0c",
        "  resource_group: rg-bench",
        "  location: eastus2",
        "  tags: {team: platform, cost-center: '4711'}",
        "content_filters:",
        "  strict:",
        "    mode: blocking",
        "    categories: {hate: low, violence: {prompt: low, completion: medium}}",
        "    jailbreak: block",
        "    blocklists: [banned]",
        "blocklists:",
        "  banned:",
        "    description: never",
        '    items: ["forbidden phrase", {regex: "ba[rz]+"}]',
        "accounts:",
    ]
    accounts = max(1, -(-deployments // PER_ACCOUNT))
    for a in range(accounts):
        lines += [f"  - name: bench-{a:04d}", "    tags: {owner: bench}", "    deployments:"]
        for d in range(min(PER_ACCOUNT, deployments - a * PER_ACCOUNT)):
            # One line per deployment: 10,000 of them stay under the 1 MiB file limit.
            lines.append(f'      - {{name: chat-{d:02d}, model: gpt-4o, version: "2024-11-20", '
                         f"capacity: {d % 50 + 1}, content_filter: strict}}")
    path.write_text("\n".join(lines) + "\n")


def time_cli(spec: Path, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "provisioner.cli.app", "validate", str(spec)],
                                capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"validate failed:\n{result.stderr[:2000]}")
    return times


def profile(spec: Path) -> None:
    from provisioner.spec import load

    profiler = cProfile.Profile()
    profiler.enable()
    load(spec)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.deployments:
            spec = Path(tmp) / f"spec-{count}.yaml"
            write_spec(spec, count)
            times = time_cli(spec, args.repeat)
            size = spec.stat().st_size
            print(f"{count:>6} deployments ({size / 1024:.0f} KiB): best {min(times):.2f} s, "
                  f"median {statistics.median(times):.2f} s over {args.repeat} runs")
            if args.profile:
                profile(spec)


if __name__ == "__main__":
    main()
