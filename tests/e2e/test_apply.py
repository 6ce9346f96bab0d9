"""`provision apply` end to end: the CLI against the in-memory emulator, through the real SDK clients.

Live state is set up and inspected with SDK clients only; nothing is mocked.
"""
from __future__ import annotations

import io
import sys

import pytest

from apply_helpers import (EAST, GROUP, SUBSCRIPTION, SWEDEN, VAULT, account_of, azure, base_spec,  # noqa: F401
                           deployment_of, outcome_rows)

MANAGED = {"managed-by": "provision", "provision-spec": "e2e"}


def _statuses(result) -> dict[str, str]:
    return {resource: status for resource, (_, status, _) in outcome_rows(result.out).items()}


def _deployment_body(model: str, version: str, sku: str, capacity: int, tags: dict | None = None) -> dict:
    return {"sku": {"name": sku, "capacity": capacity}, "tags": tags or {},
            "properties": {"model": {"format": "OpenAI", "name": model, "version": version}}}


# create, no-op, update, replace, prune

def test_apply_creates_everything_from_empty_and_a_second_plan_is_a_no_op(azure):
    result = azure.apply(base_spec())

    assert result.code == 0, result
    assert "Plan: 11 to create, 0 to update, 0 to replace, 0 to delete." in result.out
    statuses = _statuses(result)
    assert len(statuses) == 15  # 11 changes and 4 secrets
    assert set(statuses.values()) == {"succeeded"}
    assert azure.account_names() == {EAST, SWEDEN}
    east = azure.account(EAST)
    assert east.location == "eastus2" and east.kind == "OpenAI" and east.properties.custom_sub_domain_name == EAST
    assert east.tags == {"team": "platform", **MANAGED}
    chat = azure.deployments(EAST)["chat"]
    assert (chat.properties.model.name, chat.properties.model.version) == ("gpt-4o", "2024-11-20")
    assert (chat.sku.name, chat.sku.capacity) == ("GlobalStandard", 10)
    assert chat.properties.rai_policy_name == "strict"
    assert azure.deployments(EAST)["embeddings"].sku.name == "Standard"
    assert set(azure.deployments(SWEDEN)) == {"mini", "large"}
    for account in (EAST, SWEDEN):
        assert azure.rai_policies(account) == {"strict"}
        assert azure.blocklists(account) == {"banned"}
    items = azure.cognitive.rai_blocklist_items.list(GROUP, EAST, "banned")
    assert sorted(i.properties.pattern for i in items) == ["ba[rz]+", "forbidden phrase"]

    plan = azure.plan(azure.directory / "deployments.yaml", "--detailed-exitcode")
    assert plan.code == 0, plan
    assert "No changes." in plan.out

    azure.clear_requests()
    again = azure.apply(base_spec())
    assert again.code == 0, again
    assert "No changes." in again.out
    assert azure.writes() == {}  # nothing written: not Azure, not Key Vault
    assert {status for _, status, _ in outcome_rows(again.out).values()} == {"succeeded"}


def test_apply_updates_in_place(azure):
    assert azure.apply(base_spec(EAST)).code == 0
    before = azure.deployments(EAST)["chat"]
    spec = base_spec(EAST)
    deployment_of(spec, EAST, "chat")["capacity"] = 15
    deployment_of(spec, EAST, "embeddings")["tags"] = {"owner": "search"}
    spec["content_filters"]["strict"]["categories"]["hate"] = "medium"
    spec["blocklists"]["banned"]["items"].append("another phrase")

    plan = azure.plan(spec)
    assert "capacity: 10 → 15" in plan.out
    assert "Plan: 0 to create, 4 to update, 0 to replace, 0 to delete." in plan.out, plan

    azure.clear_requests()
    result = azure.apply(spec)

    assert result.code == 0, result
    assert azure.requests_to("DELETE", "/deployments/{deployment}") == 0, azure.writes()
    chat = azure.deployments(EAST)["chat"]
    assert chat.sku.capacity == 15
    assert chat.id == before.id and chat.system_data.created_at == before.system_data.created_at
    assert azure.deployments(EAST)["embeddings"].tags == {"team": "platform", "owner": "search", **MANAGED}
    policy = azure.cognitive.rai_policies.get(GROUP, EAST, "strict")
    hate = {(f.source, f.severity_threshold) for f in policy.properties.content_filters if f.name == "Hate"}
    assert hate == {("Prompt", "Medium"), ("Completion", "Medium")}
    items = azure.cognitive.rai_blocklist_items.list(GROUP, EAST, "banned")
    assert "another phrase" in {i.properties.pattern for i in items}
    assert "No changes." in azure.plan(spec).out


