"""The security pillar end to end, against the emulator: a fully isolated account (public access off,
network rules, a private endpoint in a subnet with its DNS zone, managed identities, key auth off,
grants for an application identity and a group, diagnostics) created from empty; nothing left to do
after; one IP rule or one grant changed in place; a removed grant deletes only ours; destroy in order."""
from __future__ import annotations

import json
from typing import Any

import pytest
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from tests.e2e.conftest import sdk_kwargs

SUB = "00000000-0000-0000-0000-0000000000f1"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg-net"
SUBNET = f"{GROUP}/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-pe"
APPS = f"{GROUP}/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-apps"
ZONE = f"{GROUP}/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"
ZONE2 = f"{GROUP}/providers/Microsoft.Network/privateDnsZones/privatelink.cognitiveservices.azure.com"
WORKSPACE = f"{GROUP}/providers/Microsoft.OperationalInsights/workspaces/log-platform"
IDENTITY = f"{GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aoai"
ACCOUNT = f"/subscriptions/{SUB}/resourceGroups/rg-sec/providers/Microsoft.CognitiveServices/accounts/aoai-sec"
OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
CONTRIBUTOR = "a001fd3d-188f-4b5d-821b-7da978bf7442"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


class Live:
    """Real SDK clients on the emulator the CLI talks to."""

    def __init__(self, emu):
        kwargs = sdk_kwargs(emu)
        self.resources = ResourceManagementClient(emu.credential, SUB, **kwargs)
        self.network = NetworkManagementClient(emu.credential, SUB, **kwargs)
        self.msi = ManagedServiceIdentityClient(emu.credential, SUB, **kwargs)
        self.authorization = AuthorizationManagementClient(emu.credential, SUB, **kwargs)
        self.monitor = MonitorManagementClient(emu.credential, SUB, **kwargs)
        self.cognitive = CognitiveServicesManagementClient(emu.credential, SUB, **kwargs)

    def grants(self) -> dict[str, tuple[str, str, str]]:
        """name -> (principal, role id, description) of the assignments made on the account itself."""
        return {a.name: (a.principal_id, a.role_definition_id.rsplit("/", 1)[-1], a.description or "")
                for a in self.authorization.role_assignments.list_for_subscription()
                if a.scope.lower() == ACCOUNT.lower()}


@pytest.fixture
def setup(external_emulator):
    """What a platform team has before the spec: a hub network, a private DNS zone, a Log Analytics
    workspace, a user-assigned identity, an application's service principal and a team group."""
    emu = external_emulator
    emu.control.add_subscription(SUB)
    live = Live(emu)
    live.resources.resource_groups.create_or_update("rg-net", {"location": "eastus2"})
    live.network.virtual_networks.begin_create_or_update("rg-net", "vnet-hub", {
        "location": "eastus2", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [
            {"name": "snet-pe", "properties": {"addressPrefix": "10.0.1.0/24"}},
            {"name": "snet-pe2", "properties": {"addressPrefix": "10.0.3.0/24"}},
            {"name": "snet-apps", "properties": {"addressPrefix": "10.0.2.0/24", "serviceEndpoints": [
                {"service": "Microsoft.CognitiveServices"}]}}]}}).result()
    for zone in (ZONE, ZONE2):
        live.resources.resources.begin_create_or_update_by_id(zone, api_version="2024-06-01",
                                                              parameters={"location": "global"}).result()
    live.resources.resources.begin_create_or_update_by_id(
        WORKSPACE, api_version="2023-09-01", parameters={"location": "eastus2", "properties": {}}).result()
    identity = live.msi.user_assigned_identities.create_or_update("rg-net", "id-aoai", {"location": "eastus2"})
    app = emu.control.add_service_principal(display_name="chat-app")["object_id"]
    team = emu.control.add_principal("group", display_name="platform-team")["object_id"]
    return live, {"app": app, "team": team, "identity_principal": identity.principal_id}


def spec(principals: dict[str, str], *, ip_rules=("203.0.113.0/24", "198.51.100.7"), team_role="Cognitive Services "
         "OpenAI Contributor", grants: list[dict] | None = None) -> dict[str, Any]:
    access = grants if grants is not None else [
        {"principal": principals["app"], "type": "service_principal", "role": "Cognitive Services OpenAI User"},
        {"principal": principals["team"], "type": "group", "role": team_role}]
    return {
        "version": 1, "name": "sec",
        "defaults": {"subscription": SUB, "resource_group": "rg-sec", "location": "eastus2"},
        "accounts": [{
            "name": "aoai-sec", "local_auth": False,
            "network": {"public_access": "disabled", "default_action": "deny", "ip_rules": list(ip_rules),
                        "virtual_network_rules": [APPS], "bypass": "none"},
            "private_endpoints": [{"name": "pe-aoai-sec", "subnet": SUBNET, "dns_zone_ids": [ZONE]}],
            "identity": {"system_assigned": True, "user_assigned": [IDENTITY]},
            "restrict_outbound": True, "allowed_fqdns": ["api.contoso.com"],
            "access": access,
            "diagnostics": {"workspace": WORKSPACE, "logs": "all", "metrics": True},
            "deployments": [{"name": "chat", "model": "gpt-4o-mini", "version": "2024-07-18", "capacity": 1,
                             "content_filter": "Microsoft.DefaultV2"}],
        }],
    }


