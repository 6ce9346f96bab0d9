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

With --security every account also grants two roles (role assignments, whose answers can be lost
like any write) and sends diagnostics to a workspace; the checks add: exactly the declared grants
on each account (one assignment per principal and role), one diagnostic setting, and the marks
that tell a later plan to look. Then the spec drops both and apply runs again, faults still
firing, until it exits 0: every grant and setting must be gone, the marks still there.

    python benchmarks/soak.py                 # 5 trials of 5 accounts x 8 deployments
    python benchmarks/soak.py --security      # the same with grants and diagnostics, then without
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
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from provisioner.cli.app import run
from provisioner.emulator import Config, Emulator
from provisioner.emulator.arm import SERVE_DURATIONS

SUBSCRIPTION = "00000000-0000-0000-0000-00000000500a"
GROUP = "rg-soak"
REGIONS = ["eastus2", "swedencentral", "westeurope", "eastus", "japaneast"]
MODELS = [("gpt-4o-mini", "2024-07-18", "GlobalStandard"), ("gpt-4o", "2024-11-20", "GlobalStandard"),
          ("text-embedding-3-large", "1", "GlobalStandard")]
WRITES = "PUT|PATCH|DELETE"
WORKSPACE = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-soak-logs/providers/Microsoft.OperationalInsights"
             "/workspaces/log-soak")
GRANTED = {"Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
           "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7"}
MARKS = {"provision-access": "managed", "provision-diagnostics": "managed"}


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