def test_apply_replaces_what_cannot_change_in_place(azure):
    assert azure.apply(base_spec(SWEDEN)).code == 0
    spec = base_spec(SWEDEN)
    mini = deployment_of(spec, SWEDEN, "mini")
    mini.update(model="gpt-4o", version="2024-11-20")

    plan = azure.plan(spec)
    assert "-/+ e2e-swc/deployments/mini" in plan.out and "# forces replacement" in plan.out, plan
    assert "Plan: 0 to create, 0 to update, 1 to replace, 0 to delete." in plan.out

    azure.clear_requests()
    result = azure.apply(spec)

    assert result.code == 0, result
    assert outcome_rows(result.out)["e2e-swc/deployments/mini"][:2] == ("replace", "succeeded")
    assert azure.requests_to("DELETE", "/deployments/{deployment}") == 1
    mini_now = azure.deployments(SWEDEN)["mini"]
    assert (mini_now.properties.model.name, mini_now.properties.model.version) == ("gpt-4o", "2024-11-20")
    assert "No changes." in azure.plan(spec).out


def test_a_replace_frees_its_quota_before_a_new_deployment_takes_it(azure):
    """The plan counts a replace's freed quota as available (net), so apply must replace first."""
    azure.control.set_quota(SUBSCRIPTION, "eastus2", "OpenAI.GlobalStandard.gpt-4o", 10)
    spec = base_spec(EAST)
    account_of(spec, EAST)["deployments"] = [
        {"name": "zeta", "model": "gpt-4o", "version": "2024-11-20", "capacity": 10}]
    assert azure.apply(spec).code == 0
    account_of(spec, EAST)["deployments"] = [
        {"name": "zeta", "model": "gpt-4o-mini", "version": "2024-07-18", "capacity": 10},  # frees 10 of gpt-4o
        {"name": "alpha", "model": "gpt-4o", "version": "2024-11-20", "capacity": 10},  # takes them
    ]

    result = azure.apply(spec)

    assert result.code == 0, result
    assert azure.deployments(EAST)["alpha"].sku.capacity == 10
    assert azure.deployments(EAST)["zeta"].properties.model.name == "gpt-4o-mini"


def test_apply_prunes_only_what_this_spec_manages(azure):
    assert azure.apply(base_spec(SWEDEN)).code == 0
    # A deployment someone made by hand, and one another spec manages: neither is ours to delete.
    azure.cognitive.deployments.begin_create_or_update(
        GROUP, SWEDEN, "handmade", _deployment_body("gpt-4o-mini", "2024-07-18", "GlobalStandard", 1)).result()
    azure.cognitive.deployments.begin_create_or_update(
        GROUP, SWEDEN, "theirs", _deployment_body("gpt-4o-mini", "2024-07-18", "GlobalStandard", 1,
                                                  {"managed-by": "provision", "provision-spec": "other"})).result()
    spec = base_spec(SWEDEN)
    account_of(spec, SWEDEN)["deployments"] = [deployment_of(spec, SWEDEN, "mini")]  # `large` goes
    deployment_of(spec, SWEDEN, "mini")["content_filter"] = "Microsoft.DefaultV2"  # so `strict` and `banned` go

    plan = azure.plan(spec)
    assert "- e2e-swc/deployments/large (deployment) — managed by this spec but no longer in it" in plan.out, plan
    assert "- e2e-swc/raiPolicies/strict (rai policy)" in plan.out
    assert "- e2e-swc/raiBlocklists/banned (blocklist)" in plan.out
    assert "Not managed by this spec (left alone):" in plan.out
    assert "e2e-swc/deployments/handmade (deployment)" in plan.out
    assert "e2e-swc/deployments/theirs (deployment)" in plan.out
    assert "Plan: 0 to create, 1 to update, 0 to replace, 3 to delete." in plan.out, plan

    result = azure.apply(spec)

    assert result.code == 0, result
    assert set(azure.deployments(SWEDEN)) == {"mini", "handmade", "theirs"}
    assert azure.rai_policies(SWEDEN) == set() and azure.blocklists(SWEDEN) == set()
    assert azure.deployments(SWEDEN)["mini"].properties.rai_policy_name == "Microsoft.DefaultV2"
    assert "No changes." in azure.plan(spec).out


