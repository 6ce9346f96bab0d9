"""Bad security settings are errors naming file, line and field: CIDRs, resource ids of the right type,
GUID principals, role names (with a suggestion), duplicates, and settings an existing account cannot take."""
from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.errors import SpecError
from provisioner.spec import load_from_text

EXAMPLE = (Path(__file__).resolve().parents[2] / "examples" / "secure.yaml").read_text()
SUB = "00000000-0000-0000-0000-000000000000"
SUBNET = f"/subscriptions/{SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/a"
NETWORK = "      default_action: deny\n      bypass: none\n"


def errors(text: str, severity: str = "error") -> list[str]:
    try:
        spec, _ = load_from_text(text, "deployments.yaml")
    except SpecError as caught:
        return [str(d) for d in caught.diagnostics if d.severity == severity]
    return [str(d) for d in spec.warnings if d.severity == severity]


def edited(old: str, new: str) -> str:
    assert EXAMPLE.count(old) == 1, old
    return EXAMPLE.replace(old, new)


def line_of(text: str, words: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if words in line)


def test_the_example_is_valid():
    load_from_text(EXAMPLE, "examples/secure.yaml")


@pytest.mark.parametrize("rule, message", [
    ("10.1.0.0/16", "'10.1.0.0/16' is not a public address: IP rules admit public internet addresses only"),
    ("192.168.4.1", "is not a public address"),
    ("203.0.113.7/24", "'203.0.113.7/24' has host bits set; the range is 203.0.113.0/24"),
    ("203.0.113.7/32", "Azure does not take /31 or /32 ranges; write each address on its own"),
    ("2001:db8::/32", "is IPv6; Azure OpenAI IP rules take IPv4 addresses and ranges only"),
    ("203.0.113", "'203.0.113' is not an IPv4 address or CIDR range such as 203.0.113.0/24"),
])
def test_ip_rules(rule, message):
    text = edited(NETWORK, NETWORK + f"      ip_rules: ['198.51.100.7', '{rule}']\n")
    [error] = errors(text)
    assert error.startswith(f"deployments.yaml:{line_of(text, 'ip_rules')}:")
    assert "accounts[0].network.ip_rules[1]: " in error and message in error


def test_duplicate_ip_rules_and_more_than_a_hundred():
    text = edited(NETWORK, NETWORK + "      ip_rules: [198.51.100.7, 198.51.100.7]\n")
    [error] = errors(text)
    assert "accounts[0].network.ip_rules[1]: duplicate IP rule '198.51.100.7'" in error
    many = ", ".join(f"198.51.{i // 250}.{i % 250 + 1}" for i in range(101))
    [error] = errors(edited(NETWORK, NETWORK + f"      ip_rules: [{many}]\n"))
    assert "101 IP rules; Azure allows at most 100 per account" in error