def plan_json(cli) -> dict:
    result = cli("plan", "--output", "json")
    assert result.code == 0, result.out + result.err
    return json.loads(result.out)


def pending(plan: dict) -> list[tuple[str, str]]:
    return [(c["action"], c["address"]) for c in plan["changes"] if c["action"] != "no-op"]


def apply(cli) -> None:
    result = cli("apply", "--auto-approve")
    assert result.code == 0, result.out + result.err


def test_an_isolated_account_from_empty_then_nothing_to_do(workdir, cli, setup):
    live, principals = setup
    workdir.write(spec(principals))
    plan = plan_json(cli)
    kinds = sorted(c["kind"] for c in plan["changes"] if c["action"] == "create")
    assert kinds == ["account", "deployment", "diagnostic_setting", "private_endpoint", "resource_group",
                     "role_assignment", "role_assignment"]
    account_change = next(c for c in plan["changes"] if c["kind"] == "account")
    assert "system-assigned identity: principal id known after apply" in account_change["notes"]
    apply(cli)

    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err  # nothing left to do
    account = live.cognitive.accounts.get("rg-sec", "aoai-sec")
    assert account.properties.public_network_access == "Disabled"
    assert account.properties.disable_local_auth is True
    acls = account.properties.network_acls
    assert (acls.default_action, acls.bypass) == ("Deny", "None")
    assert sorted(r.value for r in acls.ip_rules) == ["198.51.100.7", "203.0.113.0/24"]
    assert [r.id.lower() for r in acls.virtual_network_rules] == [APPS.lower()]
    assert account.properties.restrict_outbound_network_access is True
    assert account.properties.allowed_fqdn_list == ["api.contoso.com"]
    assert account.identity.type == "SystemAssigned, UserAssigned" and account.identity.principal_id
    endpoint = live.network.private_endpoints.get("rg-sec", "pe-aoai-sec")
    assert endpoint.private_link_service_connections[0].private_link_service_connection_state.status == "Approved"
    assert endpoint.tags["provision-spec"] == "sec"
    zones = live.network.private_dns_zone_groups.get("rg-sec", "pe-aoai-sec", "default").private_dns_zone_configs
    assert [z.private_dns_zone_id.lower() for z in zones] == [ZONE.lower()]
    assert sorted((p, r) for p, r, _ in live.grants().values()) == sorted(
        [(principals["app"], OPENAI_USER), (principals["team"], CONTRIBUTOR)])
    assert {d for _, _, d in live.grants().values()} == {"managed-by=provision; provision-spec=sec"}
    [setting] = list(live.monitor.diagnostic_settings.list(account.id))
    assert setting.name == "provision-sec" and setting.workspace_id.lower() == WORKSPACE.lower()

    # the identities' principal ids: in the next plan and in the outputs
    notes = next(c for c in plan_json(cli)["changes"] if c["kind"] == "account")["notes"]
    assert f"system-assigned identity: principal id {account.identity.principal_id}" in notes
    outputs = cli("output", "--format", "json")
    assert outputs.code == 0, outputs.err
    [entry] = json.loads(outputs.out)["accounts"]
    assert entry["principal_id"] == account.identity.principal_id
    assert [(i["name"], i["principal_id"]) for i in entry["user_assigned_identities"]] == [
        ("id-aoai", principals["identity_principal"])]
    dotenv = cli("output", "--format", "dotenv")
    assert f'AZURE_OPENAI_PRINCIPAL_ID_AOAI_SEC="{account.identity.principal_id}"' in dotenv.out
    assert f'AZURE_OPENAI_PRINCIPAL_ID_AOAI_SEC_ID_AOAI="{principals["identity_principal"]}"' in dotenv.out
    text = cli("output")
    assert f"user-assigned identity id-aoai: principal id {principals['identity_principal']}" in text.out
    human = cli("plan").out
    assert f"aoai-sec: system-assigned identity: principal id {account.identity.principal_id}" in human
    assert "aoai-sec/privateEndpoints/pe-aoai-sec: connection to the account: Approved" in human


