"""Injected faults: a rule matches requests by method and path and fires for
the next N matches or with a probability."""
from __future__ import annotations

import json
import random
import re

from provisioner.emulator.arm import Call, Reply

# status: answer with an error instead of handling the request; drop: close the connection instead;
# lro_failed: the operation the request starts ends Failed; commit_drop / commit_status: handle the
# request (the write is committed) and then drop the connection / answer with an error, so the
# client never learns that its write happened.
KINDS = ("status", "drop", "lro_failed", "commit_drop", "commit_status")
AFTER_COMMIT = ("commit_drop", "commit_status")


def add(store, *, kind: str, method: str | None = None, path: str | None = None, times: int | None = 1,
        probability: float | None = None, status: int = 500, code: str | None = None,
        message: str | None = None, retry_after: int | None = None) -> int:
    """Add a rule. `path` is a regular expression searched in the request path (case-insensitive).
    With `probability` the rule fires at that rate for ever (times=None); otherwise for `times` matches."""
    if kind not in KINDS:
        raise ValueError(f"fault kind must be one of {KINDS}, not {kind!r}")
    rule = {"kind": kind, "method": method.upper() if method else None, "path": path, "status": status,
            "code": code, "message": message, "retry_after": retry_after, "probability": probability}
    return store.add_fault(rule, None if probability is not None else times)


def take(call: Call, kinds: tuple[str, ...]) -> dict | None:
    """The first rule of these kinds matching this request, consuming one use of it."""
    for row in call.store.faults():
        rule = json.loads(row["rule"])
        if rule["kind"] not in kinds:
            continue
        if rule["method"] and rule["method"] != call.method:
            continue
        if rule["path"] and not re.search(rule["path"], call.path, re.IGNORECASE):
            continue
        if rule["probability"] is not None and random.random() >= rule["probability"]:
            continue
        call.store.use_fault(row["id"])
        return rule
    return None


def reply_for(rule: dict, call: Call) -> Reply:
    """The error response a `status` rule produces, with ARM's codes for the usual statuses."""
    status = rule["status"]
    default_code, default_message = DEFAULTS.get(status, ("InternalServerError", "An error has occurred."))
    code = rule["code"] or default_code
    message = rule["message"] or default_message
    if status == 409 and code == "RequestConflict" and not rule["message"]:
        message = ("Another operation is being performed on the parent resource "
                   f"'{_account_id(call.path)}'. Please try again later.")
    headers = {}
    if rule["retry_after"] is not None:
        headers["Retry-After"] = str(rule["retry_after"])
    return Reply(status, {"error": {"code": code, "message": message}}, headers)


DEFAULTS = {
    429: ("SubscriptionRequestsThrottled", "The request was throttled (injected by the emulator)."),
    409: ("RequestConflict", ""),
    500: ("InternalServerError", "Encountered internal server error (injected by the emulator)."),
    502: ("BadGateway", "The gateway did not receive a response (injected by the emulator)."),
    503: ("ServiceUnavailable", "The service is unavailable (injected by the emulator)."),
}


def _account_id(path: str) -> str:
    found = re.search(r"^(.*?/accounts/[^/]+)", path, re.IGNORECASE)
    return found.group(1) if found else path
