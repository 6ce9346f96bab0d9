"""Key Vault vaults, deleted vaults and management-plane secrets, through the real SDK client."""
from __future__ import annotations

import io
import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from provisioner.emulator.providers.keyvault import DELETED_NAME_CONFLICT, secret_value
from tests.conftest import SUBSCRIPTION, sdk_kwargs

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000bb"


def vault_body(location: str = "westus", **properties) -> dict:
    return {"location": location, "tags": {"env": "test"},
            "properties": {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"},
                           "accessPolicies": [], **properties}}


def raw(body) -> io.BytesIO:
    """A body the SDK sends as is."""
    return io.BytesIO(json.dumps(body).encode())


def error_of(excinfo) -> tuple[int, str, str]:
    error = excinfo.value
    return error.status_code, error.error.code, error.error.message


def with_status(pipeline, result, _):
    return result, pipeline.http_response.status_code


def raw_text(pipeline, result, _):
    return pipeline.http_response.text()


@pytest.fixture
def group(resources):
    resources.resource_groups.create_or_update("rg", {"location": "westus"})
    return "rg"


@pytest.fixture
def vault(keyvault, group):
    return keyvault.vaults.begin_create_or_update(group, "kv-test", vault_body()).result()


# vaults
def test_create_get_list(keyvault, vault):
    assert vault.id == (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.KeyVault"
                        "/vaults/kv-test")
    assert vault.name == "kv-test"
    assert vault.type == "Microsoft.KeyVault/vaults"
    assert vault.location == "westus"
    assert vault.tags == {"env": "test"}
    assert vault.system_data.created_at is not None
    props = vault.properties
    assert props.vault_uri == "https://kv-test.vault.azure.net/"
    assert props.provisioning_state == "Succeeded"
    assert props.tenant_id == TENANT
    assert (props.sku.family, props.sku.name) == ("A", "standard")
    assert props.enable_soft_delete is True
    assert props.soft_delete_retention_in_days == 90
    assert props.enable_rbac_authorization is False
    assert props.enable_purge_protection is None
    assert props.access_policies == []

    assert keyvault.vaults.get("rg", "kv-test").id == vault.id
    assert [v.id for v in keyvault.vaults.list_by_resource_group("rg")] == [vault.id]
    assert [v.id for v in keyvault.vaults.list_by_subscription()] == [vault.id]
    assert len(list(keyvault.vaults.list(top=0))) == 0
    listed = list(keyvault.vaults.list())  # GET /subscriptions/{s}/resources?$filter=resourceType eq ...
    assert [(v.id, v.type, v.location) for v in listed] == [(vault.id, "Microsoft.KeyVault/vaults", "westus")]


def test_create_answers_201_then_put_again_200(keyvault, group):
    poller = keyvault.vaults.begin_create_or_update(group, "kv-status", vault_body(), cls=with_status)
    assert poller.result()[1] == 201
    again = vault_body(enableRbacAuthorization=True)
    again["tags"] = {"env": "prod"}
    updated, status = keyvault.vaults.begin_create_or_update(group, "kv-status", again, cls=with_status).result()
    assert status == 200
    assert updated.tags == {"env": "prod"}
    assert updated.properties.enable_rbac_authorization is True


def test_rbac_vault_without_access_policies(keyvault, group):
    body = vault_body(enableRbacAuthorization=True)
    del body["properties"]["accessPolicies"]
    created = keyvault.vaults.begin_create_or_update(group, "kv-rbac", body).result()
    assert created.properties.access_policies == []
    assert created.properties.enable_rbac_authorization is True


def test_patch_merges(keyvault, vault):
    patched = keyvault.vaults.update("rg", "kv-test", {"tags": {"a": "b"},
                                                       "properties": {"enablePurgeProtection": True}})
    assert patched.tags == {"a": "b"}
    assert patched.properties.enable_purge_protection is True
    assert patched.properties.tenant_id == TENANT
    # purge protection survives a PUT that does not mention it
    again = keyvault.vaults.begin_create_or_update("rg", "kv-test", vault_body()).result()
    assert again.properties.enable_purge_protection is True