def test_one_ip_rule_or_one_grant_changes_in_place(workdir, cli, setup):
    live, principals = setup
    workdir.write(spec(principals))
    apply(cli)
    account_before = live.cognitive.accounts.get("rg-sec", "aoai-sec")

    workdir.write(spec(principals, ip_rules=("203.0.113.0/24", "198.51.100.8")))
    plan = plan_json(cli)
    assert pending(plan) == [("update", "aoai-sec")]
    [change] = [c for c in plan["changes"] if c["action"] == "update"]
    assert [(f["path"], f["before"], f["after"]) for f in change["fields"]] == [
        ("network.ip_rules", ["198.51.100.7", "203.0.113.0/24"], ["198.51.100.8", "203.0.113.0/24"])]
    apply(cli)
    account = live.cognitive.accounts.get("rg-sec", "aoai-sec")
    assert sorted(r.value for r in account.properties.network_acls.ip_rules) == ["198.51.100.8", "203.0.113.0/24"]
    assert account.properties.internal_id == account_before.properties.internal_id  # the same account
    assert cli("plan", "--detailed-exitcode").code == 0

    # a grant changes role: a new assignment, the old one deleted (assignments cannot change)
    old = {p: n for n, (p, _, _) in live.grants().items()}[principals["team"]]
    workdir.write(spec(principals, ip_rules=("203.0.113.0/24", "198.51.100.8"),
                       team_role="Cognitive Services OpenAI User"))
    plan = plan_json(cli)
    actions = sorted(pending(plan))
    assert [a for a, _ in actions] == ["create", "delete"]
    created = next(c for c in plan["changes"] if c["action"] == "create")
    deleted = next(c for c in plan["changes"] if c["action"] == "delete")
    assert deleted["address"] == f"aoai-sec/roleAssignments/{old}"
    assert any(n.startswith(f"replaces aoai-sec/roleAssignments/{old} (Cognitive Services OpenAI Contributor")
               for n in created["notes"])
    assert any(n.startswith(f"replaced by {created['address']}") for n in deleted["notes"])
    human = cli("plan")
    assert f"replaces aoai-sec/roleAssignments/{old}" in " ".join(human.out.split())
    apply(cli)
    assert sorted((p, r) for p, r, _ in live.grants().values()) == sorted(
        [(principals["app"], OPENAI_USER), (principals["team"], OPENAI_USER)])
    assert cli("plan", "--detailed-exitcode").code == 0


def test_new_dns_zones_update_the_endpoint_and_a_new_subnet_replaces_it(workdir, cli, setup):
    live, principals = setup
    document = spec(principals)
    workdir.write(document)
    apply(cli)
    endpoint = document["accounts"][0]["private_endpoints"][0]
    endpoint["dns_zone_ids"] = [ZONE, ZONE2]
    workdir.write(document)
    plan = plan_json(cli)
    assert pending(plan) == [("update", "aoai-sec/privateEndpoints/pe-aoai-sec")]
    apply(cli)
    zones = live.network.private_dns_zone_groups.get("rg-sec", "pe-aoai-sec", "default").private_dns_zone_configs
    assert sorted(z.private_dns_zone_id.lower() for z in zones) == sorted([ZONE.lower(), ZONE2.lower()])
    first_id = live.network.private_endpoints.get("rg-sec", "pe-aoai-sec").network_interfaces[0].id

    endpoint["subnet"] = SUBNET.replace("snet-pe", "snet-pe2")
    workdir.write(document)
    plan = plan_json(cli)
    assert pending(plan) == [("replace", "aoai-sec/privateEndpoints/pe-aoai-sec")]
    [change] = [c for c in plan["changes"] if c["action"] == "replace"]
    assert [(f["path"], f["forces_replace"]) for f in change["fields"]] == [("subnet", True)]
    apply(cli)
    replaced = live.network.private_endpoints.get("rg-sec", "pe-aoai-sec")
    assert replaced.subnet.id.lower().endswith("/subnets/snet-pe2")
    assert replaced.network_interfaces[0].id != first_id  # a new endpoint, not an edited one
    zones = live.network.private_dns_zone_groups.get("rg-sec", "pe-aoai-sec", "default").private_dns_zone_configs
    assert len(zones) == 2
    assert cli("plan", "--detailed-exitcode").code == 0


