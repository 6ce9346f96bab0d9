"""Azure Monitor: Microsoft.Insights diagnostic settings on a resource, and the Log Analytics
workspaces (Microsoft.OperationalInsights/workspaces, minimal CRUD) they send to.

Diagnostic settings are an extension resource at {resourceId}/providers/Microsoft.Insights/
diagnosticSettings/{name} (specification/monitor/resource-manager/Microsoft.Insights/preview/
2021-05-01-preview/diagnosticsSettings_API.json: PUT/GET 200, DELETE 200/204, list {"value": [...]};
diagnosticsSettingsCategories_API.json: the categories a resource offers). Categories, per resource type
(learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-cognitiveservices-accounts-logs
and ...-microsoft-keyvault-vaults-logs): accounts log Audit, AzureOpenAIRequestUsage, RequestResponse and
Trace; vaults AuditEvent and AzurePolicyEvaluationDetails; both offer the metric category AllMetrics.
Category groups: allLogs (every log category) and audit (the audit ones).

Refusals:
- 400 BadRequest "Category 'X' is not supported." [ISSUE hashicorp/terraform-provider-azurerm#2985].
- 400 BadRequest "Diagnostic setting does not support mix of log category and log category group."
  [ISSUE Azure/azure-rest-api-specs#22719].
- at most five settings per resource (learn.microsoft.com/azure/azure-monitor/essentials/
  diagnostic-settings: "Each resource can have up to five diagnostic settings"): 400 (code and wording
  UNVERIFIED).
- one category sent to the same destination by two settings: 409 Conflict "Data sink '...' is already
  used in diagnostic setting '...' for category '...'. Data sinks can't be reused in different settings on
  the same category for the same resource." [ISSUE Azure/terraform-azurerm-avm-ptn-aiml-landing-zone#19].
- a log or metric with an enabled retentionPolicy: 400 BadRequest "Diagnostic settings does not support
  retention for new diagnostic settings." [ISSUE Azure/avdaccelerator#473].
- a destination workspace that does not exist, or a setting without any destination: 400 (code and
  wording UNVERIFIED).
"""
from __future__ import annotations

import uuid

from provisioner.emulator import registry, schemas
from provisioner.emulator.arm import Call, Reply, Router, document_handlers, iso, list_reply, require_group
from provisioner.emulator.errors import ArmError, not_found
from provisioner.emulator.store import key_of

SETTING_TYPE = "Microsoft.Insights/diagnosticSettings"
CATEGORY_TYPE = "Microsoft.Insights/diagnosticSettingsCategories"
WORKSPACE_TYPE = "Microsoft.OperationalInsights/workspaces"
SETTINGS = "{scope}/providers/microsoft.insights/diagnosticsettings"
CATEGORIES = "{scope}/providers/microsoft.insights/diagnosticsettingscategories"
WORKSPACE = ("/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.operationalinsights"
             "/workspaces/{workspace}")
MAX_SETTINGS = 5
# resource type -> (log categories with their groups, metric categories)
CATEGORIES_BY_TYPE: dict[str, tuple[dict[str, list[str]], list[str]]] = {
    "microsoft.cognitiveservices/accounts": ({"Audit": ["audit", "allLogs"], "AzureOpenAIRequestUsage": ["allLogs"],
                                              "RequestResponse": ["allLogs"], "Trace": ["allLogs"]}, ["AllMetrics"]),
    "microsoft.keyvault/vaults": ({"AuditEvent": ["audit", "allLogs"], "AzurePolicyEvaluationDetails": ["allLogs"]},
                                  ["AllMetrics"]),
}


def register(router: Router) -> None:
    get_workspace, delete_workspace, list_workspaces = document_handlers(WORKSPACE_TYPE, "workspace")
    router.add("PUT", SETTINGS + "/{setting}")(put_setting)
    router.add("GET", SETTINGS + "/{setting}")(get_setting)
    router.add("DELETE", SETTINGS + "/{setting}")(delete_setting)
    router.add("GET", SETTINGS)(list_settings)
    router.add("GET", CATEGORIES)(list_categories)
    router.add("PUT", WORKSPACE)(put_workspace)
    router.add("GET", WORKSPACE)(get_workspace)
    router.add("DELETE", WORKSPACE)(delete_workspace)
    router.add("GET", "/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.operationalinsights"
                      "/workspaces")(list_workspaces)


# --- diagnostic settings --------------------------------------------------------------------------