def test_missing_vault_is_404(keyvault, group):
    with pytest.raises(ResourceNotFoundError) as excinfo:
        keyvault.vaults.get(group, "kv-nope")
    assert error_of(excinfo)[:2] == (404, "ResourceNotFound")
    with pytest.raises(ResourceNotFoundError) as excinfo:
        keyvault.secrets.get(group, "kv-nope", "s")
    assert error_of(excinfo)[:2] == (404, "ResourceNotFound")


# soft delete, recover, purge
def test_delete_soft_deletes(keyvault, vault):
    assert keyvault.vaults.delete("rg", "kv-test", cls=lambda pipeline, *_: pipeline.http_response.status_code) == 200
    with pytest.raises(ResourceNotFoundError):
        keyvault.vaults.get("rg", "kv-test")
    assert list(keyvault.vaults.list_by_subscription()) == []

    deleted = keyvault.vaults.get_deleted("kv-test", "westus")
    assert deleted.id == (f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.KeyVault/locations/westus"
                          "/deletedVaults/kv-test")
    assert deleted.type == "Microsoft.KeyVault/deletedVaults"
    assert deleted.properties.vault_id == vault.id
    assert deleted.properties.location == "westus"
    assert deleted.properties.tags == {"env": "test"}
    assert deleted.properties.purge_protection_enabled is False
    assert (deleted.properties.scheduled_purge_date - deleted.properties.deletion_date).days == 90
    assert [d.name for d in keyvault.vaults.list_deleted()] == ["kv-test"]
    raw_deleted = keyvault.vaults.get_deleted("kv-test", "westus", cls=raw_text)
    assert "emulator" not in raw_deleted


def test_name_held_by_deleted_vault(keyvault, vault, resources):
    keyvault.vaults.delete("rg", "kv-test")
    with pytest.raises(ResourceExistsError) as excinfo:
        keyvault.vaults.begin_create_or_update("rg", "kv-test", vault_body())
    assert error_of(excinfo) == (409, "ConflictError", DELETED_NAME_CONFLICT)
    resources.resource_groups.create_or_update("rg2", {"location": "eastus"})
    with pytest.raises(ResourceExistsError) as excinfo:
        keyvault.vaults.begin_create_or_update("rg2", "KV-TEST", vault_body("eastus"))
    assert error_of(excinfo)[1] == "ConflictError"


def test_recover_brings_back_vault_and_secrets(keyvault, vault, emulator):
    keyvault.secrets.create_or_update("rg", "kv-test", "db-password", {"properties": {"value": "hunter2"}})
    keyvault.vaults.delete("rg", "kv-test")
    assert secret_value(emulator.app.store, vault.id, "db-password") is None

    recovered = keyvault.vaults.begin_create_or_update(
        "rg", "kv-test", {"location": "westus", "properties": {"tenantId": TENANT, "createMode": "recover",
                                                                 "sku": {"family": "A", "name": "standard"}}}).result()
    assert recovered.id == vault.id
    assert recovered.tags == {"env": "test"}
    assert recovered.properties.vault_uri == vault.properties.vault_uri
    assert list(keyvault.vaults.list_deleted()) == []
    assert [s.name for s in keyvault.secrets.list("rg", "kv-test")] == ["db-password"]
    assert secret_value(emulator.app.store, vault.id, "db-password") == "hunter2"


def test_recover_without_deleted_vault_is_refused(keyvault, group):
    with pytest.raises(HttpResponseError) as excinfo:  # hashicorp/terraform-provider-azurerm#12972
        keyvault.vaults.begin_create_or_update(group, "kv-none", vault_body(createMode="recover"))
    assert (excinfo.value.status_code, excinfo.value.error.code) == (400, "SoftDeletedVaultDoesNotExist")


