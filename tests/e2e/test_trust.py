"""What provision promises, each broken on purpose: failed operations, lost answers, edited
plans, resources of others, concurrent runs, failed purges. Through the CLI (or the Python API
where two runs must overlap) against the emulator, with live state read by real SDK clients."""
from __future__ import annotations

import json
import threading
from contextlib import ExitStack

import pytest
from apply_helpers import (  # noqa: F401 - azure is a fixture
    EAST,
    GROUP,
    SUBSCRIPTION,
    VAULT,
    azure,
    base_spec,
    deployment_of,
    outcome_rows,
)

from provisioner.workspace import Workspace

CHAT = f"{EAST}/deployments/chat"
EMBEDDINGS = f"{EAST}/deployments/embeddings"


def _untagged_deployment(azure, name: str = "manual", account: str = EAST) -> None:
    azure.cognitive.deployments.begin_create_or_update(GROUP, account, name, {
        "sku": {"name": "Standard", "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": "text-embedding-ada-002", "version": "2"}}}).result()


def _plan_json(azure, spec, *extra) -> dict:
    result = azure.plan(spec, "--output", "json", *extra)
    assert result.code == 0, result
    return json.loads(result.out)


def _converged(azure, spec) -> None:
    again = azure.plan(spec, "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
    assert "No changes." in again.out


# 1. provisioning state is observed truth

def test_a_failed_deployment_is_planned_for_repair_and_repaired(azure):
    spec = base_spec(EAST)
    azure.control.inject_fault("lro_failed", method="PUT", path=r"/deployments/chat$",
                               code="ModelCapacityUnavailable", message="No capacity for this model right now.")
    first = azure.apply(spec)
    assert first.code == 1, first  # never 0 while a resource it manages is not Succeeded
    change, status, detail = outcome_rows(first.out)[CHAT]
    assert (change, status) == ("create", "failed")
    assert "ModelCapacityUnavailable: No capacity for this model right now." in detail
    assert "200" not in detail  # the operation's own error, not the poll's HTTP status
    assert azure.deployments(EAST)["chat"].properties.provisioning_state == "Failed"

    planned = azure.plan(spec, "--detailed-exitcode")
    assert planned.code == 2, planned
    assert "provisioning_state: Failed → Succeeded" in planned.out
    [repair] = [c for c in _plan_json(azure, spec)["changes"] if c["address"] == CHAT]
    assert repair["action"] == "update"
    assert repair["reason"] == "provisioning state is Failed: written again to repair it"
    assert {"path": "provisioning_state", "before": "Failed", "after": "Succeeded",
            "forces_replace": False} in repair["fields"]

    second = azure.apply(spec)
    assert second.code == 0, second
    assert azure.deployments(EAST)["chat"].properties.provisioning_state == "Succeeded"
    _converged(azure, spec)


def test_an_operation_that_fails_transiently_is_written_again_in_the_same_run(azure):
    azure.control.inject_fault("lro_failed", method="PUT", path=r"/deployments/chat$", times=1)  # InternalServerError
    result = azure.apply(base_spec(EAST))
    assert result.code == 0, result
    assert azure.requests_to("PUT", "/deployments/{deployment}") == 3  # chat twice, embeddings once
    assert azure.deployments(EAST)["chat"].properties.provisioning_state == "Succeeded"


def test_a_failed_account_is_repaired_and_its_children_follow(azure):
    spec = base_spec(EAST)
    azure.control.inject_fault("lro_failed", method="PUT", path=f"/accounts/{EAST}$", code="ResourceOperationFailure",
                               message="The resource operation completed with terminal provisioning state 'Failed'.")
    first = azure.apply(spec)
    assert first.code == 1, first
    rows = outcome_rows(first.out)
    assert rows[EAST][1] == "failed"
    assert rows[CHAT][1] == "skipped"
    assert azure.account(EAST).properties.provisioning_state == "Failed"

    planned = azure.plan(spec)
    assert f"~ {EAST} (account)" in planned.out and "provisioning_state: Failed → Succeeded" in planned.out
    second = azure.apply(spec)
    assert second.code == 0, second
    assert azure.account(EAST).properties.provisioning_state == "Succeeded"
    assert set(azure.deployments(EAST)) == {"chat", "embeddings"}
    _converged(azure, spec)


# 2. operations are resumed, never re-sent

def test_one_poll_error_costs_a_poll_not_a_second_write(azure):
    azure.control.configure(lro_durations={"deployments.create": 0.3}, retry_after=1)
    spec = base_spec(EAST)
    assert azure.apply(spec, "--target", f"{EAST}/embeddings").code == 0
    deployment_of(spec, EAST, "chat")
    azure.control.inject_fault("status", method="GET", path="/operationResults/", status=503, times=1)
    azure.clear_requests()
    result = azure.apply(spec)
    assert result.code == 0, result
    assert azure.requests_to("PUT", "/deployments/{deployment}") == 1  # exactly one PUT for chat
    assert "after 503" not in result.out  # a poll retry is not a retry of the change


def test_retry_after_zero_means_backoff_not_a_tight_loop(azure):
    azure.control.configure(lro_durations={"deployments.create": 2.0}, retry_after=0)
    spec = base_spec(EAST)
    spec["accounts"][0]["deployments"] = [deployment_of(spec, EAST, "embeddings")]
    azure.clear_requests()
    assert azure.apply(spec).code == 0
    polls = azure.requests_to("GET", "/operationResults/{operation}")
    assert 1 <= polls <= 6  # 1 s, then 1.5 s...: a handful, not hundreds


# 3. writes whose answer is lost

LOST_WRITES = {  # what is written, and how to make the run write it
    "account": ("PUT", f"/accounts/{EAST}$", "apply"),
    "deployment": ("PUT", r"/deployments/chat$", "apply"),
    "content filter": ("PUT", r"/raiPolicies/strict$", "apply"),
    "blocklist": ("PUT", r"/raiBlocklists/banned$", "apply"),
    "blocklist item": ("PUT", r"/raiBlocklistItems/", "apply"),
    "secret": ("PUT", r"/secrets/", "apply"),
    "template deployment": ("PUT", r"/Microsoft.Resources/deployments/", "apply-arm"),
    "deployment deletion": ("DELETE", r"/deployments/embeddings$", "prune"),
    "content filter deletion": ("DELETE", r"/raiPolicies/strict$", "destroy"),
    "account deletion": ("DELETE", f"/accounts/{EAST}$", "destroy-accounts"),
    "purge": ("DELETE", r"/deletedAccounts/", "destroy-accounts"),
}


@pytest.mark.parametrize("fault", ["commit_drop", "commit_status"])
@pytest.mark.parametrize("what", list(LOST_WRITES))
def test_a_write_whose_answer_is_lost_converges_without_duplicates(azure, what, fault):
    method, path, how = LOST_WRITES[what]
    spec = base_spec(EAST)
    if how != "apply" and how != "apply-arm":
        assert azure.apply(spec).code == 0
    if how == "prune":
        spec["accounts"][0]["deployments"] = [deployment_of(spec, EAST, "chat")]
    azure.control.inject_fault(fault, method=method, path=path, status=503, times=1)
    azure.clear_requests()

    if how == "apply":
        result = azure.apply(spec)
    elif how == "apply-arm":
        result = azure.apply(spec, "--engine", "arm")
    elif how == "prune":
        result = azure.apply(spec)
    elif how == "destroy":
        result = azure.destroy(spec)
    else:
        result = azure.destroy(spec, "--include-accounts", "--purge")

    assert result.code == 0, result
    store = azure.emulator.app.store
    with store.transaction():
        assert not store.faults(), "the fault never fired: the test proved nothing"
    if how == "destroy":
        assert azure.deployments(EAST) == {} and azure.rai_policies(EAST) == set()
        assert azure.destroy(spec).code == 0
    elif how == "destroy-accounts":
        assert EAST not in azure.account_names()
        assert EAST not in azure.deleted_account_names()  # purged: the name is free again
        assert azure.destroy(spec, "--include-accounts", "--purge").code == 0
    else:
        assert set(azure.deployments(EAST)) == ({"chat"} if how == "prune" else {"chat", "embeddings"})
        assert len(list(azure.cognitive.rai_blocklist_items.list(GROUP, EAST, "banned"))) == 2
        _converged(azure, spec)


# 4. a saved plan is a claim, not a command

def test_an_edited_saved_plan_is_refused_and_changes_nothing(azure):
    spec = base_spec(EAST)
    assert azure.apply(spec).code == 0
    _untagged_deployment(azure)
    deployment_of(spec, EAST, "chat")["capacity"] = 11
    path = azure.write_spec(spec)
    assert azure.run("plan", path, "-out", "plan.json").code == 0
    document = json.loads((azure.directory / "plan.json").read_text())
    chat = next(c for c in document["changes"] if c["address"] == CHAT)
    document["changes"].append({**chat, "address": f"{EAST}/deployments/manual", "name": "manual",
                                "action": "delete", "after": None, "fields": []})
    document["changes"].append({**next(c for c in document["changes"] if c["address"] == EAST),
                                "action": "delete", "options": {"purge": True}, "after": None})
    (azure.directory / "plan.json").write_text(json.dumps(document))
    azure.clear_requests()

    result = azure.run("apply", "plan.json")

    assert result.code == 1, result
    assert "Saved plan is stale" in result.err
    assert f"{EAST}/deployments/manual: the saved plan would delete it" in result.err
    assert f"{EAST}: the saved plan would delete it" in result.err
    assert azure.writes() == {}
    assert set(azure.deployments(EAST)) == {"chat", "embeddings", "manual"}


def test_a_saved_plan_is_refused_when_the_spec_publishes_elsewhere(azure):
    """Apply publishes the accounts' endpoints and keys to the spec's Key Vault: a spec that names
    another vault after the plan was saved (the changes to Azure the same) is not the reviewed one."""
    spec = base_spec(EAST)
    assert azure.apply(spec).code == 0
    deployment_of(spec, EAST, "chat")["capacity"] = 11
    path = azure.write_spec(spec)
    assert azure.run("plan", path, "-out", "plan.json").code == 0
    spec["key_vault"]["name"] = "kv-elsewhere"
    azure.write_spec(spec)
    azure.clear_requests()

    result = azure.run("apply", "plan.json")

    assert result.code == 1, result
    assert "Saved plan is stale" in result.err
    assert "the spec asks for something else than when the plan was saved" in result.err
    assert azure.writes() == {}
    assert "kv-elsewhere" not in {v.name for v in azure.keyvault.vaults.list_by_resource_group(GROUP)}


@pytest.mark.parametrize("content", ["", "[]", "{", '{"format_version": "1"}', '{"format_version": "1", '
                                     '"spec": {"file": 1, "name": "e2e", "digest": "x"}, "observed_fingerprint": "x",'
                                     ' "changes": [{"kind": "nope"}], "unmanaged": []}', "\x00\xff"])
def test_a_malformed_plan_file_is_a_clear_error(azure, content):
    (azure.directory / "plan.json").write_bytes(content.encode("latin-1"))
    result = azure.run("apply", "plan.json")
    assert result.code == 1
    assert result.err.startswith("Error: plan.json: ")
    assert "Traceback" not in result.err and "unexpected" not in result.err


# 5. ownership at every depth

def test_destroy_of_an_account_holding_someone_elses_deployment_refuses_and_deletes_nothing(azure):
    spec = base_spec(EAST)
    assert azure.apply(spec).code == 0
    _untagged_deployment(azure)
    azure.clear_requests()
    result = azure.destroy(spec, "--include-accounts")
    assert result.code == 1, result
    assert "deployments/manual (not managed by provision)" in result.err
    assert azure.writes() == {}
    assert set(azure.deployments(EAST)) == {"chat", "embeddings", "manual"}


def test_two_specs_share_an_account_one_owning_it_and_neither_touches_the_others(azure):
    owner = base_spec(EAST)
    owner["name"] = "platform"
    assert azure.apply(owner).code == 0
    tenant = base_spec(EAST)
    tenant["name"] = "team-b"
    tenant.pop("key_vault")
    tenant["accounts"][0]["existing"] = True
    tenant["accounts"][0]["deployments"] = [{"name": "team-b-chat", "model": "gpt-4o-mini", "version": "2024-07-18",
                                             "capacity": 5}]
    tenant_path = azure.write_spec(tenant, "team-b.yaml")
    assert azure.apply(tenant_path).code == 0, "a tenant spec adds its own deployments"
    account_tags = azure.account(EAST).tags
    assert account_tags["provision-spec"] == "platform"  # the tenant never writes the account

    # each leaves the other's resources alone, run after run
    _converged(azure, owner)
    assert azure.plan(tenant_path, "--detailed-exitcode").code == 0
    assert "team-b-chat" in azure.plan(owner).out.split("Not managed by this spec")[1]

    # declaring a resource the other spec manages is an error naming that spec
    tenant["accounts"][0]["deployments"].append(deployment_of(base_spec(EAST), EAST, "chat"))
    clash = azure.plan(azure.write_spec(tenant, "team-b.yaml"))
    assert clash.code == 1
    assert f"{CHAT}: is managed by spec 'platform', not by 'team-b'" in clash.err

    # the owner cannot delete the account while the tenant's deployment is on it
    refused = azure.destroy(owner, "--include-accounts")
    assert refused.code == 1 and "deployments/team-b-chat (managed by spec 'team-b')" in refused.err
    assert "team-b-chat" in azure.deployments(EAST)
    # the tenant's destroy removes only its own, never the account
    tenant["accounts"][0]["deployments"].pop()
    assert azure.destroy(azure.write_spec(tenant, "team-b.yaml"), "--include-accounts").code == 0
    assert set(azure.deployments(EAST)) == {"chat", "embeddings"}
    assert EAST in azure.account_names()


def test_an_unowned_secret_is_never_overwritten(azure):
    spec = base_spec(EAST)
    spec["key_vault"]["create"] = True
    assert azure.apply(spec).code == 0  # creates the vault and our secrets
    spec["key_vault"]["key_secret"] = "someone-elses-{account}"
    azure.keyvault.secrets.create_or_update(GROUP, VAULT, f"someone-elses-{EAST}", {"properties": {"value": "x"}})

    result = azure.apply(spec)

    assert result.code == 1, result
    detail = outcome_rows(result.out)[f"{VAULT}/secrets/someone-elses-{EAST}"][2]
    assert "already exists and is managed by no spec" in detail and "not overwritten" in detail
    assert azure.secret(f"someone-elses-{EAST}") == "x"

    spec["key_vault"]["adopt_existing"] = True
    assert azure.apply(spec).code == 0
    assert azure.secret(f"someone-elses-{EAST}") == azure.keys(EAST)[0]


def test_unpublishing_fails_when_a_secret_cannot_be_read(azure):
    spec = base_spec(EAST)
    assert azure.apply(spec).code == 0
    azure.control.inject_fault("status", method="GET", path=r"/secrets/", status=403, code="AuthorizationFailed",
                               times=10)
    result = azure.destroy(spec)
    assert result.code == 1, result
    assert "reading the secret" in result.out and "AuthorizationFailed" in result.out
    assert azure.secret(f"{EAST}-key") == azure.keys(EAST)[0]  # still there, and the run says so


# 6. concurrent runs never lose an update silently

def test_two_concurrent_applies_one_wins_and_the_other_fails_clearly(azure):
    spec = base_spec(EAST)
    assert azure.apply(spec).code == 0
    azure.control.configure(lro_durations={"deployments.update": 0.5})
    with ExitStack() as stack:
        workspaces, plans = [], []
        for capacity, name in ((20, "a.yaml"), (30, "b.yaml")):
            variant = base_spec(EAST)
            deployment_of(variant, EAST, "chat")["capacity"] = capacity
            workspace = stack.enter_context(Workspace.open(azure.write_spec(variant, name)))
            workspaces.append(workspace)
            plans.append(workspace.plan())  # both plan from capacity 10
        results = [None, None]

        def run(index: int) -> None:
            results[index] = workspaces[index].apply(plans[index], parallelism=1)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    outcomes = [{o.address: o for o in r.outcomes}[CHAT] for r in results]
    assert sorted(o.status for o in outcomes) == ["failed", "succeeded"], outcomes
    loser = next(o for o in outcomes if o.status == "failed")
    assert "changed since the plan was made: capacity was 10, is now" in loser.reason
    winner = 20 if outcomes[0].status == "succeeded" else 30
    assert azure.deployments(EAST)["chat"].sku.capacity == winner  # the winner's update stands, the loser said so


# 7. resumable destroy

def test_destroy_resumes_a_failed_purge(azure):
    spec = base_spec(EAST)
    assert azure.apply(spec).code == 0
    azure.control.inject_fault("lro_failed", method="DELETE", path="/deletedAccounts/", code="PurgeFailed",
                               message="The purge could not complete.")
    first = azure.destroy(spec, "--include-accounts", "--purge")
    assert first.code == 1, first
    assert EAST in azure.deleted_account_names()  # deleted, not purged

    planned = azure.plan(spec, "--destroy", "--include-accounts", "--purge", "--detailed-exitcode")
    assert planned.code == 2
    assert "soft-deleted by an earlier destroy: purge" in planned.out
    second = azure.destroy(spec, "--include-accounts", "--purge")
    assert second.code == 0, second
    assert EAST not in azure.deleted_account_names()


# 8. --target keeps prevent_destroy to what is targeted

def test_a_targeted_destroy_is_not_blocked_by_prevent_destroy_elsewhere(azure):
    spec = base_spec(EAST)
    deployment_of(spec, EAST, "chat")["prevent_destroy"] = True
    assert azure.apply(spec).code == 0
    assert azure.destroy(spec).code == 1  # chat is protected
    result = azure.destroy(spec, "--target", f"{EAST}/embeddings")
    assert result.code == 0, result
    assert set(azure.deployments(EAST)) == {"chat"}


def test_a_corrupt_emulator_state_file_is_one_clear_error(project, cli):
    project.state.write_bytes(b"this is not a SQLite database" * 100)
    project.write(EXAMPLE_SPEC)
    result = cli("plan", "deployments.yaml", "--emulator")
    assert result.code == 1
    assert result.err.startswith(f"Error: the emulator state file {project.state} is unusable:")
    assert "Hint: delete" in result.err and "unexpected" not in result.err


EXAMPLE_SPEC = """version: 1
defaults: {subscription: 00000000-0000-0000-0000-0000000000e4, resource_group: rg, location: eastus2}
accounts: [{name: acct}]
"""


@pytest.mark.parametrize("out, says", [("missing/plan.json", "the folder missing does not exist"),
                                       ("deployments.yaml", "that is the spec file"),
                                       ("plan.txt", "a plan file's name ends in .json"),
                                       (".", "it is a folder")])
def test_plan_out_refuses_a_bad_destination_before_reading_azure(project, cli, out, says):
    project.write(EXAMPLE_SPEC)
    before = project.spec.read_text()
    result = cli("plan", "deployments.yaml", "--emulator", "-out", out)
    assert result.code == 1
    assert f"cannot save the plan to {out}: {says}" in result.err
    assert project.spec.read_text() == before  # the spec is never overwritten


@pytest.mark.parametrize("name", ["..", ".", "a/b", "a%2Fb", "x.", "a?b"])
def test_the_azure_layer_never_sends_a_name_that_addresses_another_resource(azure, name):
    """Below the spec's own name rules: whatever reaches the writer (a plan built by hand, a name read
    back from Azure), a name that would address another resource is never sent."""
    from provisioner.azure.clients import Clients, emulator_connection
    from provisioner.azure.writers import AzureWriter
    from provisioner.errors import PermanentError
    from provisioner.model.resources import Kind, Scope
    from provisioner.plan.model import Action, Change

    clients = Clients(emulator_connection(azure.emulator.base_url, azure.emulator.ca_path,
                                          azure.emulator.credential))
    change = Change(Kind.DEPLOYMENT, name, Scope(SUBSCRIPTION, GROUP, EAST), Action.CREATE, None,
                    {"model": "gpt-4o", "format": "OpenAI", "version": "2024-11-20", "sku": "GlobalStandard",
                     "capacity": 1, "tags": {}})
    azure.clear_requests()
    with pytest.raises(PermanentError, match="refusing to send the name"):
        AzureWriter(clients, owner="e2e").execute(change)
    clients.close()
    assert azure.control.requests()["total"] == 0


def test_names_that_differ_from_the_live_ones_only_in_case_are_the_same_resources(azure):
    """ARM names ignore case and keep the spelling they were made with: a spec that spells a
    deployment, policy or blocklist another way plans nothing for it (not a create that would
    rewrite the same resource on every run), and the live spelling stays."""
    spec = base_spec(EAST)
    path = azure.write_spec(spec)
    assert azure.run("apply", path, "--auto-approve").code == 0
    deployment_of(spec, EAST, "chat")["name"] = "Chat"
    spec["content_filters"]["STRICT"] = spec["content_filters"].pop("strict")
    for deployment in spec["accounts"][0]["deployments"]:
        if deployment.get("content_filter") == "strict":
            deployment["content_filter"] = "STRICT"
    path = azure.write_spec(spec)
    _converged(azure, path)
    assert sorted(d.name for d in azure.cognitive.deployments.list(GROUP, EAST)) == ["chat", "embeddings"]
    # a real change under the other spelling is an update of the live resource
    deployment_of(spec, EAST, "Chat")["capacity"] = 11
    path = azure.write_spec(spec)
    plan = _plan_json(azure, path)
    assert [(c["action"], c["address"]) for c in plan["changes"] if c["action"] != "no-op"] == [
        ("update", f"{EAST}/deployments/Chat")]
    assert azure.run("apply", path, "--auto-approve").code == 0
    assert azure.cognitive.deployments.get(GROUP, EAST, "chat").sku.capacity == 11
    _converged(azure, path)


def test_a_blocklist_spelled_in_another_case_than_live_converges(azure):
    """A blocklist (and the filter's reference to it) spelled `BANNED` is the live `banned`: its
    items are read and compared (not taken for none, an update on every run), the filter's list
    of blocklists is the same, and an added item lands on the live blocklist."""
    spec = base_spec(EAST)
    assert azure.apply(spec).code == 0
    spec["blocklists"]["BANNED"] = spec["blocklists"].pop("banned")
    spec["content_filters"]["strict"]["blocklists"] = ["BANNED"]
    path = azure.write_spec(spec)
    _converged(azure, path)
    spec["blocklists"]["BANNED"]["items"].append("another phrase")
    path = azure.write_spec(spec)
    plan = _plan_json(azure, path)
    assert [(c["action"], c["address"]) for c in plan["changes"] if c["action"] != "no-op"] == [
        ("update", f"{EAST}/raiBlocklists/BANNED")]
    assert azure.apply(path).code == 0
    assert azure.blocklists(EAST) == {"banned"}
    items = {i.properties.pattern for i in azure.cognitive.rai_blocklist_items.list(GROUP, EAST, "banned")}
    assert items == {"forbidden phrase", "ba[rz]+", "another phrase"}
    _converged(azure, path)
