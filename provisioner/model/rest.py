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
def account_body(p: Mapping[str, Any]) -> dict:
    properties: dict[str, Any] = {"customSubDomainName": p["custom_subdomain"],
                                  "publicNetworkAccess": p.get("public_network_access", "Enabled"),
                                  "disableLocalAuth": not p.get("local_auth", True)}
    return {"location": p["location"], "kind": p["kind"], "sku": {"name": p.get("sku", "S0")},
            "tags": dict(p.get("tags") or {}), "properties": properties}


def account_properties(doc: Mapping[str, Any]) -> dict:
    props = doc.get("properties") or {}
    return {"location": (doc.get("location") or "").replace(" ", "").lower(), "kind": doc.get("kind"),
            "sku": (doc.get("sku") or {}).get("name"), "custom_subdomain": props.get("customSubDomainName"),
            "public_network_access": props.get("publicNetworkAccess") or "Enabled",
            "local_auth": not props.get("disableLocalAuth", False), "tags": _tags(doc)}


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
