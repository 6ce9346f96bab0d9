"""The security settings written the way people write them: ids and principals in any case, roles by
name in any case, by GUID or by role definition id, grants from `defaults` or from an environment's
overlay, kinds dropped and declared again, accounts provision adopts or only refers to. After every
apply the next plan has nothing to do, and nothing that is not this spec's is ever deleted."""
from __future__ import annotations

import copy

import pytest

from tests.e2e.test_security import (  # noqa: F401 (setup is a fixture)
    ACCOUNT, CONTRIBUTOR, IDENTITY, MARKS, OPENAI_USER, READER, SUB, SUBNET, WORKSPACE, ZONE, account_tags, setup,
    spec,
)

ROLE_IDS = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"


def converge(workdir, cli, document, *options: str, env: str | None = None) -> None:
    """Apply the document; the next plan has nothing to do."""
    workdir.write(document)
    selected = ("--env", env) if env else ()
    applied = cli("apply", "--auto-approve", *selected, *options)
    assert applied.code == 0, applied.out + applied.err
    again = cli("plan", "--detailed-exitcode", *selected)
    assert again.code == 0, again.out + again.err


def grants(principals) -> list[dict]:
    return [{"principal": principals["app"], "type": "service_principal", "role": "Cognitive Services OpenAI User"},
            {"principal": principals["team"], "type": "group", "role": "Cognitive Services OpenAI Contributor"}]


def settings(live) -> list[str]:
    return sorted(s.name for s in live.monitor.diagnostic_settings.list(ACCOUNT))


def hand_grant(live, name: str, principal: str, role: str, principal_type: str) -> None:
    live.authorization.role_assignments.create(ACCOUNT, name, {
        "role_definition_id": ROLE_IDS + role, "principal_id": principal, "principal_type": principal_type})


SPELLINGS = {
    "principal in upper case": lambda a, p: a["access"][0].update(principal=p["app"].upper()),
    "role name in odd case": lambda a, p: a["access"][0].update(role="cognitive services OPENAI user"),
    "role by GUID in upper case": lambda a, p: a["access"][0].update(role=OPENAI_USER.upper()),
    "role by definition id": lambda a, p: a["access"][0].update(role=ROLE_IDS + OPENAI_USER),
    "role by definition id in upper case": lambda a, p: a["access"][1].update(role=(ROLE_IDS + CONTRIBUTOR).upper()),
    "DNS zone id in upper case": lambda a, p: a["private_endpoints"][0].update(dns_zone_ids=[ZONE.upper()]),
    "subnet id in upper case": lambda a, p: a["private_endpoints"][0].update(subnet=SUBNET.upper()),
    "identity id in upper case": lambda a, p: a["identity"].update(user_assigned=[IDENTITY.upper()]),
    "workspace id in upper case": lambda a, p: a["diagnostics"].update(workspace=WORKSPACE.upper()),
    "logs listed out of order": lambda a, p: a["diagnostics"].update(logs=["RequestResponse", "Audit"]),
}


@pytest.mark.parametrize("engine", ["sdk", "arm"])
def test_every_spelling_of_the_same_settings_converges(workdir, cli, setup, engine):
    live, principals = setup
    document = spec(principals)
    account = document["accounts"][0]
    for respell in SPELLINGS.values():
        respell(account, principals)
    account["diagnostics"]["logs"] = ["RequestResponse", "Audit"]
    document["key_vault"] = {"name": "kv-aoai-sec", "create": True, "access": [
        {"principal": principals["app"].upper(), "type": "service_principal", "role": "key vault secrets USER"}]}
    account["waive"] = [{"rule": "PRV006", "reason": "the endpoint is all we publish"}]
    converge(workdir, cli, document, *(["--engine", "arm"] if engine == "arm" else []))
    assert MARKS.items() <= account_tags(live).items()
    assert len(live.grants()) == 2
    destroyed = cli("destroy", "--auto-approve", "--include-accounts")
    assert destroyed.code == 0, destroyed.out + destroyed.err
    assert live.grants() == {}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_respelling_an_applied_setting_plans_nothing(workdir, cli, setup, spelling):
    live, principals = setup
    applied = spec(principals)
    applied["accounts"][0]["diagnostics"]["logs"] = ["Audit", "RequestResponse"]
    converge(workdir, cli, applied)
    document = copy.deepcopy(applied)
    SPELLINGS[spelling](document["accounts"][0], principals)
    workdir.write(document)
    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err


