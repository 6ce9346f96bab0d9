"""RAI policies, blocklists, blocklist items and the content filter catalog, through the real SDK client."""
from __future__ import annotations

import io
import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from provisioner.emulator.app import build_router

POLICY_TYPE = "Microsoft.CognitiveServices/accounts/raiPolicies"
ACCOUNT_PATH = "/subscriptions/s/resourcegroups/rg/providers/Microsoft.CognitiveServices/accounts/acct"


def _deployments_ready() -> bool:
    """The deployments provider is written in parallel: use it once it serves PUT."""
    return build_router().match("PUT", ACCOUNT_PATH + "/deployments/d") is not None


def harm_filters(threshold: str = "Medium") -> list[dict]:
    return [{"name": name, "severityThreshold": threshold, "blocking": True, "enabled": True, "source": source}
            for name in ("Hate", "Sexual", "Violence", "Selfharm") for source in ("Prompt", "Completion")]


def policy_body(**properties) -> dict:
    return {"properties": {"basePolicyName": "Microsoft.DefaultV2", "mode": "Asynchronous_filter",
                           "contentFilters": harm_filters(), **properties}}


def raw(body) -> io.BytesIO:
    """A body the SDK sends as is (its serializer would drop or convert what a test wants to get wrong)."""
    return io.BytesIO(json.dumps(body).encode())


def error_of(excinfo) -> tuple[int, str, str]:
    error = excinfo.value
    return error.status_code, error.error.code, error.error.message


# policies
def test_policy_create_get_list_update_delete(cognitive, account):
    body = policy_body(contentFilters=harm_filters() + [
        {"name": "Jailbreak", "blocking": True, "enabled": True, "source": "Prompt"},
        {"name": "Protected Material Text", "blocking": True, "enabled": True, "source": "Completion"},
        {"name": "Protected Material Code", "blocking": False, "enabled": True, "source": "Completion"},
        {"name": "Profanity", "blocking": True, "enabled": True, "source": "Prompt"},
        {"name": "Indirect Attack", "blocking": True, "enabled": True, "source": "Prompt"}])
    body["tags"] = {"team": "ai"}
    created, response = cognitive.rai_policies.create_or_update(
        "rg", "acct", "strict", body, cls=lambda pipeline, result, _: (result, pipeline.http_response))
    assert response.status_code == 201
    assert created.id == account.id + "/raiPolicies/strict"
    assert created.name == "strict"
    assert created.type == POLICY_TYPE
    assert created.etag and created.system_data.created_at
    assert created.tags == {"team": "ai"}
    assert created.properties.type == "UserManaged"
    assert created.properties.base_policy_name == "Microsoft.DefaultV2"
    assert created.properties.mode == "Asynchronous_filter"
    assert len(created.properties.content_filters) == 13

    got = cognitive.rai_policies.get("rg", "acct", "STRICT")
    assert got.id == created.id and got.etag == created.etag
    listed = {p.name: p for p in cognitive.rai_policies.list("rg", "acct")}
    assert set(listed) == {"Microsoft.Default", "Microsoft.DefaultV2", "strict"}

    updated, response = cognitive.rai_policies.create_or_update(
        "rg", "acct", "strict", policy_body(mode="Blocking", contentFilters=harm_filters("High")),
        cls=lambda pipeline, result, _: (result, pipeline.http_response))
    assert response.status_code == 200
    assert updated.etag != created.etag
    assert updated.system_data.created_at == created.system_data.created_at
    assert updated.properties.mode == "Blocking"
    assert not updated.tags  # PUT replaces
    assert {f.severity_threshold for f in updated.properties.content_filters} == {"High"}

    cognitive.rai_policies.begin_delete("rg", "acct", "strict").result()
    with pytest.raises(ResourceNotFoundError):
        cognitive.rai_policies.get("rg", "acct", "strict")
    cognitive.rai_policies.begin_delete("rg", "acct", "strict").result()  # already gone: 204


