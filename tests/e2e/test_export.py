"""`provision export` end to end: the CLI against the emulator, the output checked as ARM and Bicep.

The checkers (write order per account, template functions, ownership tags, SDK property names, Bicep
loops) live in tests/export/test_templates.py, which tests them on purpose-broken templates.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from azure.mgmt.resource.deployments import DeploymentsMgmtClient
from azure.mgmt.resource.resources import ResourceManagementClient

from tests.export.test_templates import (
    ALLOWED_FUNCTIONS,
    arm_body_problems,
    arm_resources,
    bicep_problems,
    bicep_resources,
    expand,
    functions_used,
    ownership_problems,
    write_order_problems,
)
from tests.infra.test_bicep import _is_loop, parse, resources

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"  # deployments.yaml's default
EXAMPLE_GROUP = "rg-aoai-prod"
SUBSCRIPTION = "00000000-0000-0000-0000-0000000000e5"


def sdk_kwargs(emu) -> dict:
    return {"base_url": emu.base_url, "connection_verify": emu.ca_path, "retry_total": 0, "polling_interval": 0}


def two_group_spec() -> dict:
    """Two accounts in rg-export-a (one of them in swedencentral) and one in rg-export-b."""
    def account(name, location="eastus2", **extra):
        return {"name": name, "location": location, **extra,
                "deployments": [{"name": "chat", "model": "gpt-4o", "version": "2024-11-20", "capacity": 5,
                                 "content_filter": "strict"},
                                {"name": "mini", "model": "gpt-4o-mini", "version": "2024-07-18", "capacity": 5}]}
    return {
        "version": 1, "name": "export",
        "defaults": {"subscription": SUBSCRIPTION, "resource_group": "rg-export-a", "tags": {"team": "e2e"}},
        "content_filters": {"strict": {"categories": {"hate": "low"}, "blocklists": ["banned"]}},
        "blocklists": {"banned": {"items": ["forbidden phrase", {"regex": "ba[rz]+"}]}},
        "accounts": [account("export-a1"), account("export-a2", "swedencentral"),
                     account("export-b1", resource_group="rg-export-b")],
    }


@pytest.fixture
def example(workdir, external_emulator):
    """The repository's deployments.yaml in the working directory, an empty emulated Azure behind it."""
    shutil.copy(REPO / "deployments.yaml", workdir.spec)
    return workdir


def assert_sound(template: dict, spec_name: str) -> None:
    assert write_order_problems(template) == []
    assert functions_used(template) <= ALLOWED_FUNCTIONS, functions_used(template) - ALLOWED_FUNCTIONS
    assert ownership_problems(template, spec_name) == []
    assert arm_body_problems(template) == []


# --- ARM -----------------------------------------------------------------------------------------


def test_export_arm_of_the_example_spec(example, cli):
    result = cli("export", "deployments.yaml")
    assert result.code == 0, result.err
    template = json.loads(result.out)  # nothing but the template on stdout
    assert template["$schema"].endswith("/deploymentTemplate.json#")
    assert_sound(template, "aoai-prod")
    names = {name for _, name in arm_resources(template)}
    assert {"aoai-prod-eus2", "aoai-prod-swc", "aoai-prod-eus2/strict", "aoai-prod-swc/banned-terms",
            "aoai-prod-eus2/chat", "aoai-prod-eus2/chat-ptu", "aoai-prod-eus2/embeddings",
            "aoai-prod-swc/chat-mini", "aoai-prod-swc/embeddings-large"} <= names
    deployments = {w.name: w.body for w in expand(template)[0] if w.type.endswith("/deployments")}
    # the flexible capacity {min: 10, max: 30} is resolved from live quota, as plan does
    assert deployments["aoai-prod-swc/chat-mini"]["sku"] == {"name": "DataZoneStandard", "capacity": 30}
    assert deployments["aoai-prod-eus2/chat-ptu"]["properties"]["spilloverDeploymentName"] == "chat"
    order = [d["name"] for d in template["variables"]["deployments_aoai_prod_eus2"]]
    assert order.index("chat") < order.index("chat-ptu")  # the spillover target first


