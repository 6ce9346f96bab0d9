"""`provision apply --engine arm` end to end: the CLI against the in-memory emulator, whose template
deployments (provisioner/emulator/providers/templates.py) carry out the writes.

Live state and the resource group's deployment history are read with the real SDK clients; the
emulator's request counts show which writes provision made itself (SDK engine part: resource groups,
deletions, capacity decreases, restores) and which ARM made (the one template PUT per group).
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.deployments import DeploymentsMgmtClient

from apply_helpers import (EAST, GROUP, SUBSCRIPTION, SWEDEN, VAULT, account_of, azure, base_spec,  # noqa: F401
                           deployment_of, outcome_rows)
from provisioner.emulator import Emulator
from provisioner.emulator.providers.keyvault import secret_value, vault_id

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"  # deployments.yaml's default
EXAMPLE_GROUP, EXAMPLE_VAULT = "rg-aoai-prod", "kv-aoai-prod"
TEMPLATE_PUT = "PUT /subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.resources/deployments/" \
               "{deployment}"
COGNITIVE = "/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.cognitiveservices/accounts/" \
            "{account}"
GPT4O_GLOBAL = "OpenAI.GlobalStandard.gpt-4o"


def sdk_kwargs(emu: Emulator) -> dict:
    return {"base_url": emu.base_url, "connection_verify": emu.ca_path, "retry_total": 0, "polling_interval": 0}


def apply_arm(azure, spec, *extra):
    return azure.apply(spec, "--engine", "arm", *extra)


def assert_converged(azure) -> None:
    plan = azure.plan(azure.directory / "deployments.yaml", "--detailed-exitcode")
    assert plan.code == 0, plan
    assert "No changes. Azure matches the spec." in plan.out


def history(azure, group: str = GROUP, subscription: str = SUBSCRIPTION) -> list:
    """The resource group's template deployments, oldest first. `azure`: the harness, or an Emulator."""
    emu = getattr(azure, "emulator", azure)
    client = DeploymentsMgmtClient(emu.credential, subscription, **sdk_kwargs(emu))
    try:
        return sorted(client.deployments.list_by_resource_group(group), key=lambda d: d.properties.timestamp)
    finally:
        client.close()


def operations(azure, deployment: str) -> dict[str, tuple[str, str | None]]:
    """Deployment operations as {target resource name (account/child): (state, error code)}.
    `azure`: the harness, or an Emulator."""
    emu = getattr(azure, "emulator", azure)
    client = DeploymentsMgmtClient(emu.credential, SUBSCRIPTION, **sdk_kwargs(emu))
    try:
        found = {}
        for op in client.deployment_operations.list(GROUP, deployment):
            props = op.properties
            error = props.status_message.error if props.status_message else None
            found[props.target_resource.resource_name] = (props.provisioning_state, error.code if error else None)
        return found
    finally:
        client.close()


def rows(result) -> dict[str, tuple[str, str, str]]:
    return outcome_rows(result.out)


def times_reported(result, address: str) -> int:
    """Rows of the outcome table for `address`."""
    return sum(1 for line in result.out.splitlines()
               if line.startswith("│") and [c.strip() for c in line.strip("│").split("│")][1:2] == [address])


def with_ptu(spec: dict) -> dict:
    """EAST gets `chat-ptu` (provisioned), which spills over to `chat`: chat is written first."""
    account_of(spec, EAST)["deployments"].append(
        {"name": "chat-ptu", "model": "gpt-4o", "version": "2024-11-20", "type": "provisioned", "capacity": 15,
         "content_filter": "strict", "spillover": "chat"})
    return spec


# --- the same result as the SDK engine ------------------------------------------------------------