def test_an_account_with_access_empty_drops_the_grants_it_took_from_defaults(workdir, cli, setup):
    live, principals = setup
    document = spec(principals)
    del document["accounts"][0]["access"]
    document["defaults"]["access"] = grants(principals)
    converge(workdir, cli, document)
    assert len(live.grants()) == 2
    document["accounts"][0]["access"] = []
    converge(workdir, cli, document)
    assert live.grants() == {}


def test_the_same_grant_in_defaults_and_on_the_account_is_one_assignment(workdir, cli, setup):
    live, principals = setup
    document = spec(principals)
    document["defaults"]["access"] = grants(principals)
    converge(workdir, cli, document)
    assert len(live.grants()) == 2


def test_kinds_dropped_and_declared_again_converge_each_time(workdir, cli, setup):
    live, principals = setup
    full = spec(principals)
    bare = copy.deepcopy(full)
    del bare["accounts"][0]["access"], bare["accounts"][0]["diagnostics"]
    for document, count in ((full, 2), (bare, 0), (full, 2)):
        converge(workdir, cli, document)
        assert len(live.grants()) == count and len(settings(live)) == count // 2
    assert MARKS.items() <= account_tags(live).items()


def test_an_environment_overlay_that_adds_then_drops_access_and_diagnostics(workdir, cli, setup):
    live, principals = setup
    document = spec(principals)
    del document["accounts"][0]["access"], document["accounts"][0]["diagnostics"]
    document["environments"] = {"dev": {"accounts": {"aoai-sec": {
        "access": grants(principals), "diagnostics": {"workspace": WORKSPACE, "logs": ["Audit"], "metrics": False}}}}}
    converge(workdir, cli, document, env="dev")
    assert len(live.grants()) == 2 and len(settings(live)) == 1
    document["environments"]["dev"]["accounts"]["aoai-sec"] = {"tags": {"stage": "dev"}}
    converge(workdir, cli, document, env="dev")
    assert live.grants() == {} and settings(live) == []


def test_adopting_an_account_keeps_the_grants_found_on_it(workdir, cli, setup):
    """An account made by hand, with a grant like one the spec asks for and one it does not: adopted,
    marked, and when the spec drops its grants only the spec's own assignment goes."""
    live, principals = setup
    live.resources.resource_groups.create_or_update("rg-sec", {"location": "eastus2"})
    live.cognitive.accounts.begin_create("rg-sec", "aoai-sec", {
        "location": "eastus2", "kind": "OpenAI", "sku": {"name": "S0"},
        "properties": {"customSubDomainName": "aoai-sec"}}).result()
    hand_grant(live, "0c0c0c0c-0000-4000-8000-000000000003", principals["app"], OPENAI_USER, "ServicePrincipal")
    hand_grant(live, "0c0c0c0c-0000-4000-8000-000000000004", principals["team"], READER, "Group")
    document = spec(principals)
    converge(workdir, cli, document)
    assert MARKS.items() <= account_tags(live).items()
    assert len(live.grants()) == 3  # the app's grant existed already: not made twice
    del document["accounts"][0]["access"]
    converge(workdir, cli, document)
    assert set(live.grants()) == {"0c0c0c0c-0000-4000-8000-000000000003", "0c0c0c0c-0000-4000-8000-000000000004"}


def test_a_spec_referring_to_an_account_removes_only_what_it_added(workdir, cli, setup):
    live, principals = setup
    owner = spec(principals)
    owner["name"] = "platform"
    del owner["accounts"][0]["access"]
    converge(workdir, cli, owner)
    # Azure takes a workspace once per category and resource: the guest logs to its own
    team_workspace = WORKSPACE.replace("log-platform", "log-team-b")
    live.resources.resources.begin_create_or_update_by_id(
        team_workspace, api_version="2023-09-01", parameters={"location": "eastus2", "properties": {}}).result()
    guest = {"version": 1, "name": "team-b",
             "defaults": {"subscription": SUB, "resource_group": "rg-sec", "location": "eastus2"},
             "accounts": [{"name": "aoai-sec", "existing": True, "access": grants(principals),
                           "diagnostics": {"workspace": team_workspace}}]}
    converge(workdir, cli, guest)
    assert len(live.grants()) == 2 and settings(live) == ["provision-platform", "provision-team-b"]
    del guest["accounts"][0]["access"], guest["accounts"][0]["diagnostics"]
    converge(workdir, cli, guest)
    assert live.grants() == {} and settings(live) == ["provision-platform"]


