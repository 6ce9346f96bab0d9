"""How long does `provision validate` take on a large spec?

Writes a spec of DEPLOYMENTS deployments (100 per account, one flow mapping per
deployment with a version, a capacity and a content filter; a shared
content filter with a blocklist)
and times `provision validate` on it in a fresh process, REPEAT times, printing
the best and the median wall time, and the best time of `provisioner.spec.load`
in this process (the same work without the interpreter's start and imports).
`--baseline DIR` also times the `provisioner` package found in DIR (a checkout of
an older commit, e.g. `git archive <commit> provisioner | tar -x -C DIR`), the
two interleaved so that a busy machine affects both alike. `--profile` prints
where the time goes inside one in-process load (cProfile, top 15). `--hostile`
times how long each parser takes to refuse an alias bomb, 100,000 nested
brackets and a 2 MB file.

    python benchmarks/validate_speed.py [--deployments 1000 10000] [--repeat 5]
                                        [--baseline DIR] [--profile] [--hostile]
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from provisioner.errors import SpecError
from provisioner.spec import load, load_from_text, loader

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


def time_cli(spec: Path, package_dir: str | None = None) -> float:
    """One `provision validate` in a fresh process, run from the spec's directory so that only
    `package_dir` (or the installed provisioner) can be imported."""
    env = dict(os.environ, PYTHONPATH=package_dir) if package_dir else None
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "provisioner.cli.app", "validate", str(spec)],
                            capture_output=True, text=True, cwd=spec.parent, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"validate failed:\n{result.stderr[:2000]}")
    return elapsed


def time_load(spec: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        load(spec)
        best = min(best, time.perf_counter() - start)
    return best


def profile(spec: Path) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    load(spec)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)


HOSTILE = {
    "alias bomb (1.2 KB)": "version: 1\n" + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]\n" for previous, name in zip("abcdefgh", "bcdefghi")),
    "100,000 nested brackets": "[" * 100_000 + "]" * 100_000,
    "2 MB file": "version: 1\n" + ("# " + "x" * 97 + "\n") * 20_000,
}


def time_hostile(repeat: int) -> None:
    for parser in loader.PARSERS:
        loader.PARSER = parser
        for name, text in HOSTILE.items():
            best = float("inf")
            for _ in range(repeat):
                start = time.perf_counter()
                try:
                    load_from_text(text, "hostile.yaml")
                except SpecError as error:
                    message = str(error.diagnostics[0])
                best = min(best, time.perf_counter() - start)
            print(f"    {parser:7} {name:24} {best * 1000:7.1f} ms  {message[:70]}")


def summary(times: list[float]) -> str:
    return f"best {min(times):.2f} s, median {statistics.median(times):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", help="a directory holding an older provisioner package")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--hostile", action="store_true")
    args = parser.parse_args()
    if args.hostile:
        print("hostile input, best of", args.repeat)
        time_hostile(args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.deployments:
            spec = Path(tmp) / f"spec-{count}.yaml"
            write_spec(spec, count)
            current, baseline = [], []
            for _ in range(args.repeat):
                current.append(time_cli(spec))
                if args.baseline:
                    baseline.append(time_cli(spec, str(Path(args.baseline).resolve())))
            print(f"{count:>6} deployments ({spec.stat().st_size / 1024:.0f} KiB), {args.repeat} runs:")
            print(f"    provision validate: {summary(current)}; load() in process: best {time_load(spec, 3):.2f} s")
            if args.baseline:
                print(f"    baseline validate:  {summary(baseline)}")
            if args.profile:
                profile(spec)


if __name__ == "__main__":
    main()
