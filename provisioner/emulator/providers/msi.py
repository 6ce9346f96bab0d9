"""Microsoft.ManagedIdentity user-assigned identities: CRUD (synchronous: PUT 200/201, DELETE 200/204,
specification/msi/resource-manager/Microsoft.ManagedIdentity/stable/2023-01-31/ManagedIdentity.json).

Each identity gets a principal (object) id, a client id and the tenant id, fixed for its lifetime; the
principal is in the emulator's directory while the resource exists (identity.directory_object), so role
assignments can name it. Accounts name identities in identity.userAssignedIdentities (accounts.py).
"""
from __future__ import annotations

import re
import uuid

from provisioner.emulator import registry, schemas
from provisioner.emulator.arm import (
    TENANT_ID,
    Call,
    Reply,
    Router,
    document_handlers,
    list_reply,
    require_group,
    system_data,
)
from provisioner.emulator.errors import ArmError, not_found

IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
IDENTITY = ("/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.managedidentity"
            "/userassignedidentities/{identity}")
NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$")  # 3-128, as the spec's pattern


get_identity, delete_identity, list_in_group = document_handlers(IDENTITY_TYPE, "identity")


def register(router: Router) -> None:
    router.add("PUT", IDENTITY)(put_identity)
    router.add("GET", IDENTITY)(get_identity)
    router.add("DELETE", IDENTITY)(delete_identity)
    router.add("GET", "/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.managedidentity"
                      "/userassignedidentities")(list_in_group)
    router.add("GET", "/subscriptions/{subscription}/providers/microsoft.managedidentity/userassignedidentities")(
        list_in_subscription)


def identity_id(subscription: str, group: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{IDENTITY_TYPE}/{name}"


def put_identity(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    if not NAME.match(p["identity"]):
        raise ArmError(400, "InvalidResourceName",  # wording UNVERIFIED
                       f"Resource name '{p['identity']}' is invalid. The name can contain only letters, numbers, "
                       "underscores and hyphens, and must be 3-128 characters long.")
    if not call.json_body().get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    body = schemas.clean(IDENTITY_TYPE, call.json_body())
    new_id = identity_id(p["subscription"], p["group"], p["identity"])
    existing = call.store.get(new_id)
    location = body["location"]
    location = registry.check_location(IDENTITY_TYPE, location)
    if existing and location != existing["location"]:
        raise ArmError(400, "InvalidResourceLocation",  # ARM's wording (providers/network.py); status UNVERIFIED
                       f"The resource '{p['identity']}' already exists in location '{existing['location']}' in "
                       f"resource group '{p['group']}'. A resource with the same name cannot be created in location "
                       f"'{location}'. Please select a new resource name.")
    tags = body.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise ArmError(400, "InvalidRequestContent", "Tag values must be strings.")
    previous = (existing or {}).get("properties", {})
    doc = {"id": new_id, "name": p["identity"], "type": IDENTITY_TYPE, "location": location, "tags": tags,
           "properties": {"tenantId": TENANT_ID,
                          "principalId": previous.get("principalId") or str(uuid.uuid4()),
                          "clientId": previous.get("clientId") or str(uuid.uuid4()),
                          "isolationScope": (body.get("properties") or {}).get("isolationScope")
                          or previous.get("isolationScope") or "None"},
           "systemData": system_data(call.now, (existing or {}).get("systemData"))}
    call.store.put(new_id, IDENTITY_TYPE, doc)
    return Reply(200 if existing else 201, doc)


def list_in_subscription(call: Call) -> Reply:
    return list_reply(call.store.under(f"/subscriptions/{call.params['subscription']}", IDENTITY_TYPE))