@pytest.mark.parametrize("owner, guest", [("sec.dev", "sec-dev"), ("Sec", "sec")])
def test_a_spec_referring_to_an_account_never_claims_the_owners_diagnostic_setting(workdir, cli, setup, owner, guest):
    live, principals = setup
    document = spec(principals)
    document["name"] = owner
    converge(workdir, cli, document)
    workdir.write({"version": 1, "name": guest,
                   "defaults": {"subscription": SUB, "resource_group": "rg-sec", "location": "eastus2"},
                   "accounts": [{"name": "aoai-sec", "existing": True}]})
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out  # never a deletion of the owner's setting, whose name is also its default
    destroy = cli("destroy", "--auto-approve")
    assert destroy.code == 0, destroy.out + destroy.err
    assert settings(live) == [f"provision-{owner.replace('.', '-')}"]
    # declaring diagnostics under the same default name would write the owner's setting: a plan error
    workdir.write({"version": 1, "name": guest,
                   "defaults": {"subscription": SUB, "resource_group": "rg-sec", "location": "eastus2"},
                   "accounts": [{"name": "aoai-sec", "existing": True, "diagnostics": {"workspace": WORKSPACE}}]})
    refused = cli("plan")
    assert refused.code == 1, refused.out
    assert f"managed by spec '{owner}'" in refused.err, refused.err
    assert settings(live) == [f"provision-{owner.replace('.', '-')}"]


def test_a_failed_account_write_creates_no_grant_before_the_mark(workdir, cli, setup, external_emulator):
    """Grants come after the account's mark: if the account cannot be written, no grant is made that a
    later plan without the mark would not find."""
    live, principals = setup
    document = spec(principals)
    declared = document["accounts"][0].pop("access")
    converge(workdir, cli, document)
    document["accounts"][0]["access"] = declared
    workdir.write(document)
    external_emulator.control.inject_fault("status", method="PATCH", path=r"/accounts/aoai-sec$", status=400,
                                           code="BadRequest", times=None)
    external_emulator.control.inject_fault("status", method="PUT", path=r"/accounts/aoai-sec$", status=400,
                                           code="BadRequest", times=None)
    failed = cli("apply", "--auto-approve")
    assert failed.code != 0
    assert "provision-access" not in account_tags(live)
    assert live.grants() == {}


@pytest.mark.parametrize("field, value", [
    ("access", [{"principal": "{11111111-1111-1111-1111-111111111111}", "type": "group", "role": "Reader"}]),
    ("access", [{"principal": "11111111-1111-1111-1111-111111111111", "type": "group", "role": "Owner"}]),
    ("access", [{"principal": "11111111-1111-1111-1111-111111111111", "type": "group", "role": "Reader"},
                {"principal": "11111111-1111-1111-1111-111111111111".upper(), "type": "group", "role": READER}]),
    ("private_endpoints", [{"name": "pe", "subnet": SUBNET + "/..", "dns_zone_ids": [ZONE]}]),
    ("private_endpoints", [{"name": "pe", "subnet": SUBNET, "dns_zone_ids": [ZONE, ZONE.upper()]}]),
    ("identity", {"user_assigned": [IDENTITY, IDENTITY.upper()]}),
    ("diagnostics", {"workspace": IDENTITY}),
    ("diagnostics", {"workspace": WORKSPACE, "logs": ["Audit", "Audit"]}),
    ("diagnostics", {"workspace": WORKSPACE, "name": "a/b"}),
    ("tags", {"Provision-Access": "managed"}),
])
def test_a_bad_security_value_is_a_located_error_and_nothing_is_sent(workdir, cli, setup, external_emulator,
                                                                     field, value):
    _, principals = setup
    document = spec(principals)
    document["accounts"][0][field] = value
    workdir.write(document)
    external_emulator.control.clear_requests()
    refused = cli("plan")
    assert refused.code == 1
    assert refused.err.lstrip().startswith("deployments.yaml:") and f"accounts[0].{field}" in refused.err, refused.err
    assert external_emulator.control.requests()["counts"] == {}
