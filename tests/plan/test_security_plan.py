"""The differ on the security kinds, with hand-built desired and observed states (no SDK, no emulator):
grants are pruned only when ours, a foreign equivalent grant is a no-op, a changed grant is a pair of
changes that name each other, diagnostic settings are ours by name, and destroy deletes what attaches to
an account before the account."""
from __future__ import annotations

from typing import Any

import pytest

from provisioner.errors import PlanError
from provisioner.model import rest, roles
from provisioner.model.observed import ObservedResource, ObservedState
from provisioner.model.resources import (
    DesiredState,
    Kind,
    Resource,
    Scope,
    arm_id,
    assignment_description,
    diagnostic_setting_name,
    ownership_tags,
    role_assignment_name,
)
from provisioner.plan import differ
from provisioner.plan.model import Action

SUB = "00000000-0000-0000-0000-00000000beef"
GROUP_SCOPE = Scope(SUB, "rg")
SCOPE = Scope(SUB, "rg", account="acct")
ACCOUNT_ID = arm_id(GROUP_SCOPE, Kind.ACCOUNT, "acct")
TAGS = ownership_tags("spec")
APP, TEAM, OTHER = ("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
                    "33333333-3333-3333-3333-333333333333")
USER_ROLE, READER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd", "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def account(**extra: Any) -> Resource:
    return Resource(Kind.ACCOUNT, "acct", GROUP_SCOPE, {"location": "eastus2", "kind": "OpenAI", "sku": "S0",
                                                        "custom_subdomain": "acct", "public_network_access": "Enabled",
                                                        "local_auth": True, "network": None, "identity": None,
                                                        "restrict_outbound": None, "allowed_fqdns": None,
                                                        "tags": dict(TAGS), **extra})


def grant(principal: str, role: str, *, spec: str | None = "spec", principal_type: str = "User") -> Resource:
    properties = {"scope": ACCOUNT_ID, "principal": principal, "principal_type": principal_type, "role": role,
                  "role_name": roles.role_name(role), "description": assignment_description(spec) if spec else ""}
    return Resource(Kind.ROLE_ASSIGNMENT, role_assignment_name(ACCOUNT_ID, principal, role), SCOPE, properties,
                    depends_on=("acct",))


def setting(name: str = diagnostic_setting_name("spec"), logs: Any = "all") -> Resource:
    return Resource(Kind.DIAGNOSTIC_SETTING, name, SCOPE, {"workspace": "/w", "logs": logs, "metrics": True},
                    depends_on=("acct",))


def endpoint(subnet: str = "/s/a", zones: tuple[str, ...] = ("/z",), tags: dict | None = None) -> Resource:
    return Resource(Kind.PRIVATE_ENDPOINT, "pe", SCOPE, {"location": "eastus2", "subnet": subnet, "target": ACCOUNT_ID,
                                                         "group_id": "account", "dns_zone_ids": list(zones),
                                                         "tags": dict(TAGS if tags is None else tags)},
                    depends_on=("acct",))


def observed(*resources: Resource, live_account: Resource | None = None) -> ObservedState:
    found = [live_account or account(), *resources]
    return ObservedState(resources={r.address: ObservedResource(r, azure_id="/x/" + r.name) for r in found})


def plan(desired: list[Resource], live: ObservedState, **options: Any):
    state = DesiredState(spec_name="spec", resources=(account(), *desired))
    return differ.make_plan(state, live, spec_file="spec.yaml", spec_digest="d", **options)


def actions(p) -> list[tuple[str, str]]:
    return sorted((c.action.value, c.address) for c in p.pending)


def test_nothing_to_do_when_everything_matches():
    resources = [grant(APP, USER_ROLE), setting(), endpoint()]
    assert plan(resources, observed(*resources)).pending == ()


def test_a_removed_grant_is_deleted_only_when_ours():
    ours, foreign = grant(APP, USER_ROLE), grant(OTHER, READER, spec=None)
    other_spec = grant(TEAM, READER, spec="another")
    p = plan([], observed(ours, foreign, other_spec))
    assert actions(p) == [("delete", ours.address)]
    assert {u.address for u in p.unmanaged} == {foreign.address, other_spec.address}


def test_a_grant_someone_else_made_under_another_name_satisfies_ours():
    wanted = grant(TEAM, READER)
    elsewhere = Resource(Kind.ROLE_ASSIGNMENT, "0c0c0c0c-0000-4000-8000-000000000001", SCOPE,
                         {**wanted.properties, "description": "made in the portal"})
    [change] = [c for c in plan([wanted], observed(elsewhere)).changes if c.kind is Kind.ROLE_ASSIGNMENT]
    assert change.action is Action.NOOP
    assert change.reason == ("granted already by role assignment 0c0c0c0c-0000-4000-8000-000000000001, which this "
                             "spec does not manage")