def test_removing_a_grant_deletes_only_ours(workdir, cli, setup):
    live, principals = setup
    workdir.write(spec(principals))
    apply(cli)
    # someone grants Reader to the team by hand, and the same role as ours to the app under another name
    live.authorization.role_assignments.create(ACCOUNT, "0c0c0c0c-0000-4000-8000-000000000001", {
        "role_definition_id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
        "principal_id": principals["team"], "principal_type": "Group"})
    assert cli("plan", "--detailed-exitcode").code == 0  # someone else's grant is not ours to plan

    workdir.write(spec(principals, grants=[
        {"principal": principals["app"], "type": "service_principal", "role": "Cognitive Services OpenAI User"}]))
    plan = plan_json(cli)
    [(action, address)] = pending(plan)
    assert action == "delete"
    team_grant = {p: n for n, (p, r, _) in live.grants().items() if r == CONTRIBUTOR}[principals["team"]]
    assert address == f"aoai-sec/roleAssignments/{team_grant}"
    apply(cli)
    assert sorted((p, r) for p, r, _ in live.grants().values()) == sorted(
        [(principals["app"], OPENAI_USER), (principals["team"], READER)])  # the foreign grant survives
    assert "0c0c0c0c-0000-4000-8000-000000000001" in live.grants()

    # a grant the spec asks for that someone else already made: no second assignment (Azure refuses one)
    workdir.write(spec(principals, grants=[
        {"principal": principals["app"], "type": "service_principal", "role": "Cognitive Services OpenAI User"},
        {"principal": principals["team"], "type": "group", "role": "Reader"}]))
    plan = plan_json(cli)
    assert pending(plan) == []
    reader = next(c for c in plan["changes"] if c["kind"] == "role_assignment" and c["after"]["role"] == READER)
    assert reader["reason"] == ("granted already by role assignment 0c0c0c0c-0000-4000-8000-000000000001, which "
                                "this spec does not manage")


def test_destroy_removes_everything_in_order(workdir, cli, setup):
    live, principals = setup
    workdir.write(spec(principals))
    apply(cli)
    plan = json.loads(cli("plan", "--destroy", "--include-accounts", "--output", "json").out)
    account_delete = next(c for c in plan["changes"] if c["kind"] == "account")
    attached = {c["address"] for c in plan["changes"] if c["kind"] in ("private_endpoint", "role_assignment",
                                                                         "diagnostic_setting")}
    assert len(attached) == 4 and attached <= set(account_delete["depends_on"])
    result = cli("destroy", "--include-accounts", "--auto-approve")
    assert result.code == 0, result.out + result.err
    done = [line.split()[2].rstrip(":") for line in result.out.splitlines()
            if line.endswith("s") and ": succeeded in " in line and line.split()[1] == "delete"]
    assert done[-1] == "aoai-sec" and attached <= set(done[:-1]), result.out  # the account last
    assert list(live.network.private_endpoints.list("rg-sec")) == []
    assert live.grants() == {}
    assert list(live.cognitive.accounts.list_by_resource_group("rg-sec")) == []
    assert cli("plan", "--destroy", "--include-accounts", "--detailed-exitcode").code == 0


def test_destroy_refuses_an_account_carrying_someone_elses_grant(workdir, cli, setup):
    live, principals = setup
    workdir.write(spec(principals))
    apply(cli)
    live.authorization.role_assignments.create(ACCOUNT, "0c0c0c0c-0000-4000-8000-000000000002", {
        "role_definition_id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
        "principal_id": principals["team"], "principal_type": "Group"})
    refused = cli("plan", "--destroy", "--include-accounts")
    assert refused.code == 1
    assert "roleAssignments/0c0c0c0c-0000-4000-8000-000000000002 (not managed by provision)" in refused.err


def test_grants_on_the_key_vault_for_the_apps_that_read_the_secrets(workdir, cli, setup, external_emulator):
    live, principals = setup
    document = spec(principals)
    document["key_vault"] = {"name": "kv-aoai-sec", "create": True, "access": [
        {"principal": principals["app"], "type": "service_principal", "role": "Key Vault Secrets User"}]}
    document["accounts"][0]["waive"] = [{"rule": "PRV006", "reason": "the endpoint is all we publish"}]
    workdir.write(document)
    plan = plan_json(cli)
    vault_grant = next(c for c in plan["changes"] if c["address"].startswith("key_vault:kv-aoai-sec/"))
    assert (vault_grant["action"], vault_grant["after"]["role_name"]) == ("create", "Key Vault Secrets User")
    apply(cli)  # the vault does not exist yet: the grant creates it first (create: true)
    vault_id = f"/subscriptions/{SUB}/resourceGroups/rg-sec/providers/Microsoft.KeyVault/vaults/kv-aoai-sec"
    on_vault = [a for a in live.authorization.role_assignments.list_for_scope(vault_id, filter="atScope()")
                if a.scope.lower() == vault_id.lower()]
    assert [(a.principal_id, a.role_definition_id.rsplit("/", 1)[-1], a.description) for a in on_vault] == [
        (principals["app"], "4633458b-17de-408a-b874-0445c86b69e6", "managed-by=provision; provision-spec=sec")]
    assert cli("plan", "--detailed-exitcode").code == 0

    result = cli("destroy", "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert not [a for a in live.authorization.role_assignments.list_for_scope(vault_id, filter="atScope()")
                if a.scope.lower() == vault_id.lower()]


# refusals: what the writer does when Azure is not as the plan expects, and bad references

