"""How close does `provision apply` come to the fastest possible run?

Azure allows one write at a time per account, so no apply can finish before the
account with the most work: the lower bound is the largest per-account sum of
operation durations. This creates ACCOUNTS accounts x DEPLOYMENTS deployments
from empty against an emulator with realistic LRO durations, times the apply
and reports the makespan next to that bound (target: within 1.2x).

    python benchmarks/apply_makespan.py [--accounts 20] [--deployments 10]
                                        [--account-seconds 3] [--deployment-seconds 3]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from provisioner.cli.app import run
from provisioner.emulator import Config, Emulator

SUBSCRIPTION = "00000000-0000-0000-0000-00000000be0c"
REGION = "eastus2"


def write_spec(path: Path, accounts: int, deployments: int) -> None:
    lines = ["version: 1", "name: bench", "defaults:", f"  subscription: {SUBSCRIPTION}",
             "  resource_group: rg-bench", f"  location: {REGION}", "accounts:"]
    for a in range(accounts):
        lines += [f"  - name: bench-{a:02d}", "    deployments:"]
        for d in range(deployments):
            lines += [f"      - name: d{d:02d}", "        model: gpt-4o", '        version: "2024-11-20"',
                      "        capacity: 1"]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--deployments", type=int, default=10)
    parser.add_argument("--account-seconds", type=float, default=3.0)
    parser.add_argument("--deployment-seconds", type=float, default=3.0)
    args = parser.parse_args()

    config = Config(lro_durations={"default": 0.0, "accounts.create": args.account_seconds,
                                   "deployments.create": args.deployment_seconds},
                    throttle={**Config().throttle, "enabled": True})
    with tempfile.TemporaryDirectory() as tmp, Emulator(config=config) as emu:
        spec = Path(tmp) / "deployments.yaml"
        write_spec(spec, args.accounts, args.deployments)
        needed = args.accounts * args.deployments
        emu.control.set_quota(SUBSCRIPTION, REGION, "OpenAI.GlobalStandard.gpt-4o", needed)
        os.environ.update(emu.environment())
        start = time.monotonic()
        code = run(["apply", str(spec), "--auto-approve", "--parallelism", str(args.accounts)])
        makespan = time.monotonic() - start
        requests = emu.control.requests()["total"]
    bound = args.account_seconds + args.deployments * args.deployment_seconds
    print()
    print(f"accounts x deployments : {args.accounts} x {args.deployments} (exit code {code})")
    print(f"lower bound            : {bound:.1f} s (one account: create + {args.deployments} deployments)")
    print(f"makespan               : {makespan:.1f} s")
    print(f"ratio                  : {makespan / bound:.3f} (target <= 1.2)")
    print(f"requests               : {requests}")


if __name__ == "__main__":
    main()