def test_export_leaves_out_a_grant_another_assignment_already_gives():
    wanted, other = grant(TEAM, READER), grant(APP, USER_ROLE)
    elsewhere = Resource(Kind.ROLE_ASSIGNMENT, "0c0c0c0c-0000-4000-8000-000000000001", SCOPE,
                         {**wanted.properties, "description": "made in the portal"})
    state = DesiredState(spec_name="spec", resources=(account(), wanted, other))
    names = {r.name for r in differ.resolve(state, observed(elsewhere))}
    assert wanted.name not in names and other.name in names  # Azure would refuse it: RoleAssignmentExists
    assert wanted.name in {r.name for r in differ.resolve(state, observed())}


def test_a_grant_this_spec_made_under_an_earlier_name_satisfies_it_and_is_not_pruned():
    wanted = grant(TEAM, READER)
    earlier = Resource(Kind.ROLE_ASSIGNMENT, "0c0c0c0c-0000-4000-8000-000000000002", SCOPE, dict(wanted.properties))
    p = plan([wanted], observed(earlier))
    assert p.pending == ()  # deleting it would take the access away; creating another, Azure refuses
    [change] = [c for c in p.changes if c.kind is Kind.ROLE_ASSIGNMENT]
    assert change.reason == ("granted already by role assignment 0c0c0c0c-0000-4000-8000-000000000002, this "
                             "spec's, under an earlier name")
    assert actions(plan([], observed(earlier))) == [("delete", earlier.address)]  # dropped from the spec: pruned


def test_a_changed_grant_is_a_new_assignment_and_the_deletion_of_the_old_one_naming_each_other():
    old, new = grant(TEAM, READER), grant(TEAM, USER_ROLE)
    p = plan([new], observed(old))
    assert actions(p) == sorted([("create", new.address), ("delete", old.address)])
    created = next(c for c in p.pending if c.action is Action.CREATE)
    deleted = next(c for c in p.pending if c.action is Action.DELETE)
    assert created.notes[0].startswith(f"replaces {old.address} (Reader for user {TEAM})")
    assert deleted.notes == (f"replaced by {new.address} (Cognitive Services OpenAI User for user {TEAM})",)
    # an assignment's name says nothing: the reasons say what it grants
    assert created.reason == f"new grant: Cognitive Services OpenAI User for user {TEAM}"
    assert deleted.reason == f"managed by this spec but no longer in it (grants Reader for user {TEAM})"
    # a new principal for the same role pairs too
    p = plan([grant(APP, READER)], observed(old))
    assert any(n.startswith("replaces ") for c in p.pending for n in c.notes)


def test_a_grant_another_spec_manages_is_an_error_and_an_unowned_one_is_adopted():
    wanted = grant(APP, USER_ROLE)
    with pytest.raises(PlanError, match="is managed by spec 'another'"):
        plan([wanted], observed(grant(APP, USER_ROLE, spec="another")))
    p = plan([wanted], observed(grant(APP, USER_ROLE, spec=None)))
    [change] = p.pending
    assert change.action is Action.ADOPT
    assert [f.path for f in change.fields] == ["description"]


def test_a_new_principal_type_replaces_the_assignment():
    p = plan([grant(APP, USER_ROLE, principal_type="ServicePrincipal")], observed(grant(APP, USER_ROLE)))
    [change] = p.pending
    assert change.action is Action.REPLACE
    assert [(f.path, f.forces_replace) for f in change.fields] == [("principal_type", True)]


def test_diagnostic_settings_are_ours_by_name():
    custom = setting("to-law")
    # declared under a custom name: ours while declared (never adopted again and again)
    assert plan([custom], observed(setting("to-law", logs=["Audit"]))).pending[0].action is Action.UPDATE
    # no longer declared: only the default name is known to be ours
    p = plan([], observed(setting(), custom))
    assert actions(p) == [("delete", setting().address)]
    assert [u.address for u in p.unmanaged] == [custom.address]


def test_destroy_deletes_a_diagnostic_setting_the_spec_declares_under_its_own_name():
    custom = setting("to-law")
    p = plan([custom], observed(custom), destroy=True, include_accounts=True)
    [change] = [c for c in p.changes if c.kind is Kind.DIAGNOSTIC_SETTING]
    assert (change.action, dict(change.options)) == (Action.DELETE, {"declared_name": True})
    assert custom.address in next(c for c in p.changes if c.kind is Kind.ACCOUNT).depends_on


def test_private_endpoint_zones_update_in_place_and_a_new_subnet_replaces_it():
    p = plan([endpoint(zones=("/z", "/z2"))], observed(endpoint()))
    [change] = p.pending
    assert (change.action, [f.path for f in change.fields]) == (Action.UPDATE, ["dns_zone_ids"])
    p = plan([endpoint(subnet="/s/b")], observed(endpoint()))
    assert p.pending[0].action is Action.REPLACE
    with pytest.raises(PlanError, match="without this spec's ownership tags"):
        plan([endpoint(subnet="/s/b")], observed(endpoint(tags={})))


