"""Microsoft.Resources: resource groups, and the generic operation-status URL."""
from __future__ import annotations

import re

from provisioner.emulator import lro, paging, registry, schemas
from provisioner.emulator.arm import (
    Call,
    Reply,
    Router,
    group_id,
    normalize_location,
)
from provisioner.emulator.errors import ArmError, resource_group_not_found

GROUP_TYPE = "Microsoft.Resources/resourceGroups"
GROUP = "/subscriptions/{subscription}/resourcegroups/{group}"
TAG_FILTER = re.compile(r"^\s*tagName\s+eq\s+'(?P<name>[^']*)'(\s+and\s+tagValue\s+eq\s+'(?P<value>[^']*)')?\s*$",
                        re.IGNORECASE)


def register(router: Router) -> None:
    router.add("PUT", GROUP)(put_group)
    router.add("GET", GROUP)(get_group)
    router.add("HEAD", GROUP)(head_group)
    router.add("DELETE", GROUP)(delete_group)
    router.add("GET", "/subscriptions/{subscription}/resourcegroups")(list_groups)
    # URLs the emulator hands out (Azure-AsyncOperation, Location): any api-version, as they carry their own
    router.add("GET", "/subscriptions/{subscription}/providers/{namespace}/locations/{location}"
                      "/operationResults/{operation}", resource_type=None)(operation_status)
    router.add("GET", "/subscriptions/{subscription}/operationresults/{operation}", resource_type=None)(
        operation_status)


def put_group(call: Call) -> Reply:
    subscription, name = call.params["subscription"], call.params["group"]
    if not call.json_body().get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    body = schemas.clean(GROUP_TYPE, call.json_body())
    existing = call.store.get(group_id(subscription, name))
    doc = {
        "id": existing["id"] if existing else group_id(subscription, name),
        "name": existing["name"] if existing else name,
        "type": GROUP_TYPE,
        "location": existing["location"] if existing else registry.check_location(GROUP_TYPE, body["location"]),
        "tags": body.get("tags") or {},
        "properties": {"provisioningState": "Succeeded"},
    }
    if body.get("managedBy"):
        doc["managedBy"] = body["managedBy"]
    if existing and normalize_location(body["location"]) != existing["location"]:
        raise ArmError(409, "InvalidResourceGroupLocation",
                       f"Invalid resource group location '{body['location']}'. The Resource group already exists "
                       f"in location '{existing['location']}'.")
    call.store.put(doc["id"], GROUP_TYPE, doc)
    return Reply(200 if existing else 201, doc)


def get_group(call: Call) -> Reply:
    doc = call.store.get(group_id(call.params["subscription"], call.params["group"]))
    if doc is None:
        raise resource_group_not_found(call.params["group"])
    return Reply(200, doc)


def head_group(call: Call) -> Reply:
    exists = call.store.get(group_id(call.params["subscription"], call.params["group"])) is not None
    return Reply(204 if exists else 404)


def delete_group(call: Call) -> Reply:
    """Deleting a group deletes everything in it (after the operation's duration)."""
    subscription, name = call.params["subscription"], call.params["group"]
    doc = call.store.get(group_id(subscription, name))
    if doc is None:
        raise resource_group_not_found(name)
    duration = call.config.duration("resourceGroups", "delete")
    op_id_headers = lro.start(call, resource_id=doc["id"], action="delete", duration=duration,
                              namespace="Microsoft.Resources", location=doc["location"], lock_id=None,
                              initial_status="Deleting")
    doc["properties"]["provisioningState"] = "Deleting"
    call.store.put(doc["id"], GROUP_TYPE, doc)
    if duration <= 0:
        lro.settle(call.store, call.now)
    # ARM answers 202 with a Location header to poll.
    return Reply(202, None, {"Location": op_id_headers["Location"], "Retry-After": op_id_headers["Retry-After"]})


def list_groups(call: Call) -> Reply:
    """Paged as ARM pages ($top per page, 1000 at most), with its tagName/tagValue $filter."""
    groups = call.store.children(f"/subscriptions/{call.params['subscription']}", GROUP_TYPE)
    wanted = TAG_FILTER.match(call.query.get("$filter", ""))
    if call.query.get("$filter") and wanted is None:
        # Code as ARM names it; wording UNVERIFIED.
        raise ArmError(400, "InvalidFilterInQueryString",
                       f"Invalid $filter '{call.query['$filter']}' specified in the query string.")
    if wanted:
        name, value = wanted.group("name"), wanted.group("value")
        groups = [g for g in groups if any(k.lower() == name.lower() and (value is None or v == value)
                                           for k, v in (g.get("tags") or {}).items())]
    return paging.page(call, groups)


def operation_status(call: Call) -> Reply:
    return lro.status_reply(call, call.params["operation"])
