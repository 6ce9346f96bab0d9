"""The request/response types handlers see, routing, and ARM document helpers."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from provisioner.emulator.errors import ArmError
from provisioner.emulator.store import Store

# The principal every emulator token stands for (shows up in systemData and throttling messages).
PRINCIPAL_ID = "3f0c4b5e-6d2a-4e8f-9a1b-7c6d5e4f3a2b"
TENANT_ID = "72f988bf-0000-4000-8000-00000000e7a1"  # the tenant of that principal


@dataclass
class Call:
    """One request, as handlers see it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    base_url: str  # e.g. https://127.0.0.1:50443, used to build LRO URLs
    store: Store
    now: float
    params: dict[str, str] = field(default_factory=dict)
    config: "Config | None" = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    identity: Any = None  # the emulator's Identity: verifies bearer tokens on the data plane
    limiter: Any = None  # the data plane's rate limiter (in memory, per process)

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")

    def json_body(self) -> dict:
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise ArmError(400, "InvalidRequestContent",
                           "The request content was invalid and could not be deserialized.")
        return self.body


@dataclass
class Reply:
    status: int
    body: Any = None  # dict/list -> JSON; None -> empty body
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # e.g. /subscriptions/{subscription}/resourcegroups/{group}
    pattern: re.Pattern
    handler: Handler
    resource_type: str | None  # whose api-versions apply ("Microsoft.Resources/resourceGroups"); None: any
    public: bool = False  # served without a token or api-version (the Retail Prices API)


AUTO = "auto"  # Router.add: read the resource type from the template


class Router:
    """ARM paths, matched case-insensitively as ARM does."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, resource_type: str | None = AUTO, *,
            public: bool = False) -> Callable[[Handler], Handler]:
        """Register a handler. `resource_type` names the type whose api-versions the route accepts; by default
        it is read from the template; None accepts any api-version (URLs the emulator itself hands out).
        A `public` route needs neither a token nor an api-version. A parameter matches one path segment,
        except `{scope}`: any ARM id, empty included (where an extension resource such as
        .../providers/Microsoft.Authorization/roleAssignments/{name} hangs)."""
        from provisioner.emulator.registry import resource_type_of

        regex = re.escape(template).replace(r"\{scope\}", "(?P<scope>(/[^/]+)*?)")  # an extension resource's scope
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        pattern = re.compile(f"^{regex}/?$", re.IGNORECASE)
        if resource_type == AUTO:
            segments = template.rstrip("/").split("/")
            # POST .../accounts/{account}/listKeys acts on an account: its type is the account's
            action = method.upper() == "POST" and not segments[-1].startswith("{") and segments[-2].startswith("{")
            resource_type = resource_type_of("/".join(segments[:-1]) if action else template)

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method.upper(), template, pattern, handler, None if public else resource_type,
                                     public))
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        path_matched = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                path_matched = True
                if route.method == method:
                    return route, found.groupdict()
        if path_matched:
            raise ArmError(405, "MethodNotAllowed", f"The HTTP method '{method}' is not supported at '{path}'.")
        return None


def check_api_version(route: Route, call: Call) -> None:
    """ARM refuses an api-version the route's resource type does not serve (registry.py has the lists)."""
    if route.resource_type is None:
        return
    from provisioner.emulator.registry import check_api_version as check

    def location() -> str | None:  # for the error message only: looked up when the check fails
        if "location" in call.params or "group" not in call.params:
            return call.params.get("location")
        group = call.store.get(group_id(call.params.get("subscription", ""), call.params["group"]))
        return (group or {}).get("location")

    check(route.resource_type, call.api_version, location)