def snapshot(emu: Emulator) -> dict[str, Any]:
    """The example spec's live resources, normalised: what both engines must agree on."""
    cognitive = CognitiveServicesManagementClient(emu.credential, EXAMPLE_SUBSCRIPTION, **sdk_kwargs(emu))
    vaults = KeyVaultManagementClient(emu.credential, EXAMPLE_SUBSCRIPTION, **sdk_kwargs(emu))
    try:
        state: dict[str, Any] = {}
        for a in cognitive.accounts.list_by_resource_group(EXAMPLE_GROUP):
            p = a.properties
            deployments = {
                d.name: {"sku": d.sku.name, "capacity": d.sku.capacity,
                         "model": (d.properties.model.format, d.properties.model.name, d.properties.model.version),
                         "raiPolicyName": d.properties.rai_policy_name,
                         "versionUpgradeOption": d.properties.version_upgrade_option,
                         "spillover": d.properties.spillover_deployment_name, "tags": d.tags,
                         "state": d.properties.provisioning_state}
                for d in cognitive.deployments.list(EXAMPLE_GROUP, a.name)}
            policies = {
                r.name: {"base": r.properties.base_policy_name, "mode": r.properties.mode, "tags": r.tags,
                         "filters": sorted((f.name, f.source, f.enabled, f.blocking, f.severity_threshold)
                                           for f in r.properties.content_filters or []),
                         "blocklists": sorted((b.blocklist_name, b.source, b.blocking)
                                              for b in r.properties.custom_blocklists or [])}
                for r in cognitive.rai_policies.list(EXAMPLE_GROUP, a.name) if not r.name.startswith("Microsoft.")}
            blocklists = {
                b.name: {"description": b.properties.description, "tags": b.tags,
                         "items": sorted((i.name, i.properties.pattern, i.properties.is_regex)
                                         for i in cognitive.rai_blocklist_items.list(EXAMPLE_GROUP, a.name, b.name))}
                for b in cognitive.rai_blocklists.list(EXAMPLE_GROUP, a.name)}
            state[a.name] = {"location": a.location, "kind": a.kind, "sku": a.sku.name, "tags": a.tags,
                             "subdomain": p.custom_sub_domain_name,
                             "endpoint": p.endpoint.removeprefix(emu.base_url),  # each emulator has its own port
                             "publicNetworkAccess": p.public_network_access, "disableLocalAuth": p.disable_local_auth,
                             "state": p.provisioning_state, "deployments": deployments, "raiPolicies": policies,
                             "raiBlocklists": blocklists}
        secrets = {s.name: s.properties.attributes.enabled if s.properties.attributes else None
                   for s in vaults.secrets.list(EXAMPLE_GROUP, EXAMPLE_VAULT)}
        return {"accounts": state, "secrets": secrets}
    finally:
        cognitive.close()
        vaults.close()


@contextmanager
def pointing_at(monkeypatch, emu: Emulator) -> Iterator[None]:
    """The CLI talks to `emu` inside the block (PROVISION_EMULATOR_*), and to what it talked to before after."""
    before = {name: value for name, value in os.environ.items() if name in emu.environment()}
    for name, value in emu.environment().items():
        monkeypatch.setenv(name, value)
    try:
        yield
    finally:
        for name, value in before.items():
            monkeypatch.setenv(name, value)


def test_the_arm_engine_leaves_azure_as_the_sdk_engine_does(azure, monkeypatch):
    """The example spec, applied by each engine into its own fresh emulated Azure."""
    spec = shutil.copy(REPO / "deployments.yaml", azure.directory / "deployments.yaml")
    by_sdk = azure.apply(spec)
    assert by_sdk.code == 0, by_sdk

    with Emulator() as other, pointing_at(monkeypatch, other):
        by_arm = azure.apply(spec, "--engine", "arm")
        assert by_arm.code == 0, by_arm
        assert set(rows(by_arm)) == set(rows(by_sdk))  # every change and every secret, in both tables
        assert {status for _, status, _ in rows(by_arm).values()} == {"succeeded"}
        counts = other.control.requests()["counts"]
        assert counts[TEMPLATE_PUT] == 1  # one resource group: one template deployment
        assert not [route for route in counts if route.startswith("PUT") and "cognitiveservices" in route]
        assert_converged(azure)
        arm_state = snapshot(other)
        vault = vault_id(EXAMPLE_SUBSCRIPTION, EXAMPLE_GROUP, EXAMPLE_VAULT)
        cognitive = CognitiveServicesManagementClient(other.credential, EXAMPLE_SUBSCRIPTION, **sdk_kwargs(other))
        try:
            for account in ("aoai-prod-eus2", "aoai-prod-swc"):  # the secrets hold this Azure's values
                assert secret_value(other.app.store, vault, f"{account}-endpoint") == \
                    cognitive.accounts.get(EXAMPLE_GROUP, account).properties.endpoint
                assert secret_value(other.app.store, vault, f"{account}-key") == \
                    cognitive.accounts.list_keys(EXAMPLE_GROUP, account).key1
        finally:
            cognitive.close()
        deployments = history(other, EXAMPLE_GROUP, EXAMPLE_SUBSCRIPTION)
        assert [d.properties.provisioning_state for d in deployments] == ["Succeeded"]
        assert deployments[0].name.startswith("provision-aoai-prod-")

    assert_converged(azure)  # the SDK engine's Azure again
    sdk_state = snapshot(azure.emulator)
    assert set(sdk_state["accounts"]) == {"aoai-prod-eus2", "aoai-prod-swc"}
    assert set(sdk_state["accounts"]["aoai-prod-eus2"]["deployments"]) == {"chat", "chat-ptu", "embeddings"}
    assert sdk_state["accounts"]["aoai-prod-eus2"]["raiBlocklists"]["banned-terms"]["items"]
    assert sdk_state["secrets"] == {"aoai-prod-eus2-endpoint": True, "aoai-prod-eus2-key": True,
                                    "aoai-prod-swc-endpoint": True, "aoai-prod-swc-key": True}
    assert arm_state == sdk_state


