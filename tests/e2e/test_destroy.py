"""`provision destroy` end to end: the CLI against the in-memory emulator, through the real SDK clients."""
from __future__ import annotations

import io
import sys

from apply_helpers import (EAST, GROUP, SWEDEN, VAULT, account_of, azure, base_spec,  # noqa: F401 (fixture)
                           deployment_of, outcome_rows)


def _applied(azure, spec: dict) -> dict:
    result = azure.apply(spec)
    assert result.code == 0, result
    return spec


def _handmade_deployment(azure, account: str) -> None:
    azure.cognitive.deployments.begin_create_or_update(
        GROUP, account, "handmade",
        {"sku": {"name": "GlobalStandard", "capacity": 1},
         "properties": {"model": {"format": "OpenAI", "name": "gpt-4o-mini", "version": "2024-07-18"}}}).result()


def test_destroy_removes_what_the_spec_manages_and_keeps_the_account(azure):
    spec = base_spec(EAST)
    # a spillover source must go before its target
    account_of(spec, EAST)["deployments"].append(
        {"name": "overflow", "model": "gpt-4o", "version": "2024-11-20", "capacity": 1, "spillover": "chat"})
    _applied(azure, spec)
    _handmade_deployment(azure, EAST)
    endpoint = azure.account(EAST).properties.endpoint
    azure.control.inject_fault(method="DELETE", path=r"/deployments/chat$", status=409, code="RequestConflict",
                               retry_after=0, times=1)

    result = azure.destroy(spec)

    assert result.code == 0, result
    assert "Plan: 0 to create, 0 to update, 0 to replace, 5 to delete." in result.out
    assert "e2e-eus2/deployments/chat: retrying" in result.out  # 409 on a delete is retried too
    assert set(azure.deployments(EAST)) == {"handmade"}  # not ours: left alone
    assert azure.rai_policies(EAST) == set() and azure.blocklists(EAST) == set()
    assert azure.account_names() == {EAST}  # accounts only with --include-accounts
    assert azure.account(EAST).properties.endpoint == endpoint
    assert GROUP in {g.name for g in azure.resources.resource_groups.list()}  # never deleted
    rows = outcome_rows(result.out)
    assert rows[f"{VAULT}/secrets/{EAST}-key"] == ("unpublish", "succeeded", "disabled and emptied")
    assert azure.secret(f"{EAST}-key") == "" and azure.secret(f"{EAST}-endpoint") == ""
    secret = azure.keyvault.secrets.get(GROUP, VAULT, f"{EAST}-key")
    assert secret.properties.attributes.enabled is False

    azure.clear_requests()
    again = azure.destroy(spec)
    assert again.code == 0, again
    assert "No changes." in again.out
    assert azure.writes() == {}


def test_destroy_with_accounts_soft_deletes_them_and_the_name_stays_taken(azure):
    spec = _applied(azure, base_spec(EAST))
    plan = azure.plan(azure.directory / "deployments.yaml", "--destroy", "--include-accounts")
    assert "- e2e-eus2 (account) — destroy" in plan.out, plan

    result = azure.destroy(spec, "--include-accounts")

    assert result.code == 0, result
    assert outcome_rows(result.out)[EAST][:2] == ("delete", "succeeded")
    assert azure.account_names() == set()
    assert EAST in azure.deleted_account_names()  # soft-deleted: restorable for 48 hours

    again = azure.apply(spec)
    assert again.code == 1, again
    assert "a soft-deleted account with this name exists" in again.err
    assert "on_soft_deleted: restore" in again.err


def test_destroy_with_purge_frees_the_name_at_once(azure):
    spec = _applied(azure, base_spec(EAST, SWEDEN))
    internal_ids = {name: azure.account(name).properties.internal_id for name in (EAST, SWEDEN)}

    result = azure.destroy(spec, "--include-accounts", "--purge")

    assert result.code == 0, result
    assert "— destroy and purge" in result.out
    assert azure.account_names() == set()
    assert azure.deleted_account_names() == set()

    again = azure.apply(spec)
    assert again.code == 0, again
    assert azure.account_names() == {EAST, SWEDEN}
    for name in (EAST, SWEDEN):
        assert azure.account(name).properties.internal_id != internal_ids[name]  # new accounts
    assert set(azure.deployments(EAST)) == {"chat", "embeddings"}


def test_purge_needs_include_accounts(azure):
    spec = azure.write_spec(base_spec(EAST))

    result = azure.run("destroy", spec, "--purge", "--auto-approve")

    assert result.code == 1, result
    assert "--purge needs --include-accounts" in result.err
    assert azure.control.requests()["total"] == 0


def test_prevent_destroy_on_an_account_refuses_and_deletes_nothing(azure):
    spec = base_spec(EAST)
    account_of(spec, EAST)["prevent_destroy"] = True
    _applied(azure, spec)
    azure.clear_requests()

    result = azure.destroy(spec, "--include-accounts")

    assert result.code == 1, result
    assert "e2e-eus2: has prevent_destroy: true" in result.err
    assert "remove prevent_destroy from the spec first" in result.err
    assert azure.writes() == {}
    assert azure.account_names() == {EAST}
    assert set(azure.deployments(EAST)) == {"chat", "embeddings"}
    assert azure.rai_policies(EAST) == {"strict"}
    assert azure.secret(f"{EAST}-key") == azure.keys(EAST)[0]  # secrets kept too


def test_prevent_destroy_on_a_deployment_refuses_and_deletes_nothing(azure):
    spec = base_spec(EAST)
    deployment_of(spec, EAST, "embeddings")["prevent_destroy"] = True
    _applied(azure, spec)
    azure.clear_requests()

    result = azure.destroy(spec)

    assert result.code == 1, result
    assert "e2e-eus2/deployments/embeddings: has prevent_destroy: true" in result.err
    assert azure.writes() == {}
    assert set(azure.deployments(EAST)) == {"chat", "embeddings"}
    assert azure.rai_policies(EAST) == {"strict"} and azure.blocklists(EAST) == {"banned"}


def test_destroy_target_removes_only_that_account(azure):
    spec = _applied(azure, base_spec())

    result = azure.destroy(spec, "--target", SWEDEN)

    assert result.code == 0, result
    assert set(azure.deployments(SWEDEN)) == set() and azure.rai_policies(SWEDEN) == set()
    assert set(azure.deployments(EAST)) == {"chat", "embeddings"} and azure.rai_policies(EAST) == {"strict"}
    assert azure.secret(f"{SWEDEN}-key") == ""
    assert azure.secret(f"{EAST}-key") == azure.keys(EAST)[0]


def test_without_a_terminal_destroy_refuses_unless_auto_approved(azure, monkeypatch):
    _applied(azure, base_spec(EAST))
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))  # not a TTY, even with an answer waiting
    azure.clear_requests()

    result = azure.run("destroy", azure.directory / "deployments.yaml", "--include-accounts")

    assert result.code == 1, result
    assert "refusing to change Azure without confirmation" in result.err
    assert azure.control.requests()["total"] == 0
    assert azure.account_names() == {EAST}
    assert set(azure.deployments(EAST)) == {"chat", "embeddings"}