def _target(call: Call) -> tuple[dict, dict[str, list[str]], list[str]]:
    scope = call.params["scope"].rstrip("/")
    target = call.store.get(scope) if scope.lower().startswith("/subscriptions/") else None
    if target is None:
        parts = scope.strip("/").split("/")
        raise not_found("/".join(parts[4:6]) if len(parts) > 5 else "resource", parts[-1] if parts else "",
                        parts[3] if len(parts) > 3 else None)
    logs, metrics = CATEGORIES_BY_TYPE.get(target["type"].lower(), ({}, []))
    return target, logs, metrics


def list_categories(call: Call) -> Reply:
    target, logs, metrics = _target(call)
    docs = [{"id": f"{target['id']}/providers/{CATEGORY_TYPE}/{name}", "name": name, "type": CATEGORY_TYPE,
             "properties": {"categoryType": "Logs", "categoryGroups": groups}} for name, groups in logs.items()]
    docs += [{"id": f"{target['id']}/providers/{CATEGORY_TYPE}/{name}", "name": name, "type": CATEGORY_TYPE,
              "properties": {"categoryType": "Metrics", "categoryGroups": []}} for name in metrics]
    return list_reply(docs)


def put_setting(call: Call) -> Reply:
    target, log_categories, metric_categories = _target(call)
    name = call.params["setting"]
    properties = schemas.clean(SETTING_TYPE, call.json_body()).get("properties")
    if not isinstance(properties, dict):
        raise ArmError(400, "BadRequest", "The request content was invalid: 'properties' is required.")
    logs = [_log(item, log_categories) for item in properties.get("logs") or []]
    if any("category" in log for log in logs) and any("categoryGroup" in log for log in logs):
        raise ArmError(400, "BadRequest", "Diagnostic setting does not support mix of log category and log category "
                                          "group.")
    metrics = [_metric(item, metric_categories) for item in properties.get("metrics") or []]
    given = {k: properties[k] for k in ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId",
                                        "marketplacePartnerId", "serviceBusRuleId") if k in properties}
    destinations = {k: v for k, v in given.items() if v}  # "" names no destination (the spec's example sends one)
    if not destinations:
        raise ArmError(400, "BadRequest",  # wording UNVERIFIED
                       "A diagnostic setting needs at least one destination: a Log Analytics workspace, storage "
                       "account, event hub or partner solution.")
    if "workspaceId" in destinations:
        workspace = call.store.get(str(destinations["workspaceId"])) \
            if str(destinations["workspaceId"]).lower().startswith("/subscriptions/") else None
        if workspace is None or workspace["type"] != WORKSPACE_TYPE:
            raise ArmError(400, "BadRequest",  # wording UNVERIFIED
                           f"The Log Analytics workspace '{destinations['workspaceId']}' could not be found.")
    setting_id = f"{target['id']}/providers/{SETTING_TYPE}/{name}"
    others = [s for s in call.store.under(target["id"], SETTING_TYPE) if key_of(s["id"]) != key_of(setting_id)]
    if len(others) >= MAX_SETTINGS:
        raise ArmError(400, "BadRequest",  # code and wording UNVERIFIED
                       f"Resource '{target['id']}' already has {MAX_SETTINGS} diagnostic settings, the most a "
                       "resource can have.")
    mine = _enabled_categories(logs, metrics, log_categories)
    for other in others:
        theirs = _enabled_categories(other["properties"].get("logs", []), other["properties"].get("metrics", []),
                                     log_categories)
        for key, sink in destinations.items():
            if str(other["properties"].get(key, "")).lower() == str(sink).lower() and mine & theirs:
                category = sorted(mine & theirs)[0]
                raise ArmError(409, "Conflict",
                               f"Data sink '{sink}' is already used in diagnostic setting '{other['name']}' for "
                               f"category '{category}'. Data sinks can't be reused in different settings on the same "
                               "category for the same resource.")
    doc = {"id": setting_id, "name": name, "type": SETTING_TYPE,
           "properties": {**given, "logs": logs, "metrics": metrics,
                          "logAnalyticsDestinationType": properties.get("logAnalyticsDestinationType"),
                          **({"eventHubName": properties["eventHubName"]} if properties.get("eventHubName") else {})}}
    call.store.put(setting_id, SETTING_TYPE, doc)
    return Reply(200, doc)