# --- failures: per-resource reasons, history in Azure ---------------------------------------------


def test_a_deployment_without_quota_fails_alone_and_the_deployment_history_says_why(azure):
    """Quota taken between plan and apply (another team deploys in the meantime): ARM's operation for
    `chat` ends InsufficientQuota; the deployments after it in its account's serial loop are not
    attempted; everything else succeeds."""
    spec = with_ptu(base_spec())
    azure.control.inject_fault("lro_failed", method="PUT", path=f"/accounts/{EAST}/deployments/chat$",
                               code="InsufficientQuota", message="This operation require 10 new capacity in quota "
                               "Tokens Per Minute (thousands) - GPT-4o, which is bigger than the current available "
                               "capacity 0. The current quota usage is 5 and the quota limit is 5 for quota Tokens "
                               "Per Minute (thousands) - GPT-4o.")

    result = azure.run("apply", azure.write_spec(spec), "--auto-approve", "--engine", "arm")

    assert result.code == 1, result
    outcome = rows(result)
    change, status, detail = outcome[f"{EAST}/deployments/chat"]
    assert (change, status) == ("create", "failed")
    assert detail.startswith("InsufficientQuota: ") and "quota limit is 5" in detail
    for after_it in ("chat-ptu", "embeddings"):  # chat-ptu spills over to chat; embeddings comes later
        assert outcome[f"{EAST}/deployments/{after_it}"][1] == "skipped"
        assert outcome[f"{EAST}/deployments/{after_it}"][2].startswith("not attempted: deployment provision-e2e-")
    succeeded = {address for address, (_, status, _) in outcome.items() if status == "succeeded"}
    assert {EAST, SWEDEN, f"{EAST}/raiPolicies/strict", f"{EAST}/raiBlocklists/banned", f"{SWEDEN}/deployments/mini",
            f"{SWEDEN}/deployments/large", f"{SWEDEN}/raiPolicies/strict"} <= succeeded
    # the failed operation leaves `chat` Failed, as Azure does; the next plan repairs it
    assert {name: d.properties.provisioning_state for name, d in azure.deployments(EAST).items()} == \
        {"chat": "Failed"}
    assert set(azure.deployments(SWEDEN)) == {"mini", "large"}
    assert azure.secret(f"{EAST}-endpoint") == azure.account(EAST).properties.endpoint  # the account is fine

    [deployment] = history(azure)
    assert deployment.properties.provisioning_state == "Failed"
    assert deployment.properties.error.code == "DeploymentFailed"
    assert [(d.code, "quota limit is 5" in d.message) for d in deployment.properties.error.details] == \
        [("InsufficientQuota", True)]
    ops = operations(azure, deployment.name)
    assert ops[f"{EAST}/chat"] == ("Failed", "InsufficientQuota")
    assert f"{EAST}/chat-ptu" not in ops and f"{EAST}/embeddings" not in ops  # never attempted
    assert ops[f"{SWEDEN}/mini"] == ("Succeeded", None)

    # the quota is back: running apply again converges
    azure.control.set_quota(SUBSCRIPTION, "eastus2", GPT4O_GLOBAL, 450)
    again = apply_arm(azure, spec)
    assert again.code == 0, again
    assert {status for _, status, _ in rows(again).values()} == {"succeeded"}
    assert_converged(azure)
    assert [d.properties.provisioning_state for d in history(azure)] == ["Failed", "Succeeded"]


