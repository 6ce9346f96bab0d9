"""Microsoft.KeyVault: vaults (global names, soft delete, recover, purge) and secrets
through the management plane. Lists take $top and page with nextLink (listDeletedVaults.json,
listVaultByResourceGroup.json of the 2024-11-01 spec show both).

Secret values are stored (see `secret_value`) but never returned over ARM, as in
Azure: the management plane only answers metadata; values live in the data plane,
which the emulator does not serve.
"""
from __future__ import annotations

import re
import uuid

from provisioner.emulator import lro, paging, registry, schemas
from provisioner.emulator.arm import (
    Call,
    Reply,
    Router,
    iso,
    list_reply,
    normalize_location,
    public,
    require_group,
    system_data,
)
from provisioner.emulator.errors import ArmError, not_found
from provisioner.emulator.store import Store

NAMESPACE = "Microsoft.KeyVault"
VAULT_TYPE = "Microsoft.KeyVault/vaults"
DELETED_TYPE = "Microsoft.KeyVault/deletedVaults"
SECRET_TYPE = "Microsoft.KeyVault/vaults/secrets"
VALUE_TYPE = "emulator/secretValue"  # private record under a secret, never served as a resource
VAULT = "/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.keyvault/vaults/{vault}"
SECRET = VAULT + "/secrets/{secret}"
DELETED = "/subscriptions/{subscription}/providers/microsoft.keyvault/locations/{location}/deletedvaults/{vault}"
# 3-24 characters, starts with a letter, ends with a letter or digit, no "--".
VAULT_NAME = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")
SECRET_NAME = re.compile(r"^[a-zA-Z0-9-]{1,127}$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DAY = 86400
# Settable vault properties besides tenantId/sku/accessPolicies, with the defaults a new vault gets.
VAULT_DEFAULTS = {"enabledForDeployment": False, "enabledForDiskEncryption": False,
                  "enabledForTemplateDeployment": False, "enableSoftDelete": True, "softDeleteRetentionInDays": 90,
                  "enableRbacAuthorization": False, "publicNetworkAccess": "Enabled"}

DELETED_NAME_CONFLICT = ("A vault with the same name already exists in deleted state. You need to either recover or "
                         "purge existing key vault. Follow this link https://go.microsoft.com/fwlink/?linkid=2149745 "
                         "for more information on soft delete.")


def register(router: Router) -> None:
    router.add("PUT", VAULT)(put_vault)
    router.add("GET", VAULT)(get_vault)
    router.add("PATCH", VAULT)(patch_vault)
    router.add("DELETE", VAULT)(delete_vault)
    router.add("GET", "/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.keyvault/vaults")(
        list_in_group)
    router.add("GET", "/subscriptions/{subscription}/providers/microsoft.keyvault/vaults")(list_in_subscription)
    router.add("GET", DELETED)(get_deleted)
    router.add("POST", DELETED + "/purge")(purge_deleted)
    router.add("GET", "/subscriptions/{subscription}/providers/microsoft.keyvault/deletedvaults")(list_deleted)
    router.add("PUT", SECRET)(put_secret)
    router.add("PATCH", SECRET)(patch_secret)
    router.add("GET", SECRET)(get_secret)
    router.add("GET", VAULT + "/secrets")(list_secrets)
    # Managed HSMs are not emulated: their lists exist (clients enumerating Key Vault resources call them), empty.
    router.add("GET", "/subscriptions/{subscription}/providers/microsoft.keyvault/managedhsms")(list_nothing)
    router.add("GET", "/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.keyvault/managedhsms")(
        list_nothing)
    router.add("GET", "/subscriptions/{subscription}/providers/microsoft.keyvault/deletedmanagedhsms")(list_nothing)


# ids and lookups

def vault_id(subscription: str, group: str, vault: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{VAULT_TYPE}/{vault}"


def deleted_id(subscription: str, location: str, vault: str) -> str:
    return f"/subscriptions/{subscription}/providers/{NAMESPACE}/locations/{normalize_location(location)}" \
           f"/deletedVaults/{vault}"


def secret_id(vault_doc: dict, name: str) -> str:
    return f"{vault_doc['id']}/secrets/{name}"


def require_vault(call: Call) -> dict:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    doc = call.store.get(vault_id(p["subscription"], p["group"], p["vault"]))
    if doc is None:
        raise not_found(VAULT_TYPE, p["vault"], p["group"])
    return doc


def _named(store: Store, resource_type: str, name: str) -> list[dict]:
    """Every vault (or deleted vault) with this name, in any subscription: vault names are global."""
    return [d for d in store.under("/subscriptions", resource_type) if d["name"].lower() == name.lower()]


def secret_value(store: Store, vault_resource_id: str, name: str) -> str | None:
    """The current value of a secret of a live vault, for tests and tools (not served over ARM)."""
    with store.transaction():
        record = store.get(f"{vault_resource_id}/secrets/{name}/values/current")
    return record["value"] if record else None


# vaults

def put_vault(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    if not VAULT_NAME.match(p["vault"]):
        raise ArmError(400, "VaultNameNotValid",
                       f"The vault name '{p['vault']}' is invalid. A vault's name must be between 3-24 alphanumeric "
                       "characters. The name must begin with a letter, end with a letter or digit, and not contain "
                       "consecutive hyphens. Follow this link for more information: "
                       "https://go.microsoft.com/fwlink/?linkid=2147742")
    _validated_properties(call.json_body())  # Key Vault's own checks and wording first
    body = schemas.clean(VAULT_TYPE, call.json_body())
    properties = body["properties"]
    new_id = vault_id(p["subscription"], p["group"], p["vault"])
    existing = call.store.get(new_id)
    if existing is not None:
        return _replace_vault(call, existing, body, properties)
    if _named(call.store, VAULT_TYPE, p["vault"]):  # in another group or subscription
        raise _vault_already_exists(p["vault"])
    deleted = _named(call.store, DELETED_TYPE, p["vault"])
    if deleted:
        held = deleted[0]
        if not held["id"].lower().startswith(f"/subscriptions/{p['subscription']}/".lower()):
            raise _vault_already_exists(p["vault"])  # held by another subscription: just "in use"
        if str(properties.get("createMode", "")).lower() != "recover":
            raise ArmError(409, "ConflictError", DELETED_NAME_CONFLICT)
        return _recover(call, held, new_id)
    if str(properties.get("createMode", "")).lower() == "recover":
        # Nothing to recover: as Azure answers it [ISSUE hashicorp/terraform-provider-azurerm#12972 gives the
        # code; the 400 and the message as a customer log quotes them].
        raise ArmError(400, "SoftDeletedVaultDoesNotExist",
                       "A soft deleted vault with the given name does not exist. Ensure that the name for the vault "
                       "that is being attempted to recover is in a recoverable state.")
    location = registry.check_location(VAULT_TYPE, body["location"])
    doc = {
        "id": new_id, "name": p["vault"], "type": VAULT_TYPE, "location": location,
        "tags": body.get("tags") or {},
        "properties": {
            **_settings(properties),
            # Real vaults answer with a trailing slash, though the REST spec example has none (a vault as ARM
            # answered it: Azure/azure-sdk-for-java sdk/core/azure-core-management/.../ResourceTests.java).
            "vaultUri": f"https://{p['vault']}.vault.azure.net/",
            "provisioningState": "Succeeded",
        },
        "systemData": system_data(call.now),
    }
    call.store.put(new_id, VAULT_TYPE, doc)
    return Reply(201, doc)


def _validated_properties(body: dict) -> dict:
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    properties = body.get("properties")
    if not isinstance(properties, dict):
        raise _bad_request("The 'properties' property is required.")
    if not GUID.match(str(properties.get("tenantId", ""))):
        raise _bad_request("The 'properties.tenantId' property is required and must be a GUID.")
    _check_sku(properties.get("sku"))
    _check_settings(properties)
    return properties


def _check_sku(sku) -> None:
    if not isinstance(sku, dict) or str(sku.get("family", "")).upper() != "A" \
            or str(sku.get("name", "")).lower() not in ("standard", "premium"):
        raise _bad_request("The 'properties.sku' property is required: {\"family\": \"A\", "
                           "\"name\": \"standard\" | \"premium\"}.")


def _check_settings(properties: dict) -> None:
    """Rules shared by PUT and PATCH: soft delete and purge protection can only be switched on."""
    if properties.get("enablePurgeProtection") is False:
        raise _bad_request("The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge "
                           "protection for a vault is an irreversible action.")
    if properties.get("enableSoftDelete") is False:
        # Soft delete is mandatory on Azure today; the exact refusal is UNVERIFIED.
        raise _bad_request("The property \"enableSoftDelete\" cannot be set to false. Soft delete is enabled for "
                           "every key vault and cannot be turned off.")
    days = properties.get("softDeleteRetentionInDays")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or not 7 <= days <= 90):
        raise _bad_request("The property \"softDeleteRetentionInDays\" must be between 7 and 90.")
    policies = properties.get("accessPolicies")
    if policies is not None and not isinstance(policies, list):
        raise _bad_request("The property \"accessPolicies\" must be an array.")


# Set by the server (or requests, not state): never taken from a body.
SERVER_SET = {"createMode", "vaultUri", "provisioningState", "hsmPoolResourceId", "privateEndpointConnections"}


def _settings(properties: dict) -> dict:
    """Every setting the body gives (nothing accepted is dropped), with the defaults of the rest."""
    given = {k: v for k, v in properties.items() if k not in SERVER_SET}
    # The SDK doc calls accessPolicies required (unless recovering); the emulator is lenient: [].
    return {**VAULT_DEFAULTS, "accessPolicies": [], **given, "sku": _sku(properties["sku"])}


def _sku(sku: dict) -> dict:
    return {"family": "A", "name": str(sku["name"]).lower()}


def _replace_vault(call: Call, doc: dict, body: dict, properties: dict) -> Reply:
    """PUT on an existing vault replaces its settings; soft delete and purge protection stay as they were."""
    if normalize_location(body["location"]) != doc["location"]:
        raise ArmError(409, "InvalidResourceLocation",
                       f"The resource '{doc['name']}' already exists in location '{doc['location']}' in resource "
                       f"group '{call.params['group']}'. A resource with the same name cannot be created in location "
                       f"'{body['location']}'. Please select a new resource name.")
    old = doc["properties"]
    new = {**_settings(properties), "vaultUri": old["vaultUri"], "provisioningState": "Succeeded"}
    new["softDeleteRetentionInDays"] = properties.get("softDeleteRetentionInDays", old["softDeleteRetentionInDays"])
    if old.get("enablePurgeProtection"):
        new["enablePurgeProtection"] = True
    doc["properties"] = new
    doc["tags"] = body.get("tags") or {}
    return _save_vault(call, doc, 200)


def patch_vault(call: Call) -> Reply:
    """PATCH merges what the body names (VaultPatchParameters: tags, properties)."""
    doc = require_vault(call)
    raw_properties = call.json_body().get("properties") or {}
    if not isinstance(raw_properties, dict):
        raise _bad_request("The 'properties' property must be an object.")
    body = schemas.clean(VAULT_TYPE + "#patch", call.json_body())
    properties = body.get("properties") or {}
    if "tenantId" in properties and not GUID.match(str(properties["tenantId"])):
        raise _bad_request("The 'properties.tenantId' property must be a GUID.")
    if "sku" in properties:
        _check_sku(properties["sku"])
        properties = {**properties, "sku": _sku(properties["sku"])}
    _check_settings(properties)
    doc["properties"].update({k: v for k, v in properties.items() if k not in SERVER_SET})
    if "tags" in body:
        doc["tags"] = body["tags"] or {}
    return _save_vault(call, doc, 200)


def _save_vault(call: Call, doc: dict, status: int) -> Reply:
    doc["systemData"] = system_data(call.now, doc.get("systemData"))
    call.store.put(doc["id"], VAULT_TYPE, doc)
    return Reply(status, doc)


def _recover(call: Call, deleted: dict, new_id: str) -> Reply:
    """createMode recover: the vault comes back as it was, with its secrets."""
    vault = deleted["emulatorVault"]
    if vault["id"].lower() != new_id.lower():
        # Azure recovers a vault into its original resource group; the error for another one is UNVERIFIED.
        raise _bad_request(f"The deleted vault '{vault['name']}' was deleted from '{vault['id']}' and can only be "
                           "recovered there.")
    call.store.delete(deleted["id"])
    for kept in deleted["emulatorSecrets"]:
        call.store.put(kept["secret"]["id"], SECRET_TYPE, kept["secret"])
        call.store.put(kept["secret"]["id"] + "/values/current", VALUE_TYPE, kept["value"])
    return _save_vault(call, vault, 201)


def _vault_already_exists(name: str) -> ArmError:
    return ArmError(409, "VaultAlreadyExists",
                    f"The vault name '{name}' is already in use. Vault names are globally unique so it is possible "
                    "that the name is already taken. If you are sure that the vault name was not taken then it is "
                    "possible that a vault with the same name was recently deleted but not purged after being placed "
                    "in a recoverable state. If the vault is in a recoverable state then the vault will need to be "
                    "purged before reusing the name. For more information about VaultAlreadyExists, soft delete and "
                    "purging a vault follow this link https://go.microsoft.com/fwlink/?linkid=2147740.")


def _bad_request(message: str) -> ArmError:
    return ArmError(400, "BadRequest", message)


def get_vault(call: Call) -> Reply:
    return Reply(200, require_vault(call))


def delete_vault(call: Call) -> Reply:
    """Synchronous soft delete (200, empty body): the vault and its secrets move to deletedVaults."""
    p = call.params
    require_group(call, p["subscription"], p["group"])
    doc = call.store.get(vault_id(p["subscription"], p["group"], p["vault"]))
    if doc is None:
        return Reply(204)
    soft_delete(call.store, doc, call.now)
    return Reply(200)


def soft_delete(store: Store, doc: dict, now: float) -> None:
    """Move a vault and its secrets to deletedVaults for its retention period."""
    props = doc["properties"]
    kept = [{"secret": s, "value": store.get(s["id"] + "/values/current")}
            for s in store.children(doc["id"], SECRET_TYPE)]
    deleted = {
        "id": deleted_id(doc["id"].split("/")[2], doc["location"], doc["name"]),
        "name": doc["name"], "type": DELETED_TYPE,
        "properties": {"vaultId": doc["id"], "location": doc["location"], "deletionDate": iso(now),
                       "scheduledPurgeDate": iso(now + props["softDeleteRetentionInDays"] * DAY),
                       "tags": doc.get("tags") or {},
                       "purgeProtectionEnabled": bool(props.get("enablePurgeProtection"))},
        # kept for recover, removed from every response (see _public)
        "emulatorVault": doc, "emulatorSecrets": kept,
    }
    store.delete(doc["id"])  # the vault and everything under it
    store.put(deleted["id"], DELETED_TYPE, deleted)


lro.soft_delete_when_deleted_below(VAULT_TYPE, soft_delete)


def list_in_group(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    return paging.page(call, call.store.children(f"/subscriptions/{p['subscription']}/resourceGroups/{p['group']}",
                                                 VAULT_TYPE))


def list_in_subscription(call: Call) -> Reply:
    return paging.page(call, call.store.under(f"/subscriptions/{call.params['subscription']}", VAULT_TYPE))


def list_nothing(call: Call) -> Reply:
    if "group" in call.params:
        require_group(call, call.params["subscription"], call.params["group"])
    return list_reply([])


def get_deleted(call: Call) -> Reply:
    p = call.params
    doc = call.store.get(deleted_id(p["subscription"], p["location"], p["vault"]))
    if doc is None:
        raise not_found(DELETED_TYPE, p["vault"])
    return Reply(200, public(doc))


def list_deleted(call: Call) -> Reply:
    docs = call.store.under(f"/subscriptions/{call.params['subscription']}", DELETED_TYPE)
    return paging.page(call, [public(d) for d in docs])  # $top and nextLink, as listDeletedVaults.json shows


def purge_deleted(call: Call) -> Reply:
    """Purge: 202 with a Location to poll; the name is free once the operation is done."""
    p = call.params
    doc = call.store.get(deleted_id(p["subscription"], p["location"], p["vault"]))
    if doc is None:
        raise not_found(DELETED_TYPE, p["vault"])
    if doc["properties"]["purgeProtectionEnabled"]:
        # Code and message as reported in 2024 (Azure/azure-sdk-tools#9329; in 2022 the code was MethodNotAllowed,
        # microsoft/AzureTRE#1446); the HTTP status is UNVERIFIED.
        raise ArmError(409, "InvalidOperation", "Operation 'DeletedVaultPurge' is not allowed.")
    headers = lro.start(call, resource_id=doc["id"], action="delete",
                        duration=call.config.duration("deletedVaults", "purge"), namespace=NAMESPACE,
                        location=p["location"], lock_id=None, initial_status="Deleting")
    return Reply(202, None, {"Location": headers["Location"], "Retry-After": headers["Retry-After"]})


# secrets

def put_secret(call: Call) -> Reply:
    """Create or replace a secret. Every PUT writes a new version, as Azure does, even with the same value."""
    vault = require_vault(call)
    name = call.params["secret"]
    if not SECRET_NAME.match(name):
        raise _bad_request(f"The secret name '{name}' is invalid. It must be 1-127 characters: letters, digits "
                           "and hyphens.")
    body = schemas.clean(SECRET_TYPE, call.json_body())
    properties = body.get("properties")
    if not isinstance(properties, dict) or not isinstance(properties.get("value"), str):
        raise _bad_request("The 'properties.value' property is required.")
    existing = call.store.get(secret_id(vault, name))
    created = existing["properties"]["attributes"]["created"] if existing else int(call.now)
    doc = {"id": secret_id(vault, name), "name": name, "type": SECRET_TYPE, "location": vault["location"],
           "properties": {"attributes": {"enabled": True, "created": created}}}
    if body.get("tags"):
        doc["tags"] = body["tags"]
    _apply_secret(call, vault, doc, properties)
    return Reply(200 if existing else 201, doc)


def patch_secret(call: Call) -> Reply:
    """Update what the body names; a new version only when it carries a value."""
    vault = require_vault(call)
    doc = _require_secret(call, vault)
    body = schemas.clean(SECRET_TYPE + "#patch", call.json_body())
    properties = body.get("properties") or {}
    if "tags" in body:
        doc["tags"] = body["tags"] or {}
    _apply_secret(call, vault, doc, properties)
    return Reply(200, doc)


def _apply_secret(call: Call, vault: dict, doc: dict, properties: dict) -> None:
    """Apply contentType/attributes/value to `doc` and store it (and a new version when a value is given)."""
    props = doc["properties"]
    if "contentType" in properties:
        props["contentType"] = properties["contentType"]
        if props["contentType"] is None:
            del props["contentType"]
    attributes = properties.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise _bad_request("The 'properties.attributes' property must be an object.")
    for key in ("enabled", "nbf", "exp"):  # created/updated are read-only
        if attributes.get(key) is not None:
            props["attributes"][key] = attributes[key]
    props["attributes"]["updated"] = int(call.now)
    value_id = doc["id"] + "/values/current"
    record = call.store.get(value_id)
    if "value" in properties and properties["value"] is not None:
        record = {"value": str(properties["value"]), "version": uuid.uuid4().hex}
        call.store.put(value_id, VALUE_TYPE, record)
    uri = f"{vault['properties']['vaultUri'].rstrip('/')}/secrets/{doc['name']}"
    props["secretUri"] = uri
    props["secretUriWithVersion"] = f"{uri}/{record['version']}"
    call.store.put(doc["id"], SECRET_TYPE, doc)


def _require_secret(call: Call, vault: dict) -> dict:
    doc = call.store.get(secret_id(vault, call.params["secret"]))
    if doc is None:
        raise not_found(VAULT_TYPE, f"{vault['name']}/secrets/{call.params['secret']}", call.params["group"])
    return doc


def get_secret(call: Call) -> Reply:
    return Reply(200, _require_secret(call, require_vault(call)))


def list_secrets(call: Call) -> Reply:
    vault = require_vault(call)
    return paging.page(call, call.store.children(vault["id"], SECRET_TYPE))