def writer_for(emu):
    from provisioner.azure.clients import Clients, emulator_connection
    from provisioner.azure.writers import AzureWriter

    clients = Clients(emulator_connection(emu.base_url, emu.ca_path, emu.credential))
    return AzureWriter(clients, owner="sec", first_poll_delay=0, sleep=lambda _: None), clients


def test_the_writer_deletes_no_grant_that_is_not_ours_and_no_account_carrying_one(workdir, cli, setup,
                                                                                 external_emulator):
    from provisioner.azure.writers import ChangedSinceThePlan
    from provisioner.plan.model import Action, Change, Plan

    live, principals = setup
    workdir.write(spec(principals))
    apply(cli)
    plan = Plan.from_dict(json.loads(cli("plan", "--destroy", "--include-accounts", "--output", "json").out))
    grant = next(c for c in plan.changes if c.kind.value == "role_assignment")
    # since the plan, someone made the same assignment their own (deleted ours, made one of the same name)
    live.authorization.role_assignments.delete(ACCOUNT, grant.name)
    live.authorization.role_assignments.create(ACCOUNT, grant.name, {
        "role_definition_id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
                              f"{grant.before['role']}",
        "principal_id": grant.before["principal"], "principal_type": grant.before["principal_type"],
        "description": "kept by the security team"})
    writer, clients = writer_for(external_emulator)
    with pytest.raises(ChangedSinceThePlan, match="is managed by no spec"):
        writer.execute(grant)
    assert grant.name in live.grants()
    account = next(c for c in plan.changes if c.kind.value == "account")
    with pytest.raises(ChangedSinceThePlan, match=f"roleAssignments/{grant.name}"):
        writer.execute(Change(account.kind, account.name, account.scope, Action.DELETE, account.before, None,
                              options=account.options))
    assert live.cognitive.accounts.get("rg-sec", "aoai-sec").name == "aoai-sec"
    clients.close()


def test_a_grant_made_elsewhere_since_the_plan_is_reported_not_duplicated(workdir, cli, setup, external_emulator):
    from provisioner.azure.writers import ChangedSinceThePlan
    from provisioner.plan.model import Plan

    live, principals = setup
    workdir.write(spec(principals))
    plan = Plan.from_dict(plan_json(cli))
    apply(cli)
    team = next(c for c in plan.changes if c.kind.value == "role_assignment"
                and c.after["principal"] == principals["team"])
    live.authorization.role_assignments.delete(ACCOUNT, team.name)
    live.authorization.role_assignments.create(ACCOUNT, "0c0c0c0c-0000-4000-8000-000000000003", {
        "role_definition_id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}",
        "principal_id": principals["team"], "principal_type": "Group"})
    writer, clients = writer_for(external_emulator)
    with pytest.raises(ChangedSinceThePlan, match="was given this role on aoai-sec by another role assignment"):
        writer.execute(team)
    clients.close()
    assert team.name not in live.grants()


def test_an_unknown_principal_fails_its_grant_clearly(workdir, cli, setup):
    live, principals = setup
    nobody = "99999999-9999-4999-8999-999999999999"
    workdir.write(spec(principals, grants=[{"principal": nobody, "type": "user", "role": "Reader"}]))
    result = cli("apply", "--auto-approve")
    assert result.code == 1
    assert f"Azure finds no principal {nobody} in the tenant" in " ".join((result.out + result.err).split())
    assert live.cognitive.accounts.get("rg-sec", "aoai-sec").name == "aoai-sec"  # the rest went ahead


def test_a_missing_user_assigned_identity_stops_the_account_before_it_is_written(workdir, cli, setup):
    live, principals = setup
    document = spec(principals)
    document["accounts"][0]["identity"]["user_assigned"] = [IDENTITY.replace("id-aoai", "id-missing")]
    workdir.write(document)
    result = cli("apply", "--auto-approve")
    assert result.code == 1
    assert "the user-assigned identity" in result.out + result.err and "id-missing does not exist" in (
        result.out + result.err).replace("\n", "")
    assert list(live.cognitive.accounts.list_by_resource_group("rg-sec")) == []


def test_a_grant_made_by_hand_after_the_apply_is_drift(workdir, cli, setup):
    live, principals = setup
    workdir.write(spec(principals))
    apply(cli)
    assert cli("plan", "--drift").code == 0
    live.authorization.role_assignments.create(ACCOUNT, "0c0c0c0c-0000-4000-8000-000000000004", {
        "role_definition_id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
        "principal_id": principals["team"], "principal_type": "Group"})
    result = cli("plan", "--drift", "--output", "json")
    assert result.code == 2, result.out + result.err
    document = json.loads(result.out)
    assert [(i["address"], i["drift"]) for i in document["items"]] == [
        ("aoai-sec/roleAssignments/0c0c0c0c-0000-4000-8000-000000000004", "appeared")]