def test_purge_frees_the_name(keyvault, vault, emulator):
    keyvault.secrets.create_or_update("rg", "kv-test", "s1", {"properties": {"value": "v"}})
    keyvault.vaults.delete("rg", "kv-test")
    poller = keyvault.vaults.begin_purge_deleted("kv-test", "westus")
    poller.result()
    assert poller.status() == "Succeeded"
    with pytest.raises(ResourceNotFoundError):
        keyvault.vaults.get_deleted("kv-test", "westus")
    assert list(keyvault.vaults.list_deleted()) == []
    again = keyvault.vaults.begin_create_or_update("rg", "kv-test", vault_body()).result()
    assert again.id == vault.id
    assert list(keyvault.secrets.list("rg", "kv-test")) == []  # purged with the vault
    assert secret_value(emulator.app.store, vault.id, "s1") is None


def test_purge_answers_202_with_location(keyvault, vault):
    keyvault.vaults.delete("rg", "kv-test")
    response = keyvault.vaults._purge_deleted_initial("kv-test", "westus", cls=lambda pipeline, *_: pipeline)
    assert response.http_response.status_code == 202
    assert "/providers/Microsoft.KeyVault/locations/westus/operationResults/" in response.http_response.headers[
        "Location"]


def test_purge_takes_its_time(keyvault, vault, emulator):
    emulator.control.configure(lro_durations={"deletedVaults.purge": 1.0}, retry_after=1)
    keyvault.vaults.delete("rg", "kv-test")
    poller = keyvault.vaults.begin_purge_deleted("kv-test", "westus")
    assert keyvault.vaults.get_deleted("kv-test", "westus").name == "kv-test"  # still held while purging
    with pytest.raises(ResourceExistsError):
        keyvault.vaults.begin_create_or_update("rg", "kv-test", vault_body())
    poller.result()
    with pytest.raises(ResourceNotFoundError):
        keyvault.vaults.get_deleted("kv-test", "westus")
    counts = emulator.app.request_counts
    assert counts["GET /subscriptions/{subscription}/providers/{namespace}/locations/{location}"
                  "/operationResults/{operation}"] >= 2  # polled the Location until done


def test_purge_protection_refuses_purge(keyvault, group):
    keyvault.vaults.begin_create_or_update(group, "kv-locked", vault_body(enablePurgeProtection=True)).result()
    keyvault.vaults.delete(group, "kv-locked")
    assert keyvault.vaults.get_deleted("kv-locked", "westus").properties.purge_protection_enabled is True
    with pytest.raises(ResourceExistsError) as excinfo:
        keyvault.vaults.begin_purge_deleted("kv-locked", "westus")
    assert error_of(excinfo) == (409, "InvalidOperation", "Operation 'DeletedVaultPurge' is not allowed.")
    keyvault.vaults.get_deleted("kv-locked", "westus")  # still there


def test_missing_deleted_vault(keyvault):
    with pytest.raises(ResourceNotFoundError):
        keyvault.vaults.get_deleted("kv-none", "westus")
    with pytest.raises(ResourceNotFoundError):
        keyvault.vaults.begin_purge_deleted("kv-none", "westus")


def test_vault_names_are_global(keyvault, vault, resources, emulator):
    resources.resource_groups.create_or_update("rg2", {"location": "westus"})
    with pytest.raises(ResourceExistsError) as excinfo:
        keyvault.vaults.begin_create_or_update("rg2", "kv-test", vault_body())
    status, code, message = error_of(excinfo)
    assert (status, code) == (409, "VaultAlreadyExists")
    assert message.startswith("The vault name 'kv-test' is already in use. Vault names are globally unique")

    other_resources = ResourceManagementClient(emulator.credential, OTHER_SUBSCRIPTION, **sdk_kwargs(emulator))
    other = KeyVaultManagementClient(emulator.credential, OTHER_SUBSCRIPTION, **sdk_kwargs(emulator))
    other_resources.resource_groups.create_or_update("rg", {"location": "westus"})
    with pytest.raises(ResourceExistsError) as excinfo:
        other.vaults.begin_create_or_update("rg", "kv-test", vault_body())
    assert error_of(excinfo)[1] == "VaultAlreadyExists"
    # a name held by a deleted vault of another subscription is just "in use" there
    keyvault.vaults.delete("rg", "kv-test")
    with pytest.raises(ResourceExistsError) as excinfo:
        other.vaults.begin_create_or_update("rg", "kv-test", vault_body())
    assert error_of(excinfo)[1] == "VaultAlreadyExists"


