"""Cognitive Services accounts: create as a long-running operation, keys, soft delete,
restore, purge and custom subdomains, through the real SDK clients."""
from __future__ import annotations

import re
import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from tests.conftest import SUBSCRIPTION

ACCOUNT_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct"
ARM_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")
CONFLICT = f"Another operation is being performed on the parent resource '{ACCOUNT_ID}'. Please try again later."
DOMAIN_IN_USE = ("Please pick a different name. The subdomain name 'acct' is not available as it's already used by a "
                 "resource. If the resource using the name was deleted in the last 48 hours, you may need to purge "
                 "the deleted resource. Learn more at \"https://go.microsoft.com/fwlink/?linkid=2215493\"")


def openai(subdomain: str | None = "acct", **properties) -> dict:
    if subdomain:
        properties["customSubDomainName"] = subdomain
    return {"kind": "OpenAI", "sku": {"name": "S0"}, "location": "eastus", "properties": properties}


def initial(pipeline_response, account, headers):
    """cls for begin_* with polling=False: the first response itself, not the polled result."""
    return pipeline_response.http_response, account


def error_of(excinfo) -> tuple[int, str, str]:
    return excinfo.value.status_code, excinfo.value.error.code, excinfo.value.error.message


@pytest.fixture
def group(resources):
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    return "rg"


# create
def test_create_answers_201_creating_with_an_operation_to_poll(emulator, cognitive, group):
    response, account = cognitive.accounts.begin_create("rg", "acct", openai(), polling=False, cls=initial).result()
    assert response.status_code == 201
    assert account.properties.provisioning_state == "Creating"
    assert response.headers["ETag"] == account.etag
    operation = response.headers["Azure-AsyncOperation"]
    assert re.fullmatch(
        re.escape(f"{emulator.base_url}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.CognitiveServices"
                  "/locations/EASTUS/operationResults/") + r"[0-9a-f-]{36}\?api-version=2017-04-18", operation)
    assert account.id == ACCOUNT_ID
    assert (account.kind, account.sku.name, account.location) == ("OpenAI", "S0", "eastus")
    assert account.properties.endpoint == f"{emulator.base_url}/acct.openai.azure.com/"
    assert re.fullmatch(r"[0-9a-f]{32}", account.properties.internal_id)


def test_create_completes_after_the_configured_duration(emulator, cognitive, group):
    emulator.control.configure(lro_durations={"accounts.create": 0.3})
    started = time.monotonic()
    poller = cognitive.accounts.begin_create("rg", "acct", openai())
    assert cognitive.accounts.get("rg", "acct").properties.provisioning_state == "Creating"
    with pytest.raises(ResourceExistsError) as excinfo:  # one write at a time per account
        cognitive.accounts.begin_update("rg", "acct", {"tags": {"a": "b"}})
    assert error_of(excinfo) == (409, "RequestConflict", CONFLICT)

    assert poller.result().properties.provisioning_state == "Succeeded"
    assert time.monotonic() - started >= 0.3
    assert cognitive.accounts.get("rg", "acct").properties.provisioning_state == "Succeeded"
    cognitive.accounts.begin_update("rg", "acct", {"tags": {"a": "b"}}).result()  # free again


def test_operation_status_document(emulator, resources, cognitive, group):
    emulator.control.configure(lro_durations={"accounts.create": 0.3})
    response, _ = cognitive.accounts.begin_create("rg", "acct", openai(), polling=False, cls=initial).result()
    url = response.headers["Azure-AsyncOperation"]
    op_id = re.search(r"operationResults/([0-9a-f-]+)", url).group(1)

    # any SDK client's pipeline can GET a URL (ResourceManagementClient has the public send_request)
    running = resources.send_request(HttpRequest("GET", url)).json()
    assert running["status"] == "Creating"
    assert running["name"] == op_id
    assert running["id"] == (f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.CognitiveServices/locations/EASTUS"
                             f"/operationResults/{op_id}")
    assert ARM_TIME.match(running["startTime"]) and "endTime" not in running

    time.sleep(0.35)
    done = resources.send_request(HttpRequest("GET", url)).json()
    assert set(done) == {"id", "name", "status", "startTime", "endTime"}
    assert done["status"] == "Succeeded"
    assert ARM_TIME.match(done["endTime"]) and done["endTime"] > done["startTime"]


