"""Microsoft.CognitiveServices accounts: CRUD, keys, soft delete, restore and purge.

Also the two rules every account child obeys (`writable_account`): one write at
a time per account (409 RequestConflict) and no writes to a failed account.
"""
from __future__ import annotations

import re
import secrets
import uuid
from typing import Callable

from provisioner.emulator import kinds, lro, registry, schemas
from provisioner.emulator.arm import (
    TENANT_ID,
    Call,
    Reply,
    Router,
    iso,
    list_reply,
    new_etag,
    normalize_location,
    public,
    require_group,
    system_data,
)
from provisioner.emulator.errors import ArmError, not_found, request_conflict
from provisioner.emulator.store import Store

NAMESPACE = "Microsoft.CognitiveServices"
ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"
DELETED_TYPE = "Microsoft.CognitiveServices/deletedAccounts"
KEYS_TYPE = "emulator/accountKeys"  # private record under the account, never served as a resource
ACCOUNT = "/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.cognitiveservices/accounts/{account}"
DELETED = ("/subscriptions/{subscription}/providers/microsoft.cognitiveservices/locations/{location}"
           "/resourcegroups/{group}/deletedaccounts/{account}")
SUBDOMAIN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$")
ACCOUNT_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63}$")
SOFT_DELETE_HOURS = 48


def register(router: Router) -> None:
    router.add("PUT", ACCOUNT)(put_account)
    router.add("GET", ACCOUNT)(get_account)
    router.add("PATCH", ACCOUNT)(patch_account)
    router.add("DELETE", ACCOUNT)(delete_account)
    router.add("GET", "/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.cognitiveservices"
                      "/accounts")(list_in_group)
    router.add("GET", "/subscriptions/{subscription}/providers/microsoft.cognitiveservices/accounts")(list_in_subscription)
    router.add("POST", ACCOUNT + "/listKeys")(list_keys)
    router.add("POST", ACCOUNT + "/regenerateKey")(regenerate_key)
    router.add("GET", DELETED)(get_deleted)
    router.add("DELETE", DELETED)(purge_deleted)
    router.add("GET", "/subscriptions/{subscription}/providers/microsoft.cognitiveservices/deletedaccounts")(list_deleted)