# --- changes to what exists -----------------------------------------------------------------------


@pytest.fixture
def applied(azure):
    """base_spec(EAST) applied by the ARM engine; request counts cleared."""
    result = apply_arm(azure, base_spec(EAST))
    assert result.code == 0, result
    assert_converged(azure)
    azure.clear_requests()
    return azure


def test_a_capacity_change_is_written_by_the_template(applied):
    spec = base_spec(EAST)
    deployment_of(spec, EAST, "chat")["capacity"] = 20
    result = apply_arm(applied, spec)
    assert result.code == 0, result
    assert rows(result)[f"{EAST}/deployments/chat"][:2] == ("update", "succeeded")
    assert applied.writes() == {TEMPLATE_PUT: 1}
    assert applied.deployments(EAST)["chat"].sku.capacity == 20
    assert_converged(applied)
    assert [d.properties.provisioning_state for d in history(applied)] == ["Succeeded", "Succeeded"]


def test_a_sku_change_deletes_through_the_sdk_and_creates_through_the_template(applied):
    spec = base_spec(EAST)
    deployment_of(spec, EAST, "chat")["scope"] = "datazone"
    result = apply_arm(applied, spec)
    assert result.code == 0, result
    assert "-/+ e2e-eus2/deployments/chat (deployment)" in result.out
    assert rows(result)[f"{EAST}/deployments/chat"][:2] == ("replace", "succeeded")
    assert times_reported(result, f"{EAST}/deployments/chat") == 1
    assert applied.writes() == {f"DELETE {COGNITIVE}/deployments/{{deployment}}": 1, TEMPLATE_PUT: 1}
    chat = applied.deployments(EAST)["chat"]
    assert (chat.sku.name, chat.sku.capacity, chat.properties.rai_policy_name) == ("DataZoneStandard", 10, "strict")
    assert_converged(applied)


def test_a_removed_deployment_is_deleted_through_the_sdk_and_no_template_is_needed(applied):
    spec = base_spec(EAST)
    account_of(spec, EAST)["deployments"] = [deployment_of(spec, EAST, "chat")]
    result = apply_arm(applied, spec)
    assert result.code == 0, result
    assert rows(result)[f"{EAST}/deployments/embeddings"][:2] == ("delete", "succeeded")
    assert applied.writes() == {f"DELETE {COGNITIVE}/deployments/{{deployment}}": 1}
    assert set(applied.deployments(EAST)) == {"chat"}
    assert len(history(applied)) == 1  # nothing to write: no template deployment
    assert_converged(applied)


def test_all_three_at_once_converge(applied):
    spec = base_spec(EAST)
    deployment_of(spec, EAST, "chat").update(scope="datazone", capacity=15)
    deployment_of(spec, EAST, "embeddings")["capacity"] = 30
    account_of(spec, EAST)["deployments"].append(
        {"name": "mini", "model": "gpt-4o-mini", "version": "2024-07-18", "capacity": 5})
    applied.write_spec(spec)
    assert applied.run("apply", "deployments.yaml", "--auto-approve", "--engine", "arm").code == 0
    account_of(spec, EAST)["deployments"] = [deployment_of(spec, EAST, "chat"), deployment_of(spec, EAST, "mini")]
    result = apply_arm(applied, spec)
    assert result.code == 0, result
    assert set(applied.deployments(EAST)) == {"chat", "mini"}
    assert_converged(applied)


def test_nothing_to_change_submits_no_template(applied):
    result = apply_arm(applied, base_spec(EAST))
    assert result.code == 0, result
    assert "No changes." in result.out
    assert applied.writes() == {}
    assert len(history(applied)) == 1


def test_capacity_moved_between_deployments_at_the_quota_limit(azure):
    """The plan accepts it (net zero); the decrease must free the quota before the template grows the
    other deployment, as the SDK engine orders it."""
    azure.control.set_quota(SUBSCRIPTION, "eastus2", GPT4O_GLOBAL, 30)
    spec = base_spec(EAST)
    chat = deployment_of(spec, EAST, "chat")
    account_of(spec, EAST)["deployments"] = [{**chat, "capacity": 10}, {**chat, "name": "chat-z", "capacity": 20}]
    assert apply_arm(azure, spec).code == 0
    account_of(spec, EAST)["deployments"][0]["capacity"] = 20
    account_of(spec, EAST)["deployments"][1]["capacity"] = 10

    result = apply_arm(azure, spec)

    assert result.code == 0, result
    assert {rows(result)[f"{EAST}/deployments/{n}"][:2] for n in ("chat", "chat-z")} == {("update", "succeeded")}
    assert times_reported(result, f"{EAST}/deployments/chat-z") == 1
    assert {n: d.sku.capacity for n, d in azure.deployments(EAST).items()} == {"chat": 20, "chat-z": 10}
    assert_converged(azure)