def test_the_isolated_account_serves_only_through_its_endpoint_and_only_whom_it_grants(workdir, cli, setup,
                                                                                     external_emulator,
                                                                                     monkeypatch):
    live, principals = setup
    deployer = external_emulator.control.add_service_principal(secret="s3cret-for-tests", display_name="ci")
    monkeypatch.delenv("PROVISION_EMULATOR_TOKEN_FILE")  # sign in as the deployer, as in CI
    for name, value in external_emulator.environment(deployer).items():
        monkeypatch.setenv(name, value)
    document = spec(principals, grants=[{"principal": deployer["object_id"], "type": "service_principal",
                                         "role": "Cognitive Services OpenAI User"}])
    workdir.write(document)
    apply(cli)
    external_emulator.control.set_client_network(ip="192.0.2.50", subnet="")  # somewhere on the internet
    outside = json.loads(cli("test", "--output", "json").out)["deployments"][0]
    assert (outside["status"], outside["http_status"]) == ("failed", 403)
    external_emulator.control.set_client_network(subnet=SUBNET)  # inside the private endpoint's subnet
    inside = cli("test", "--output", "json")
    assert inside.code == 0, inside.out + inside.err
    document["accounts"][0]["access"] = [{"principal": principals["app"], "type": "service_principal",
                                          "role": "Cognitive Services OpenAI User"}]
    workdir.write(document)
    apply(cli)  # the grant moves to the app: the deployer may no longer call
    denied = json.loads(cli("test", "--output", "json").out)["deployments"][0]
    assert (denied["status"], denied["http_status"]) == ("failed", 401)


def test_a_declared_endpoint_name_held_by_someone_elses_endpoint_is_a_plan_error(workdir, cli, setup):
    live, principals = setup
    live.resources.resource_groups.create_or_update("rg-sec", {"location": "eastus2"})
    other = live.cognitive.accounts.begin_create("rg-sec", "other-acct", {
        "location": "eastus2", "kind": "OpenAI", "sku": {"name": "S0"},
        "properties": {"customSubDomainName": "other-acct"}}).result()
    live.network.private_endpoints.begin_create_or_update("rg-sec", "pe-aoai-sec", {
        "location": "eastus2", "properties": {"subnet": {"id": SUBNET}, "privateLinkServiceConnections": [
            {"name": "c", "properties": {"privateLinkServiceId": other.id, "groupIds": ["account"]}}]}}).result()
    workdir.write(spec(principals))
    result = cli("plan")  # the account does not exist yet; its endpoint's name is taken all the same
    assert result.code == 1
    assert "aoai-sec/privateEndpoints/pe-aoai-sec: changing target means deleting and creating it again, but it " \
           "exists without this spec's ownership tags" in " ".join(result.err.split())


def test_plan_reads_two_lists_per_account_and_two_reads_per_private_endpoint(workdir, cli, setup,
                                                                            external_emulator):
    live, principals = setup
    document = spec(principals)
    document["key_vault"] = {"name": "kv-aoai-sec", "create": True, "access": [
        {"principal": principals["app"], "type": "service_principal", "role": "Key Vault Secrets User"}]}
    workdir.write(document)
    apply(cli)
    external_emulator.control.clear_requests()
    assert cli("plan", "--detailed-exitcode").code == 0
    counts = external_emulator.control.requests()["counts"]
    # 1 per resource group (its accounts), 5 per account with grants and diagnostics (deployments, RAI policies,
    # blocklists, role assignments, diagnostic settings), 2 per region, 2 per private endpoint (it and its DNS
    # zone group), 1 for the vault's grants
    assert sum(counts.values()) == 1 + 5 + 2 + 2 + 1, counts
    grants = [route for route in counts if route.endswith("/roleassignments")]
    assert sum(counts[r] for r in grants) == 2, counts  # the account's and the vault's


def test_destroy_removes_a_custom_named_diagnostic_setting_unless_it_changed_since_the_plan(
        workdir, cli, setup, external_emulator):
    from provisioner.azure.writers import ChangedSinceThePlan
    from provisioner.plan.model import Plan

    live, principals = setup
    document = spec(principals)
    document["accounts"][0]["diagnostics"]["name"] = "to-law"
    workdir.write(document)
    apply(cli)
    plan = Plan.from_dict(json.loads(cli("plan", "--destroy", "--output", "json").out))
    [change] = [c for c in plan.changes if c.kind.value == "diagnostic_setting"]
    live.monitor.diagnostic_settings.create_or_update(ACCOUNT, "to-law", {
        "workspace_id": WORKSPACE, "logs": [{"category": "Audit", "enabled": True}], "metrics": []})
    writer, clients = writer_for(external_emulator)
    with pytest.raises(ChangedSinceThePlan, match="changed since the plan was made"):
        writer.execute(change)
    clients.close()
    assert [s.name for s in live.monitor.diagnostic_settings.list(ACCOUNT)] == ["to-law"]
    result = cli("destroy", "--auto-approve")  # a new plan: it is the spec's setting, deleted
    assert result.code == 0, result.out + result.err
    assert list(live.monitor.diagnostic_settings.list(ACCOUNT)) == []


