"""Between Azure's REST documents and our property vocabulary (resources.py).

Each kind has a pair: `<kind>_body(properties)` builds the request body we send,
`<kind>_properties(doc)` reads a response back into properties. They are exact
inverses for everything we send, which is what makes an unchanged spec against
unchanged Azure plan to zero changes. Server-filled fields (rateLimits,
capabilities, currentCapacity, etag, systemData...) are never read.
"""
from __future__ import annotations

from typing import Any, Mapping

UPGRADE_TO_AZURE = {"on-new-default": "OnceNewDefaultVersionAvailable",
                    "on-expiry": "OnceCurrentVersionExpired", "never": "NoAutoUpgrade"}
UPGRADE_FROM_AZURE = {v.lower(): k for k, v in UPGRADE_TO_AZURE.items()}

CATEGORY_FILTERS = {"hate": "Hate", "sexual": "Sexual", "violence": "Violence", "self_harm": "Selfharm"}
ACTION_FILTERS = {"jailbreak": ("Jailbreak", "prompt"), "indirect_attack": ("Indirect Attack", "prompt"),
                  "protected_material_text": ("Protected Material Text", "completion"),
                  "protected_material_code": ("Protected Material Code", "completion")}
_FILTER_KEYS = {name.lower().replace(" ", ""): key for key, name in CATEGORY_FILTERS.items()}
_FILTER_KEYS.update({name.lower().replace(" ", ""): key for key, (name, _) in ACTION_FILTERS.items()})
MODES = {"default": "Default", "blocking": "Blocking", "asynchronous_filter": "Asynchronous_filter",
         "deferred": "Asynchronous_filter"}  # Deferred is the pre-2025-06-01 name


def _tags(doc: Mapping[str, Any]) -> dict[str, str]:
    return dict(doc.get("tags") or {})


# accounts
# Shapes: Azure/azure-rest-api-specs specification/cognitiveservices/resource-manager/Microsoft.CognitiveServices/
# stable/2025-09-01/cognitiveservices.json (Account, AccountProperties.networkAcls, restrictOutboundNetworkAccess,
# allowedFqdnList; Identity.type "None, SystemAssigned, UserAssigned, SystemAssigned, UserAssigned").
def account_body(p: Mapping[str, Any]) -> dict:
    """The account's PUT body; settings the properties leave at None are not sent (Azure keeps them)."""
    properties: dict[str, Any] = {"customSubDomainName": p["custom_subdomain"],
                                  "publicNetworkAccess": p.get("public_network_access", "Enabled"),
                                  "disableLocalAuth": not p.get("local_auth", True)}
    if p.get("network") is not None:
        properties["networkAcls"] = network_acls_body(p["network"])
    if p.get("restrict_outbound") is not None:
        properties["restrictOutboundNetworkAccess"] = p["restrict_outbound"]
    if p.get("allowed_fqdns") is not None:
        properties["allowedFqdnList"] = list(p["allowed_fqdns"])
    body = {"location": p["location"], "kind": p["kind"], "sku": {"name": p.get("sku", "S0")},
            "tags": dict(p.get("tags") or {}), "properties": properties}
    if p.get("identity") is not None:
        body["identity"] = identity_body(p["identity"])
    return body


def network_acls_body(network: Mapping[str, Any]) -> dict:
    return {"defaultAction": network["default_action"], "bypass": network.get("bypass", "AzureServices"),
            "ipRules": [{"value": rule} for rule in network.get("ip_rules") or []],
            "virtualNetworkRules": [{"id": subnet, "ignoreMissingVnetServiceEndpoint": False}
                                    for subnet in network.get("virtual_network_rules") or []]}


def identity_body(identity: Mapping[str, Any]) -> dict:
    user_assigned = list(identity.get("user_assigned") or [])
    kinds = [k for k, on in (("SystemAssigned", identity.get("system_assigned")), ("UserAssigned", user_assigned))
             if on]
    body: dict[str, Any] = {"type": ", ".join(kinds) or "None"}
    if user_assigned:
        body["userAssignedIdentities"] = {identity_id: {} for identity_id in user_assigned}
    return body


