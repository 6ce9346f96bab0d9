"""`provision import` of an account's security settings, end to end: an isolated account made by hand with
the SDK clients (network rules, identities, outbound restriction, a private endpoint with its DNS zone,
grants, diagnostics) imports to a spec that plans nothing but adoptions and no-ops, one apply later
nothing at all; what a spec cannot say is left out with a note; a spec's own account imports to itself."""
from __future__ import annotations

import json

import yaml

from provisioner.model.resources import role_assignment_name
from tests.e2e.test_security import (  # noqa: F401 - setup is a fixture
    ACCOUNT,
    APPS,
    CONTRIBUTOR,
    IDENTITY,
    OPENAI_USER,
    READER,
    SUB,
    SUBNET,
    WORKSPACE,
    ZONE,
    apply,
    plan_json,
    setup,
    spec,
)

OTHER_NAME = "0c0c0c0c-0000-4000-8000-00000000000a"
FOREIGN_NAME = "0c0c0c0c-0000-4000-8000-00000000000b"
EARLIER_NAME = "0c0c0c0c-0000-4000-8000-00000000000c"
ROLE = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"


def _by_hand(live, principals) -> str:
    """The isolated account as a portal or a script leaves it (no ownership tags or descriptions);
    returns the name of the grant made under provision's own name for it."""
    live.resources.resource_groups.create_or_update("rg-sec", {"location": "eastus2"})
    account = live.cognitive.accounts.begin_create("rg-sec", "aoai-sec", {
        "location": "eastus2", "kind": "OpenAI", "sku": {"name": "S0"},
        "identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
        "properties": {"customSubDomainName": "aoai-sec", "publicNetworkAccess": "Disabled", "disableLocalAuth": True,
                       "networkAcls": {"defaultAction": "Deny", "bypass": "None",
                                       "ipRules": [{"value": "203.0.113.0/24"}, {"value": "198.51.100.7"}],
                                       "virtualNetworkRules": [{"id": APPS}]},
                       "restrictOutboundNetworkAccess": True, "allowedFqdnList": ["api.contoso.com"]}}).result()
    live.cognitive.deployments.begin_create_or_update("rg-sec", "aoai-sec", "chat", {
        "sku": {"name": "GlobalStandard", "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": "gpt-4o-mini", "version": "2024-07-18"}}}).result()
    for group, name in (("rg-sec", "pe-aoai-sec"), ("rg-net", "pe-hub")):  # the second is in another group
        live.network.private_endpoints.begin_create_or_update(group, name, {
            "location": "eastus2", "properties": {"subnet": {"id": SUBNET}, "privateLinkServiceConnections": [
                {"name": name, "properties": {"privateLinkServiceId": account.id, "groupIds": ["account"]}}]}}).result()
    zone_config = {"name": "openai", "properties": {"privateDnsZoneId": ZONE}}
    live.network.private_dns_zone_groups.begin_create_or_update("rg-sec", "pe-aoai-sec", "default", {
        "properties": {"privateDnsZoneConfigs": [zone_config]}}).result()
    own_name = role_assignment_name(ACCOUNT.lower(), principals["app"], OPENAI_USER)
    grants = {own_name: (principals["app"], "ServicePrincipal", OPENAI_USER, ""),  # as infra/ names it
              OTHER_NAME: (principals["team"], "Group", CONTRIBUTOR, "made in the portal"),
              FOREIGN_NAME: (principals["identity_principal"], "ServicePrincipal", READER,
                             "managed-by=provision; provision-spec=elsewhere"),
              # this spec's own, made before assignments were named by guid()
              EARLIER_NAME: (principals["app"], "ServicePrincipal", READER, "managed-by=provision; provision-spec=sec")}
    for name, (principal, kind, role, description) in grants.items():
        live.authorization.role_assignments.create(ACCOUNT, name, {
            "role_definition_id": ROLE + role, "principal_id": principal, "principal_type": kind,
            "description": description})
    live.monitor.diagnostic_settings.create_or_update(ACCOUNT, "to-law", {
        "workspace_id": WORKSPACE, "logs": [{"category": "Audit", "enabled": True},
                                            {"category": "RequestResponse", "enabled": True}], "metrics": []})
    live.monitor.diagnostic_settings.create_or_update(ACCOUNT, "to-archive", {
        "workspace_id": WORKSPACE, "storage_account_id": f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/"
                                                        "Microsoft.Storage/storageAccounts/starchive",
        "logs": [{"category": "Trace", "enabled": True}], "metrics": []})
    return own_name


def _import(cli, *extra) -> str:
    result = cli("import", "--resource-group", "rg-sec", "--subscription", SUB, "--out", "deployments.yaml",
                 "--force", *extra)
    assert result.code == 0, result.out + result.err
    return open("deployments.yaml").read()