@pytest.mark.parametrize("old, new, field, words", [
    ("subnet: /subscriptions/", "subnet: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/x/"
     "providers/Microsoft.Network/virtualNetworks/v #", "accounts[0].private_endpoints[0].subnet",
     "is the id of a microsoft.network/virtualnetworks resource, not of a subnet"),
    ("      workspace: /subscriptions/", "      workspace: rg-monitoring/log-platform #", "accounts[0].diagnostics.workspace",
     "is not an Azure resource id: expected the id of a Log Analytics workspace"),
    ("          - /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-network/providers/Microsoft.Network/privateDnsZones",
     "          - /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-network/providers/Microsoft.Network/dnsZones",
     "accounts[0].private_endpoints[0].dns_zone_ids[0]", "not of a private DNS zone"),
    ("      system_assigned: true", f"      system_assigned: true\n      user_assigned: ['{SUBNET}']",
     "accounts[0].identity.user_assigned[0]", "not of a user-assigned managed identity"),
    ("principal: 22222222-2222-2222-2222-222222222222", "principal: platform-team", "accounts[0].access[1].principal",
     "'platform-team' is not an object id"),
    ("role: Cognitive Services OpenAI Contributor", "role: Cognitive Services OpenAI Contributer",
     "accounts[0].access[1].role", "did you mean 'Cognitive Services OpenAI Contributor'?"),
    ("role: Key Vault Secrets User", "role: Key Vault Secret Reader", "key_vault.access[0].role",
     "unknown role 'Key Vault Secret Reader'"),
    ("    allowed_fqdns: []", "    allowed_fqdns: ['https://api.contoso.com/v1']", "accounts[0].allowed_fqdns[0]",
     "is not a host name such as api.contoso.com"),
    ("      logs: all", "      logs: []", "accounts[0].diagnostics.logs", "logs is empty"),
    ("      - name: pe-aoai-secure-eus2", "      - name: -pe", "accounts[0].private_endpoints[0].name",
     "is not valid as a private endpoint name"),
])
def test_wrong_values_name_their_field(old, new, field, words):
    text = edited(old, new)
    found = [e for e in errors(text) if f": {field}: " in e]
    assert len(found) == 1, errors(text)
    assert words in found[0]
    assert found[0].startswith(f"deployments.yaml:{line_of(text, new.strip().split(chr(10))[-1])}:")


def test_duplicate_grants_and_endpoints():
    grant = "      - principal: 11111111-1111-1111-1111-111111111111   # the application's managed identity\n" \
            "        type: service_principal\n        role: Cognitive Services OpenAI User\n"
    text = edited(grant, grant + grant.replace("Cognitive Services OpenAI User", "cognitive services openai user"))
    [error] = errors(text)
    assert "accounts[0].access[1]: duplicate grant: principal '11111111-1111-1111-1111-111111111111' already has" in error
    endpoint_start = EXAMPLE.index("      - name: pe-aoai-secure-eus2\n")
    endpoint = EXAMPLE[endpoint_start:EXAMPLE.index("    identity:\n")]
    [error] = errors(edited(endpoint, endpoint + endpoint))
    assert "accounts[0].private_endpoints[1].name: duplicate private endpoint name 'pe-aoai-secure-eus2'" in error


def test_public_network_access_contradicting_network_public_access():
    text = edited("    local_auth: false ", "    public_network_access: enabled\n    local_auth: false ")
    [error] = errors(text)
    assert error.startswith(f"deployments.yaml:{line_of(text, 'public_network_access')}:")
    assert "public_network_access: enabled contradicts network.public_access: disabled" in error


def test_an_existing_account_cannot_take_account_settings():
    text = edited("  - name: aoai-secure-eus2\n", "  - name: aoai-secure-eus2\n    existing: true\n")
    found = errors(text)
    assert sorted(e.split(": ")[1] for e in found) == ["accounts[0].allowed_fqdns", "accounts[0].identity",
                                                        "accounts[0].network", "accounts[0].restrict_outbound"]
    assert all("has `existing: true`" in e for e in found)
    # public_network_access was ignored on existing accounts before: still a warning only
    legacy = "version: 1\naccounts:\n  - {name: shared, existing: true, public_network_access: disabled, " \
             f"subscription: {SUB}, resource_group: g, location: eastus}}\n"
    assert errors(legacy) == []
    assert "and ignores it" in errors(legacy, "warning")[0]


def test_rules_under_allow_and_fqdns_without_restriction_are_warnings():
    text = edited("      default_action: deny\n", "      default_action: allow\n      ip_rules: [198.51.100.7]\n")
    assert any("ip_rules and virtual_network_rules have no effect" in w for w in errors(text, "warning"))
    text = edited("    restrict_outbound: true           # the account may call out to nothing else\n"
                  "    allowed_fqdns: []\n", "    allowed_fqdns: [api.contoso.com]\n")
    assert any("allowed_fqdns takes effect only with restrict_outbound: true" in w for w in errors(text, "warning"))
