"""Long-running operations, the way ARM runs them.

A write records an operation that finishes at `started + duration`. Nothing
runs in the background: every request first `settle`s the operations whose
time has come, so the outcome is the same whether the server was up, busy or
restarted in between, and separate processes sharing the state agree.
"""
from __future__ import annotations

import json
import math
from typing import Callable

from provisioner.emulator import faults
from provisioner.emulator.arm import Call, Reply, iso, new_etag, new_guid, system_data
from provisioner.emulator.errors import ArmError
from provisioner.emulator.store import Store

TERMINAL = {"Succeeded", "Failed", "Canceled"}
# Called as hook(store, resource_key, now) before a delete operation removes a resource and all below it,
# so providers can soft-delete what Azure soft-deletes (accounts and vaults in a deleted resource group).
BEFORE_DELETE: list[Callable[[Store, str, float], None]] = []
# Called as hook(store, now) at the end of every settle, so work that waits on operations can go on
# (template deployments start the resources whose dependencies have finished: providers/templates.py).
AFTER_SETTLE: list[Callable[[Store, float], None]] = []


def soft_delete_when_deleted_below(resource_type: str, soft_delete: Callable[[Store, dict, float], None]) -> None:
    """When a delete removes a resource group (or anything above them), resources of this type are
    soft-deleted first, as Azure does with accounts and vaults in a deleted group."""
    def hook(store: Store, resource_key: str, now: float) -> None:
        for doc in store.under(resource_key, resource_type):
            soft_delete(store, doc, now)

    BEFORE_DELETE.append(hook)


def start(call: Call, *, resource_id: str, action: str, duration: float, namespace: str, location: str,
          lock_id: str | None, initial_status: str, location_header: bool = False) -> dict[str, str]:
    """Record an operation and return the headers that announce it: Azure-AsyncOperation, and Location for
    deletes and for writes whose spec says final-state-via: location (`location_header`)."""
    op_id = new_guid()
    outcome, error = "Succeeded", None
    if (rule := faults.take(call, kinds=("lro_failed",))) is not None:
        outcome = "Failed"
        error = {"code": rule["code"] or "InternalServerError",
                 "message": rule["message"] or "The operation failed (injected by the emulator)."}
    doc = {"name": op_id, "status": initial_status, "startTime": iso(call.now)}
    call.store.add_operation(op_id, resource_id=resource_id, lock_id=lock_id, action=action, started=call.now,
                             finishes=call.now + duration, outcome=outcome, error=error, doc=doc)
    url = operation_url(call, namespace, location, op_id)
    headers = {"Azure-AsyncOperation": url}
    if action == "delete" or location_header:
        headers["Location"] = url + "&operationResultResponseType=Location"
    headers["Retry-After"] = str(retry_after(call, duration))
    return headers


def operation_url(call: Call, namespace: str, location: str, op_id: str) -> str:
    """The operation's status URL; a location display name loses its spaces ("West Europe" -> WestEurope):
    a URL path segment carries none."""
    subscription = call.params["subscription"]
    return (f"{call.base_url}/subscriptions/{subscription}/providers/{namespace}/locations/"
            f"{location.replace(' ', '')}/operationResults/{op_id}?api-version=2017-04-18")


def retry_after(call: Call, remaining: float) -> int:
    limit = call.config.retry_after if call.config else 1
    return max(0, min(limit, math.ceil(remaining)))


def settle(store: Store, now: float) -> None:
    """Apply the effect of every operation whose time has come."""
    for op in store.due_operations(now):
        doc = store.get(op["resource_key"])
        if op["action"] == "write" and doc is not None:
            doc.setdefault("properties", {})["provisioningState"] = op["outcome"]
            doc["etag"] = new_etag()
            doc["systemData"] = system_data(op["finishes"], doc.get("systemData"))
            store.put(doc["id"], doc["type"], doc)
        elif op["action"] == "delete" and op["outcome"] == "Succeeded":
            for hook in BEFORE_DELETE:
                hook(store, op["resource_key"], op["finishes"])
            store.delete(op["resource_key"])
        store.mark_settled(op["id"])
    for hook in AFTER_SETTLE:
        hook(store, now)


def status_reply(call: Call, op_id: str) -> Reply:
    """GET .../operationResults/{id}: the status document, or Location-style 202/200/204."""
    op = call.store.operation(op_id)
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
    doc = json.loads(op["doc"])
    remaining = op["finishes"] - call.now
    doc["id"] = call.path
    if remaining > 0:
        status = doc["status"]
    else:
        status = op["outcome"]
        doc["endTime"] = iso(op["finishes"])
        if op["error"]:
            doc["error"] = json.loads(op["error"])
    doc["status"] = status
    running = status not in TERMINAL
    headers = {"Retry-After": str(retry_after(call, remaining))} if running else {}
    if call.query.get("operationResultResponseType", "").lower() == "location":
        if running:
            return Reply(202, None, headers)
        if status != "Succeeded":
            return Reply(400, {"error": doc["error"]})
        resource = call.store.get(op["resource_key"])
        return Reply(200, resource) if op["action"] == "write" and resource else Reply(204)
    return Reply(200, doc, headers)