def test_policy_delete_runs_as_an_operation_and_locks_the_account(emulator, cognitive, account):
    cognitive.rai_policies.create_or_update("rg", "acct", "p1", policy_body())
    emulator.control.configure(lro_durations={"raiPolicies.delete": 0.5})
    poller = cognitive.rai_policies.begin_delete("rg", "acct", "p1")
    assert poller.status() != "Succeeded"
    with pytest.raises(ResourceExistsError) as excinfo:
        cognitive.rai_policies.create_or_update("rg", "acct", "p2", policy_body())
    assert excinfo.value.error.code == "RequestConflict"
    poller.result()
    with pytest.raises(ResourceNotFoundError):
        cognitive.rai_policies.get("rg", "acct", "p1")
    cognitive.rai_policies.create_or_update("rg", "acct", "p2", policy_body())


def test_builtin_policies_are_listed_and_protected(cognitive, account):
    listed = {p.name: p for p in cognitive.rai_policies.list("rg", "acct")}
    assert set(listed) == {"Microsoft.Default", "Microsoft.DefaultV2"}
    for policy in listed.values():
        assert policy.properties.type == "SystemManaged"
        assert policy.id == f"{account.id}/raiPolicies/{policy.name}"
        assert policy.type == POLICY_TYPE
    v2 = cognitive.rai_policies.get("rg", "acct", "microsoft.defaultv2")
    assert v2.name == "Microsoft.DefaultV2"
    assert "Jailbreak" in {f.name for f in v2.properties.content_filters}

    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.rai_policies.create_or_update("rg", "acct", "Microsoft.DefaultV2", policy_body())
    assert excinfo.value.status_code == 400
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.rai_policies.begin_delete("rg", "acct", "Microsoft.Default")
    assert excinfo.value.status_code == 400


INVALID_FILTER = "Resource has invalid content filter"
UNREADABLE = "InvalidRequestContent"  # a value the model's types or enums cannot hold: the body cannot be read


@pytest.mark.parametrize("properties, code, named", [
    ({"basePolicyName": None}, INVALID_FILTER, "basePolicyName"),
    ({"basePolicyName": "Microsoft.Strict"}, INVALID_FILTER, "Microsoft.Strict"),
    ({"mode": "Lenient"}, UNREADABLE, "properties.mode"),
    ({"contentFilters": [{"name": "Spam", "blocking": True, "enabled": True, "source": "Prompt"}]}, INVALID_FILTER,
     "Spam"),
    ({"contentFilters": [{"name": "Hate", "blocking": True, "enabled": True, "source": "Both",
                          "severityThreshold": "Low"}]}, UNREADABLE, "properties.contentFilters[0].source"),
    ({"contentFilters": [{"name": "Violence", "blocking": True, "enabled": True, "source": "Prompt"}]},
     INVALID_FILTER, "Violence"),
    ({"contentFilters": [{"name": "Sexual", "blocking": True, "enabled": True, "source": "Prompt",
                          "severityThreshold": "Extreme"}]}, UNREADABLE, "properties.contentFilters[0].severityThreshold"),
    ({"contentFilters": [{"name": "Selfharm", "enabled": True, "source": "Prompt", "severityThreshold": "Low"}]},
     INVALID_FILTER, "Selfharm"),
    ({"contentFilters": [{"name": "Profanity", "blocking": "yes", "enabled": True, "source": "Prompt"}]},
     UNREADABLE, "properties.contentFilters[0].blocking"),
    ({"contentFilters": [{"name": "Jailbreak", "blocking": True, "enabled": True, "source": "Completion"}]},
     INVALID_FILTER, "Jailbreak"),
    ({"contentFilters": [{"name": "Indirect Attack", "blocking": True, "enabled": True, "source": "Completion"}]},
     INVALID_FILTER, "Indirect Attack"),
    ({"contentFilters": [{"name": "Protected Material Code", "blocking": True, "enabled": True,
                          "source": "Prompt"}]}, INVALID_FILTER, "Protected Material Code"),
    ({"contentFilters": harm_filters() + [harm_filters()[0]]}, INVALID_FILTER, "Hate"),
    ({"customBlocklists": [{"blocklistName": "missing", "blocking": True, "source": "Prompt"}]},
     "Resource has invalid blocklist reference", "One or more of blocklists referenced in this policy are invalid."),
])
def test_invalid_policies_are_refused(cognitive, account, properties, code, named):
    body = policy_body()
    body["properties"].update(properties)
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.rai_policies.create_or_update("rg", "acct", "bad", raw(body))
    status, actual_code, message = error_of(excinfo)
    assert (status, actual_code) == (400, code)
    assert named in message
    with pytest.raises(ResourceNotFoundError):
        cognitive.rai_policies.get("rg", "acct", "bad")