def test_export_fills_in_the_regions_default_version(workdir, external_emulator, cli):
    spec = two_group_spec()
    spec["accounts"] = spec["accounts"][:1]
    del spec["accounts"][0]["deployments"][1]["version"]
    workdir.write(spec)
    result = cli("export", "deployments.yaml")
    assert result.code == 0, result.err
    mini = next(d for d in json.loads(result.out)["variables"]["deployments_export_a1"] if d["name"] == "mini")
    assert mini["properties"]["model"]["version"] == "2024-07-18"  # what the plan resolves too
    planned = json.loads(cli("plan", "deployments.yaml", "--output", "json").out)
    after = next(c["after"] for c in planned["changes"] if c["address"] == "export-a1/deployments/mini")
    assert after["version"] == mini["properties"]["model"]["version"]


def test_a_spec_over_two_resource_groups_needs_out_dir(workdir, external_emulator, cli):
    workdir.write(two_group_spec())
    for format in ("arm", "bicep"):
        result = cli("export", "deployments.yaml", "--format", format)
        assert result.code == 1
        assert result.out == ""
        assert "2 resource groups" in result.err and "--out-dir" in result.err


def test_out_dir_gets_one_arm_template_per_resource_group(workdir, external_emulator, cli):
    workdir.write(two_group_spec())
    result = cli("export", "deployments.yaml", "--out-dir", "out")
    assert result.code == 0, result.err
    files = sorted(p.name for p in (workdir.root / "out").iterdir())
    assert files == [f"{SUBSCRIPTION}-rg-export-a.json", f"{SUBSCRIPTION}-rg-export-b.json"]
    assert all(f"wrote {Path('out') / name}" in result.out for name in files)
    a, b = (json.loads((workdir.root / "out" / name).read_text()) for name in files)
    for template in (a, b):
        assert_sound(template, "export")
    assert {name.split("/")[0] for _, name in arm_resources(a)} == {"export-a1", "export-a2"}
    assert {name.split("/")[0] for _, name in arm_resources(b)} == {"export-b1"}


def test_out_dir_gets_one_bicep_file_per_resource_group(workdir, external_emulator, cli):
    workdir.write(two_group_spec())
    assert cli("export", "deployments.yaml", "--out-dir", "arm").code == 0
    result = cli("export", "deployments.yaml", "--format", "bicep", "--out-dir", "bicep")
    assert result.code == 0, result.err
    for group in ("rg-export-a", "rg-export-b"):
        text = (workdir.root / "bicep" / f"{SUBSCRIPTION}-{group}.bicep").read_text()
        assert bicep_problems(text) == []
        template = json.loads((workdir.root / "arm" / f"{SUBSCRIPTION}-{group}.json").read_text())
        assert bicep_resources(text) == arm_resources(template)


def test_unknown_format_is_a_usage_error(example, cli):
    result = cli("export", "deployments.yaml", "--format", "terraform")
    assert result.code == 1
    assert "must be arm or bicep" in result.err


# --- Bicep ---------------------------------------------------------------------------------------


def test_export_bicep_of_the_example_spec(example, cli):
    result = cli("export", "deployments.yaml", "--format", "bicep")
    assert result.code == 0, result.err
    text = result.out
    assert text.startswith("// Generated by provision from the spec 'aoai-prod'.")
    document = parse(text=text)  # pycep-parser
    assert bicep_problems(text) == []  # types, api-versions, property names; @batchSize(1); one write at a time
    loops = [r for _, r in resources(document) if _is_loop(r["config"])]
    assert [r["type"] for r in loops] == ["Microsoft.CognitiveServices/accounts/deployments"] * 2
    assert all(r["decorators"] == [{"type": "batchSize", "argument": 1}] for r in loops)
    arm_template = json.loads(cli("export", "deployments.yaml").out)
    assert bicep_resources(text) == arm_resources(arm_template)