def test_one_ip_rule_is_an_account_update_and_undeclared_settings_are_not_compared():
    network = {"default_action": "Deny", "bypass": "AzureServices", "ip_rules": ["198.51.100.7"],
               "virtual_network_rules": []}
    live = account(network=network, identity={"system_assigned": True, "user_assigned": [],
                                              "principal_id": "p-1", "user_assigned_principals": {}},
                   restrict_outbound=True, allowed_fqdns=["a.example.com"])
    state = DesiredState(spec_name="spec", resources=(account(network={**network, "ip_rules": ["198.51.100.8"]}),))
    p = differ.make_plan(state, observed(live_account=live), spec_file="s", spec_digest="d")
    [change] = p.pending
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("network.ip_rules", ["198.51.100.7"], ["198.51.100.8"])]
    assert "system-assigned identity: principal id p-1" in change.notes


def test_identity_principal_ids_are_known_after_apply_until_azure_has_them():
    identity = {"system_assigned": True, "user_assigned": ["/subscriptions/s/resourcegroups/g/providers/"
                                                           "microsoft.managedidentity/userassignedidentities/id-1"]}
    state = DesiredState(spec_name="spec", resources=(account(identity=identity),))
    p = differ.make_plan(state, ObservedState(), spec_file="s", spec_digest="d")
    [change] = [c for c in p.changes if c.kind is Kind.ACCOUNT]
    assert change.notes == ("system-assigned identity: principal id known after apply",
                            "user-assigned identity id-1: principal id known after apply")


def test_destroy_deletes_what_attaches_to_the_account_before_it_and_never_someone_elses():
    ours = [grant(APP, USER_ROLE), setting(), endpoint()]
    foreign = grant(OTHER, READER, spec=None)
    p = plan(ours, observed(*ours), destroy=True, include_accounts=True)
    account_change = next(c for c in p.changes if c.kind is Kind.ACCOUNT)
    assert set(account_change.depends_on) == {r.address for r in ours}
    with pytest.raises(PlanError, match=f"roleAssignments/{foreign.name} \\(not managed by provision\\)"):
        plan(ours, observed(*ours, foreign), destroy=True, include_accounts=True)
    p = plan(ours, observed(*ours, foreign), destroy=True)  # without the account: only ours go
    assert actions(p) == sorted(("delete", r.address) for r in ours)


def test_key_vault_grants_are_destroyed_when_ours():
    vault = Scope(SUB, "rg", key_vault="kv")
    vault_id = "/subscriptions/x/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv"
    ours = Resource(Kind.ROLE_ASSIGNMENT, "a", vault, {"scope": vault_id, "principal": APP, "role": READER,
                                                      "description": assignment_description("spec")})
    theirs = Resource(Kind.ROLE_ASSIGNMENT, "b", vault, {"scope": vault_id, "principal": TEAM, "role": READER,
                                                        "description": ""})
    p = plan([], observed(ours, theirs), destroy=True)
    assert actions(p) == [("delete", "key_vault:kv/roleAssignments/a")]


@pytest.mark.parametrize("kind, properties", [
    (Kind.ACCOUNT, account(network={"default_action": "Deny", "bypass": "None", "ip_rules": ["198.51.100.7"],
                                    "virtual_network_rules": ["/subscriptions/s/resourcegroups/g/providers/"
                                                              "microsoft.network/virtualnetworks/v/subnets/a"]},
                           identity={"system_assigned": True, "user_assigned": ["/id/1"]},
                           restrict_outbound=True, allowed_fqdns=["a.example.com"]).properties),
    (Kind.ROLE_ASSIGNMENT, grant(APP, USER_ROLE).properties),
    (Kind.DIAGNOSTIC_SETTING, setting(logs=["Audit", "Trace"]).properties),
    (Kind.DIAGNOSTIC_SETTING, setting(logs="all").properties),
])
def test_bodies_read_back_as_the_same_properties(kind, properties):
    """rest's body and read-back functions are inverses, so an applied spec plans to nothing."""
    if kind is Kind.ACCOUNT:
        body = rest.account_body(properties)
        doc = {**body, "identity": {**body["identity"], "principalId": "p"}}
        back = rest.account_properties(doc)
    elif kind is Kind.ROLE_ASSIGNMENT:
        body = rest.role_assignment_body(properties)
        back = rest.role_assignment_properties({"properties": {**body["properties"], "scope": properties["scope"]}})
    else:
        back = rest.diagnostic_setting_properties(rest.diagnostic_setting_body(properties))
    assert differ.differences(kind, properties, back) == []


def test_private_endpoint_body_reads_back_with_its_zone_group():
    properties = endpoint(zones=("/z/1", "/z/2")).properties
    doc = rest.private_endpoint_body(properties, "pe")
    back = rest.private_endpoint_properties(doc, rest.dns_zone_group_body(properties))
    assert differ.differences(Kind.PRIVATE_ENDPOINT, properties, back) == []
    assert doc["properties"]["privateLinkServiceConnections"][0]["properties"]["groupIds"] == ["account"]