@dataclass
class Config:
    """Behaviour knobs, stored in settings so every process sharing the state agrees."""

    # seconds an operation takes, per "<resource>.<action>"; missing keys use "default"
    lro_durations: dict[str, float] = field(default_factory=lambda: dict(SERVE_DURATIONS))
    retry_after: int = 1  # the Retry-After (seconds) on running operations, at most the time left
    latency: float = 0.0  # artificial seconds added to every request
    throttle: dict[str, Any] = field(default_factory=lambda: {"enabled": True, **ARM_THROTTLE})
    # the day the model catalog is seen from (ISO date); None: today. Lifecycle dates move with it.
    catalog_date: str | None = None
    retail_prices_page_size: int = 1000  # items per page of GET /api/retail/prices
    rate_window: float = 10.0  # seconds of a deployment's rate limits its bucket holds (Azure: 1 or 10 s)

    def duration(self, resource: str, action: str) -> float:
        durations = self.lro_durations
        return float(durations.get(f"{resource}.{action}", durations.get(resource, durations.get("default", 0.0))))


# Defaults for `serve`: long enough to be seen, short enough to wait for.
SERVE_DURATIONS = {"default": 0.0, "accounts.create": 3.0, "accounts.update": 1.0, "deployments.create": 3.0,
                   "deployments.update": 2.0, "deployments.delete": 1.0, "raiPolicies.delete": 0.5,
                   "raiBlocklists.delete": 0.5, "deletedAccounts.purge": 1.0, "resourceGroups.delete": 0.5}
# Tests: every operation completes at once (still through the LRO protocol).
INSTANT_DURATIONS = {"default": 0.0}
# ARM's token buckets per subscription (ARM-FACTS §8): (bucket size, refill per second).
ARM_THROTTLE = {"reads": [250, 25], "writes": [200, 10], "deletes": [200, 10], "global_factor": 15}


def new_guid() -> str:
    return str(uuid.uuid4())


def new_etag() -> str:
    return f'"{uuid.uuid4()}"'


def iso(ts: float) -> str:
    """ARM timestamps: 2025-10-28T14:48:46.1234567Z."""
    moment = datetime.fromtimestamp(ts, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def system_data(now: float, previous: dict | None = None) -> dict:
    created = previous or {"createdBy": PRINCIPAL_ID, "createdByType": "Application", "createdAt": iso(now)}
    return {"createdBy": created["createdBy"], "createdByType": created["createdByType"],
            "createdAt": created["createdAt"], "lastModifiedBy": PRINCIPAL_ID,
            "lastModifiedByType": "Application", "lastModifiedAt": iso(now)}


def normalize_location(location: str) -> str:
    """'West Europe', 'WESTEUROPE' and 'westeurope' are one region."""
    return location.replace(" ", "").lower()


def group_id(subscription: str, group: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}"


def require_group(call: Call, subscription: str, group: str) -> dict:
    from provisioner.emulator.errors import resource_group_not_found

    doc = call.store.get(group_id(subscription, group))
    if doc is None:
        raise resource_group_not_found(group)
    return doc


def document_handlers(resource_type: str, name_param: str) -> tuple[Callable, Callable, Callable]:
    """GET, DELETE and list-in-group handlers of a group-level resource that is nothing but its stored
    document (a workspace, a user-assigned identity): 404 when missing, DELETE 200 or 204."""
    from provisioner.emulator.errors import not_found

    def stored_id(call: Call) -> str:
        p = call.params
        require_group(call, p["subscription"], p["group"])
        return f"{group_id(p['subscription'], p['group'])}/providers/{resource_type}/{p[name_param]}"

    def get(call: Call) -> Reply:
        doc = call.store.get(stored_id(call))
        if doc is None:
            raise not_found(resource_type, call.params[name_param], call.params["group"])
        return Reply(200, doc)

    def delete(call: Call) -> Reply:
        doc = call.store.get(stored_id(call))
        if doc is None:
            return Reply(204)
        call.store.delete(doc["id"])
        return Reply(200)

    def list_in_group(call: Call) -> Reply:
        p = call.params
        require_group(call, p["subscription"], p["group"])
        return list_reply(call.store.children(group_id(p["subscription"], p["group"]), resource_type))

    return get, delete, list_in_group


def public(doc: dict) -> dict:
    """A stored document without the emulator's private keys ("emulator..."), as served."""
    return {k: v for k, v in doc.items() if not k.startswith("emulator")}


def list_reply(items: list[dict]) -> Reply:
    return Reply(200, {"value": items})