# --- the exported template deploys as it is --------------------------------------------------------


def test_the_exported_template_deploys_as_is_and_then_plan_has_nothing_to_do(example, external_emulator, cli):
    """As `az deployment group create --template-file` would: no provision in between."""
    exported = cli("export", "deployments.yaml")
    assert exported.code == 0, exported.err
    emu = external_emulator
    groups = ResourceManagementClient(emu.credential, EXAMPLE_SUBSCRIPTION, **sdk_kwargs(emu))
    arm = DeploymentsMgmtClient(emu.credential, EXAMPLE_SUBSCRIPTION, **sdk_kwargs(emu))
    try:
        groups.resource_groups.create_or_update(EXAMPLE_GROUP, {"location": "eastus2"})
        deployment = arm.deployments.begin_create_or_update(
            EXAMPLE_GROUP, "by-hand", {"properties": {"mode": "Incremental", "template": json.loads(exported.out)}},
        ).result()
        assert deployment.properties.provisioning_state == "Succeeded"
        operations = list(arm.deployment_operations.list(EXAMPLE_GROUP, "by-hand"))
        assert {op.properties.provisioning_state for op in operations} == {"Succeeded"}
        assert len(operations) == len(expand(json.loads(exported.out))[0])
    finally:
        groups.close()
        arm.close()

    result = cli("plan", "deployments.yaml", "--detailed-exitcode")
    assert result.code == 0, result.out + result.err
    assert "No changes." in result.out


def test_the_exported_isolated_account_deploys_as_is_and_then_plan_has_nothing_to_do(workdir, external_emulator,
                                                                                      cli):
    """The fully isolated account (private endpoint with its DNS zone group, network rules, identity, keys off,
    grants for an app and a group, diagnostics), exported and deployed by hand as one template: Azure then holds
    what the spec asks for, to the point that `plan` has nothing to do, grants and diagnostics included."""
    from tests.e2e.test_arm_engine import GROUP, SUBSCRIPTION as E2E_SUBSCRIPTION, isolated_network, isolated_spec

    emu = external_emulator
    app = isolated_network(emu)
    workdir.write(isolated_spec(app))
    exported = cli("export", "deployments.yaml")
    assert exported.code == 0, exported.err
    template = json.loads(exported.out)
    assert_sound(template, "e2e")
    types = {t for t, _ in arm_resources(template)}
    assert {"microsoft.network/privateendpoints", "microsoft.network/privateendpoints/privatednszonegroups",
            "microsoft.authorization/roleassignments", "microsoft.insights/diagnosticsettings"} <= types
    bicep = cli("export", "deployments.yaml", "--format", "bicep")
    assert bicep.code == 0 and bicep_problems(bicep.out) == []
    assert bicep_resources(bicep.out) == arm_resources(template)

    groups = ResourceManagementClient(emu.credential, E2E_SUBSCRIPTION, **sdk_kwargs(emu))
    arm = DeploymentsMgmtClient(emu.credential, E2E_SUBSCRIPTION, **sdk_kwargs(emu))
    try:
        groups.resource_groups.create_or_update(GROUP, {"location": "eastus2"})
        deployment = arm.deployments.begin_create_or_update(
            GROUP, "by-hand", {"properties": {"mode": "Incremental", "template": template}}).result()
        assert deployment.properties.provisioning_state == "Succeeded", deployment.properties.error
        assert len(list(arm.deployment_operations.list(GROUP, "by-hand"))) == len(expand(template)[0])
    finally:
        groups.close()
        arm.close()

    result = cli("plan", "deployments.yaml", "--detailed-exitcode")
    assert result.code == 0, result.out + result.err
    assert "No changes." in result.out
