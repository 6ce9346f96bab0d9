"""build_desired: the spec translated into Resources of the shared vocabulary."""
from textwrap import dedent

import pytest

from provisioner.model.resources import Kind, SourceLocation
from provisioner.spec import load_from_text

SPEC = dedent(
    """\
    version: 1
    name: team-spec
    defaults:
      subscription: 00000000-0000-0000-0000-0000000000c1
      resource_group: rg-1
      tags: {team: platform}
    key_vault:
      name: kv-1
      resource_group: rg-vault
    content_filters:
      strict:
        mode: asynchronous
        categories:
          hate: {prompt: low}
          violence: high
        jailbreak: annotate
        protected_material_code: block
        blocklists: [words, patterns]
      unused-here: {}
    blocklists:
      words:
        description: Words
        items: [zeta, alpha, alpha]
      patterns:
        items: [{regex: "a+"}, "a+"]
    accounts:
      - name: acct-1
        location: EastUS2
        tags: {cost-center: "1"}
        local_auth: false
        public_network_access: disabled
        prevent_destroy: true
        on_soft_deleted: restore
        deployments:
          - name: chat
            model: gpt-4o
            type: provisioned
            capacity: 15
            content_filter: strict
            spillover: overflow
            upgrade: never
            prevent_destroy: true
            tags: {app: bot, team: ai}
          - name: overflow
            model: gpt-4o
            version: "2024-11-20"
            capacity: {min: 5, max: 50}
            content_filter: Microsoft.DefaultV2
      - name: acct-2
        location: swedencentral
        resource_group: rg-2
        kind: AIServices
        custom_subdomain: acct-2-sub
        deployments:
          - {name: embed, model: text-embedding-3-large, sku: GlobalStandard, capacity: 5}
    """
)

OWNER = {"managed-by": "provision", "provision-spec": "team-spec"}


@pytest.fixture(scope="module")
def desired():
    _, state = load_from_text(SPEC, "spec.yaml")
    return state


def test_addresses_in_creation_order(desired):
    assert [r.address for r in desired.resources] == [
        "rg:00000000-0000-0000-0000-0000000000c1/rg-1",
        "rg:00000000-0000-0000-0000-0000000000c1/rg-2",
        "rg:00000000-0000-0000-0000-0000000000c1/rg-vault",
        "acct-1",
        "acct-1/raiBlocklists/patterns",
        "acct-1/raiBlocklists/words",
        "acct-1/raiPolicies/strict",
        "acct-1/deployments/chat",
        "acct-1/deployments/overflow",
        "acct-2",
        "acct-2/deployments/embed",
    ]


def test_resource_groups_take_the_location_of_their_first_account(desired):
    groups = {r.name: r for r in desired.resources if r.kind is Kind.RESOURCE_GROUP}
    assert groups["rg-1"].properties == {"location": "eastus2", "tags": {"team": "platform", **OWNER}}
    assert groups["rg-2"].properties["location"] == "swedencentral"
    assert groups["rg-vault"].properties["location"] == "eastus2"  # no account there: the first account's


def test_account_properties(desired):
    by_address = desired.by_address()
    account = by_address["acct-1"]
    assert account.properties == {
        "location": "eastus2",
        "kind": "OpenAI",
        "sku": "S0",
        "custom_subdomain": "acct-1",
        "public_network_access": "Disabled",
        "local_auth": False,
        "network": None,  # not declared: left as Azure has it
        "identity": None,
        "restrict_outbound": None,
        "allowed_fqdns": None,
        "tags": {"team": "platform", "cost-center": "1", **OWNER},
    }
    assert account.depends_on == ("rg:00000000-0000-0000-0000-0000000000c1/rg-1",)
    assert account.prevent_destroy is True
    assert account.source == SourceLocation("spec.yaml", 27, 5)
    assert (account.scope.subscription, account.scope.resource_group) == ("00000000-0000-0000-0000-0000000000c1", "rg-1")

    other = by_address["acct-2"]
    assert other.properties["kind"] == "AIServices"
    assert other.properties["custom_subdomain"] == "acct-2-sub"
    assert other.properties["public_network_access"] == "Enabled"
    assert other.properties["local_auth"] is True


def test_blocklists_hold_sorted_unique_items(desired):
    words = desired.by_address()["acct-1/raiBlocklists/words"]
    assert words.properties == {
        "description": "Words",
        "items": [{"pattern": "alpha", "regex": False}, {"pattern": "zeta", "regex": False}],
        "tags": {"team": "platform", "cost-center": "1", **OWNER},
    }
    assert words.depends_on == ("acct-1",)
    assert words.scope.account == "acct-1"
    patterns = desired.by_address()["acct-1/raiBlocklists/patterns"]
    assert patterns.properties["items"] == [{"pattern": "a+", "regex": False}, {"pattern": "a+", "regex": True}]


def test_rai_policy_properties(desired):
    policy = desired.by_address()["acct-1/raiPolicies/strict"]
    assert policy.properties == {
        "base": "Microsoft.DefaultV2",
        "mode": "Asynchronous_filter",
        "filters": {
            "hate": {"prompt": "low"},
            "violence": {"prompt": "high", "completion": "high"},
            "jailbreak": {"prompt": "annotate"},
            "protected_material_code": {"completion": "block"},
        },
        "blocklists": ["patterns", "words"],
        "tags": {"team": "platform", "cost-center": "1", **OWNER},
    }
    assert policy.depends_on == ("acct-1", "acct-1/raiBlocklists/patterns", "acct-1/raiBlocklists/words")
    assert policy.source == SourceLocation("spec.yaml", 11, 3)


def test_deployment_properties(desired):
    by_address = desired.by_address()
    chat = by_address["acct-1/deployments/chat"]
    assert chat.properties == {
        "model": "gpt-4o",
        "format": "OpenAI",
        "version": None,
        "sku": "GlobalProvisionedManaged",
        "capacity": 15,
        "content_filter": "strict",
        "upgrade": "never",
        "spillover": "overflow",
        "tags": {"team": "ai", "cost-center": "1", "app": "bot", **OWNER},
    }
    assert chat.depends_on == ("acct-1", "acct-1/raiPolicies/strict", "acct-1/deployments/overflow")
    assert chat.prevent_destroy is True
    assert chat.source == SourceLocation("spec.yaml", 35, 9)

    overflow = by_address["acct-1/deployments/overflow"]
    assert overflow.properties["sku"] == "GlobalStandard"
    assert overflow.properties["capacity"] == {"min": 5, "max": 50}
    assert overflow.properties["content_filter"] == "Microsoft.DefaultV2"
    assert overflow.depends_on == ("acct-1",)  # built-in policies are not resources

    embed = by_address["acct-2/deployments/embed"]
    assert embed.properties["sku"] == "GlobalStandard"
    assert embed.properties["content_filter"] is None
    assert embed.scope.resource_group == "rg-2"


def test_account_settings_and_key_vault(desired):
    assert desired.spec_name == "team-spec"
    assert desired.on_soft_deleted == {"acct-1": "restore", "acct-2": "fail"}
    vault = desired.key_vault
    assert (vault.name, vault.scope.subscription, vault.scope.resource_group) == ("kv-1", "00000000-0000-0000-0000-0000000000c1", "rg-vault")
    assert (vault.endpoint_secret, vault.key_secret) == ("{account}-endpoint", "{account}-key")
