"""Adoption end to end: resources made with the SDK only (no ownership tags, as the portal or a
script leaves them) and then declared in a spec are planned as `adopt`, never as a plain update;
applying writes our tags plus the real differences; `--no-adopt` and `adopt: false` refuse."""
from __future__ import annotations

import json

from apply_helpers import (  # noqa: F401 - azure is a fixture
    EAST,
    GROUP,
    SUBSCRIPTION,
    azure,
)

CHAT = f"{EAST}/deployments/chat"


def spec(capacity: int = 10, **extra) -> dict:
    return {"version": 1, "name": "adopter", **extra,
            "defaults": {"subscription": SUBSCRIPTION, "resource_group": GROUP, "location": "eastus2"},
            "accounts": [{"name": EAST, "deployments": [
                {"name": "chat", "model": "gpt-4o", "version": "2024-11-20", "capacity": capacity}]}]}


def made_by_hand(azure) -> None:
    """An account and a deployment as the portal makes them: no ownership tags; one tag of its own."""
    azure.resources.resource_groups.create_or_update(GROUP, {"location": "eastus2"})
    azure.cognitive.accounts.begin_create(GROUP, EAST, {
        "location": "eastus2", "kind": "OpenAI", "sku": {"name": "S0"}, "tags": {"owner": "alice"},
        "properties": {"customSubDomainName": EAST}}).result()
    azure.cognitive.deployments.begin_create_or_update(GROUP, EAST, "chat", {
        "sku": {"name": "GlobalStandard", "capacity": 5},
        "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}}}).result()


def test_untagged_resources_are_planned_as_adopt_with_their_real_differences(azure):
    made_by_hand(azure)
    result = azure.plan(spec(capacity=10), "--output", "json")
    assert result.code == 0, result
    changes = {c["address"]: c for c in json.loads(result.out)["changes"]}
    assert changes[EAST]["action"] == "adopt"
    assert changes[CHAT]["action"] == "adopt"
    chat_fields = {f["path"]: (f["before"], f["after"]) for f in changes[CHAT]["fields"]}
    assert chat_fields == {"capacity": (5, 10), "tags.managed-by": (None, "provision"),
                           "tags.provision-spec": (None, "adopter")}
    assert {f["path"] for f in changes[EAST]["fields"]} == {"tags.managed-by", "tags.provision-spec"}
    assert json.loads(result.out)["summary"]["adopt"] == 2

    human = azure.plan(spec(capacity=10))
    assert f"  > {CHAT} (deployment) — exists without ownership tags" in human.out
    assert "capacity: 5 → 10" in human.out
    assert "Plan: 2 to adopt, 0 to create, 0 to update, 0 to replace, 0 to delete." in human.out

    markdown = azure.plan(spec(capacity=10), "--output", "markdown")
    assert "2 to adopt" in markdown.out and f"| > | chat |" in markdown.out


def test_adopting_writes_our_tags_and_the_differences_and_then_converges(azure):
    made_by_hand(azure)
    applied = azure.apply(spec(capacity=10))
    assert applied.code == 0, applied
    account, chat = azure.account(EAST), azure.deployments(EAST)["chat"]
    assert account.tags == {"owner": "alice", "managed-by": "provision", "provision-spec": "adopter"}
    assert chat.tags["provision-spec"] == "adopter" and chat.sku.capacity == 10
    again = azure.plan(spec(capacity=10), "--detailed-exitcode")
    assert again.code == 0, again
    assert "No changes." in again.out


def test_no_adopt_fails_naming_every_resource_and_writes_nothing(azure):
    made_by_hand(azure)
    azure.clear_requests()
    for argv in (("plan",), ("apply", "--auto-approve")):
        result = azure.run(*argv, azure.write_spec(spec()), "--no-adopt")
        assert result.code == 1, result
        assert f"{EAST}, {CHAT}: already exist without ownership tags" in result.err
        assert "--no-adopt" in result.err
    assert azure.writes() == {}
    assert "managed-by" not in (azure.account(EAST).tags or {})


def test_adopt_false_in_the_spec_refuses_as_no_adopt_does(azure):
    made_by_hand(azure)
    result = azure.plan(spec(adopt=False))
    assert result.code == 1, result
    assert "adoption is off" in result.err and CHAT in result.err


def test_a_resource_tagged_by_another_spec_after_the_plan_is_not_adopted(azure):
    made_by_hand(azure)
    saved = azure.plan(spec(), "-out", "plan.json")
    assert saved.code == 0, saved
    live = azure.cognitive.deployments.get(GROUP, EAST, "chat")
    live.tags = {"managed-by": "provision", "provision-spec": "someone-else"}
    azure.cognitive.deployments.begin_create_or_update(GROUP, EAST, "chat", live).result()
    result = azure.run("apply", "plan.json")
    assert result.code == 1, result
    assert "managed by spec 'someone-else'" in result.text
    assert azure.deployments(EAST)["chat"].tags["provision-spec"] == "someone-else"


def test_the_arm_engine_adopts_too(azure):
    made_by_hand(azure)
    applied = azure.apply(spec(capacity=10), "--engine", "arm")
    assert applied.code == 0, applied
    assert azure.deployments(EAST)["chat"].tags["provision-spec"] == "adopter"
    assert azure.plan(spec(capacity=10), "--detailed-exitcode").code == 0