def test_an_isolated_account_imports_to_adoptions_and_no_ops_then_nothing(workdir, cli, setup, external_emulator):
    live, principals = setup
    own_name = _by_hand(live, principals)
    external_emulator.control.clear_requests()
    text = _import(cli, "--name", "sec")
    served = external_emulator.control.requests()
    # the group's accounts, three lists per account (deployments, filters, blocklists), its grants, its diagnostic
    # settings, and per connected endpoint the endpoint and its zone group: reads only, none per grant or setting
    assert all(route.startswith("GET ") for route in served["counts"]), served
    assert served["total"] == 1 + 3 + 2 + 2 * 2, served
    account = yaml.safe_load(text)["accounts"][0]
    assert account["network"] == {"public_access": "disabled", "ip_rules": ["198.51.100.7", "203.0.113.0/24"],
                                  "virtual_network_rules": [APPS.lower()], "bypass": "none"}
    assert account["identity"] == {"system_assigned": True, "user_assigned": [IDENTITY.lower()]}
    assert (account["restrict_outbound"], account["allowed_fqdns"], account["local_auth"]) == \
        (True, ["api.contoso.com"], False)
    assert account["private_endpoints"] == [{"name": "pe-aoai-sec", "subnet": SUBNET.lower(),
                                             "dns_zone_ids": [ZONE.lower()]}]
    assert sorted(account["access"], key=lambda g: g["role"]) == [
        {"principal": principals["team"], "type": "group", "role": "Cognitive Services OpenAI Contributor"},
        {"principal": principals["app"], "type": "service_principal", "role": "Cognitive Services OpenAI User"},
        {"principal": principals["app"], "type": "service_principal", "role": "Reader"}]
    assert account["diagnostics"] == {"workspace": WORKSPACE.lower(), "logs": ["Audit", "RequestResponse"],
                                      "metrics": False, "name": "to-law"}
    # what a spec cannot say is named at the top, and the grant someone else made is marked
    assert "# Left out: private endpoint pe-hub of aoai-sec (it is in resource group rg-net" in text
    assert f"# Left out: role assignment {FOREIGN_NAME} on aoai-sec (managed by spec elsewhere)" in text
    assert "# Left out: diagnostic setting to-archive on aoai-sec (it also sends to storageAccountId" in text
    assert f"granted by role assignment {OTHER_NAME}, which provision leaves to whoever made it" in text
    assert f"granted by role assignment {EARLIER_NAME}, this spec's under an earlier name" in text

    plan = plan_json(cli)
    actions = {c["address"]: c["action"] for c in plan["changes"]}
    assert {a: x for a, x in actions.items() if x != "no-op"} == {
        "aoai-sec": "adopt", "aoai-sec/deployments/chat": "adopt", "aoai-sec/privateEndpoints/pe-aoai-sec": "adopt",
        f"aoai-sec/roleAssignments/{own_name}": "adopt"}
    assert "create" not in actions.values()  # never a second assignment Azure would refuse (RoleAssignmentExists)
    team_grant = role_assignment_name(ACCOUNT.lower(), principals["team"], CONTRIBUTOR)
    assert actions[f"aoai-sec/roleAssignments/{team_grant}"] == "no-op"
    assert actions[f"aoai-sec/roleAssignments/{role_assignment_name(ACCOUNT.lower(), principals['app'], READER)}"] \
        == "no-op"  # and the assignment that grants it is not pruned
    assert actions["aoai-sec/diagnosticSettings/to-law"] == "no-op"
    for change in plan["changes"]:  # adopting writes the ownership marker (and the account's marks) and nothing else
        assert {f["path"] for f in change["fields"]} <= {"tags.managed-by", "tags.provision-spec", "description",
                                                         "tags.provision-access", "tags.provision-diagnostics"}, \
            change

    apply(cli)
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
    assert "No changes." in again.out
    grants = live.grants()
    assert grants[own_name][2] == "managed-by=provision; provision-spec=sec"
    assert grants[OTHER_NAME][2] == "made in the portal"  # another's grant is left as it was
    assert grants[FOREIGN_NAME][2] == "managed-by=provision; provision-spec=elsewhere"
    assert EARLIER_NAME in grants
    assert live.network.private_endpoints.get("rg-sec", "pe-aoai-sec").tags["provision-spec"] == "sec"
    acls = live.cognitive.accounts.get("rg-sec", "aoai-sec").properties.network_acls
    assert (acls.default_action, acls.bypass, len(acls.ip_rules)) == ("Deny", "None", 2)
    settings = {s.name: s for s in live.monitor.diagnostic_settings.list(ACCOUNT)}
    assert settings["to-archive"].storage_account_id  # left out, so left alone
    # imported again, the account reads the same: nothing was written that a spec does not say
    assert _import(cli, "--name", "sec") == text


def test_a_spec_applied_then_imported_into_an_empty_directory_plans_nothing(workdir, cli, setup):
    live, principals = setup
    workdir.write(spec(principals))
    apply(cli)
    (workdir.root / "deployments.yaml").unlink()
    text = _import(cli, "--name", "sec")
    account = yaml.safe_load(text)["accounts"][0]
    assert "name" not in account["diagnostics"]  # provision's default name for this spec
    assert "# Left out" not in text and "granted by role assignment" not in text
    result = cli("plan", "--detailed-exitcode", "--output", "json")
    assert result.code == 0, result.out + result.err
    assert {c["action"] for c in json.loads(result.out)["changes"]} == {"no-op"}