def test_invalid_names_and_bodies(cognitive, group):
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.accounts.begin_create("rg", "a", openai())
    assert error_of(excinfo)[:2] == (400, "InvalidResourceName")
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.accounts.begin_create("rg", "acct", {"sku": {"name": "S0"}, "location": "eastus"})
    assert error_of(excinfo)[:2] == (400, "InvalidRequestContent")
    with pytest.raises(ResourceNotFoundError) as excinfo:
        cognitive.accounts.begin_create("nogroup", "acct", openai())
    assert error_of(excinfo)[:2] == (404, "ResourceGroupNotFound")


# read
def test_get_and_list(emulator, resources, cognitive, account):
    resources.resource_groups.create_or_update("rg2", {"location": "westeurope"})
    cognitive.accounts.begin_create("rg2", "other", {**openai("other"), "location": "westeurope"}).result()
    got = cognitive.accounts.get("rg", "acct")
    assert (got.id, got.etag, got.properties.internal_id) == (account.id, account.etag, account.properties.internal_id)
    assert got.properties.endpoints["OpenAI Language Model Instance API"] == f"{emulator.base_url}/acct.openai.azure.com/"
    assert [a.name for a in cognitive.accounts.list_by_resource_group("rg")] == ["acct"]
    assert sorted(a.name for a in cognitive.accounts.list()) == ["acct", "other"]
    with pytest.raises(ResourceNotFoundError) as excinfo:
        cognitive.accounts.get("rg", "missing")
    assert error_of(excinfo)[:2] == (404, "ResourceNotFound")


def test_patch_tags(cognitive, account):
    updated = cognitive.accounts.begin_update("rg", "acct", {"tags": {"env": "test"}}).result()
    assert updated.tags == {"env": "test"}
    assert updated.etag != account.etag
    got = cognitive.accounts.get("rg", "acct")
    assert got.tags == {"env": "test"}
    assert got.properties.internal_id == account.properties.internal_id


# keys
def test_list_and_regenerate_keys(cognitive, account):
    keys = cognitive.accounts.list_keys("rg", "acct")
    assert re.fullmatch(r"[0-9a-f]{32}", keys.key1) and re.fullmatch(r"[0-9a-f]{32}", keys.key2)
    assert keys.key1 != keys.key2
    regenerated = cognitive.accounts.regenerate_key("rg", "acct", "Key2")
    assert regenerated.key1 == keys.key1 and regenerated.key2 != keys.key2
    again = cognitive.accounts.list_keys("rg", "acct")
    assert (again.key1, again.key2) == (regenerated.key1, regenerated.key2)


def test_disable_local_auth_refuses_keys(cognitive, account):
    cognitive.accounts.begin_update("rg", "acct", {"properties": {"disableLocalAuth": True}}).result()
    assert cognitive.accounts.get("rg", "acct").properties.disable_local_auth is True
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.accounts.list_keys("rg", "acct")
    assert error_of(excinfo) == (400, "BadRequest", "Failed to list key. disableLocalAuth is set to be true")


# soft delete, restore, purge
def test_delete_is_a_soft_delete(cognitive, account):
    cognitive.accounts.begin_delete("rg", "acct").result()
    with pytest.raises(ResourceNotFoundError):
        cognitive.accounts.get("rg", "acct")
    assert list(cognitive.accounts.list()) == []

    deleted = cognitive.deleted_accounts.get("eastus", "rg", "acct")
    assert deleted.id == (f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.CognitiveServices/locations/eastus"
                          "/resourceGroups/rg/deletedAccounts/acct")
    assert deleted.type == "Microsoft.CognitiveServices/deletedAccounts"
    assert deleted.properties.internal_id == account.properties.internal_id
    assert ARM_TIME.match(deleted.properties.deletion_date)
    assert ARM_TIME.match(deleted.properties.scheduled_purge_date)
    assert [d.name for d in cognitive.deleted_accounts.list()] == ["acct"]

    with pytest.raises(ResourceExistsError) as excinfo:
        cognitive.accounts.begin_create("rg", "acct", openai())
    assert error_of(excinfo) == (
        409, "FlagMustBeSetForRestore",
        f"An existing resource with ID '{ACCOUNT_ID}' has been soft-deleted. To restore the resource, you must "
        "specify 'restore' to be 'true' in the property. If you don't want to restore existing resource, "
        "please purge it first.")


