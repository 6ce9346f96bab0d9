"""build_desired for the security fields: account properties, private endpoints, grants, diagnostics."""
from pathlib import Path

from provisioner.model import roles
from provisioner.model.resources import (
    Kind,
    Scope,
    address_of,
    assignment_owner,
    owner_of_resource,
    role_assignment_name,
)
from provisioner.spec import load_from_text
from provisioner.spec.desired import build_desired

EXAMPLE = (Path(__file__).resolve().parents[2] / "examples" / "secure.yaml").read_text()
SUB = "00000000-0000-0000-0000-000000000000"
ACCOUNT_ID = f"/subscriptions/{SUB}/resourcegroups/rg-aoai-secure/providers/microsoft.cognitiveservices/accounts/" \
             "aoai-secure-eus2"
APP = "11111111-1111-1111-1111-111111111111"
TEAM = "22222222-2222-2222-2222-222222222222"


def desired_of(text: str = EXAMPLE, name: str = "secure"):
    spec, _ = load_from_text(text, "deployments.yaml")
    return build_desired(spec, name)


def of_kind(desired, kind):
    return [r for r in desired.resources if r.kind is kind]


def test_network_identity_and_outbound_are_account_properties():
    [account] = of_kind(desired_of(), Kind.ACCOUNT)
    props = account.properties
    assert props["public_network_access"] == "Disabled"
    assert props["network"] == {"default_action": "Deny", "bypass": "None", "ip_rules": [],
                                "virtual_network_rules": []}
    assert props["identity"] == {"system_assigned": True, "user_assigned": []}
    assert props["restrict_outbound"] is True and props["allowed_fqdns"] == []


def test_rules_given_deny_by_default_and_ids_are_lowercase_sorted_unique():
    subnet = f"/subscriptions/{SUB}/resourceGroups/RG-Net/providers/Microsoft.Network/virtualNetworks/v/subnets/S"
    text = EXAMPLE.replace("      default_action: deny\n      bypass: none\n",
                           f"      ip_rules: [203.0.113.0/24, 198.51.100.7]\n"
                           f"      virtual_network_rules: ['{subnet}']\n")
    [account] = of_kind(desired_of(text), Kind.ACCOUNT)
    assert account.properties["network"] == {
        "default_action": "Deny", "bypass": "AzureServices", "ip_rules": ["198.51.100.7", "203.0.113.0/24"],
        "virtual_network_rules": [subnet.lower()]}


def test_public_network_access_alone_still_works():
    text = EXAMPLE.replace("    network:\n      public_access: disabled", "    public_network_access: disabled\n"
                           "    network:\n      public_access: disabled")
    [account] = of_kind(desired_of(text), Kind.ACCOUNT)
    assert account.properties["public_network_access"] == "Disabled"


def test_private_endpoint_connects_the_account_with_its_dns_zone():
    desired = desired_of()
    [endpoint] = of_kind(desired, Kind.PRIVATE_ENDPOINT)
    assert endpoint.address == "aoai-secure-eus2/privateEndpoints/pe-aoai-secure-eus2"
    assert endpoint.scope == Scope(SUB, "rg-aoai-secure", account="aoai-secure-eus2")
    assert endpoint.properties == {
        "location": "eastus2",
        "subnet": f"/subscriptions/{SUB}/resourcegroups/rg-network/providers/microsoft.network/virtualnetworks/"
                  "vnet-hub/subnets/snet-private-endpoints",
        "target": ACCOUNT_ID, "group_id": "account",
        "dns_zone_ids": [f"/subscriptions/{SUB}/resourcegroups/rg-network/providers/microsoft.network/"
                         "privatednszones/privatelink.openai.azure.com"],
        "tags": {"managed-by": "provision", "provision-spec": "secure"}}
    assert endpoint.depends_on == ("aoai-secure-eus2",)
    assert endpoint.source.line == EXAMPLE.splitlines().index("      - name: pe-aoai-secure-eus2") + 1


def test_grants_are_role_assignments_with_deterministic_names_and_our_description():
    desired = desired_of()
    grants = {r.properties["principal"]: r for r in of_kind(desired, Kind.ROLE_ASSIGNMENT)
              if r.scope.account == "aoai-secure-eus2"}
    app = grants[APP]
    assert app.properties == {"scope": ACCOUNT_ID, "principal": APP, "principal_type": "ServicePrincipal",
                              "role": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
                              "role_name": "Cognitive Services OpenAI User",
                              "description": "managed-by=provision; provision-spec=secure"}
    assert app.name == role_assignment_name(ACCOUNT_ID, APP, "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd")
    assert app.address == f"aoai-secure-eus2/roleAssignments/{app.name}"
    assert grants[TEAM].properties["principal_type"] == "Group"
    assert grants[TEAM].properties["role"] == roles.BUILT_IN_ROLES["Cognitive Services OpenAI Contributor"]
    assert assignment_owner(app.properties["description"]) == "secure"
    assert app.depends_on == ("aoai-secure-eus2",)
    # the same inputs give the same name, whatever the spec or the case they are written in
    again = desired_of(EXAMPLE.replace(APP, APP.upper()).replace("Cognitive Services OpenAI User",
                                                                 "cognitive services openai user"), "other")
    assert app.name in {r.name for r in of_kind(again, Kind.ROLE_ASSIGNMENT)}