def _log(item: dict, known: dict[str, list[str]]) -> dict:
    if not isinstance(item, dict):
        raise ArmError(400, "BadRequest", "Each entry of logs must be an object.")
    category, group = item.get("category"), item.get("categoryGroup")
    entry: dict = {}
    if category:
        match = next((c for c in known if c.lower() == str(category).lower()), None)
        if match is None:
            raise ArmError(400, "BadRequest", f"Category '{category}' is not supported.")
        entry["category"] = match
    elif group:
        groups = sorted({g for gs in known.values() for g in gs})
        match = next((g for g in groups if g.lower() == str(group).lower()), None)
        if match is None:
            raise ArmError(400, "BadRequest", f"Category group '{group}' is not supported.")  # wording UNVERIFIED
        entry["categoryGroup"] = match
    else:
        raise ArmError(400, "BadRequest", "Each entry of logs needs a category or a categoryGroup.")
    entry["enabled"] = bool(item.get("enabled", False))
    entry["retentionPolicy"] = _retention(item)
    return entry


def _retention(item: dict) -> dict:
    policy = item.get("retentionPolicy") or {"days": 0, "enabled": False}
    if isinstance(policy, dict) and policy.get("enabled"):
        raise ArmError(400, "BadRequest", "Diagnostic settings does not support retention for new diagnostic settings.")
    return policy


def _metric(item: dict, known: list[str]) -> dict:
    if not isinstance(item, dict):
        raise ArmError(400, "BadRequest", "Each entry of metrics must be an object.")
    match = next((c for c in known if c.lower() == str(item.get("category", "")).lower()), None)
    if match is None:
        raise ArmError(400, "BadRequest", f"Category '{item.get('category')}' is not supported.")
    return {"category": match, "enabled": bool(item.get("enabled", False)),
            "retentionPolicy": _retention(item),
            **({"timeGrain": item["timeGrain"]} if item.get("timeGrain") else {})}


def _enabled_categories(logs: list[dict], metrics: list[dict], known: dict[str, list[str]]) -> set[str]:
    enabled: set[str] = set()
    for log in logs:
        if not log.get("enabled"):
            continue
        if "category" in log:
            enabled.add(log["category"])
        else:
            enabled |= {c for c, groups in known.items() if log["categoryGroup"] in groups}
    return enabled | {m["category"] for m in metrics if m.get("enabled")}


def get_setting(call: Call) -> Reply:
    target, _, _ = _target(call)
    doc = call.store.get(f"{target['id']}/providers/{SETTING_TYPE}/{call.params['setting']}")
    if doc is None:
        raise ArmError(404, "ResourceNotFound",  # wording UNVERIFIED
                       f"The diagnostic setting '{call.params['setting']}' doesn't exist.")
    return Reply(200, doc)


def delete_setting(call: Call) -> Reply:
    target, _, _ = _target(call)
    doc = call.store.get(f"{target['id']}/providers/{SETTING_TYPE}/{call.params['setting']}")
    if doc is None:
        return Reply(204)
    call.store.delete(doc["id"])
    return Reply(200)


def list_settings(call: Call) -> Reply:
    target, _, _ = _target(call)
    return list_reply([s for s in call.store.under(target["id"], SETTING_TYPE)
                       if key_of(s["id"]).startswith(key_of(target["id"]) + "/providers/microsoft.insights/")])


# --- Log Analytics workspaces ---------------------------------------------------------------------

def workspace_id(subscription: str, group: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{WORKSPACE_TYPE}/{name}"


def put_workspace(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    body = call.json_body()
    new_id = workspace_id(p["subscription"], p["group"], p["workspace"])
    existing = call.store.get(new_id)
    location = registry.required_location(WORKSPACE_TYPE, body)
    properties = body.get("properties") or {}
    previous = (existing or {}).get("properties", {})
    doc = {"id": new_id, "name": p["workspace"], "type": WORKSPACE_TYPE, "location": location,
           "tags": body.get("tags") or {},
           "properties": {"customerId": previous.get("customerId") or str(uuid.uuid4()),
                          "provisioningState": "Succeeded",
                          "sku": {"name": (properties.get("sku") or {}).get("name", "PerGB2018")},
                          "retentionInDays": int(properties.get("retentionInDays", 30)),
                          "publicNetworkAccessForIngestion": properties.get("publicNetworkAccessForIngestion",
                                                                            "Enabled"),
                          "publicNetworkAccessForQuery": properties.get("publicNetworkAccessForQuery", "Enabled"),
                          "createdDate": previous.get("createdDate") or iso(call.now), "modifiedDate": iso(call.now)}}
    call.store.put(new_id, WORKSPACE_TYPE, doc)
    return Reply(200 if existing else 201, doc)