def account_properties(doc: Mapping[str, Any]) -> dict:
    props = doc.get("properties") or {}
    return {"location": (doc.get("location") or "").replace(" ", "").lower(), "kind": doc.get("kind"),
            "sku": (doc.get("sku") or {}).get("name"), "custom_subdomain": props.get("customSubDomainName"),
            "public_network_access": props.get("publicNetworkAccess") or "Enabled",
            "local_auth": not props.get("disableLocalAuth", False),
            "network": _network(props.get("networkAcls")), "identity": _identity(doc.get("identity")),
            "restrict_outbound": bool(props.get("restrictOutboundNetworkAccess")),
            "allowed_fqdns": sorted(props.get("allowedFqdnList") or []), "tags": _tags(doc)}


def _network(acls: Mapping[str, Any] | None) -> dict:
    """No networkAcls is Azure's default: allow everything."""
    acls = acls or {}
    return {"default_action": acls.get("defaultAction") or "Allow", "bypass": acls.get("bypass") or "AzureServices",
            "ip_rules": sorted({_address(r.get("value", "")) for r in acls.get("ipRules") or []}),
            "virtual_network_rules": sorted({str(r.get("id", "")).lower()
                                             for r in acls.get("virtualNetworkRules") or []})}


def _address(rule: str) -> str:
    """A single address as the spec writes it: without /32 (Azure takes single addresses bare)."""
    return rule[:-3] if rule.endswith("/32") else rule


def _identity(identity: Mapping[str, Any] | None) -> dict:
    identity = identity or {}
    kinds = {k.strip().lower() for k in str(identity.get("type") or "None").split(",")}
    user_assigned = {str(k).lower(): (v or {}) for k, v in (identity.get("userAssignedIdentities") or {}).items()}
    return {"system_assigned": "systemassigned" in kinds, "user_assigned": sorted(user_assigned),
            "principal_id": identity.get("principalId"), "tenant_id": identity.get("tenantId"),
            "user_assigned_principals": {k: v.get("principalId") for k, v in sorted(user_assigned.items())}}


# deployments
def deployment_body(p: Mapping[str, Any]) -> dict:
    properties: dict[str, Any] = {
        "model": {"format": p.get("format", "OpenAI"), "name": p["model"], "version": p["version"]},
        "versionUpgradeOption": UPGRADE_TO_AZURE[p.get("upgrade", "on-new-default")],
    }
    if p.get("content_filter"):
        properties["raiPolicyName"] = p["content_filter"]
    if p.get("spillover"):
        properties["spilloverDeploymentName"] = p["spillover"]
    return {"sku": {"name": p["sku"], "capacity": p["capacity"]}, "tags": dict(p.get("tags") or {}),
            "properties": properties}


def deployment_properties(doc: Mapping[str, Any]) -> dict:
    props = doc.get("properties") or {}
    model = props.get("model") or {}
    sku = doc.get("sku") or {}
    upgrade = props.get("versionUpgradeOption") or "OnceNewDefaultVersionAvailable"
    return {"model": model.get("name"), "format": model.get("format"), "version": model.get("version"),
            "sku": sku.get("name"), "capacity": sku.get("capacity"),
            "content_filter": props.get("raiPolicyName") or None,
            "upgrade": UPGRADE_FROM_AZURE.get(upgrade.lower(), upgrade),
            "spillover": props.get("spilloverDeploymentName") or None, "tags": _tags(doc)}


# RAI policies (content filters)
def rai_policy_body(p: Mapping[str, Any]) -> dict:
    filters = []
    for key, setting in sorted((p.get("filters") or {}).items()):
        if key in CATEGORY_FILTERS:
            for source in ("prompt", "completion"):
                if source in setting:
                    threshold = setting[source]
                    on = threshold != "off"
                    filters.append({"name": CATEGORY_FILTERS[key], "source": source.capitalize(), "enabled": on,
                                    "blocking": on, "severityThreshold": threshold.capitalize() if on else "High"})
        else:
            name, source = ACTION_FILTERS[key]
            action = setting[source]
            filters.append({"name": name, "source": source.capitalize(), "enabled": action != "off",
                            "blocking": action == "block"})
    blocklists = [{"blocklistName": name, "blocking": True, "source": source}
                  for name in sorted(p.get("blocklists") or []) for source in ("Prompt", "Completion")]
    properties: dict[str, Any] = {"basePolicyName": p["base"], "mode": p.get("mode", "Default"),
                                  "contentFilters": filters}
    if blocklists:
        properties["customBlocklists"] = blocklists
    return {"tags": dict(p.get("tags") or {}), "properties": properties}