def test_restore_keeps_identity_endpoint_and_keys(emulator, cognitive, account):
    keys = cognitive.accounts.list_keys("rg", "acct")
    cognitive.accounts.begin_delete("rg", "acct").result()
    # the body `az cognitiveservices account recover` sends: location and the flag, nothing else
    restored = cognitive.accounts.begin_create("rg", "acct", {"location": "eastus",
                                                              "properties": {"restore": True}}).result()
    assert restored.properties.provisioning_state == "Succeeded"
    assert restored.properties.internal_id == account.properties.internal_id
    assert restored.properties.endpoint == account.properties.endpoint == f"{emulator.base_url}/acct.openai.azure.com/"
    assert (restored.kind, restored.sku.name) == ("OpenAI", "S0")
    assert cognitive.accounts.list_keys("rg", "acct").key1 == keys.key1
    assert list(cognitive.deleted_accounts.list()) == []


def test_purge_frees_the_name(emulator, cognitive, account):
    emulator.control.configure(lro_durations={"deletedAccounts.purge": 0.2})
    cognitive.accounts.begin_delete("rg", "acct").result()
    responses = []
    poller = cognitive.deleted_accounts.begin_purge("eastus", "rg", "acct",
                                                    raw_response_hook=lambda r: responses.append(r.http_response))
    purge = responses[0]
    assert (purge.request.method, purge.status_code) == ("DELETE", 202)
    assert "/operationResults/" in purge.headers["Azure-AsyncOperation"]
    assert purge.headers["Location"] == purge.headers["Azure-AsyncOperation"] + "&operationResultResponseType=Location"
    assert cognitive.deleted_accounts.get("eastus", "rg", "acct").name == "acct"  # until the purge is done

    poller.result()
    with pytest.raises(ResourceNotFoundError):
        cognitive.deleted_accounts.get("eastus", "rg", "acct")
    assert list(cognitive.deleted_accounts.list()) == []
    again = cognitive.accounts.begin_create("rg", "acct", openai()).result()  # name and subdomain are free
    assert again.properties.internal_id != account.properties.internal_id


# custom subdomains
def test_subdomain_of_a_live_account_is_in_use(cognitive, account):
    with pytest.raises(ResourceExistsError) as excinfo:
        cognitive.accounts.begin_create("rg", "other", openai("ACCT"))
    assert error_of(excinfo)[:2] == (409, "CustomDomainInUse")
    assert excinfo.value.error.message == DOMAIN_IN_USE.replace("'acct'", "'ACCT'")


def test_subdomain_of_a_soft_deleted_account_is_in_use(cognitive, account):
    cognitive.accounts.begin_delete("rg", "acct").result()
    with pytest.raises(ResourceExistsError) as excinfo:
        cognitive.accounts.begin_create("rg", "other", openai("acct"))
    assert error_of(excinfo) == (409, "CustomDomainInUse", DOMAIN_IN_USE)


def test_invalid_subdomain(cognitive, group):
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.accounts.begin_create("rg", "acct", openai("ai_foundry-resource"))
    assert error_of(excinfo) == (400, "CustomDomainInvalid", "Sub domain name 'ai_foundry-resource' is not valid.")


# resource groups
def test_deleting_the_group_deletes_its_accounts(resources, cognitive, account):
    resources.resource_groups.begin_delete("rg").result()
    assert list(cognitive.accounts.list()) == []
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    with pytest.raises(ResourceNotFoundError):
        cognitive.accounts.get("rg", "acct")


def test_deleting_a_group_soft_deletes_its_accounts_and_vaults(resources, cognitive, keyvault, account):
    keyvault.vaults.begin_create_or_update("rg", "kv-in-group", {
        "location": "eastus", "properties": {"tenantId": "72f988bf-0000-4000-8000-00000000e7a1",
                                             "sku": {"family": "A", "name": "standard"}}}).result()
    resources.resource_groups.begin_delete("rg").result()
    assert [a.name for a in cognitive.deleted_accounts.list()] == ["acct"]
    assert [v.name for v in keyvault.vaults.list_deleted()] == ["kv-in-group"]
    # the names stay reserved, as in Azure, until purged
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    with pytest.raises(HttpResponseError) as error:
        cognitive.accounts.begin_create("rg", "acct", {"kind": "OpenAI", "sku": {"name": "S0"},
                                                       "location": "eastus", "properties": {}}).result()
    assert error.value.error.code == "FlagMustBeSetForRestore"
