"""The import writer's YAML scalars: whatever a live value holds, the spec reads it back unchanged
(YAML reads the text; the spec loader then turns `$${` into a literal `${`)."""
from __future__ import annotations

import pytest
import yaml

from provisioner.errors import ProvisionerError
from provisioner.model import rest
from provisioner.model.observed import ObservedResource, ObservedState
from provisioner.model.resources import Kind, Resource, Scope, role_assignment_name
from provisioner.plan import differ
from provisioner.spec import load_from_text
from provisioner.spec.importer import _flow, _scalar, write_spec
from provisioner.spec.loader import load_text

HOSTILE = ["plain", "yes", "no", "null", "~", "1.0", "007", "2024-11-20", "a: b", "a #b", "#x", "- x", "[x]",
           "{x}", "a,b", "ba[rz]+", "'quoted'", '"dq"', "", " padded ", "multi\nline", "tab\there", "*ref", "&anchor",
           "!tag", "%x", "@x", "`x", "|", ">", "?", "ünïcode", "${VAR}"]


@pytest.mark.parametrize("value", HOSTILE)
def test_block_and_flow_scalars_read_back_as_written(value):
    text = value.replace("${", "$${")
    assert yaml.safe_load(f"k: {_scalar(value)}") == {"k": text}
    assert yaml.safe_load(f"k: {_flow([value, {'regex': value}])}") == {"k": [text, {"regex": text}]}


def test_a_literal_dollar_brace_survives_the_spec_loader():
    spec = load_text(f"version: 1\nblocklists: {{b: {{description: {_flow('costs ${5}')}}}}}\naccounts: []\n")
    assert spec.blocklists["b"].description == "costs ${5}"


# security settings: written from observed state (no SDK, no emulator), read back, planned against the same state

SUB = "00000000-0000-0000-0000-0000000000aa"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg"
ACCOUNT_ID = f"{GROUP}/providers/Microsoft.CognitiveServices/accounts/acct"
SUBNET = f"{GROUP}/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
ZONE = f"{GROUP}/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"
WORKSPACE = f"{GROUP}/providers/Microsoft.OperationalInsights/workspaces/w"
USER_ROLE = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
PRINCIPAL = "11111111-1111-1111-1111-111111111111"


def _observed(kind, name, properties, group="rg"):
    scope = Scope(SUB, group) if kind is Kind.ACCOUNT else Scope(SUB, group, account="acct")
    return ObservedResource(Resource(kind, name, scope, properties), azure_id=f"/x/{name}")


def _account(**properties):
    doc = {"name": "acct", "location": "eastus2", "kind": "OpenAI", "sku": {"name": "S0"},
           "properties": {"customSubDomainName": "acct", **properties}}
    return _observed(Kind.ACCOUNT, "acct", rest.account_properties(doc))


def _grant(name, principal_type="User", description=""):
    return _observed(Kind.ROLE_ASSIGNMENT, name, rest.role_assignment_properties({"properties": {
        "scope": ACCOUNT_ID, "principalId": PRINCIPAL, "principalType": principal_type, "description": description,
        "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{USER_ROLE}"}}))


def _setting(name, **properties):
    body = {"workspaceId": WORKSPACE, "logs": [{"categoryGroup": "allLogs", "enabled": True}], "metrics": [],
            **properties}
    return _observed(Kind.DIAGNOSTIC_SETTING, name, rest.diagnostic_setting_properties({"properties": body}))


def _endpoint(name, group="rg", group_id="account", manual=False):
    connection = {"properties": {"privateLinkServiceId": ACCOUNT_ID, "groupIds": [group_id],
                                 "privateLinkServiceConnectionState": {"status": "Pending" if manual else "Approved"}}}
    connections = "manualPrivateLinkServiceConnections" if manual else "privateLinkServiceConnections"
    doc = {"name": name, "location": "eastus2", "properties": {"subnet": {"id": SUBNET}, connections: [connection]}}
    zones = {"properties": {"privateDnsZoneConfigs": [{"properties": {"privateDnsZoneId": ZONE}}]}}
    return _observed(Kind.PRIVATE_ENDPOINT, name, rest.private_endpoint_properties(doc, zones), group)


def _written(*observed):
    """The spec text, its account as YAML reads it, and the pending actions of planning it against `observed`."""
    text = write_spec(observed, name="imported", source="a test")
    _, desired = load_from_text(text)
    group = ObservedResource(Resource(Kind.RESOURCE_GROUP, "rg", Scope(SUB, "rg"), {"location": "eastus2"}), "/g")
    live = ObservedState(resources={o.resource.address: o for o in (group, *observed)})
    plan = differ.make_plan(desired, live, spec_file="deployments.yaml", spec_digest="d")
    return text, yaml.safe_load(text)["accounts"][0], {c.address: c.action.value for c in plan.pending}