def rai_policy_properties(doc: Mapping[str, Any]) -> dict:
    props = doc.get("properties") or {}
    filters: dict[str, dict[str, str]] = {}
    for entry in props.get("contentFilters") or []:
        key = _FILTER_KEYS.get(str(entry.get("name", "")).lower().replace(" ", ""))
        if key is None:
            continue  # a filter we do not model (e.g. Profanity): never planned, never noise
        source = str(entry.get("source", "prompt")).lower()
        enabled = entry.get("enabled", True)
        if key in CATEGORY_FILTERS:
            value = str(entry.get("severityThreshold") or "medium").lower() if enabled else "off"
        else:
            value = "off" if not enabled else ("block" if entry.get("blocking") else "annotate")
        filters.setdefault(key, {})[source] = value
    mode = str(props.get("mode") or "Default")
    return {"base": props.get("basePolicyName"), "mode": MODES.get(mode.lower(), mode), "filters": filters,
            "blocklists": sorted({b.get("blocklistName") for b in props.get("customBlocklists") or []}),
            "tags": _tags(doc)}


# blocklists
def blocklist_body(p: Mapping[str, Any]) -> dict:
    return {"tags": dict(p.get("tags") or {}), "properties": {"description": p.get("description") or ""}}


def blocklist_item_body(item: Mapping[str, Any]) -> dict:
    return {"properties": {"pattern": item["pattern"], "isRegex": bool(item.get("regex"))}}


def blocklist_item_name(item: Mapping[str, Any]) -> str:
    """A stable item name derived from its content, so re-applying never duplicates items."""
    import hashlib

    digest = hashlib.sha256(f"{item.get('regex', False)}:{item['pattern']}".encode()).hexdigest()
    return f"item-{digest[:16]}"


def blocklist_properties(doc: Mapping[str, Any], items: list[Mapping[str, Any]]) -> dict:
    props = doc.get("properties") or {}
    parsed = [{"pattern": (i.get("properties") or {}).get("pattern"),
               "regex": bool((i.get("properties") or {}).get("isRegex"))} for i in items]
    return {"description": props.get("description") or "",
            "items": sorted(parsed, key=lambda i: (i["pattern"] or "", i["regex"])), "tags": _tags(doc)}


# resource groups
def resource_group_properties(doc: Mapping[str, Any]) -> dict:
    return {"location": (doc.get("location") or "").lower(), "tags": _tags(doc)}


# private endpoints (Microsoft.Network): Azure/azure-rest-api-specs specification/network/resource-manager/
# Microsoft.Network/stable/2024-05-01/privateEndpoint.json (PrivateEndpoint, PrivateLinkServiceConnection,
# PrivateDnsZoneGroup); the group id of an Azure OpenAI account is "account"
# (learn.microsoft.com/azure/private-link/private-endpoint-dns#ai--machine-learning).
def private_endpoint_body(p: Mapping[str, Any], name: str) -> dict:
    connection = {"name": name, "properties": {"privateLinkServiceId": p["target"], "groupIds": [p["group_id"]]}}
    return {"location": p["location"], "tags": dict(p.get("tags") or {}),
            "properties": {"subnet": {"id": p["subnet"]}, "privateLinkServiceConnections": [connection]}}


def dns_zone_group_body(p: Mapping[str, Any]) -> dict:
    """The endpoint's private DNS zone group: one config per zone, named after the zone."""
    return {"properties": {"privateDnsZoneConfigs": [
        {"name": zone.rsplit("/", 1)[-1].replace(".", "-"), "properties": {"privateDnsZoneId": zone}}
        for zone in p.get("dns_zone_ids") or []]}}