def test_filter_names_in_every_spelling_the_api_uses(cognitive, account):
    """The policy examples spell "Protected Material Code", the filter catalog "ProtectedMaterialCode", some
    clients "protected_material_code": one filter."""
    body = policy_body(contentFilters=harm_filters() + [
        {"name": "protected_material_code", "blocking": True, "enabled": True, "source": "Completion"},
        {"name": "ProtectedMaterialText", "blocking": True, "enabled": True, "source": "Completion"}])
    created = cognitive.rai_policies.create_or_update("rg", "acct", "spellings", body)
    assert [f.name for f in created.properties.content_filters][-2:] == ["protected_material_code",
                                                                          "ProtectedMaterialText"]


def test_filter_names_and_enums_compare_case_insensitively(cognitive, account):
    body = policy_body(mode="blocking", contentFilters=[
        {"name": "hate", "severityThreshold": "low", "blocking": True, "enabled": True, "source": "prompt"},
        {"name": "PROTECTED MATERIAL TEXT", "blocking": True, "enabled": True, "source": "completion"}])
    body["properties"]["basePolicyName"] = "microsoft.default"
    assert cognitive.rai_policies.create_or_update("rg", "acct", "relaxed", body).properties.type == "UserManaged"


@pytest.mark.parametrize("body", [
    b"{not json",
    json.dumps({"properties": "strict"}).encode(),
    json.dumps({"properties": {"basePolicyName": "Microsoft.Default", "contentFilters": {"name": "Hate"}}}).encode(),
    json.dumps({"properties": {"basePolicyName": "Microsoft.Default", "contentFilters": ["Hate"]}}).encode(),
])
def test_malformed_policy_bodies(cognitive, account, body):
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.rai_policies.create_or_update("rg", "acct", "bad", io.BytesIO(body))
    assert error_of(excinfo)[:2] == (400, "InvalidRequestContent")


def test_policy_of_a_missing_account(cognitive, account):
    with pytest.raises(ResourceNotFoundError):
        cognitive.rai_policies.create_or_update("rg", "nope", "p", policy_body())
    with pytest.raises(ResourceNotFoundError):
        list(cognitive.rai_policies.list("rg", "nope"))


def test_policy_write_during_an_account_write_conflicts(emulator, cognitive, account):
    emulator.control.configure(lro_durations={"accounts.update": 0.5})
    poller = cognitive.accounts.begin_update("rg", "acct", {"tags": {"env": "test"}})
    with pytest.raises(ResourceExistsError) as excinfo:
        cognitive.rai_policies.create_or_update("rg", "acct", "p", policy_body())
    status, code, message = error_of(excinfo)
    assert (status, code) == (409, "RequestConflict")
    assert account.id in message
    with pytest.raises(ResourceExistsError):
        cognitive.rai_blocklists.create_or_update("rg", "acct", "words", {"properties": {}})
    poller.result()
    cognitive.rai_policies.create_or_update("rg", "acct", "p", policy_body())


@pytest.mark.skipif(not _deployments_ready(), reason="the deployments provider does not serve PUT yet")
def test_policy_in_use_by_a_deployment_cannot_be_deleted(cognitive, account):
    cognitive.rai_policies.create_or_update("rg", "acct", "strict", policy_body())
    cognitive.deployments.begin_create_or_update(
        "rg", "acct", "chat",
        {"sku": {"name": "GlobalStandard", "capacity": 1},
         "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-08-06"},
                        "raiPolicyName": "strict"}}).result()
    with pytest.raises(ResourceExistsError) as excinfo:
        cognitive.rai_policies.begin_delete("rg", "acct", "strict")
    status, code, message = error_of(excinfo)
    assert (status, code) == (409, "RaiPolicyInUse")
    assert "chat" in message
    cognitive.deployments.begin_delete("rg", "acct", "chat").result()
    cognitive.rai_policies.begin_delete("rg", "acct", "strict").result()