# options: --target, --parallelism, confirmation

def test_target_applies_only_that_deployment(azure):
    assert azure.apply(base_spec()).code == 0
    spec = base_spec()
    deployment_of(spec, EAST, "chat")["capacity"] = 12
    deployment_of(spec, EAST, "embeddings")["capacity"] = 25
    deployment_of(spec, SWEDEN, "mini")["capacity"] = 12

    result = azure.apply(spec, "--target", f"{EAST}/chat")

    assert result.code == 0, result
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete." in result.out, result
    assert azure.deployments(EAST)["chat"].sku.capacity == 12
    assert azure.deployments(EAST)["embeddings"].sku.capacity == 20
    assert azure.deployments(SWEDEN)["mini"].sku.capacity == 10
    published = {r for r, (change, _, _) in outcome_rows(result.out).items() if change == "publish"}
    assert published == {f"{VAULT}/secrets/{EAST}-endpoint", f"{VAULT}/secrets/{EAST}-key"}
    assert "Plan: 0 to create, 2 to update, 0 to replace, 0 to delete." in azure.plan(spec).out


def test_target_from_empty_brings_what_the_deployment_needs(azure):
    result = azure.apply(base_spec(), "--target", f"{EAST}/chat")

    assert result.code == 0, result
    assert azure.account_names() == {EAST}
    assert set(azure.deployments(EAST)) == {"chat"}
    assert azure.rai_policies(EAST) == {"strict"} and azure.blocklists(EAST) == {"banned"}


def test_parallelism_one_still_applies_everything(azure):
    result = azure.apply(base_spec(), "--parallelism", "1")

    assert result.code == 0, result
    assert set(azure.deployments(EAST)) == {"chat", "embeddings"}
    assert set(azure.deployments(SWEDEN)) == {"mini", "large"}
    assert "No changes." in azure.plan(base_spec()).out


def test_without_a_terminal_apply_refuses_unless_auto_approved(azure, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))  # not a TTY, even with an answer waiting
    spec = azure.write_spec(base_spec())
    azure.clear_requests()

    result = azure.run("apply", spec)

    assert result.code == 1, result
    assert "refusing to change Azure without confirmation" in result.err
    assert "--auto-approve" in result.err
    assert azure.control.requests()["total"] == 0  # not even a read
    assert azure.account_names() == set()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("answer, applied", [("yes", True), ("no", False)])
def test_on_a_terminal_apply_asks_and_only_yes_applies(azure, monkeypatch, answer, applied):
    monkeypatch.setattr(sys, "stdin", _Terminal(answer + "\n"))
    spec = azure.write_spec(base_spec(EAST))

    result = azure.run("apply", spec)

    assert result.code == (0 if applied else 1), result
    assert "Only 'yes' will be accepted" in result.out
    assert (azure.account_names() == {EAST}) is applied
    if not applied:
        assert "Nothing changed." in result.out


# saved plans