def test_every_role_provision_knows_by_name_is_that_built_in_role(setup):
    from provisioner.model.roles import BUILT_IN_ROLES

    live, _ = setup
    for name, role_id in BUILT_IN_ROLES.items():
        definition = live.authorization.role_definitions.get(f"/subscriptions/{SUB}", role_id)
        assert (definition.role_name, definition.role_type) == (name, "BuiltInRole")


def test_a_grant_made_as_infra_bicep_makes_it_is_this_specs_grant(workdir, cli, setup, external_emulator):
    """infra/ names grants guid(toLower(scope.id), principal, role) and describes them with provision's
    marker; ARM's guid() must give provision's own name, so the plan sees that grant as already made."""
    from azure.mgmt.resource.deployments import DeploymentsMgmtClient

    live, principals = setup
    workdir.write(spec(principals))
    apply(cli)
    team = {p: n for n, (p, r, _) in live.grants().items() if r == CONTRIBUTOR}[principals["team"]]
    live.authorization.role_assignments.delete(ACCOUNT, team)
    assert cli("plan", "--detailed-exitcode").code == 2  # the team's grant is missing now

    account = "resourceId('Microsoft.CognitiveServices/accounts', 'aoai-sec')"
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [{
            "type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
            "scope": "Microsoft.CognitiveServices/accounts/aoai-sec",
            "name": f"[guid(toLower({account}), '{principals['team']}', '{CONTRIBUTOR}')]",
            "properties": {
                "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}",
                "principalId": principals["team"], "principalType": "Group",
                "description": "managed-by=provision; provision-spec=sec"}}]}
    arm = DeploymentsMgmtClient(external_emulator.credential, SUB, **sdk_kwargs(external_emulator))
    try:
        deployment = arm.deployments.begin_create_or_update(
            "rg-sec", "infra-grant", {"properties": {"mode": "Incremental", "template": template}}).result()
        assert deployment.properties.provisioning_state == "Succeeded", deployment.properties.error
    finally:
        arm.close()
    assert team in live.grants()  # the template's guid() is provision's name
    result = cli("plan", "--detailed-exitcode")
    assert result.code == 0, result.out + result.err


# what the security settings write, when the answer is lost after Azure carried it out
LOST_WRITES = {
    "private endpoint": ("PUT", r"/privateEndpoints/pe-aoai-sec$", "apply"),
    "DNS zone group": ("PUT", r"/privateDnsZoneGroups/", "apply"),
    "grant": ("PUT", r"/roleAssignments/", "apply"),
    "diagnostic setting": ("PUT", r"/diagnosticSettings/", "apply"),
    "grant deletion": ("DELETE", r"/roleAssignments/", "drop-grant"),
    "private endpoint deletion": ("DELETE", r"/privateEndpoints/pe-aoai-sec$", "destroy"),
}


@pytest.mark.parametrize("fault", ["commit_drop", "commit_status"])
@pytest.mark.parametrize("what", list(LOST_WRITES))
def test_a_lost_answer_to_a_security_write_converges_without_duplicates(workdir, cli, setup, external_emulator,
                                                                       what, fault):
    live, principals = setup
    method, path, how = LOST_WRITES[what]
    document = spec(principals)
    workdir.write(document)
    if how != "apply":
        apply(cli)
    if how == "drop-grant":
        workdir.write(spec(principals, grants=[
            {"principal": principals["app"], "type": "service_principal", "role": "Cognitive Services OpenAI User"}]))
    external_emulator.control.inject_fault(fault, method=method, path=path, status=503, times=1)

    result = cli("destroy", "--auto-approve") if how == "destroy" else cli("apply", "--auto-approve")
    assert result.code == 0, result.out + result.err
    store = external_emulator.app.store
    with store.transaction():
        assert not store.faults(), "the fault never fired: the test proved nothing"
    endpoints = [e.name for e in live.network.private_endpoints.list("rg-sec")]
    if how == "destroy":
        assert endpoints == []
        assert cli("destroy", "--auto-approve").code == 0
        return
    assert endpoints == ["pe-aoai-sec"]
    assert len(list(live.network.private_dns_zone_groups.list("pe-aoai-sec", "rg-sec"))) == 1
    assert len(list(live.monitor.diagnostic_settings.list(ACCOUNT))) == 1
    expected = {(principals["app"], OPENAI_USER)}
    if how == "apply":
        expected.add((principals["team"], CONTRIBUTOR))
    assert sorted((p, r) for p, r, _ in live.grants().values()) == sorted(expected)  # no second assignment
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err


