"""`provision plan --drift` end to end: changes made in Azure with the SDK after an apply (out-of-band
capacity change, new unmanaged deployment, deletion, removed tags) are reported, exit 2; what the
spec does not manage and that was there before the apply is not drift."""
from __future__ import annotations

import json

import pytest
from apply_helpers import (  # noqa: F401 - azure is a fixture
    EAST,
    GROUP,
    azure,
    base_spec,
)

CHAT = f"{EAST}/deployments/chat"


def _deployment_by_hand(azure, name: str) -> None:
    azure.cognitive.deployments.begin_create_or_update(GROUP, EAST, name, {
        "sku": {"name": "Standard", "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": "text-embedding-ada-002", "version": "2"}}}).result()


@pytest.fixture
def applied(azure):
    spec = base_spec(EAST)
    del spec["key_vault"]
    path = azure.write_spec(spec)
    assert azure.apply(path).code == 0
    return path


def _drift(azure, path) -> tuple[int, dict]:
    result = azure.run("plan", path, "--drift", "--output", "json")
    assert result.code in (0, 2), result
    return result.code, json.loads(result.out)


def test_no_drift_right_after_apply(azure, applied):
    result = azure.run("plan", applied, "--drift")
    assert result.code == 0, result
    assert "No drift." in result.out


def test_an_out_of_band_capacity_change_is_drift(azure, applied):
    live = azure.cognitive.deployments.get(GROUP, EAST, "chat")
    live.sku.capacity = 20
    azure.cognitive.deployments.begin_create_or_update(GROUP, EAST, "chat", live).result()
    code, document = _drift(azure, applied)
    assert code == 2
    assert [(i["address"], i["drift"]) for i in document["items"]] == [(CHAT, "changed")]
    assert document["items"][0]["fields"] == [{"path": "capacity", "applied": 10, "live": 20}]
    human = azure.run("plan", applied, "--drift")
    assert human.code == 2
    assert f"  ~ {CHAT} (deployment) — changed outside provision" in human.out
    assert "capacity: applied 10, now 20" in human.out


def test_a_new_unmanaged_deployment_is_drift_but_one_older_than_the_apply_is_not(azure):
    spec = base_spec(EAST)
    del spec["key_vault"]
    path = azure.write_spec(spec)
    assert azure.apply(path).code == 0
    _deployment_by_hand(azure, "older")
    code, document = _drift(azure, path)
    assert code == 2 and [i["address"] for i in document["items"]] == [f"{EAST}/deployments/older"]
    spec["accounts"][0]["deployments"][0]["capacity"] = 11
    assert azure.apply(azure.write_spec(spec)).code == 0  # applied again: "older" was there by then
    assert _drift(azure, path)[0] == 0
    _deployment_by_hand(azure, "newer")
    code, document = _drift(azure, path)
    assert code == 2
    assert [(i["address"], i["drift"]) for i in document["items"]] == [(f"{EAST}/deployments/newer", "appeared")]
    assert document["since"] is not None
    assert document["items"][0]["created_at"] > document["since"]


def test_deleted_and_untagged_resources_are_drift(azure, applied):
    azure.cognitive.deployments.begin_delete(GROUP, EAST, "embeddings").result()
    live = azure.cognitive.deployments.get(GROUP, EAST, "chat")
    live.tags = {"team": "platform"}  # someone removed our tags
    azure.cognitive.deployments.begin_create_or_update(GROUP, EAST, "chat", live).result()
    code, document = _drift(azure, applied)
    assert code == 2
    assert {(i["address"], i["drift"]) for i in document["items"]} == {
        (CHAT, "untagged"), (f"{EAST}/deployments/embeddings", "missing")}
    assert document["summary"] == {"changed": 0, "missing": 1, "untagged": 1, "appeared": 0}


def test_drift_writes_nothing_and_rejects_options_that_do_not_apply(azure, applied):
    azure.clear_requests()
    azure.run("plan", applied, "--drift")
    assert azure.writes() == {}
    for extra in (("--destroy",), ("--detailed-exitcode",), ("--output", "markdown")):
        result = azure.run("plan", applied, "--drift", *extra)
        assert result.code == 1, result