# validation
@pytest.mark.parametrize("change, code, fragment", [
    (lambda b: b.pop("location"), "LocationRequired", "location"),
    (lambda b: b["properties"].pop("tenantId"), "BadRequest", "tenantId"),
    (lambda b: b["properties"].update(tenantId="not-a-guid"), "BadRequest", "tenantId"),
    (lambda b: b["properties"].pop("sku"), "BadRequest", "sku"),
    (lambda b: b["properties"].update(sku={"family": "A", "name": "gold"}), "BadRequest", "sku"),
    (lambda b: b["properties"].update(sku={"family": "B", "name": "standard"}), "BadRequest", "sku"),
    (lambda b: b["properties"].update(softDeleteRetentionInDays=5), "BadRequest", "softDeleteRetentionInDays"),
    (lambda b: b["properties"].update(enablePurgeProtection=False), "BadRequest", "enablePurgeProtection"),
    (lambda b: b["properties"].update(enableSoftDelete=False), "BadRequest", "enableSoftDelete"),
])
def test_vault_body_validation(keyvault, group, change, code, fragment):
    body = vault_body()
    change(body)
    with pytest.raises(HttpResponseError) as excinfo:
        keyvault.vaults.begin_create_or_update(group, "kv-bad", raw(body), content_type="application/json")
    status, got_code, message = error_of(excinfo)
    assert (status, got_code) == (400, code)
    assert fragment in message
    with pytest.raises(ResourceNotFoundError):
        keyvault.vaults.get(group, "kv-bad")


@pytest.mark.parametrize("name", ["kv", "1kv-test", "kv-test-", "kv--test", "k" * 25, "kv_test"])
def test_vault_name_validation(keyvault, group, name):
    with pytest.raises(HttpResponseError) as excinfo:
        keyvault.vaults.begin_create_or_update(group, name, vault_body())
    status, code, message = error_of(excinfo)
    assert (status, code) == (400, "VaultNameNotValid")
    assert f"The vault name '{name}' is invalid." in message


def test_missing_resource_group(keyvault):
    with pytest.raises(ResourceNotFoundError) as excinfo:
        keyvault.vaults.begin_create_or_update("nope", "kv-test", vault_body())
    assert error_of(excinfo)[1] == "ResourceGroupNotFound"


# secrets
def test_secret_value_is_stored_never_returned(keyvault, vault, emulator):
    created, status = keyvault.secrets.create_or_update(
        "rg", "kv-test", "db-password",
        {"properties": {"value": "s3cr3t-value", "contentType": "text/plain"}, "tags": {"app": "x"}},
        cls=with_status)
    assert status == 201
    assert created.id == vault.id + "/secrets/db-password"
    assert created.name == "db-password"
    assert created.type == "Microsoft.KeyVault/vaults/secrets"
    assert created.location == "westus"
    assert created.tags == {"app": "x"}
    props = created.properties
    assert props.value is None
    assert props.content_type == "text/plain"
    assert props.attributes.enabled is True
    assert props.attributes.created is not None and props.attributes.updated is not None
    assert props.secret_uri == "https://kv-test.vault.azure.net/secrets/db-password"
    assert props.secret_uri_with_version.startswith(props.secret_uri + "/")
    assert len(props.secret_uri_with_version.rsplit("/", 1)[1]) == 32

    fetched = keyvault.secrets.get("rg", "kv-test", "db-password")
    assert fetched.properties.value is None
    assert fetched.properties.secret_uri_with_version == props.secret_uri_with_version
    text = keyvault.secrets.get("rg", "kv-test", "db-password", cls=raw_text)
    assert "s3cr3t-value" not in text and '"value"' not in text
    for listed in keyvault.secrets.list("rg", "kv-test"):
        assert "value" not in listed.properties.as_dict()
        assert "s3cr3t-value" not in json.dumps(listed.as_dict())
    assert secret_value(emulator.app.store, vault.id, "db-password") == "s3cr3t-value"