def test_a_decrease_that_also_switches_to_a_new_content_filter(azure):
    """The SDK part lowers only the capacity; the template then writes the filter it creates first."""
    spec = base_spec(EAST)
    deployment_of(spec, EAST, "embeddings")["content_filter"] = "Microsoft.DefaultV2"
    assert apply_arm(azure, spec).code == 0
    spec["content_filters"]["other"] = {"categories": {"violence": "low"}}
    deployment_of(spec, EAST, "embeddings").update(capacity=10, content_filter="other")

    result = apply_arm(azure, spec)

    assert result.code == 0, result
    embeddings = azure.deployments(EAST)["embeddings"]
    assert (embeddings.sku.capacity, embeddings.properties.rai_policy_name) == (10, "other")
    assert_converged(azure)


def test_target_limits_the_template_to_that_account(azure):
    result = apply_arm(azure, base_spec(), "--target", SWEDEN)
    assert result.code == 0, result
    assert azure.account_names() == {SWEDEN}
    [deployment] = history(azure)
    assert {name.split("/")[0] for name in operations(azure, deployment.name)} == {SWEDEN}


def test_values_that_look_like_template_expressions_arrive_as_written(azure):
    spec = base_spec(EAST)
    spec["defaults"]["tags"]["note"] = "[internal]"
    spec["blocklists"]["banned"]["items"].append({"regex": "[Bb]ad[sz]"})
    result = apply_arm(azure, spec)
    assert result.code == 0, result
    assert azure.account(EAST).tags["note"] == "[internal]"
    assert azure.deployments(EAST)["chat"].tags["note"] == "[internal]"
    patterns = {i.properties.pattern for i in azure.cognitive.rai_blocklist_items.list(GROUP, EAST, "banned")}
    assert "[Bb]ad[sz]" in patterns
    assert_converged(azure)


# --- soft-deleted accounts ------------------------------------------------------------------------


def _deleted_after_apply(azure, choice: str) -> tuple[dict, str]:
    spec = base_spec(EAST)
    account_of(spec, EAST)["on_soft_deleted"] = choice
    assert azure.apply(spec).code == 0
    internal_id = azure.account(EAST).properties.internal_id
    azure.cognitive.accounts.begin_delete(GROUP, EAST).result()
    assert azure.deleted_account_names() == {EAST}
    return spec, internal_id


def test_restore_brings_the_same_account_back_with_the_specs_settings(azure):
    spec, internal_id = _deleted_after_apply(azure, "restore")
    account_of(spec, EAST)["tags"] = {"cost-center": "4711"}  # changed while it was deleted

    result = apply_arm(azure, spec)

    assert result.code == 0, result
    assert "a soft-deleted account with this name exists: it will be restored" in result.out
    account = azure.account(EAST)
    assert account.properties.internal_id == internal_id
    assert account.tags["cost-center"] == "4711"
    assert azure.deleted_account_names() == set()
    assert set(azure.deployments(EAST)) == {"chat", "embeddings"}
    assert azure.secret(f"{EAST}-endpoint") == account.properties.endpoint
    assert azure.secret(f"{EAST}-key") == azure.keys(EAST)[0]
    assert_converged(azure)


def test_purge_creates_a_new_account(azure):
    spec, internal_id = _deleted_after_apply(azure, "purge")
    result = apply_arm(azure, spec)
    assert result.code == 0, result
    assert azure.account(EAST).properties.internal_id != internal_id
    assert azure.deleted_account_names() == set()
    assert_converged(azure)


# --- Key Vault, usage ------------------------------------------------------------------------------


def test_key_vault_secrets_are_published_after_the_template(azure):
    result = apply_arm(azure, base_spec())
    assert result.code == 0, result
    outcome = rows(result)
    for account in (EAST, SWEDEN):
        assert outcome[f"kv-e2e/secrets/{account}-endpoint"][:2] == ("publish", "succeeded")
        assert azure.secret(f"{account}-endpoint") == azure.account(account).properties.endpoint
        assert azure.secret(f"{account}-key") == azure.keys(account)[0]
    assert azure.keys(EAST)[0] not in "".join(azure.transcript)


