"""Shared harness for the apply/destroy end-to-end tests.

`azure` (the fixture) is an in-memory emulator with instant operations that the
CLI reaches through PROVISION_EMULATOR_*; tests write a spec into tmp_path, run
`provision` through `run(argv)`, and look at live state with real SDK clients.

Import the fixture into a test module with `from apply_helpers import azure`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from provisioner.cli.app import run
from provisioner.emulator import Emulator
from provisioner.emulator.providers.keyvault import secret_value, vault_id

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000e2"
GROUP = "rg-e2e"
VAULT = "kv-e2e"
EAST = "e2e-eus2"  # account in eastus2
SWEDEN = "e2e-swc"  # account in swedencentral

BASE_SPEC: dict[str, Any] = {
    "version": 1,
    "name": "e2e",
    "defaults": {"subscription": SUBSCRIPTION, "resource_group": GROUP, "tags": {"team": "platform"}},
    "key_vault": {"name": VAULT, "create": True},
    "content_filters": {
        "strict": {"base": "Microsoft.DefaultV2", "mode": "blocking",
                   "categories": {"hate": "low", "violence": "medium"}, "jailbreak": "block",
                   "blocklists": ["banned"]},
    },
    "blocklists": {"banned": {"description": "never", "items": ["forbidden phrase", {"regex": "ba[rz]+"}]}},
    "accounts": [
        {"name": EAST, "location": "eastus2", "deployments": [
            {"name": "chat", "model": "gpt-4o", "version": "2024-11-20", "capacity": 10, "content_filter": "strict"},
            {"name": "embeddings", "model": "text-embedding-ada-002", "version": "2", "scope": "regional",
             "capacity": 20},
        ]},
        {"name": SWEDEN, "location": "swedencentral", "deployments": [
            {"name": "mini", "model": "gpt-4o-mini", "version": "2024-07-18", "capacity": 10,
             "content_filter": "strict"},
            {"name": "large", "model": "text-embedding-3-large", "version": "1", "capacity": 5},
        ]},
    ],
}


def base_spec(*accounts: str) -> dict[str, Any]:
    """A fresh, mutable copy of the spec the tests start from: both accounts, or only those named.
    (Every region with deployments costs each command a read of its model catalog: one account is faster.)"""
    spec = copy.deepcopy(BASE_SPEC)
    if accounts:
        spec["accounts"] = [a for a in spec["accounts"] if a["name"] in accounts]
    return spec


def account_of(spec: dict, name: str) -> dict:
    return next(a for a in spec["accounts"] if a["name"] == name)


def deployment_of(spec: dict, account: str, name: str) -> dict:
    return next(d for d in account_of(spec, account)["deployments"] if d["name"] == name)


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def __str__(self) -> str:  # what a failing assert shows
        return f"exit {self.code}\n--- stdout ---\n{self.out}\n--- stderr ---\n{self.err}"


class Azure:
    """The emulator, SDK clients on it, and a way to run the CLI and keep everything it printed."""

    def __init__(self, emulator: Emulator, directory: Path, capsys):
        self.emulator = emulator
        self.directory = directory
        self._capsys = capsys
        self.transcript: list[str] = []  # every stdout and stderr of every run, for secret-leak checks
        kwargs = {"base_url": emulator.base_url, "connection_verify": emulator.ca_path, "retry_total": 0,
                  "polling_interval": 0}
        self.cognitive = CognitiveServicesManagementClient(emulator.credential, SUBSCRIPTION, **kwargs)
        self.resources = ResourceManagementClient(emulator.credential, SUBSCRIPTION, **kwargs)
        self.keyvault = KeyVaultManagementClient(emulator.credential, SUBSCRIPTION, **kwargs)

    @property
    def control(self):
        return self.emulator.control

    def close(self) -> None:
        for client in (self.cognitive, self.resources, self.keyvault):
            client.close()

    # the CLI
    def write_spec(self, spec: dict, name: str = "deployments.yaml") -> Path:
        path = self.directory / name
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        return path

    def run(self, *argv: Any) -> Result:
        self._capsys.readouterr()  # drop anything printed before
        code = run([str(a) for a in argv])
        captured = self._capsys.readouterr()
        self.transcript += [captured.out, captured.err]
        return Result(code, captured.out, captured.err)

    def apply(self, spec: Path | dict, *extra: Any) -> Result:
        path = self.write_spec(spec) if isinstance(spec, dict) else spec
        return self.run("apply", path, "--auto-approve", *extra)

    def plan(self, spec: Path | dict, *extra: Any) -> Result:
        path = self.write_spec(spec) if isinstance(spec, dict) else spec
        return self.run("plan", path, *extra)

    def destroy(self, spec: Path | dict, *extra: Any) -> Result:
        path = self.write_spec(spec) if isinstance(spec, dict) else spec
        return self.run("destroy", path, "--auto-approve", *extra)

    # live state, read with the SDK
    def account(self, name: str):
        return self.cognitive.accounts.get(GROUP, name)

    def account_names(self) -> set[str]:
        try:
            return {a.name for a in self.cognitive.accounts.list_by_resource_group(GROUP)}
        except ResourceNotFoundError:  # not even the resource group
            return set()

    def deleted_account_names(self) -> set[str]:
        return {a.name for a in self.cognitive.deleted_accounts.list()}

    def deployments(self, account: str) -> dict[str, Any]:
        return {d.name: d for d in self.cognitive.deployments.list(GROUP, account)}

    def rai_policies(self, account: str) -> set[str]:
        return {p.name for p in self.cognitive.rai_policies.list(GROUP, account)
                if not p.name.startswith("Microsoft.")}

    def blocklists(self, account: str) -> set[str]:
        return {b.name for b in self.cognitive.rai_blocklists.list(GROUP, account)}

    def keys(self, account: str) -> tuple[str, str]:
        keys = self.cognitive.accounts.list_keys(GROUP, account)
        return keys.key1, keys.key2

    def secret(self, name: str) -> str | None:
        """A Key Vault secret's stored value (the management plane never returns it)."""
        return secret_value(self.emulator.app.store, vault_id(SUBSCRIPTION, GROUP, VAULT), name)

    def writes(self) -> dict[str, int]:
        """Requests that change something, served since the last `clear_requests`, per route
        ("METHOD template"); reads (GET, and POST listKeys) left out."""
        counts = self.control.requests()["counts"]
        return {route: n for route, n in counts.items()
                if not route.startswith("GET ") and not route.lower().endswith("/listkeys")}

    def requests_to(self, method: str, template_end: str) -> int:
        """How many requests (since `clear_requests`) went to routes ending in `template_end`."""
        counts = self.control.requests()["counts"]
        return sum(n for route, n in counts.items()
                   if route.startswith(method + " ") and route.lower().endswith(template_end.lower()))

    def clear_requests(self) -> None:
        self.control.clear_requests()


@pytest.fixture
def azure(tmp_path, monkeypatch, capsys):
    with Emulator() as emulator:
        for name, value in emulator.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("COLUMNS", "250")  # keep Rich from folding the outcome table
        monkeypatch.chdir(tmp_path)
        harness = Azure(emulator, tmp_path, capsys)
        try:
            yield harness
        finally:
            harness.close()


def outcome_rows(output: str) -> dict[str, tuple[str, str, str]]:
    """The outcome table as {resource: (change, result, detail)} (Rich's box drawing stripped)."""
    rows: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in output.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) != 4:
            continue
        if cells[0] and cells[1]:
            last = rows[cells[1]] = [cells[0], cells[2], cells[3]]
        elif last is not None and not cells[0] and not cells[1]:  # a folded detail goes on
            last[2] = f"{last[2]} {cells[3]}".strip()
    return {resource: (change, result, detail) for resource, (change, result, detail) in rows.items()}