# blocklists
def test_blocklist_create_get_list_update_delete(cognitive, account):
    created, response = cognitive.rai_blocklists.create_or_update(
        "rg", "acct", "words", {"properties": {"description": "Words to block"}},
        cls=lambda pipeline, result, _: (result, pipeline.http_response))
    assert response.status_code == 201
    assert created.id == account.id + "/raiBlocklists/words"
    assert created.type == "Microsoft.CognitiveServices/accounts/raiBlocklists"
    assert created.properties.description == "Words to block"
    assert cognitive.rai_blocklists.get("rg", "acct", "words").etag == created.etag
    assert [b.name for b in cognitive.rai_blocklists.list("rg", "acct")] == ["words"]

    updated, response = cognitive.rai_blocklists.create_or_update(
        "rg", "acct", "words", {"properties": {"description": "Changed"}},
        cls=lambda pipeline, result, _: (result, pipeline.http_response))
    assert response.status_code == 200 and updated.properties.description == "Changed"

    cognitive.rai_blocklist_items.create_or_update("rg", "acct", "words", "one",
                                                   {"properties": {"pattern": "bad", "isRegex": False}})
    cognitive.rai_blocklists.begin_delete("rg", "acct", "words").result()
    with pytest.raises(ResourceNotFoundError):
        cognitive.rai_blocklists.get("rg", "acct", "words")
    assert list(cognitive.rai_blocklists.list("rg", "acct")) == []
    # its items went with it: a new blocklist of the same name starts empty
    cognitive.rai_blocklists.create_or_update("rg", "acct", "words", {"properties": {}})
    assert list(cognitive.rai_blocklist_items.list("rg", "acct", "words")) == []


def test_blocklist_delete_as_an_operation(emulator, cognitive, account):
    cognitive.rai_blocklists.create_or_update("rg", "acct", "words", {"properties": {}})
    emulator.control.configure(lro_durations={"raiBlocklists.delete": 0.3})
    cognitive.rai_blocklists.begin_delete("rg", "acct", "words").result()
    with pytest.raises(ResourceNotFoundError):
        cognitive.rai_blocklists.get("rg", "acct", "words")


def test_policy_uses_blocklists_that_exist_and_keeps_them(cognitive, account):
    cognitive.rai_blocklists.create_or_update("rg", "acct", "words", {"properties": {"description": "x"}})
    policy = cognitive.rai_policies.create_or_update("rg", "acct", "strict", policy_body(
        customBlocklists=[{"blocklistName": "WORDS", "blocking": True, "source": "Prompt"}]))
    assert policy.properties.custom_blocklists[0].blocklist_name == "WORDS"
    with pytest.raises(ResourceExistsError) as excinfo:
        cognitive.rai_blocklists.begin_delete("rg", "acct", "words")
    status, code, message = error_of(excinfo)
    assert (status, code) == (409, "RaiBlocklistInUse")
    assert "strict" in message
    cognitive.rai_policies.create_or_update("rg", "acct", "strict", policy_body())
    cognitive.rai_blocklists.begin_delete("rg", "acct", "words").result()


# blocklist items
def test_item_create_get_list_update_delete(cognitive, account):
    cognitive.rai_blocklists.create_or_update("rg", "acct", "words", {"properties": {}})
    created, response = cognitive.rai_blocklist_items.create_or_update(
        "rg", "acct", "words", "swear", {"properties": {"pattern": "darn", "isRegex": False}},
        cls=lambda pipeline, result, _: (result, pipeline.http_response))
    assert response.status_code == 201
    assert created.id == account.id + "/raiBlocklists/words/raiBlocklistItems/swear"
    assert created.type == "Microsoft.CognitiveServices/accounts/raiBlocklists/raiBlocklistItems"
    assert (created.properties.pattern, created.properties.is_regex) == ("darn", False)
    assert cognitive.rai_blocklist_items.get("rg", "acct", "words", "swear").etag == created.etag

    updated, response = cognitive.rai_blocklist_items.create_or_update(
        "rg", "acct", "words", "swear", {"properties": {"pattern": "d[a4]rn", "isRegex": True}},
        cls=lambda pipeline, result, _: (result, pipeline.http_response))
    assert response.status_code == 200 and updated.properties.is_regex is True
    assert [i.name for i in cognitive.rai_blocklist_items.list("rg", "acct", "words")] == ["swear"]

    cognitive.rai_blocklist_items.begin_delete("rg", "acct", "words", "swear").result()
    with pytest.raises(ResourceNotFoundError):
        cognitive.rai_blocklist_items.get("rg", "acct", "words", "swear")
    cognitive.rai_blocklist_items.begin_delete("rg", "acct", "words", "swear").result()  # 204 again