@pytest.mark.parametrize("acls, public, network", [
    (None, "Enabled", None),  # open to every network: nothing to say
    (None, "Disabled", {"public_access": "disabled"}),
    ({"defaultAction": "Deny"}, "Enabled", {"default_action": "deny"}),  # deny with no rules: said, not inferred
    ({"defaultAction": "Allow", "ipRules": [{"value": "203.0.113.7/32"}]}, "Enabled",
     {"default_action": "allow", "ip_rules": ["203.0.113.7"]}),
    ({"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.0/24"}], "bypass": "AzureServices"}, "Enabled",
     {"ip_rules": ["203.0.113.0/24"]}),
])
def test_the_network_is_written_only_where_it_differs_from_azures_defaults(acls, public, network):
    properties = {"publicNetworkAccess": public, **({"networkAcls": acls} if acls else {})}
    _, account, pending = _written(_account(**properties))
    assert account.get("network") == network
    assert pending == {"acct": "adopt"}


def test_a_bypass_the_spec_cannot_say_is_an_error():
    with pytest.raises(ProvisionerError, match="network bypass 'Logging' has no spec equivalent"):
        _written(_account(networkAcls={"defaultAction": "Deny", "bypass": "Logging"}))


def test_what_a_spec_cannot_say_is_left_out_with_a_note_and_the_rest_plans_to_adoptions():
    observed = [_account(), _endpoint("pe"), _endpoint("pe-hub", group="rg-hub"), _endpoint("pe-odd", group_id="x"),
                _endpoint("pe-manual", manual=True),
                _grant("0c0c0c0c-0000-4000-8000-000000000001"),
                _grant("0c0c0c0c-0000-4000-8000-000000000002", principal_type="ForeignGroup"),
                _setting("a-metrics-only", logs=[], metrics=[{"category": "AllMetrics", "enabled": True}]),
                _setting("b-to-hub", eventHubAuthorizationRuleId="/r", eventHubName="h"),
                _setting("c-unknown", logs=[{"category": "Spam", "enabled": True}]),
                _setting("d-first"), _setting("e-second", logs=[{"category": "Audit", "enabled": True}])]
    text, account, pending = _written(*observed)
    assert [e["name"] for e in account["private_endpoints"]] == ["pe"]
    assert account["access"] == [{"principal": PRINCIPAL, "type": "user", "role": "Cognitive Services OpenAI User"}]
    assert account["diagnostics"] == {"workspace": WORKSPACE.lower(), "metrics": False, "name": "d-first"}
    notes = [line for line in text.splitlines() if line.startswith("# Left out: ")]
    assert [n.split(" (")[0] for n in notes] == [
        "# Left out: private endpoint pe-hub of acct", "# Left out: private endpoint pe-manual of acct",
        "# Left out: private endpoint pe-odd of acct",
        "# Left out: role assignment 0c0c0c0c-0000-4000-8000-000000000002 on acct",
        "# Left out: diagnostic setting a-metrics-only on acct", "# Left out: diagnostic setting b-to-hub on acct",
        "# Left out: diagnostic setting c-unknown on acct", "# Left out: diagnostic setting e-second on acct"]
    assert "manual connection" in notes[1] and "eventHubAuthorizationRuleId" in notes[5] and "Spam" in notes[6]
    assert pending == {"acct": "adopt", "acct/privateEndpoints/pe": "adopt"}  # the grant is someone else's: no-op


def test_the_setting_with_the_specs_default_name_is_preferred_and_written_without_its_name():
    _, account, pending = _written(_account(), _setting("a-first"), _setting("provision-imported"))
    assert account["diagnostics"] == {"workspace": WORKSPACE.lower(), "metrics": False}
    assert pending == {"acct": "adopt"}


def test_a_grant_under_provisions_name_is_adopted_and_its_description_replacement_is_said():
    name = role_assignment_name(ACCOUNT_ID.lower(), PRINCIPAL, USER_ROLE)
    text, account, pending = _written(_account(), _grant(name, description="kept by the security team"))
    assert account["access"] == [{"principal": PRINCIPAL, "type": "user", "role": "Cognitive Services OpenAI User"}]
    assert 'adopting replaces its description "kept by the security team"' in text
    assert pending == {"acct": "adopt", f"acct/roleAssignments/{name}": "adopt"}