def spec(accounts: int, deployments: int, principals: dict[str, str] | None = None) -> dict:
    """`principals` (app, team): each account grants them a role and sends diagnostics to WORKSPACE."""
    items = []
    for a in range(accounts):
        region = REGIONS[a % len(REGIONS)]
        security = {} if principals is None else {
            "access": [{"principal": principals["app"], "type": "service_principal",
                        "role": "Cognitive Services OpenAI User"},
                       {"principal": principals["team"], "type": "group", "role": "Reader"}],
            "diagnostics": {"workspace": WORKSPACE}}
        items.append({"name": f"soak-{a}-{region}", "location": region, **security, "deployments": [
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


def converge(args: argparse.Namespace, printed: list[str]) -> tuple[list[int], int]:
    """`provision apply` until it exits 0 (at most --applies times), then `plan --detailed-exitcode`."""
    codes: list[int] = []
    while len(codes) < args.applies:
        code, text = cli("apply", "deployments.yaml", "--auto-approve", "--parallelism", "10")
        printed.append(text)
        codes.append(code)
        if code == 0:
            break
    plan_code, text = cli("plan", "deployments.yaml", "--detailed-exitcode")
    printed.append(text)
    return codes, plan_code


def attached(emu: Emulator, account_id: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(principal, role id) of each role assignment made on the account, and its diagnostic settings' names."""
    kwargs = dict(base_url=emu.base_url, connection_verify=emu.ca_path)
    with AuthorizationManagementClient(emu.credential, SUBSCRIPTION, **kwargs) as authorization, \
            MonitorManagementClient(emu.credential, SUBSCRIPTION, **kwargs) as monitor:
        grants = sorted((a.principal_id, a.role_definition_id.rsplit("/", 1)[-1])
                        for a in authorization.role_assignments.list_for_scope(account_id, filter="atScope()")
                        if a.scope.lower() == account_id.lower())
        settings = sorted(s.name for s in monitor.diagnostic_settings.list(account_id))
    return grants, settings


def security_setup(emu: Emulator) -> dict[str, str]:
    """An application's service principal, a team group and a Log Analytics workspace."""
    with ResourceManagementClient(emu.credential, SUBSCRIPTION, base_url=emu.base_url,
                                  connection_verify=emu.ca_path) as resources:
        resources.resource_groups.create_or_update("rg-soak-logs", {"location": "eastus2"})
        resources.resources.begin_create_or_update_by_id(
            WORKSPACE, api_version="2023-09-01", parameters={"location": "eastus2", "properties": {}}).result()
    return {"app": emu.control.add_service_principal(display_name="soak-app")["object_id"],
            "team": emu.control.add_principal("group", display_name="soak-team")["object_id"]}


def trial(number: int, args: argparse.Namespace, durations: dict) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"soak-{number}-"))
    config = Config(lro_durations=durations, retry_after=1)
    with Emulator(config=config) as emu:
        os.environ.update(emu.environment())
        os.chdir(workdir)
        principals = security_setup(emu) if args.security else None
        wanted = spec(args.accounts, args.deployments, principals)
        (workdir / "deployments.yaml").write_text(yaml.safe_dump(wanted, sort_keys=False))
        for region in REGIONS:
            for model, _, sku in MODELS:
                emu.control.set_quota(SUBSCRIPTION, region, f"OpenAI.{sku}.{model}", 100_000)
        random.seed(number)
        for rule in faults(args.rate):
            emu.control.inject_fault(**rule)
        printed: list[str] = []
        started = time.monotonic()
        codes, plan_code = converge(args, printed)
        problems: list[str] = []
        if principals is not None:
            if codes[-1] != 0 or plan_code != 0:
                problems.append(f"with grants and diagnostics: apply exited {codes}, the plan after it {plan_code}")
            emu.control.clear_faults()  # the checks' own reads must not meet them
            declared = sorted((principal, role) for principal, role in zip(principals.values(), GRANTED.values()))
            for account in wanted["accounts"]:
                grants, settings = attached(emu, account_id(account["name"]))
                if grants != declared or settings != ["provision-soak"]:
                    problems.append(f"{account['name']} carries grants {grants} and settings {settings}")
            for rule in faults(args.rate):
                emu.control.inject_fault(**rule)
            # the spec drops grants and diagnostics: the marks must lead the next plans to both
            dropped = spec(args.accounts, args.deployments)
            (workdir / "deployments.yaml").write_text(yaml.safe_dump(dropped, sort_keys=False))
            more_codes, plan_code = converge(args, printed)
            codes += more_codes
            emu.control.clear_faults()
            for account in wanted["accounts"]:
                grants, settings = attached(emu, account_id(account["name"]))
                if grants or settings:
                    problems.append(f"{account['name']} still carries grants {grants} and settings {settings}")
        seconds = time.monotonic() - started
        emu.control.clear_faults()
        fired = emu.control.requests()["total"]
        client = CognitiveServicesManagementClient(emu.credential, SUBSCRIPTION, base_url=emu.base_url,
                                                   connection_verify=emu.ca_path)
        keys = []
        for account in wanted["accounts"]:
            live = client.accounts.get(GROUP, account["name"])
            if live.properties.provisioning_state != "Succeeded":
                problems.append(f"{account['name']} is {live.properties.provisioning_state}")
            if principals is not None and not MARKS.items() <= (live.tags or {}).items():
                problems.append(f"{account['name']} lost its marks: {live.tags}")
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
    return {"trial": number, "applies": len(codes), "exit_codes": codes, "final_plan": plan_code,
            "seconds": round(seconds, 1), "requests": fired, "problems": problems, "key_leaked": leaked,
            "converged": codes[-1] == 0 and plan_code == 0 and not problems and not leaked}


def account_id(name: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.CognitiveServices/accounts/{name}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--deployments", type=int, default=8)
    parser.add_argument("--applies", type=int, default=3, help="applies allowed per trial to converge")
    parser.add_argument("--rate", type=float, default=0.2, help="share of requests that meet a fault")
    parser.add_argument("--fast", action="store_true", help="operations take 0.2 s instead of Azure-like seconds")
    parser.add_argument("--security", action="store_true",
                        help="grants and diagnostics on every account, then a spec without them")
    args = parser.parse_args()
    durations = {k: (0.2 if args.fast and v else v) for k, v in SERVE_DURATIONS.items()}
    results = [trial(n, args, durations) for n in range(1, args.trials + 1)]
    print(f"soak: {args.trials} trials of {args.accounts} accounts x {args.deployments} deployments"
          f"{' with grants and diagnostics, then without' if args.security else ''}, faults at "
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