def test_a_role_given_by_id_names_the_same_assignment_as_its_name():
    role_id = "/providers/Microsoft.Authorization/roleDefinitions/5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
    by_id = EXAMPLE.replace("role: Cognitive Services OpenAI User", f"role: {role_id}")
    names = lambda d: sorted(r.name for r in of_kind(d, Kind.ROLE_ASSIGNMENT))  # noqa: E731
    assert names(desired_of(by_id)) == names(desired_of())


def test_key_vault_grants_are_on_the_vault():
    [grant] = [r for r in of_kind(desired_of(), Kind.ROLE_ASSIGNMENT) if r.scope.account is None]
    assert grant.scope == Scope(SUB, "rg-aoai-secure", key_vault="kv-aoai-secure")
    assert grant.address == f"key_vault:kv-aoai-secure/roleAssignments/{grant.name}"
    assert grant.properties["scope"] == f"/subscriptions/{SUB}/resourcegroups/rg-aoai-secure/providers/" \
                                        "microsoft.keyvault/vaults/kv-aoai-secure"
    assert grant.properties["role_name"] == "Key Vault Secrets User"


def test_diagnostic_setting_has_the_spec_default_name_and_is_ours_by_it():
    [setting] = of_kind(desired_of(), Kind.DIAGNOSTIC_SETTING)
    assert setting.address == "aoai-secure-eus2/diagnosticSettings/provision-secure"
    assert setting.properties == {
        "workspace": f"/subscriptions/{SUB}/resourcegroups/rg-monitoring/providers/"
                     "microsoft.operationalinsights/workspaces/log-platform", "logs": "all", "metrics": True}
    assert owner_of_resource(Kind.DIAGNOSTIC_SETTING, "provision-secure", {}, "secure") == "secure"
    assert owner_of_resource(Kind.DIAGNOSTIC_SETTING, "by-hand", {}, "secure") is None
    named = desired_of(EXAMPLE.replace("      logs: all\n", "      logs: [Trace, Audit]\n      name: to-law\n"))
    [setting] = of_kind(named, Kind.DIAGNOSTIC_SETTING)
    assert (setting.name, setting.properties["logs"]) == ("to-law", ["Audit", "Trace"])


def test_defaults_apply_to_accounts_that_set_nothing_and_an_account_replaces_them():
    text = EXAMPLE.replace("  location: eastus2\n", "  location: eastus2\n  restrict_outbound: false\n  access:\n"
                           f"    - {{principal: {TEAM}, type: group, role: Reader}}\n", 1)
    text = text.replace("  - name: aoai-secure-eus2\n", "  - name: plain\n  - name: aoai-secure-eus2\n")
    desired = desired_of(text)
    plain = desired.by_address()["plain"]
    assert plain.properties["restrict_outbound"] is False
    grants = [r for r in of_kind(desired, Kind.ROLE_ASSIGNMENT) if r.scope.account == "plain"]
    assert [(g.properties["principal"], g.properties["role_name"]) for g in grants] == [(TEAM, "Reader")]
    own = [r for r in of_kind(desired, Kind.ROLE_ASSIGNMENT) if r.scope.account == "aoai-secure-eus2"]
    assert {g.properties["role_name"] for g in own} == {"Cognitive Services OpenAI User",
                                                         "Cognitive Services OpenAI Contributor"}
    assert desired.by_address()["aoai-secure-eus2"].properties["restrict_outbound"] is True


def test_nothing_declared_adds_nothing():
    desired = desired_of("version: 1\naccounts:\n  - {name: ab, subscription: " + SUB + ", resource_group: g, "
                         "location: eastus}\n")
    assert {r.kind for r in desired.resources} == {Kind.RESOURCE_GROUP, Kind.ACCOUNT}
    account = desired.by_address()[address_of(Kind.ACCOUNT, "ab", Scope(SUB, "g"))]
    assert [account.properties[k] for k in ("network", "identity", "restrict_outbound", "allowed_fqdns")] == [None] * 4