def test_a_private_endpoint_whose_operation_failed_is_reported_then_repaired(workdir, cli, setup, external_emulator):
    live, principals = setup
    workdir.write(spec(principals))
    external_emulator.control.inject_fault("lro_failed", method="PUT", path=r"/privateEndpoints/pe-aoai-sec$",
                                           code="SubnetIsFull", message="Injected failure.")  # not worth a retry
    first = cli("apply", "--auto-approve")
    with external_emulator.app.store.transaction():
        assert not external_emulator.app.store.faults(), "the fault never fired"
    assert first.code != 0  # never a success while the endpoint is not Succeeded
    assert "pe-aoai-sec" in first.out + first.err
    apply(cli)
    assert live.network.private_endpoints.get("rg-sec", "pe-aoai-sec").provisioning_state == "Succeeded"
    assert cli("plan", "--detailed-exitcode").code == 0


MARKS = {"provision-access": "managed", "provision-diagnostics": "managed"}


def account_tags(live) -> dict[str, str]:
    return dict(live.cognitive.accounts.get("rg-sec", "aoai-sec").tags or {})


def test_grants_and_settings_the_spec_drops_are_found_by_the_accounts_marks(workdir, cli, setup, external_emulator):
    """A plan lists an account's role assignments and diagnostic settings only where the spec declares
    them or the account's mark says provision made some: dropping them from the spec still revokes the
    grants and removes the setting, and the marks stay (a later plan keeps looking)."""
    live, principals = setup
    workdir.write(spec(principals))
    apply(cli)
    assert MARKS.items() <= account_tags(live).items()
    document = spec(principals)
    account = document["accounts"][0]
    del account["access"], account["diagnostics"]
    workdir.write(document)
    plan = plan_json(cli)
    assert sorted(kind for kind, _ in ((c["kind"], c) for c in plan["changes"] if c["action"] == "delete")) == [
        "diagnostic_setting", "role_assignment", "role_assignment"], pending(plan)
    assert not [c for c in plan["changes"] if c["kind"] == "account" and c["action"] != "no-op"]  # marks kept
    apply(cli)
    assert live.grants() == {}
    assert list(live.monitor.diagnostic_settings.list(ACCOUNT)) == []
    assert MARKS.items() <= account_tags(live).items()
    external_emulator.control.clear_requests()
    assert cli("plan", "--detailed-exitcode").code == 0
    counts = external_emulator.control.requests()["counts"]
    assert [n for route, n in counts.items() if route.endswith(("/roleassignments", "/diagnosticsettings"))] == [1, 1]


def test_a_mark_removed_by_hand_is_written_again_while_the_spec_declares_its_kind(workdir, cli, setup):
    live, principals = setup
    workdir.write(spec(principals))
    apply(cli)
    tags = {k: v for k, v in account_tags(live).items() if k != "provision-access"}
    live.cognitive.accounts.begin_update("rg-sec", "aoai-sec", {"tags": tags}).result()
    plan = plan_json(cli)
    [change] = [c for c in plan["changes"] if c["action"] != "no-op"]
    assert (change["kind"], change["action"]) == ("account", "update")
    assert change["after"]["tags"]["provision-access"] == "managed"
    apply(cli)
    assert MARKS.items() <= account_tags(live).items()
    assert cli("plan", "--detailed-exitcode").code == 0


def test_an_account_never_given_grants_is_not_listed_for_them_but_a_destroy_looks(workdir, cli, setup,
                                                                                   external_emulator):
    """Without grants or diagnostics in the spec and without a mark, a plan does not list them; someone
    else's grant and setting there are none of its business. A destroy of the account reads them all and
    refuses to take someone else's grant down with the account."""
    live, principals = setup
    document = spec(principals)
    account = document["accounts"][0]
    del account["access"], account["diagnostics"]
    workdir.write(document)
    apply(cli)
    assert not MARKS.keys() & account_tags(live).keys()
    live.authorization.role_assignments.create(ACCOUNT, "0c0c0c0c-0000-4000-8000-000000000003", {
        "role_definition_id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
        "principal_id": principals["team"], "principal_type": "Group"})
    external_emulator.control.clear_requests()
    assert cli("plan", "--detailed-exitcode").code == 0
    counts = external_emulator.control.requests()["counts"]
    assert not [route for route in counts if route.endswith(("/roleassignments", "/diagnosticsettings"))], counts
    refused = cli("plan", "--destroy", "--include-accounts")
    assert refused.code == 1
    assert "roleAssignments/0c0c0c0c-0000-4000-8000-000000000003 (not managed by provision)" in refused.err