def private_endpoint_properties(doc: Mapping[str, Any], zone_group: Mapping[str, Any] | None) -> dict:
    props = doc.get("properties") or {}
    connections = (props.get("privateLinkServiceConnections") or []) + \
        (props.get("manualPrivateLinkServiceConnections") or [])
    connection = (connections[0].get("properties") or {}) if connections else {}
    zones = ((zone_group or {}).get("properties") or {}).get("privateDnsZoneConfigs") or []
    return {"location": (doc.get("location") or "").replace(" ", "").lower(),
            "subnet": str((props.get("subnet") or {}).get("id") or "").lower(),
            "target": str(connection.get("privateLinkServiceId") or "").lower(),
            "group_id": ((connection.get("groupIds") or [None])[0] or "").lower() or None,
            "dns_zone_ids": sorted({str((z.get("properties") or {}).get("privateDnsZoneId") or "").lower()
                                    for z in zones}),
            "tags": _tags(doc),
            "connection_state": (connection.get("privateLinkServiceConnectionState") or {}).get("status"),
            "manual_connection": not props.get("privateLinkServiceConnections") and bool(connections)}


# role assignments (Microsoft.Authorization): Azure/azure-rest-api-specs specification/authorization/
# resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json
def role_definition_id(p: Mapping[str, Any]) -> str:
    subscription = p["scope"].split("/")[2]
    return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{p['role']}"


def role_assignment_body(p: Mapping[str, Any]) -> dict:
    return {"properties": {"roleDefinitionId": role_definition_id(p), "principalId": p["principal"],
                           "principalType": p["principal_type"], "description": p.get("description") or ""}}


def role_assignment_properties(doc: Mapping[str, Any]) -> dict:
    from provisioner.model import roles

    props = doc.get("properties") or {}
    role = str(props.get("roleDefinitionId") or "").rsplit("/", 1)[-1].lower()
    return {"scope": str(props.get("scope") or "").lower(), "principal": str(props.get("principalId") or "").lower(),
            "principal_type": props.get("principalType"), "role": role, "role_name": roles.role_name(role),
            "description": props.get("description") or ""}


# diagnostic settings (Microsoft.Insights): Azure/azure-rest-api-specs specification/monitor/resource-manager/
# Microsoft.Insights/stable/2021-05-01-preview/diagnosticsSettings_API.json; categories of
# Microsoft.CognitiveServices/accounts: learn.microsoft.com/azure/ai-services/openai/monitor-openai-reference
ALL_LOGS = "allLogs"
ALL_METRICS = "AllMetrics"
# destinations a setting may send to besides a workspace (the spec has none of them)
OTHER_DESTINATIONS = ("storageAccountId", "eventHubAuthorizationRuleId", "marketplacePartnerId")


def diagnostic_setting_body(p: Mapping[str, Any]) -> dict:
    logs = [{"categoryGroup": ALL_LOGS, "enabled": True}] if p["logs"] == "all" else \
        [{"category": category, "enabled": True} for category in p["logs"]]
    metrics = [{"category": ALL_METRICS, "enabled": True}] if p.get("metrics") else []
    return {"properties": {"workspaceId": p["workspace"], "logs": logs, "metrics": metrics}}


def diagnostic_setting_properties(doc: Mapping[str, Any]) -> dict:
    props = doc.get("properties") or {}
    enabled = [entry for entry in props.get("logs") or [] if entry.get("enabled")]
    if any(str(entry.get("categoryGroup") or "").lower() == ALL_LOGS.lower() for entry in enabled):
        logs: Any = "all"
    else:
        logs = sorted({entry["category"] for entry in enabled if entry.get("category")})
    return {"workspace": str(props.get("workspaceId") or "").lower(), "logs": logs,
            "metrics": any(entry.get("enabled") for entry in props.get("metrics") or []),
            "other_destinations": sorted(key for key in OTHER_DESTINATIONS if props.get(key))}
