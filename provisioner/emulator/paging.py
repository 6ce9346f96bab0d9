"""Paged lists, as ARM pages its own collections: at most `$top` items a page (1000 by default
and at most, [ISSUE Azure/azure-sdk-for-js#18535]: more is 400 InvalidTopInQueryString), the rest
behind a `nextLink` that repeats the query with a `$skiptoken` [ISSUE
grafana-cold-storage/azure-monitor-datasource#102 shows ARM's nextLink]. `$top` is a page size, not
a total [ISSUE Azure/azure-sdk-for-python#541]. Clients must follow nextLink until it is absent.
"""
from __future__ import annotations

import base64
import json
from urllib.parse import quote, urlencode

from provisioner.emulator.arm import Call, Reply
from provisioner.emulator.errors import ArmError

ARM_PAGE = 1000


def page(call: Call, items: list, size: int = ARM_PAGE) -> Reply:
    """One page of `items` with a nextLink to the next one when there is more."""
    top = call.query.get("$top")
    if top is not None:
        if not top.strip().isdigit() or int(top) > ARM_PAGE:
            # Code as reported for 1001; wording UNVERIFIED.
            raise ArmError(400, "InvalidTopInQueryString",
                           f"The value '{top}' of the $top query parameter is not valid: use 0 to {ARM_PAGE}.")
        size = int(top)
    start = _offset(call.query.get("$skiptoken"))
    body: dict = {"value": items[start:start + size]}
    if size and start + size < len(items):
        body["nextLink"] = next_link(call, start + size)
    return Reply(200, body)


def next_link(call: Call, offset: int) -> str:
    query = {k: v for k, v in call.query.items() if k != "$skiptoken"}
    token = base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()
    return f"{call.base_url}{quote(call.path)}?{urlencode({**query, '$skiptoken': token})}"


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError):
        offset = None
    if not isinstance(offset, int) or offset < 0:
        # Code and wording UNVERIFIED.
        raise ArmError(400, "InvalidSkipToken", "The $skiptoken query parameter is not valid.")
    return offset