def test_saved_plan_applies_exactly_when_fresh(azure):
    assert azure.apply(base_spec(EAST)).code == 0
    spec = base_spec(EAST)
    deployment_of(spec, EAST, "chat")["capacity"] = 11
    path = azure.write_spec(spec)
    saved = azure.directory / "p.json"
    assert azure.run("plan", path, "-out", saved).code == 0

    result = azure.run("apply", saved)

    assert result.code == 0, result
    assert azure.deployments(EAST)["chat"].sku.capacity == 11


def test_saved_plan_is_refused_when_live_state_changed(azure):
    assert azure.apply(base_spec(EAST)).code == 0
    spec = base_spec(EAST)
    deployment_of(spec, EAST, "chat")["capacity"] = 11
    path = azure.write_spec(spec)
    saved = azure.directory / "p.json"
    assert azure.run("plan", path, "-out", saved).code == 0
    # someone changes Azure after the plan was reviewed
    azure.cognitive.deployments.begin_create_or_update(
        GROUP, EAST, "embeddings", _deployment_body("text-embedding-ada-002", "2", "Standard", 21,
                                                    dict(azure.deployments(EAST)["embeddings"].tags))).result()
    azure.clear_requests()

    result = azure.run("apply", saved)

    assert result.code == 1, result
    assert "Saved plan is stale" in result.err
    assert f"{EAST}/deployments/embeddings: planning now would update it; the saved plan does not" in result.err
    assert "provision plan -out" in result.err  # the hint says what to do
    assert azure.writes() == {}
    assert azure.deployments(EAST)["chat"].sku.capacity == 10


def test_saved_plan_is_refused_when_the_spec_changed(azure):
    assert azure.apply(base_spec(EAST)).code == 0
    spec = base_spec(EAST)
    deployment_of(spec, EAST, "chat")["capacity"] = 11
    path = azure.write_spec(spec)
    saved = azure.directory / "p.json"
    assert azure.run("plan", path, "-out", saved).code == 0
    deployment_of(spec, EAST, "chat")["capacity"] = 12
    azure.write_spec(spec)
    azure.clear_requests()

    result = azure.run("apply", saved)

    assert result.code == 1, result
    assert "Saved plan is stale" in result.err
    assert f"{EAST}/deployments/chat: fields, properties differ between the saved plan and planning now" \
        in result.err
    assert azure.writes() == {}


# transient failures are retried

FAULTS = {  # (fault, what the retry line says)
    "409 RequestConflict": (dict(kind="status", status=409, code="RequestConflict", retry_after=0, times=2),
                            "(attempt {n}) after 409 RequestConflict: Another operation"),
    "429 with Retry-After": (dict(kind="status", status=429, retry_after=1, times=1),
                             "retrying in 1.0s (attempt {n}) after 429 SubscriptionRequestsThrottled"),
    "500": (dict(kind="status", status=500, times=1), "(attempt {n}) after 500 InternalServerError"),
    "dropped connection": (dict(kind="drop", times=1), "(attempt {n}) after connection problem"),
}


@pytest.mark.parametrize("fault, says", FAULTS.values(), ids=FAULTS.keys())
def test_transient_failures_on_deployment_writes_are_retried_to_success(azure, fault, says):
    azure.control.inject_fault(method="PUT", path=r"/deployments/chat$", **fault)

    result = azure.apply(base_spec(EAST))

    assert result.code == 0, result
    retries = [line for line in result.out.splitlines() if "e2e-eus2/deployments/chat: retrying" in line]
    assert len(retries) == fault["times"], result
    for attempt, line in enumerate(retries, start=2):
        assert says.format(n=attempt) in line, line
    assert _statuses(result)["e2e-eus2/deployments/chat"] == "succeeded"
    assert azure.deployments(EAST)["chat"].sku.capacity == 10
    assert azure.requests_to("PUT", "/deployments/{deployment}") == 2 + fault["times"]


# failure isolation