def test_new_version_on_every_put(keyvault, vault, emulator, monkeypatch):
    first = keyvault.secrets.create_or_update("rg", "kv-test", "token", {"properties": {"value": "one"}})
    import provisioner.emulator.app as app_module
    later = app_module.now() + 60
    monkeypatch.setattr(app_module, "now", lambda: later)

    second, status = keyvault.secrets.create_or_update("rg", "kv-test", "token", {"properties": {"value": "two"}},
                                                       cls=with_status)
    assert status == 200
    assert second.properties.secret_uri_with_version != first.properties.secret_uri_with_version
    assert second.properties.attributes.created == first.properties.attributes.created
    assert second.properties.attributes.updated > first.properties.attributes.updated
    assert secret_value(emulator.app.store, vault.id, "token") == "two"
    # Azure writes a new version on every PUT, even with the same value
    third = keyvault.secrets.create_or_update("rg", "kv-test", "token", {"properties": {"value": "two"}})
    assert third.properties.secret_uri_with_version != second.properties.secret_uri_with_version


def test_patch_secret(keyvault, vault, emulator):
    first = keyvault.secrets.create_or_update("rg", "kv-test", "token", {"properties": {"value": "one"}})
    patched = keyvault.secrets.update("rg", "kv-test", "token",
                                      {"tags": {"t": "1"}, "properties": {"contentType": "text/plain",
                                                                          "attributes": {"enabled": False}}})
    assert patched.tags == {"t": "1"}
    assert patched.properties.content_type == "text/plain"
    assert patched.properties.attributes.enabled is False
    assert patched.properties.secret_uri_with_version == first.properties.secret_uri_with_version  # no new value
    assert patched.properties.value is None
    valued = keyvault.secrets.update("rg", "kv-test", "token", {"properties": {"value": "two"}})
    assert valued.properties.secret_uri_with_version != first.properties.secret_uri_with_version
    assert valued.properties.value is None
    assert secret_value(emulator.app.store, vault.id, "token") == "two"
    with pytest.raises(ResourceNotFoundError):
        keyvault.secrets.update("rg", "kv-test", "nope", {"properties": {"value": "x"}})


def test_list_secrets_with_top(keyvault, vault):
    """$top is a page size: the first page has two, its nextLink the rest (listDeletedVaults.json and
    listVaultByResourceGroup.json of the 2024-11-01 spec show $top with a nextLink), and the SDK follows it."""
    for name in ("c", "a", "b"):
        keyvault.secrets.create_or_update("rg", "kv-test", name, {"properties": {"value": name * 3}})
    assert sorted(s.name for s in keyvault.secrets.list("rg", "kv-test")) == ["a", "b", "c"]
    pages = keyvault.secrets.list("rg", "kv-test", top=2).by_page()
    assert [len(list(page)) for page in pages] == [2, 1]
    assert all(s.properties.value is None for s in keyvault.secrets.list("rg", "kv-test"))


def test_secret_validation_and_404(keyvault, vault):
    with pytest.raises(HttpResponseError) as excinfo:
        keyvault.secrets.create_or_update("rg", "kv-test", "s", raw({"properties": {}}),
                                          content_type="application/json")
    assert error_of(excinfo)[:2] == (400, "BadRequest")
    with pytest.raises(HttpResponseError) as excinfo:
        keyvault.secrets.create_or_update("rg", "kv-test", "bad_name", {"properties": {"value": "x"}})
    assert error_of(excinfo)[:2] == (400, "BadRequest")
    with pytest.raises(ResourceNotFoundError) as excinfo:
        keyvault.secrets.get("rg", "kv-test", "missing")
    status, code, message = error_of(excinfo)
    assert (status, code) == (404, "ResourceNotFound")
    assert "Microsoft.KeyVault/vaults/kv-test/secrets/missing" in message
