"""Account deployments, driven through the real SDK client (fixtures in tests/conftest.py)."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from tests.conftest import SUBSCRIPTION

ACCOUNT_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct"
CONFLICT = (f"Another operation is being performed on the parent resource '{ACCOUNT_ID}'. "
            "Please try again later.")
TURBO_TPM = "Tokens Per Minute (thousands) - GPT-35-Turbo"


def body(model="gpt-35-turbo", version="0125", sku="Standard", capacity=1, **properties):
    spec = {"format": "OpenAI", "name": model}
    if version is not None:
        spec["version"] = version
    return {"sku": {"name": sku, "capacity": capacity}, "properties": {"model": spec, **properties}}


def deploy(cognitive, name="dpy", account="acct", **kwargs):
    return cognitive.deployments.begin_create_or_update("rg", account, name, body(**kwargs)).result()


def error_of(excinfo) -> tuple[int, str, str]:
    error = excinfo.value
    return error.status_code, error.error.code, error.error.message


def test_create_matches_the_recorded_response(cognitive, account):
    created = deploy(cognitive)
    assert created.id == f"{ACCOUNT_ID}/deployments/dpy"
    assert created.type == "Microsoft.CognitiveServices/accounts/deployments"
    assert created.sku.name == "Standard" and created.sku.capacity == 1
    props = created.properties
    assert props.provisioning_state == "Succeeded"
    assert props.model.as_dict() == {"format": "OpenAI", "name": "gpt-35-turbo", "version": "0125"}
    assert props.version_upgrade_option == "OnceNewDefaultVersionAvailable"
    assert props.current_capacity == 1
    # as recorded for gpt-35-turbo 0125 Standard capacity 1
    assert props.capabilities == {"completion": "true", "maxContextToken": "16385", "maxOutputToken": "4096",
                                  "chatCompletion": "true", "assistants": "true"}
    assert [(r.key, r.renewal_period, r.count) for r in props.rate_limits] == [("request", 10, 1),
                                                                               ("token", 60, 1000)]
    assert props.rai_policy_name is None
    assert created.etag and created.system_data.created_at


def test_get_list_and_missing(cognitive, account):
    deploy(cognitive, "one")
    deploy(cognitive, "two", capacity=2)
    assert cognitive.deployments.get("rg", "acct", "two").sku.capacity == 2
    assert sorted(d.name for d in cognitive.deployments.list("rg", "acct")) == ["one", "two"]
    with pytest.raises(ResourceNotFoundError) as excinfo:
        cognitive.deployments.get("rg", "acct", "nope")
    assert error_of(excinfo)[:2] == (404, "NotFound")


def test_rate_limits_scale_with_capacity_and_tags_echo(cognitive, account):
    created = cognitive.deployments.begin_create_or_update(
        "rg", "acct", "dpy", {**body(capacity=10), "tags": {"team": "search"}}).result()
    assert [(r.key, r.count) for r in created.properties.rate_limits] == [("request", 10), ("token", 10000)]
    assert created.tags == {"team": "search"}


def test_update_capacity_and_version(cognitive, account):
    first = deploy(cognitive, name="emb", model="text-embedding-ada-002", version="2")
    raised = deploy(cognitive, name="emb", model="text-embedding-ada-002", version="2", capacity=5)
    assert raised.properties.current_capacity == 5 and raised.sku.capacity == 5
    assert raised.etag != first.etag
    chat = deploy(cognitive, name="chat", model="gpt-4o", version="2024-08-06", sku="GlobalStandard")
    assert chat.properties.model.version == "2024-08-06"
    upgraded = deploy(cognitive, name="chat", model="gpt-4o", version="2024-11-20", sku="GlobalStandard")
    assert upgraded.properties.model.version == "2024-11-20"
    assert upgraded.properties.provisioning_state == "Succeeded"
    assert upgraded.system_data.created_at == chat.system_data.created_at


def test_patch_capacity_and_tags(cognitive, account):
    deploy(cognitive)
    patched = cognitive.deployments.begin_update("rg", "acct", "dpy", {"sku": {"name": "Standard", "capacity": 3},
                                                                       "tags": {"a": "b"}}).result()
    assert patched.sku.capacity == 3 and patched.properties.current_capacity == 3
    assert patched.tags == {"a": "b"}
    assert cognitive.deployments.get("rg", "acct", "dpy").sku.capacity == 3


def test_delete(cognitive, account):
    deploy(cognitive)
    cognitive.deployments.begin_delete("rg", "acct", "dpy").result()
    assert list(cognitive.deployments.list("rg", "acct")) == []
    cognitive.deployments.begin_delete("rg", "acct", "dpy").result()  # already gone: 204


def test_delete_with_duration_holds_the_account(emulator, cognitive, account):
    deploy(cognitive)
    emulator.control.configure(lro_durations={"deployments.delete": 0.3})
    poller = cognitive.deployments.begin_delete("rg", "acct", "dpy")
    assert cognitive.deployments.get("rg", "acct", "dpy").properties.provisioning_state == "Deleting"
    with pytest.raises(ResourceExistsError) as excinfo:
        deploy(cognitive, "other")
    assert error_of(excinfo) == (409, "RequestConflict", CONFLICT)
    poller.result()
    assert list(cognitive.deployments.list("rg", "acct")) == []


def test_version_omitted_means_the_regions_default(resources, cognitive, account):
    assert deploy(cognitive, model="gpt-4o", version=None, sku="GlobalStandard").properties.model.version == \
        "2024-08-06"
    cognitive.accounts.begin_create("rg", "east2", {"kind": "OpenAI", "sku": {"name": "S0"},
                                                    "location": "eastus2"}).result()
    created = deploy(cognitive, account="east2", model="gpt-4o", version=None, sku="GlobalStandard")
    assert created.properties.model.version == "2024-11-20"


def test_create_runs_as_an_operation_that_locks_the_account(emulator, cognitive, account):
    emulator.control.configure(lro_durations={"deployments.create": 1.0})
    responses = []
    poller = cognitive.deployments.begin_create_or_update("rg", "acct", "dpy", body(),
                                                          raw_response_hook=lambda r: responses.append(r))
    initial = responses[0].http_response
    assert initial.status_code == 201
    assert initial.json()["properties"]["provisioningState"] == "Accepted"
    assert "/operationResults/" in initial.headers["Azure-AsyncOperation"]
    assert initial.headers["ETag"] == initial.json()["etag"]
    assert cognitive.deployments.get("rg", "acct", "dpy").properties.provisioning_state in ("Accepted", "Creating")
    with pytest.raises(ResourceExistsError) as excinfo:
        deploy(cognitive, "second")
    assert error_of(excinfo) == (409, "RequestConflict", CONFLICT)
    with pytest.raises(ResourceExistsError):
        cognitive.accounts.begin_update("rg", "acct", {"tags": {"x": "y"}})
    assert poller.result().properties.provisioning_state == "Succeeded"
    deploy(cognitive, "second")  # the account is free again


def test_update_with_duration_answers_accepted(emulator, cognitive, account):
    deploy(cognitive)
    emulator.control.configure(lro_durations={"deployments.update": 0.3})
    poller = cognitive.deployments.begin_create_or_update("rg", "acct", "dpy", body(capacity=2))
    assert cognitive.deployments.get("rg", "acct", "dpy").properties.provisioning_state == "Accepted"
    result = poller.result()
    assert result.properties.provisioning_state == "Succeeded" and result.sku.capacity == 2


def test_unknown_version_is_not_supported(cognitive, account):
    with pytest.raises(HttpResponseError) as excinfo:
        deploy(cognitive, version="2099-01-01")
    assert error_of(excinfo) == (
        400, "DeploymentModelNotSupported",
        "The model 'Publisher: , Format: OpenAI, Name: gpt-35-turbo, Version: 2099-01-01, Source: , "
        "SourceAccount: ' of account deployment is not supported.")


def test_sku_not_offered_for_the_model(cognitive, account):
    with pytest.raises(HttpResponseError) as excinfo:
        deploy(cognitive, model="gpt-4o", version="2024-08-06", sku="Standard")
    assert error_of(excinfo) == (
        400, "InvalidResourceProperties",
        "The specified SKU 'Standard' of account deployment is not supported by the model 'gpt-4o' "
        "version: '2024-08-06'.")


def test_ptu_capacity_must_follow_the_step(cognitive, account):
    with pytest.raises(HttpResponseError) as excinfo:
        deploy(cognitive, model="gpt-4o", version="2024-08-06", sku="GlobalProvisionedManaged", capacity=17)
    status, code, message = error_of(excinfo)
    assert (status, code) == (400, "InvalidCapacity") and "multiple of 5" in message
    created = deploy(cognitive, model="gpt-4o", version="2024-08-06", sku="GlobalProvisionedManaged", capacity=20)
    assert created.sku.capacity == 20


def test_insufficient_quota(emulator, cognitive, account):
    emulator.control.set_quota(SUBSCRIPTION, "eastus", "OpenAI.Standard.gpt-35-turbo", 10)
    deploy(cognitive, "a", capacity=6)
    with pytest.raises(HttpResponseError) as excinfo:
        deploy(cognitive, "b", capacity=5)
    assert error_of(excinfo) == (
        400, "InsufficientQuota",
        f"This operation require 5 new capacity in quota {TURBO_TPM}, which is bigger than the current available "
        f"capacity 4. The current quota usage is 6 and the quota limit is 10 for quota {TURBO_TPM}.")
    # an update asks for its increase only
    with pytest.raises(HttpResponseError) as excinfo:
        deploy(cognitive, "a", capacity=11)
    assert "require 5 new capacity" in error_of(excinfo)[2]
    assert deploy(cognitive, "a", capacity=10).sku.capacity == 10
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.deployments.begin_update("rg", "acct", "a", {"sku": {"name": "Standard", "capacity": 12}})
    assert error_of(excinfo)[1] == "InsufficientQuota"


def test_rai_policy_must_exist(cognitive, account):
    with pytest.raises(HttpResponseError) as excinfo:
        deploy(cognitive, raiPolicyName="strict")
    assert error_of(excinfo)[:2] == (400, "RaiPolicyNotFound")
    created = deploy(cognitive, raiPolicyName="Microsoft.DefaultV2")
    assert created.properties.rai_policy_name == "Microsoft.DefaultV2"


def test_rai_policy_created_on_the_account_is_accepted(cognitive, account):
    cognitive.rai_policies.create_or_update("rg", "acct", "strict", {"properties": {
        "basePolicyName": "Microsoft.DefaultV2", "mode": "Blocking",
        "contentFilters": [{"name": "Hate", "severityThreshold": "Low", "blocking": True, "enabled": True,
                            "source": "Prompt"}]}})
    assert deploy(cognitive, raiPolicyName="strict").properties.rai_policy_name == "strict"


def test_spillover_must_name_another_deployment(cognitive, account):
    with pytest.raises(HttpResponseError) as excinfo:
        deploy(cognitive, "main", spilloverDeploymentName="backup")
    assert error_of(excinfo)[:2] == (400, "InvalidResourceProperties")
    deploy(cognitive, "backup")
    created = deploy(cognitive, "main", spilloverDeploymentName="backup")
    assert created.properties.spillover_deployment_name == "backup"


def test_model_and_sku_cannot_change_on_update(cognitive, account):
    deploy(cognitive)
    with pytest.raises(HttpResponseError) as excinfo:
        deploy(cognitive, model="gpt-4o-mini", version="2024-07-18", sku="GlobalStandard")
    status, code, message = error_of(excinfo)
    assert (status, code) == (400, "InvalidResourceProperties") and "cannot be changed" in message
    with pytest.raises(HttpResponseError) as excinfo:
        deploy(cognitive, sku="LowPriority")
    assert "cannot be changed" in error_of(excinfo)[2]
    assert cognitive.deployments.get("rg", "acct", "dpy").properties.model.name == "gpt-35-turbo"


def test_list_skus(cognitive, account):
    deploy(cognitive)
    skus = {s.sku.name: s for s in cognitive.deployments.list_skus("rg", "acct", "dpy")}
    assert "Standard" in skus
    assert skus["Standard"].resource_type == "Microsoft.CognitiveServices/accounts/deployments"
    assert skus["Provisioned"].capacity.step == 100


def test_injected_throttle_and_server_error(emulator, cognitive, account):
    emulator.control.inject_fault("status", method="PUT", path="/deployments/", status=429, retry_after=7)
    with pytest.raises(HttpResponseError) as excinfo:
        deploy(cognitive)
    assert excinfo.value.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "7"
    deploy(cognitive)  # the 429 fired once
    emulator.control.inject_fault("status", method="GET", path="/deployments/dpy$", status=500)
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.deployments.get("rg", "acct", "dpy")
    assert (excinfo.value.status_code, excinfo.value.error.code) == (500, "InternalServerError")
    assert cognitive.deployments.get("rg", "acct", "dpy").properties.provisioning_state == "Succeeded"


def test_failed_operation_leaves_a_failed_deployment(emulator, cognitive, account):
    emulator.control.inject_fault("lro_failed", method="PUT", path="/deployments/dpy")
    poller = cognitive.deployments.begin_create_or_update("rg", "acct", "dpy", body())
    with pytest.raises(HttpResponseError):
        poller.result()
    assert cognitive.deployments.get("rg", "acct", "dpy").properties.provisioning_state == "Failed"


def test_writes_to_a_failed_account_are_refused(emulator, resources, cognitive):
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    emulator.control.inject_fault("lro_failed", method="PUT", path="/accounts/broken$")
    with pytest.raises(HttpResponseError):
        cognitive.accounts.begin_create("rg", "broken", {"kind": "OpenAI", "sku": {"name": "S0"},
                                                         "location": "eastus"}).result()
    with pytest.raises(HttpResponseError) as excinfo:
        deploy(cognitive, account="broken")
    assert error_of(excinfo)[:2] == (400, "AccountProvisioningStateInvalid")