def test_insufficient_quota_on_one_account_leaves_the_other_applied(azure):
    spec = base_spec()
    # `overflow` spills over to `mini`, so it cannot be made without it; `large` does not care
    account_of(spec, SWEDEN)["deployments"].append(
        {"name": "overflow", "model": "gpt-4o", "version": "2024-11-20", "capacity": 1, "spillover": "mini"})
    # The plan checks quota, so the quota goes after planning (as when another team deploys in the
    # meantime): Azure then refuses `mini` while apply runs.
    azure.control.inject_fault("status", method="PUT", path=r"/deployments/mini$", status=400,
                               code="InsufficientQuota", message="This operation require 10 new capacity in quota "
                               "Tokens Per Minute (thousands) - gpt-4o-mini, which is bigger than the current "
                               "available capacity 5.")

    result = azure.run("apply", azure.write_spec(spec), "--auto-approve")

    assert result.code == 1, result
    rows = outcome_rows(result.out)
    change, status, detail = rows["e2e-swc/deployments/mini"]
    assert (change, status) == ("create", "failed")
    assert "InsufficientQuota" in detail and "request more quota" in detail
    assert rows["e2e-swc/deployments/overflow"][1] == "skipped"
    assert "depends on e2e-swc/deployments/mini, which did not succeed" in rows["e2e-swc/deployments/overflow"][2]
    assert rows["e2e-swc/deployments/large"][1] == "succeeded"
    assert all(status == "succeeded" for resource, (_, status, _) in rows.items() if not resource.startswith(SWEDEN))
    assert set(azure.deployments(EAST)) == {"chat", "embeddings"}
    assert set(azure.deployments(SWEDEN)) == {"large"}

    # with quota, a re-run converges
    azure.control.set_quota(SUBSCRIPTION, "swedencentral", "OpenAI.GlobalStandard.gpt-4o-mini", 100)
    again = azure.apply(spec)
    assert again.code == 0, again
    assert "Plan: 2 to create, 0 to update, 0 to replace, 0 to delete." in again.out
    assert set(azure.deployments(SWEDEN)) == {"mini", "large", "overflow"}


# soft-deleted accounts

def _soft_delete_east(azure) -> dict:
    assert azure.apply(base_spec(EAST)).code == 0
    account = azure.account(EAST)
    before = {"endpoint": account.properties.endpoint, "internal_id": account.properties.internal_id}
    azure.cognitive.accounts.begin_delete(GROUP, EAST).result()
    assert EAST in azure.deleted_account_names()
    return before


def test_soft_deleted_account_fails_by_default_with_instructions(azure):
    _soft_delete_east(azure)
    azure.clear_requests()

    result = azure.apply(base_spec(EAST))

    assert result.code == 1, result
    assert "a soft-deleted account with this name exists" in result.err
    assert "on_soft_deleted: restore" in result.err and "on_soft_deleted: purge" in result.err
    assert azure.writes() == {}
    assert azure.account_names() == set()


def test_soft_deleted_account_is_restored_when_asked(azure):
    before = _soft_delete_east(azure)
    spec = base_spec(EAST)
    account_of(spec, EAST)["on_soft_deleted"] = "restore"
    account_of(spec, EAST)["tags"] = {"cost-center": "4711"}  # the spec moved on while it was deleted

    plan = azure.plan(spec)
    assert "it will be restored" in plan.out, plan
    result = azure.apply(spec)

    assert result.code == 0, result
    account = azure.account(EAST)
    assert account.properties.endpoint == before["endpoint"]
    assert account.properties.internal_id == before["internal_id"]
    assert account.tags["cost-center"] == "4711"  # restored, then made what the spec says
    assert EAST not in azure.deleted_account_names()
    assert set(azure.deployments(EAST)) == {"chat", "embeddings"}  # children come back through apply
    assert "No changes." in azure.plan(spec).out