def test_unknown_engine_is_a_usage_error(azure):
    result = azure.apply(base_spec(EAST), "--engine", "bicep")
    assert result.code == 1
    assert "must be sdk or arm" in result.err
    assert azure.account_names() == set()


# --- the security pillar: a fully isolated account ------------------------------------------------

NET_GROUP = "rg-e2e-net"
NET = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{NET_GROUP}/providers"
PE_SUBNET = f"{NET}/Microsoft.Network/virtualNetworks/vnet-e2e/subnets/private-endpoints"
APP_SUBNET = f"{NET}/Microsoft.Network/virtualNetworks/vnet-e2e/subnets/apps"
ZONE = f"{NET}/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"
WORKSPACE = f"{NET}/Microsoft.OperationalInsights/workspaces/log-e2e"
PLATFORM_GROUP = "22222222-2222-4222-8222-222222222222"


def isolated_network(emu: Emulator) -> str:
    """What the isolated account needs around it, made as a platform team would (outside the spec): a virtual
    network with a subnet for private endpoints and one for applications, the private DNS zone, a Log Analytics
    workspace, the application's service principal and the platform team's group. Returns the app's object id."""
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    resources = ResourceManagementClient(emu.credential, SUBSCRIPTION, **sdk_kwargs(emu))
    network = NetworkManagementClient(emu.credential, SUBSCRIPTION, **sdk_kwargs(emu))
    try:
        resources.resource_groups.create_or_update(NET_GROUP, {"location": "eastus2"})
        network.virtual_networks.begin_create_or_update(NET_GROUP, "vnet-e2e", {"location": "eastus2", "properties": {
            "addressSpace": {"addressPrefixes": ["10.20.0.0/16"]},
            "subnets": [{"name": "private-endpoints", "properties": {"addressPrefix": "10.20.1.0/24"}},
                        {"name": "apps", "properties": {"addressPrefix": "10.20.2.0/24", "serviceEndpoints": [
                            {"service": "Microsoft.CognitiveServices"}]}}]}}).result()
        resources.resources.begin_create_or_update_by_id(ZONE, api_version="2024-06-01",
                                                         parameters={"location": "global"}).result()
        resources.resources.begin_create_or_update_by_id(WORKSPACE, api_version="2022-10-01",
                                                         parameters={"location": "eastus2"}).result()
    finally:
        resources.close()
        network.close()
    emu.control.add_principal("group", PLATFORM_GROUP, display_name="platform team")
    return emu.control.add_service_principal(display_name="chat app")["object_id"]


def isolated_spec(app: str) -> dict:
    """EAST, fully isolated: public access off, a private endpoint with its DNS zone, network rules, a managed
    identity, key authentication off, grants for the app and the platform team, diagnostics."""
    spec = base_spec(EAST)
    del spec["key_vault"]  # keys are off: nothing to publish
    account_of(spec, EAST).update({
        "local_auth": False,
        "network": {"public_access": "disabled", "default_action": "deny", "bypass": "none",
                    "ip_rules": ["198.51.100.0/24"], "virtual_network_rules": [APP_SUBNET]},
        "private_endpoints": [{"name": "pe-e2e-eus2", "subnet": PE_SUBNET, "dns_zone_ids": [ZONE]}],
        "identity": {"system_assigned": True},
        "restrict_outbound": True, "allowed_fqdns": ["api.contoso.com"],
        "access": [{"principal": app, "type": "service_principal", "role": "Cognitive Services OpenAI User"},
                   {"principal": PLATFORM_GROUP, "type": "group", "role": "Cognitive Services OpenAI Contributor"}],
        "diagnostics": {"workspace": WORKSPACE, "logs": ["Audit", "RequestResponse"], "metrics": True},
    })
    return spec