def account_id(subscription: str, group: str, account: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{ACCOUNT_TYPE}/{account}"


def deleted_id(subscription: str, location: str, group: str, account: str) -> str:
    return (f"/subscriptions/{subscription}/providers/{NAMESPACE}/locations/{normalize_location(location)}"
            f"/resourceGroups/{group}/deletedAccounts/{account}")


def require_account(call: Call) -> dict:
    """The account named in the path, or ARM's 404."""
    p = call.params
    require_group(call, p["subscription"], p["group"])
    doc = call.store.get(account_id(p["subscription"], p["group"], p["account"]))
    if doc is None:
        raise not_found(ACCOUNT_TYPE, p["account"], p["group"])
    return doc


def writable_account(call: Call, *, itself: bool = False) -> dict:
    """The account, if a write to it (`itself`) or to its children may start now. A failed account
    takes writes to itself (that is how it is repaired), never to its children."""
    doc = require_account(call)
    if call.store.running_operation(doc["id"], call.now) is not None:
        raise request_conflict(doc["id"])
    state = doc["properties"].get("provisioningState")
    if state not in ("Succeeded", None) and not (itself and state in ("Failed", "Canceled")):
        raise ArmError(400, "AccountProvisioningStateInvalid",
                       f"Call to Microsoft.CognitiveServices/accounts failed. Error message: Account {doc['id']} "
                       f"in state {state}")
    return doc


def start_write(call: Call, doc: dict, *, resource: str, action: str, status_while_running: str,
                lock_id: str, location_header: bool = False) -> dict[str, str]:
    """Begin an LRO on `doc` (already stored): mark it running, and return the headers to send."""
    duration = call.config.duration(resource, action)
    headers = lro.start(call, resource_id=doc["id"], action="write", duration=duration, namespace=NAMESPACE,
                        location=_location_of(call, doc), lock_id=lock_id, initial_status=status_while_running,
                        location_header=location_header)
    doc["properties"]["provisioningState"] = status_while_running
    call.store.put(doc["id"], doc["type"], doc)
    if duration <= 0:
        lro.settle(call.store, call.now)  # done already: the first poll says Succeeded
        doc.update(call.store.get(doc["id"]))
        doc["properties"]["provisioningState"] = status_while_running  # as the PUT itself answered
    return headers


def _location_of(call: Call, doc: dict) -> str:
    location = doc.get("location")
    if location:
        return location.upper()  # as recorded: .../locations/JAPANEAST/operationResults/...
    parent = call.store.get(account_id(call.params["subscription"], call.params["group"], call.params["account"]))
    return (parent or {}).get("location", "global").upper()


def put_account(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    if not ACCOUNT_NAME.match(p["account"]):
        raise ArmError(400, "InvalidResourceName",
                       f"Resource name '{p['account']}' is invalid. The name can contain only letters, numbers, "
                       "underscores, periods and hyphens, and must be 2-64 characters long.")
    body = schemas.clean(ACCOUNT_TYPE, call.json_body())
    properties = body.get("properties", {})
    new_id = account_id(p["subscription"], p["group"], p["account"])
    existing = call.store.get(new_id)
    if existing is not None:
        return _update_account(call, existing, body)
    if not body.get("location"):
        raise ArmError(400, "LocationRequired", "The 'location' property is required.")
    # Before kind/sku: a restore sends only {"location", "properties": {"restore": true}} (az cognitiveservices
    # account recover), and the soft-deleted account supplies the rest.
    deleted_key = deleted_id(p["subscription"], body["location"], p["group"], p["account"])
    deleted = call.store.get(deleted_key)
    if deleted is not None:
        if not properties.get("restore"):
            raise ArmError(409, "FlagMustBeSetForRestore",
                           f"An existing resource with ID '{new_id}' has been soft-deleted. To restore the resource, "
                           "you must specify 'restore' to be 'true' in the property. If you don't want to restore "
                           "existing resource, please purge it first.")
        return _restore(call, deleted, new_id)
    registry.check_location(ACCOUNT_TYPE, body["location"])
    kind = _checked_kind(body.get("kind"), body["location"])
    sku = _checked_sku(kind, body.get("sku"))
    subdomain = properties.get("customSubDomainName")
    if subdomain:
        _check_subdomain(call, subdomain)
    doc = {
        "id": new_id, "name": p["account"], "type": ACCOUNT_TYPE, "etag": new_etag(),
        "location": body["location"], "sku": sku, "kind": kind, "tags": body.get("tags") or {},
        "properties": {
            "endpoint": _endpoint(kind, body["location"], subdomain),
            "internalId": uuid.uuid4().hex,
            "dateCreated": iso(call.now),
            "callRateLimit": kinds.call_rate_limit(kind),
            "isMigrated": False,
            "privateEndpointConnections": [],
            "capabilities": [{"name": "VirtualNetworks"}, {"name": "CustomerManagedKey"},
                             {"name": "MaxFineTuneCount", "value": "500"}, {"name": "TrustedServices",
                                                                            "value": "Microsoft.CognitiveServices"}],
            "endpoints": _endpoints(kind, body["location"], subdomain),
        },
        "systemData": system_data(call.now),
    }
    quota_limit = kinds.quota_limit(kind)
    if quota_limit is not None:
        doc["properties"]["quotaLimit"] = quota_limit
    _set_settings(call.store, doc, body)
    call.store.put(new_id, ACCOUNT_TYPE, doc)
    call.store.put(new_id + "/keys/default", KEYS_TYPE, {"key1": secrets.token_hex(16), "key2": secrets.token_hex(16)})
    headers = start_write(call, doc, resource="accounts", action="create", status_while_running="Creating",
                          lock_id=new_id)
    headers["ETag"] = doc["etag"]
    return Reply(201, doc, headers)


# Properties the client sets that are requests, not state: never stored or returned.
REQUEST_ONLY = {"restore", "migrationToken"}
# Defaults of a new account, as recorded (2025: publicNetworkAccess and allowProjectManagement are always shown).
DEFAULTS = {"publicNetworkAccess": "Enabled", "allowProjectManagement": False}


def _set_settings(store: Store, doc: dict, body: dict) -> None:
    """Every setting the body gives, as given (defaults for the rest); identity with its server-made ids.
    The server-made properties (endpoint, internalId, callRateLimit, ...) are read-only and stay."""
    given = {k: v for k, v in body.get("properties", {}).items() if k not in REQUEST_ONLY}
    kept = {k: v for k, v in doc["properties"].items() if k in SERVER_MADE}
    doc["properties"] = {**kept, **DEFAULTS, **given,
                         "apiProperties": kinds.api_properties(doc["kind"], given.get("apiProperties"))}
    previous = doc.pop("identity", None)
    if body.get("identity"):
        doc["identity"] = _identity(store, body["identity"], previous)


SERVER_MADE = {"endpoint", "internalId", "dateCreated", "callRateLimit", "quotaLimit", "isMigrated",
               "privateEndpointConnections", "capabilities", "endpoints", "provisioningState", "customSubDomainName"}


def _identity(store: Store, requested: dict, previous: dict | None) -> dict:
    """The identity as Azure shows it: a system-assigned one gets a principal and tenant id (kept across
    updates; its principal is in the emulator's directory while the account has it); each user-assigned
    one must be an existing Microsoft.ManagedIdentity/userAssignedIdentities resource and is shown with
    its principal and client id."""
    identity = {"type": requested.get("type", "None")}
    kinds_ = {t.strip().lower() for t in identity["type"].split(",")}
    if "systemassigned" in kinds_:
        identity["principalId"] = (previous or {}).get("principalId") or str(uuid.uuid4())
        identity["tenantId"] = (previous or {}).get("tenantId") or TENANT_ID
    given = requested.get("userAssignedIdentities") or {}
    if "userassigned" in kinds_:
        if not given:
            raise ArmError(400, "BadRequest",  # code and wording UNVERIFIED
                           "The identity type 'UserAssigned' needs at least one entry in userAssignedIdentities.")
        known = {k.lower(): v for k, v in ((previous or {}).get("userAssignedIdentities") or {}).items()}
        identity["userAssignedIdentities"] = {key: _user_assigned(store, key, known.get(key.lower())) for key in given}
    elif given:
        raise ArmError(400, "BadRequest",  # code and wording UNVERIFIED
                       f"userAssignedIdentities can only be given with identity type UserAssigned, not "
                       f"'{identity['type']}'.")
    return identity


def _user_assigned(store: Store, key: str, known: dict | None) -> dict:
    """An identity the account names: the resource's ids; an identity it already had keeps its ids even if
    the resource has gone since (an update that does not name identities leaves them as they are)."""
    found = store.get(key) if key.lower().startswith("/subscriptions/") else None
    if found is None and known is not None:
        return known
    if found is None or found["type"].lower() != "microsoft.managedidentity/userassignedidentities":
        # ARM's code when the identity cannot be resolved; wording UNVERIFIED
        raise ArmError(400, "FailedIdentityOperation",
                       f"Identity operation for resource failed: the user-assigned identity '{key}' was not found.")
    return {"principalId": found["properties"]["principalId"], "clientId": found["properties"]["clientId"]}


def _checked_kind(kind: str | None, location: str) -> str:
    """The kind as the service spells it, offered in `location`, or 400 InvalidApiSetId (as Azure words it,
    [ISSUE microsoft/azurechat#274, microsoft/microsoft-foundry-for-vscode#145])."""
    if not kind:
        raise ArmError(400, "InvalidRequestContent", "The 'kind' property is required.")  # wording UNVERIFIED
    canonical = kinds.known_kind(kind)
    if canonical is None or normalize_location(location) not in kinds.regions_of(canonical, registry.physical_regions()):
        raise ArmError(400, "InvalidApiSetId",
                       f"The account type '{kind}' is either invalid or unavailable in given region.")
    return canonical


def _checked_sku(kind: str, sku: dict | None) -> dict:
    if not sku:
        raise ArmError(400, "InvalidRequestContent", "The 'sku.name' property is required.")
    offered = {s.lower(): s for s in kinds.skus_of(kind)}
    if sku["name"].lower() not in offered:
        # Code and wording UNVERIFIED (patterned on InvalidApiSetId).
        raise ArmError(400, "InvalidSkuId", f"The SKU '{sku['name']}' is either invalid or unavailable for account "
                                            f"type '{kind}' in given region.")
    return {"name": offered[sku["name"].lower()]}


def _update_account(call: Call, doc: dict, body: dict) -> Reply:
    """PUT on an existing account replaces its settings: what the body leaves out goes back to the default.
    Kind and location cannot change; the custom subdomain cannot change once set; an omitted SKU stays."""
    writable_account(call, itself=True)
    if body.get("kind") and body["kind"].lower() != doc["kind"].lower():
        raise ArmError(409, "CanNotUpdateKind", f"The kind of account '{doc['name']}' cannot be changed.")
    if body.get("location") and normalize_location(body["location"]) != normalize_location(doc["location"]):
        raise ArmError(409, "InvalidResourceLocation",  # ARM's wording (providers/network.py); status UNVERIFIED
                       f"The resource '{doc['name']}' already exists in location '{doc['location']}' in resource "
                       f"group '{call.params['group']}'. A resource with the same name cannot be created in location "
                       f"'{body['location']}'. Please select a new resource name.")
    _change_subdomain(call, doc, body.get("properties", {}).get("customSubDomainName"))
    doc["tags"] = body.get("tags") or {}
    if body.get("sku"):
        doc["sku"] = _checked_sku(doc["kind"], body["sku"])
    _set_settings(call.store, doc, body)
    return _finish_update(call, doc)


def _change_subdomain(call: Call, doc: dict, subdomain: str | None) -> None:
    current = doc["properties"].get("customSubDomainName")
    if subdomain and current and subdomain.lower() != current.lower():
        raise ArmError(400, "CustomSubDomainNameCannotBeChanged",
                       f"The custom subdomain '{current}' of account '{doc['name']}' cannot be changed.")
    if subdomain and not current:
        _check_subdomain(call, subdomain)
        doc["properties"]["customSubDomainName"] = subdomain
        doc["properties"]["endpoint"] = _endpoint(doc["kind"], doc["location"], subdomain)
        doc["properties"]["endpoints"] = _endpoints(doc["kind"], doc["location"], subdomain)


def _finish_update(call: Call, doc: dict) -> Reply:
    doc["etag"] = new_etag()
    doc["systemData"] = system_data(call.now, doc.get("systemData"))
    if call.config.duration("accounts", "update") <= 0:
        doc["properties"]["provisioningState"] = "Succeeded"  # an update that takes no time is done (a repair too)
        call.store.put(doc["id"], ACCOUNT_TYPE, doc)
        return Reply(200, doc, {"ETag": doc["etag"]})
    call.store.put(doc["id"], ACCOUNT_TYPE, doc)
    headers = start_write(call, doc, resource="accounts", action="update", status_while_running="Accepted",
                          lock_id=doc["id"])
    return Reply(200, doc, {**headers, "ETag": doc["etag"]})


def _restore(call: Call, deleted: dict, new_id: str) -> Reply:
    """Bring a soft-deleted account back with its internalId and endpoint (children are not restored)."""
    doc = dict(deleted["emulatorAccount"])
    doc["etag"] = new_etag()
    doc["properties"] = {**doc["properties"], "provisioningState": "Succeeded"}
    doc["properties"].pop("deletionDate", None)
    doc["properties"].pop("scheduledPurgeDate", None)
    doc["systemData"] = system_data(call.now, doc.get("systemData"))
    call.store.delete(deleted["id"])
    call.store.put(new_id, ACCOUNT_TYPE, doc)
    call.store.put(new_id + "/keys/default", KEYS_TYPE, deleted["emulatorKeys"])
    return Reply(201, doc, {"ETag": doc["etag"]})


def _check_subdomain(call: Call, subdomain: str) -> None:
    if not SUBDOMAIN.match(subdomain) or subdomain.endswith("-"):
        raise ArmError(400, "CustomDomainInvalid", f"Sub domain name '{subdomain}' is not valid.")
    taken = [d["properties"].get("customSubDomainName") for d in call.store.under("/subscriptions", ACCOUNT_TYPE)]
    taken += [d["properties"].get("customSubDomainName") for d in call.store.under("/subscriptions", DELETED_TYPE)]
    if subdomain.lower() in {t.lower() for t in taken if t}:
        raise ArmError(409, "CustomDomainInUse",
                       f"Please pick a different name. The subdomain name '{subdomain}' is not available as it's "
                       "already used by a resource. If the resource using the name was deleted in the last 48 "
                       "hours, you may need to purge the deleted resource. Learn more at "
                       "\"https://go.microsoft.com/fwlink/?linkid=2215493\"")


def _endpoint(kind: str, location: str, subdomain: str | None) -> str:
    if not subdomain:
        return f"https://{normalize_location(location)}.api.cognitive.microsoft.com/"
    if kind == "OpenAI":
        return f"https://{subdomain.lower()}.openai.azure.com/"
    return f"https://{subdomain.lower()}.cognitiveservices.azure.com/"


def _endpoints(kind: str, location: str, subdomain: str | None) -> dict[str, str]:
    return kinds.endpoints(kind, _endpoint(kind, location, subdomain))


def get_account(call: Call) -> Reply:
    doc = require_account(call)
    return Reply(200, doc, {"ETag": doc["etag"]})


def patch_account(call: Call) -> Reply:
    """PATCH merges: what the body names changes (properties member by member, tags and identity as a
    whole, as the service's Accounts_Update does with an Account body); the rest stays."""
    doc = writable_account(call, itself=True)
    body = schemas.clean(ACCOUNT_TYPE, call.json_body())
    if body.get("kind") and body["kind"].lower() != doc["kind"].lower():
        raise ArmError(409, "CanNotUpdateKind", f"The kind of account '{doc['name']}' cannot be changed.")
    given = body.get("properties", {})
    _change_subdomain(call, doc, given.get("customSubDomainName"))
    if "tags" in body:
        doc["tags"] = body["tags"]
    if body.get("sku"):
        doc["sku"] = _checked_sku(doc["kind"], body["sku"])
    merged = {**{k: v for k, v in doc["properties"].items() if k not in SERVER_MADE}, **given}
    _set_settings(call.store, doc, {"properties": merged, "identity": body.get("identity") or doc.get("identity")})
    return _finish_update(call, doc)


def delete_account(call: Call) -> Reply:
    """Delete = soft delete: the account moves to deletedAccounts for 48 hours (200, empty body)."""
    p = call.params
    require_group(call, p["subscription"], p["group"])
    doc = call.store.get(account_id(p["subscription"], p["group"], p["account"]))
    if doc is None:
        return Reply(204)
    if call.store.running_operation(doc["id"], call.now) is not None:
        raise request_conflict(doc["id"])
    soft_delete(call.store, doc, call.now)
    return Reply(200)


# Called as hook(store, account, now) once an account is soft-deleted (privatelink.py disconnects its endpoints).
AFTER_SOFT_DELETE: list[Callable[[Store, dict, float], None]] = []


def soft_delete(store: Store, doc: dict, now: float) -> None:
    """Move an account to deletedAccounts for 48 hours; its deployments, policies, private endpoint
    connections and the role assignments and diagnostic settings scoped to it are gone."""
    subscription, group = doc["id"].split("/")[2], doc["id"].split("/")[4]
    deleted = {
        "id": deleted_id(subscription, doc["location"], group, doc["name"]),
        "name": doc["name"], "type": DELETED_TYPE, "etag": new_etag(), "location": doc["location"],
        "sku": doc["sku"], "kind": doc["kind"], "tags": doc.get("tags", {}),
        "properties": {**doc["properties"], "deletionDate": iso(now),
                       "scheduledPurgeDate": iso(now + SOFT_DELETE_HOURS * 3600),
                       "provisioningState": "Succeeded"},  # as recorded (softdelete cassette, 2021)
        "systemData": doc.get("systemData"),
        # kept for restore, removed from every response (see _public)
        "emulatorAccount": doc, "emulatorKeys": store.get(doc["id"] + "/keys/default"),
    }
    deleted["emulatorAccount"] = {**doc, "properties": {**doc["properties"], "privateEndpointConnections": []}}
    deleted["properties"]["privateEndpointConnections"] = []
    store.delete(doc["id"])  # the account and everything under it
    store.put(deleted["id"], DELETED_TYPE, deleted)
    for hook in AFTER_SOFT_DELETE:
        hook(store, doc, now)


lro.soft_delete_when_deleted_below(ACCOUNT_TYPE, soft_delete)


def list_in_group(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    return list_reply(call.store.children(f"/subscriptions/{p['subscription']}/resourceGroups/{p['group']}",
                                          ACCOUNT_TYPE))


def list_in_subscription(call: Call) -> Reply:
    return list_reply(call.store.under(f"/subscriptions/{call.params['subscription']}", ACCOUNT_TYPE))


def list_keys(call: Call) -> Reply:
    doc = require_account(call)
    if doc["properties"].get("disableLocalAuth"):
        raise ArmError(400, "BadRequest", "Failed to list key. disableLocalAuth is set to be true")
    return Reply(200, call.store.get(doc["id"] + "/keys/default"))


def regenerate_key(call: Call) -> Reply:
    doc = require_account(call)
    if doc["properties"].get("disableLocalAuth"):
        raise ArmError(400, "BadRequest", "Failed to regenerate key. disableLocalAuth is set to be true")
    name = str(call.json_body().get("keyName", ""))
    if name.lower() not in ("key1", "key2"):
        raise ArmError(400, "InvalidRequestContent", "keyName must be 'Key1' or 'Key2'.")
    keys = call.store.get(doc["id"] + "/keys/default")
    keys[name.lower()] = secrets.token_hex(16)
    call.store.put(doc["id"] + "/keys/default", KEYS_TYPE, keys)
    return Reply(200, keys)


def get_deleted(call: Call) -> Reply:
    p = call.params
    doc = call.store.get(deleted_id(p["subscription"], p["location"], p["group"], p["account"]))
    if doc is None:
        raise not_found(DELETED_TYPE, p["account"])
    return Reply(200, public(doc))


def list_deleted(call: Call) -> Reply:
    docs = call.store.under(f"/subscriptions/{call.params['subscription']}", DELETED_TYPE)
    return list_reply([public(d) for d in docs])


def purge_deleted(call: Call) -> Reply:
    """Purge: 202 with Azure-AsyncOperation and Location; the name is free once the operation is done."""
    p = call.params
    doc = call.store.get(deleted_id(p["subscription"], p["location"], p["group"], p["account"]))
    if doc is None:
        return Reply(204)  # DeletedAccounts_Purge: "204 ... if the resource does not exist" (spec 2025-09-01)
    duration = call.config.duration("deletedAccounts", "purge")
    headers = lro.start(call, resource_id=doc["id"], action="delete", duration=duration, namespace=NAMESPACE,
                        location=p["location"], lock_id=None, initial_status="Deleting")
    return Reply(202, None, headers)
