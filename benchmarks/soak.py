"""Soak: does `provision apply` converge when Azure misbehaves in every way it can?

Each trial starts from an empty emulated Azure with realistic operation durations and ARM
throttling on, and keeps faults firing at random for the whole trial: throttling (429),
server errors (500, 503), 409 RequestConflict, dropped connections, failed polls, operations
that end Failed (transiently and for good) and writes whose answer is lost (committed, then a
dropped connection or a 503). It runs `provision apply` until it exits 0 (at most --applies
times), then checks what provision promises:

- the final `plan --detailed-exitcode` exits 0;
- every account and deployment is `Succeeded`;
- nothing is duplicated (each account holds exactly its deployments, policies, blocklists and items);
- no account key appears in anything provision printed.

    python benchmarks/soak.py                 # 5 trials of 5 accounts x 8 deployments
    python benchmarks/soak.py --trials 1 --accounts 2 --deployments 3 --fast   # a quick look
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

from provisioner.cli.app import run
from provisioner.emulator import Config, Emulator
from provisioner.emulator.arm import SERVE_DURATIONS

SUBSCRIPTION = "00000000-0000-0000-0000-00000000500a"
GROUP = "rg-soak"
REGIONS = ["eastus2", "swedencentral", "westeurope", "eastus", "japaneast"]
MODELS = [("gpt-4o-mini", "2024-07-18", "GlobalStandard"), ("gpt-4o", "2024-11-20", "GlobalStandard"),
          ("text-embedding-3-large", "1", "GlobalStandard")]
WRITES = "PUT|PATCH|DELETE"


def faults(rate: float) -> list[dict]:
    """About `rate` of requests meet a fault, spread over every kind; operations end Failed at `rate`."""
    share = rate / 6
    return [
        dict(kind="status", status=429, retry_after=1, probability=share),
        dict(kind="status", status=500, probability=share / 2),
        dict(kind="status", status=503, probability=share / 2),
        dict(kind="status", status=409, code="RequestConflict", method="PUT", path="/accounts/.+/", probability=share),
        dict(kind="drop", probability=share),
        dict(kind="status", status=503, method="GET", path="/operationResults/", probability=share),
        dict(kind="commit_drop", method="PUT", probability=share / 2),
        dict(kind="commit_status", status=503, method="PUT", probability=share / 2),
        dict(kind="commit_drop", method="DELETE", probability=share),
        dict(kind="lro_failed", method="PUT", path="/deployments/", probability=rate * 0.75),  # InternalServerError
        dict(kind="lro_failed", method="PUT", path="/deployments/", probability=rate * 0.25,
             code="ResourceOperationFailure", message="The operation failed and will not be retried."),
    ]


def spec(accounts: int, deployments: int) -> dict:
    items = []
    for a in range(accounts):
        region = REGIONS[a % len(REGIONS)]
        items.append({"name": f"soak-{a}-{region}", "location": region, "deployments": [
            {"name": f"d{d}", "model": MODELS[d % len(MODELS)][0], "version": MODELS[d % len(MODELS)][1],
             "sku": MODELS[d % len(MODELS)][2], "capacity": 1 + d % 3,
             **({"content_filter": "strict"} if d % 4 == 0 else {})} for d in range(deployments)]})
    return {"version": 1, "name": "soak", "defaults": {"subscription": SUBSCRIPTION, "resource_group": GROUP},
            "content_filters": {"strict": {"categories": {"hate": "low"}, "jailbreak": "block",
                                           "blocklists": ["banned"]}},
            "blocklists": {"banned": {"items": ["never say this", {"regex": "ba[rz]+"}]}},
            "accounts": items}


def cli(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(list(argv))
    return code, out.getvalue() + err.getvalue()


def trial(number: int, args: argparse.Namespace, durations: dict) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"soak-{number}-"))
    config = Config(lro_durations=durations, retry_after=1)
    with Emulator(config=config) as emu:
        os.environ.update(emu.environment())
        os.chdir(workdir)
        wanted = spec(args.accounts, args.deployments)
        (workdir / "deployments.yaml").write_text(yaml.safe_dump(wanted, sort_keys=False))
        for region in REGIONS:
            for model, _, sku in MODELS:
                emu.control.set_quota(SUBSCRIPTION, region, f"OpenAI.{sku}.{model}", 100_000)
        random.seed(number)
        for rule in faults(args.rate):
            emu.control.inject_fault(**rule)
        printed, started, applies, codes = [], time.monotonic(), 0, []
        while applies < args.applies:
            applies += 1
            code, text = cli("apply", "deployments.yaml", "--auto-approve", "--parallelism", "10")
            printed.append(text)
            codes.append(code)
            if code == 0:
                break
        plan_code, text = cli("plan", "deployments.yaml", "--detailed-exitcode")
        printed.append(text)
        seconds = time.monotonic() - started
        emu.control.clear_faults()
        fired = emu.control.requests()["total"]
        client = CognitiveServicesManagementClient(emu.credential, SUBSCRIPTION, base_url=emu.base_url,
                                                   connection_verify=emu.ca_path)
        problems, keys = [], []
        for account in wanted["accounts"]:
            live = client.accounts.get(GROUP, account["name"])
            if live.properties.provisioning_state != "Succeeded":
                problems.append(f"{account['name']} is {live.properties.provisioning_state}")
            keys += [client.accounts.list_keys(GROUP, account["name"]).key1,
                     client.accounts.list_keys(GROUP, account["name"]).key2]
            deployed = {d.name: d.properties.provisioning_state for d in client.deployments.list(GROUP, account["name"])}
            if sorted(deployed) != sorted(d["name"] for d in account["deployments"]):
                problems.append(f"{account['name']} holds {sorted(deployed)}")
            problems += [f"{account['name']}/{n} is {s}" for n, s in deployed.items() if s != "Succeeded"]
            policies = [p.name for p in client.rai_policies.list(GROUP, account["name"]) if not p.name.startswith("Microsoft.")]
            blocklists = [b.name for b in client.rai_blocklists.list(GROUP, account["name"])]
            if policies != ["strict"] or blocklists != ["banned"]:
                problems.append(f"{account['name']} holds policies {policies} and blocklists {blocklists}")
            elif len(list(client.rai_blocklist_items.list(GROUP, account["name"], "banned"))) != 2:
                problems.append(f"{account['name']} blocklist items are duplicated or missing")
        client.close()
        leaked = any(key in text for key in keys for text in printed)
    return {"trial": number, "applies": applies, "exit_codes": codes, "final_plan": plan_code,
            "seconds": round(seconds, 1), "requests": fired, "problems": problems, "key_leaked": leaked,
            "converged": codes[-1] == 0 and plan_code == 0 and not problems and not leaked}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--deployments", type=int, default=8)
    parser.add_argument("--applies", type=int, default=3, help="applies allowed per trial to converge")
    parser.add_argument("--rate", type=float, default=0.2, help="share of requests that meet a fault")
    parser.add_argument("--fast", action="store_true", help="operations take 0.2 s instead of Azure-like seconds")
    args = parser.parse_args()
    durations = {k: (0.2 if args.fast and v else v) for k, v in SERVE_DURATIONS.items()}
    results = [trial(n, args, durations) for n in range(1, args.trials + 1)]
    print(f"soak: {args.trials} trials of {args.accounts} accounts x {args.deployments} deployments, faults at "
          f"{args.rate:.0%}, operations {'0.2 s' if args.fast else 'as `provision emulator serve`'}")
    print("| trial | applies | exit codes | final plan | seconds | requests | converged | problems |")
    print("|---:|---:|---|---:|---:|---:|---|---|")
    for r in results:
        print(f"| {r['trial']} | {r['applies']} | {r['exit_codes']} | {r['final_plan']} | {r['seconds']} | "
              f"{r['requests']} | {'yes' if r['converged'] else 'NO'} | {'; '.join(r['problems'][:3]) or '-'}"
              + (" KEY LEAKED" if r["key_leaked"] else "") + " |")
    return 0 if all(r["converged"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