def security_snapshot(emu: Emulator, app: str) -> dict[str, Any]:
    """EAST's security settings and what attaches to it, as the SDKs read them; the app's object id (made up
    by each emulator) is written as "app"."""
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.monitor import MonitorManagementClient
    from azure.mgmt.network import NetworkManagementClient

    kwargs = sdk_kwargs(emu)
    cognitive = CognitiveServicesManagementClient(emu.credential, SUBSCRIPTION, **kwargs)
    network = NetworkManagementClient(emu.credential, SUBSCRIPTION, **kwargs)
    authorization = AuthorizationManagementClient(emu.credential, SUBSCRIPTION, **kwargs)
    monitor = MonitorManagementClient(emu.credential, SUBSCRIPTION, **kwargs)
    try:
        account = cognitive.accounts.get(GROUP, EAST)
        p = account.properties
        acls = p.network_acls
        endpoints = {}
        for pe in network.private_endpoints.list(GROUP):
            connection = pe.private_link_service_connections[0]
            zones = network.private_dns_zone_groups.get(GROUP, pe.name, "default").private_dns_zone_configs
            endpoints[pe.name] = {"subnet": pe.subnet.id.lower(), "tags": pe.tags,
                                  "target": connection.private_link_service_id.lower(),
                                  "groups": connection.group_ids,
                                  "status": connection.private_link_service_connection_state.status,
                                  "zones": sorted(z.private_dns_zone_id.lower() for z in zones)}
        grants = {a.name: {"principal": "app" if a.principal_id == app else a.principal_id,
                           "type": a.principal_type, "role": a.role_definition_id.rsplit("/", 1)[-1],
                           "description": a.description, "scope": a.scope.lower()}
                  for a in authorization.role_assignments.list_for_scope(account.id, filter="atScope()")}
        settings = {s.name: {"workspace": s.workspace_id.lower(),
                             "logs": sorted((entry.category, entry.enabled) for entry in s.logs),
                             "metrics": [(m.category, m.enabled) for m in s.metrics]}
                    for s in monitor.diagnostic_settings.list(account.id)}
        return {"publicNetworkAccess": p.public_network_access, "disableLocalAuth": p.disable_local_auth,
                "networkAcls": {"default": acls.default_action, "bypass": acls.bypass,
                                "ip": sorted(r.value for r in acls.ip_rules),
                                "subnets": sorted(r.id.lower() for r in acls.virtual_network_rules)},
                "identity": (account.identity.type, bool(account.identity.principal_id)),
                "restrictOutbound": p.restrict_outbound_network_access, "fqdns": p.allowed_fqdn_list,
                "connections": [c.properties.private_link_service_connection_state.status
                                for c in p.private_endpoint_connections or []],
                "privateEndpoints": endpoints, "grants": grants, "diagnosticSettings": settings}
    finally:
        for client in (cognitive, network, authorization, monitor):
            client.close()


def test_the_arm_engine_builds_the_isolated_account_as_the_sdk_engine_does(azure, monkeypatch):
    """The fully isolated account from empty, by the ARM engine: one template deployment writes the account's
    settings, its private endpoint and DNS zone group, the grants and the diagnostic setting; the SDK engine then
    plans nothing, and the live state is the one the SDK engine reaches in another emulated Azure."""
    from provisioner.model.resources import Kind, Scope, arm_id, role_assignment_name

    app = isolated_network(azure.emulator)
    by_sdk = azure.apply(isolated_spec(app))
    assert by_sdk.code == 0, by_sdk
    assert_converged(azure)
    sdk_state = security_snapshot(azure.emulator, app)

    with Emulator() as other, pointing_at(monkeypatch, other):
        other_app = isolated_network(other)
        spec = azure.write_spec(isolated_spec(other_app))
        other.control.clear_requests()
        by_arm = apply_arm(azure, spec)
        assert by_arm.code == 0, by_arm
        outcomes = rows(by_arm)
        assert {status for _, status, _ in outcomes.values()} == {"succeeded"}
        assert {address for address in outcomes if "/" in address} >= {
            f"{EAST}/privateEndpoints/pe-e2e-eus2", f"{EAST}/diagnosticSettings/provision-e2e"}
        assert sum(1 for address in outcomes if "/roleAssignments/" in address) == 2
        counts = other.control.requests()["counts"]
        assert counts[TEMPLATE_PUT] == 1
        written_by_provision = [route for route in counts if route.startswith("PUT") and any(
            t in route for t in ("cognitiveservices", "privateendpoints", "roleassignments", "diagnosticsettings"))]
        assert written_by_provision == []  # ARM wrote them all
        assert_converged(azure)  # the SDK engine's plan is empty
        arm_state = security_snapshot(other, other_app)
        deployment = history(other)[-1]
        targets = operations(other, deployment.name)
        assert all(state == "Succeeded" for state, _ in targets.values()), targets
        assert {"pe-e2e-eus2", "provision-e2e"} <= set(targets)
        account_id = arm_id(Scope(SUBSCRIPTION, GROUP), Kind.ACCOUNT, EAST)
        assert set(arm_state["grants"]) == {
            role_assignment_name(account_id, other_app, "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"),
            role_assignment_name(account_id, PLATFORM_GROUP, "a001fd3d-188f-4b5d-821b-7da978bf7442")}

    assert arm_state["privateEndpoints"]["pe-e2e-eus2"]["status"] == "Approved"
    assert arm_state["connections"] == ["Approved"]
    assert arm_state["identity"] == ("SystemAssigned", True)
    assert arm_state["disableLocalAuth"] is True and arm_state["publicNetworkAccess"] == "Disabled"
    # the grant for the app is named after the app's object id, which each emulator made up: compare the rest
    assert sorted(arm_state.pop("grants").values(), key=str) == sorted(sdk_state.pop("grants").values(), key=str)
    assert arm_state == sdk_state