def test_invalid_items_are_refused(cognitive, account):
    cognitive.rai_blocklists.create_or_update("rg", "acct", "words", {"properties": {}})
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.rai_blocklist_items.create_or_update("rg", "acct", "words", "re",
                                                       {"properties": {"pattern": "([a-z", "isRegex": True}})
    status, _, message = error_of(excinfo)
    assert status == 400 and "([a-z" in message
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.rai_blocklist_items.create_or_update("rg", "acct", "words", "empty", {"properties": {}})
    assert excinfo.value.status_code == 400
    # "([a-z" is fine as plain text
    cognitive.rai_blocklist_items.create_or_update("rg", "acct", "words", "text",
                                                   {"properties": {"pattern": "([a-z", "isRegex": False}})
    with pytest.raises(ResourceNotFoundError):
        cognitive.rai_blocklist_items.create_or_update("rg", "acct", "missing", "x",
                                                       {"properties": {"pattern": "x", "isRegex": False}})


def test_bulk_add_and_delete_items(cognitive, account):
    cognitive.rai_blocklists.create_or_update("rg", "acct", "words", {"properties": {"description": "d"}})
    blocklist = cognitive.rai_blocklist_items.batch_add("rg", "acct", "words", [
        {"name": "one", "properties": {"pattern": "^[a-z0-9_-]{2,16}$", "isRegex": True}},
        {"name": "two", "properties": {"pattern": "blockwords", "isRegex": False}},
        {"name": "three", "properties": {"pattern": "more", "isRegex": False}}])
    assert blocklist.name == "words" and blocklist.properties.description == "d"
    assert {i.name for i in cognitive.rai_blocklist_items.list("rg", "acct", "words")} == {"one", "two", "three"}

    cognitive.rai_blocklist_items.batch_delete("rg", "acct", "words", ["one", "three", "never-there"])
    assert [i.name for i in cognitive.rai_blocklist_items.list("rg", "acct", "words")] == ["two"]


def test_bulk_add_is_all_or_nothing(cognitive, account):
    cognitive.rai_blocklists.create_or_update("rg", "acct", "words", {"properties": {}})
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.rai_blocklist_items.batch_add("rg", "acct", "words", [
            {"name": "good", "properties": {"pattern": "fine", "isRegex": False}},
            {"name": "bad", "properties": {"pattern": "(", "isRegex": True}}])
    assert excinfo.value.status_code == 400
    assert list(cognitive.rai_blocklist_items.list("rg", "acct", "words")) == []
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.rai_blocklist_items.batch_delete("rg", "acct", "words", {"names": ["good"]})
    assert error_of(excinfo)[:2] == (400, "InvalidRequestContent")


# the content filter catalog
def test_content_filter_catalog(cognitive):
    filters = {f.name: f for f in cognitive.rai_content_filters.list("WestUS")}
    assert list(filters) == ["Hate", "Sexual", "Violence", "Selfharm", "Jailbreak", "ProtectedMaterialText",
                             "ProtectedMaterialCode", "Profanity", "IndirectAttack"]
    assert filters["Hate"].properties.is_multi_level_filter is True
    assert filters["Hate"].properties.source is None
    text = filters["ProtectedMaterialText"]
    assert (text.properties.name, text.properties.source, text.properties.is_multi_level_filter) == (
        "Protected Material Text", "Completion", False)
    assert text.id.endswith("/providers/Microsoft.CognitiveServices/locations/WestUS/raiContentFilters/"
                            "ProtectedMaterialText")
    assert text.type == "Microsoft.CognitiveServices/locations/raiContentFilters"
    assert cognitive.rai_content_filters.get("WestUS", "indirectattack").properties.name == "Indirect Attack"
    with pytest.raises(ResourceNotFoundError):
        cognitive.rai_content_filters.get("WestUS", "Spam")