def test_soft_deleted_account_is_purged_then_created_when_asked(azure):
    before = _soft_delete_east(azure)
    spec = base_spec(EAST)
    account_of(spec, EAST)["on_soft_deleted"] = "purge"

    result = azure.apply(spec)

    assert result.code == 0, result
    account = azure.account(EAST)
    assert account.properties.internal_id != before["internal_id"]
    assert EAST not in azure.deleted_account_names()
    assert set(azure.deployments(EAST)) == {"chat", "embeddings"}
    assert "No changes." in azure.plan(spec).out


# Key Vault

def test_key_vault_secrets_are_published_once_and_keys_never_printed(azure):
    spec = base_spec()
    first = azure.apply(spec)
    assert first.code == 0, first
    keys = {account: azure.keys(account) for account in (EAST, SWEDEN)}
    for account in (EAST, SWEDEN):
        assert azure.secret(f"{account}-endpoint") == azure.account(account).properties.endpoint
        assert azure.secret(f"{account}-key") == keys[account][0]
    vault = azure.keyvault.vaults.get(GROUP, VAULT)
    assert vault.properties.enable_rbac_authorization is True

    second = azure.apply(spec, "--debug")
    assert second.code == 0, second
    published = {r: d for r, (change, _, d) in outcome_rows(second.out).items() if change == "publish"}
    assert len(published) == 4 and set(published.values()) == {"unchanged"}, second

    # a rotated key is written again; the endpoint is not
    azure.cognitive.accounts.regenerate_key(GROUP, EAST, "Key1")
    keys[EAST] = azure.keys(EAST)
    rotated = azure.apply(spec)
    assert rotated.code == 0, rotated
    rows = outcome_rows(rotated.out)
    assert rows[f"{VAULT}/secrets/{EAST}-key"][2] != "unchanged"
    assert rows[f"{VAULT}/secrets/{EAST}-endpoint"][2] == "unchanged"
    assert azure.secret(f"{EAST}-key") == keys[EAST][0]

    # every other command, with and without --debug, errors included
    path = azure.directory / "deployments.yaml"
    assert azure.run("plan", path).code == 0
    assert azure.run("plan", path, "--debug", "-o", "json").code == 0
    saved = azure.directory / "p.json"
    deployment_of(spec, EAST, "chat")["capacity"] = 11
    azure.write_spec(spec)
    assert azure.run("plan", path, "-out", saved).code == 0
    deployment_of(spec, EAST, "chat")["capacity"] = 12
    azure.write_spec(spec)
    assert azure.run("apply", saved, "--debug").code == 1  # stale: the --debug traceback path
    azure.control.inject_fault(method="GET", path=r"/secrets/", status=403, code="AuthorizationFailed", times=1)
    failed = azure.apply(spec, "--debug")  # a failed publish
    assert failed.code == 1, failed
    assert outcome_rows(failed.out)[f"{VAULT}/secrets/{EAST}-endpoint"][1] == "failed"
    assert azure.destroy(spec, "--debug").code == 0
    assert azure.destroy(spec, "--include-accounts", "--debug").code == 0

    output = "".join(azure.transcript)
    assert "Traceback" in output  # --debug did show the stale plan's traceback
    for account, (key1, key2) in keys.items():
        assert key1 not in output, f"key1 of {account} was printed"
        assert key2 not in output, f"key2 of {account} was printed"


def test_an_account_whose_key_cannot_be_read_does_not_stop_the_others_publishing(azure):
    azure.control.inject_fault("status", method="POST", path=f"/accounts/{EAST}/listKeys", times=5,
                               status=400, code="BadRequest", message="listKeys refused (injected)")
    result = azure.apply(base_spec())

    assert result.code == 1, result
    rows = outcome_rows(result.out)
    assert rows[f"{VAULT}/secrets/{EAST}-endpoint"][1] == "failed"
    assert "listKeys refused" in rows[f"{VAULT}/secrets/{EAST}-endpoint"][2]
    assert azure.secret(f"{SWEDEN}-key") == azure.keys(SWEDEN)[0]
    assert azure.secret(f"{SWEDEN}-endpoint") == azure.account(SWEDEN).properties.endpoint