def test_the_arm_engine_updates_an_ip_rule_and_removes_a_grant(azure):
    """A changed IP rule rewrites the account in the template; a removed grant is deleted by the SDK engine part
    (templates never delete); the other grant stays."""
    app = isolated_network(azure.emulator)
    spec = isolated_spec(app)
    assert apply_arm(azure, spec).code == 0
    account_of(spec, EAST)["network"]["ip_rules"] = ["198.51.100.0/25"]
    account_of(spec, EAST)["access"] = account_of(spec, EAST)["access"][:1]
    result = apply_arm(azure, spec)
    assert result.code == 0, result
    changed = {address: (change, status) for address, (change, status, _) in rows(result).items()}
    assert changed[EAST] == ("update", "succeeded")
    removed = [address for address, (change, _) in changed.items() if change == "delete"]
    assert len(removed) == 1 and "/roleAssignments/" in removed[0]
    assert_converged(azure)
    state = security_snapshot(azure.emulator, app)
    assert state["networkAcls"]["ip"] == ["198.51.100.0/25"]
    assert [g["principal"] for g in state["grants"].values()] == ["app"]
    assert len(history(azure)) == 2  # one template deployment per apply


def test_a_grant_on_the_key_vault_the_spec_creates(azure):
    """The vault is provision's (created on first need, `key_vault.create`), not a template's: the ARM engine
    leaves its grants to the SDK writer, which creates the vault before the grant; the accounts' grants are in the
    template."""
    app = isolated_network(azure.emulator)
    spec = isolated_spec(app)
    spec["key_vault"] = {"name": VAULT, "create": True, "access": [
        {"principal": app, "type": "service_principal", "role": "Key Vault Secrets User"}]}
    result = apply_arm(azure, spec)
    assert result.code == 0, result
    vault_grants = [address for address in rows(result) if address.startswith(f"key_vault:{VAULT}/roleAssignments/")]
    assert len(vault_grants) == 1 and rows(result)[vault_grants[0]][1] == "succeeded"
    assert_converged(azure)
    in_template = set(operations(azure, history(azure)[-1].name))
    account_grants = {address.rsplit("/", 1)[-1] for address in rows(result) if address.startswith(f"{EAST}/roleA")}
    assert len(account_grants) == 2 and account_grants | {"pe-e2e-eus2", "provision-e2e"} <= in_template
    assert vault_grants[0].rsplit("/", 1)[-1] not in in_template


def test_a_refused_grant_is_reported_on_its_own_row(azure):
    """ARM's operation for a role assignment (an extension resource, whose id extends the account's) is matched
    to the grant, not to the account: the grant fails with Azure's code, the account and the rest succeed."""
    app = isolated_network(azure.emulator)
    spec = isolated_spec(app)
    stranger = "33333333-3333-4333-8333-333333333333"  # not in the tenant
    account_of(spec, EAST)["access"][1]["principal"] = stranger
    result = apply_arm(azure, spec)
    assert result.code != 0
    outcomes = rows(result)
    failed = {address: detail for address, (_, status, detail) in outcomes.items() if status == "failed"}
    assert len(failed) == 1
    address, detail = next(iter(failed.items()))
    assert address.startswith(f"{EAST}/roleAssignments/") and "PrincipalNotFound" in detail
    assert outcomes[EAST][1] == outcomes[f"{EAST}/privateEndpoints/pe-e2e-eus2"][1] == "succeeded"
