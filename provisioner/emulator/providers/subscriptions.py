"""What a client asks ARM before it touches a resource: cloud discovery (/metadata/endpoints),
subscriptions, tenants, locations, resource providers, and the generic resource lists.

Shapes from Azure/azure-rest-api-specs specification/resources/resource-manager/Microsoft.Resources:
subscriptions/examples/2022-12-01/{GetSubscriptions,GetSubscription,GetTenants,GetLocations}.json and the
Provider / GenericResourceExpanded models of resources/stable/2025-04-01 (as azure-mgmt-resource 26 has them).
"""
from __future__ import annotations

import re
from typing import Any

from provisioner.emulator import paging, registry
from provisioner.emulator.arm import TENANT_ID, Call, Reply, Router, require_group
from provisioner.emulator.errors import ArmError
from provisioner.emulator.identity import ARM_AUDIENCES, TENANT_DOMAIN, TENANT_NAME

SUBSCRIPTIONS_SETTING = "identity.subscriptions"  # subscriptions belong to the tenant: they survive a reset
DEFAULT_SUBSCRIPTION = ("00000000-0000-0000-0000-000000000000", "Emulated subscription")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# The tracked resource types the generic lists show (children, deleted and proxy resources are not listed).
LISTED_TYPES = ("microsoft.cognitiveservices/accounts", "microsoft.keyvault/vaults", "microsoft.keyvault/managedhsms")
EXPANDABLE = ("createdTime", "changedTime", "provisioningState")
CLAUSE = re.compile(r"^\s*(?P<field>resourceType|name|resourceGroup|location|tagName|tagValue)\s+eq\s+"
                    r"'(?P<value>(?:[^']|'')*)'\s*$", re.IGNORECASE)


def register(router: Router) -> None:
    router.add("GET", "/subscriptions")(list_subscriptions)
    router.add("GET", "/subscriptions/{subscription}")(get_subscription)
    router.add("GET", "/tenants")(list_tenants)
    router.add("GET", "/subscriptions/{subscription}/locations")(list_locations)
    router.add("GET", "/subscriptions/{subscription}/providers")(list_providers)
    router.add("GET", "/subscriptions/{subscription}/providers/{namespace}")(get_provider)
    router.add("GET", "/providers", resource_type="Microsoft.Resources/providers")(list_providers)
    router.add("GET", "/providers/{namespace}", resource_type="Microsoft.Resources/providers")(get_provider)
    router.add("GET", "/subscriptions/{subscription}/resources",
               resource_type="Microsoft.Resources/resources")(list_resources)
    router.add("GET", "/subscriptions/{subscription}/resourcegroups/{group}/resources",
               resource_type="Microsoft.Resources/resources")(list_group_resources)


def check_subscription_id(subscription: str) -> None:
    """ARM refuses a subscription id that is not a GUID before anything else looks at it."""
    if not GUID.match(subscription):
        raise ArmError(400, "InvalidSubscriptionId",
                       f"The provided subscription identifier '{subscription}' is malformed or invalid.")


# --- cloud discovery ------------------------------------------------------------------------


def cloud_metadata(base_url: str, api_version: str | None) -> Any:
    """GET /metadata/endpoints: the cloud's endpoints, read without a token by clients that register a
    custom cloud from its ARM URL (ARM-FACTS §10). api-versions from 2019-05-01 answer a list of clouds,
    older ones (and none) one cloud (UNVERIFIED beyond the fields clients read)."""
    cloud = {
        "name": "ProvisionEmulator",
        "resourceManager": f"{base_url}/",
        "portal": f"{base_url}/",
        "authentication": {"loginEndpoint": base_url, "audiences": [ARM_AUDIENCES[0], ARM_AUDIENCES[2]],
                           "tenant": "common", "identityProvider": "AAD"},
        "graph": "https://graph.windows.net/", "graphAudience": "https://graph.windows.net/",
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "suffixes": {"keyVaultDns": "vault.azure.net", "storage": "core.windows.net",
                     "sqlServerHostname": "database.windows.net", "acrLoginServer": "azurecr.io",
                     "mhsmDns": "managedhsm.azure.net"},
    }
    if api_version and api_version >= "2019-05-01":
        return [cloud]
    return cloud


# --- subscriptions and tenants --------------------------------------------------------------


def known_subscriptions(call: Call) -> dict[str, str]:
    """Subscription id -> display name: the default one, those added through the control surface, and
    every subscription something was created in (the emulator takes any subscription id)."""
    known = {DEFAULT_SUBSCRIPTION[0]: DEFAULT_SUBSCRIPTION[1], **call.store.setting(SUBSCRIPTIONS_SETTING, {})}
    for subscription in call.store.subscriptions_in_use():
        known.setdefault(subscription, f"Subscription {subscription[:8]}")
    return known


def subscription_doc(subscription: str, display_name: str) -> dict:
    return {"id": f"/subscriptions/{subscription}", "authorizationSource": "RoleBased", "managedByTenants": [],
            "subscriptionId": subscription, "tenantId": TENANT_ID, "displayName": display_name, "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                     "spendingLimit": "Off"},
            "tags": {}}


def list_subscriptions(call: Call) -> Reply:
    known = known_subscriptions(call)
    return paging.page(call, [subscription_doc(s, name) for s, name in sorted(known.items())])


def get_subscription(call: Call) -> Reply:
    """Any well-formed subscription id exists here (a deviation: Azure answers 404 SubscriptionNotFound for
    one the caller cannot see)."""
    subscription = call.params["subscription"]
    check_subscription_id(subscription)
    known = known_subscriptions(call)
    name = next((n for s, n in known.items() if s.lower() == subscription.lower()), f"Subscription {subscription[:8]}")
    return Reply(200, subscription_doc(subscription, name))


def list_tenants(call: Call) -> Reply:
    return paging.page(call, [{"id": f"/tenants/{TENANT_ID}", "tenantId": TENANT_ID, "tenantCategory": "Home",
                               "countryCode": "US", "displayName": TENANT_NAME, "domains": [TENANT_DOMAIN],
                               "defaultDomain": TENANT_DOMAIN, "tenantType": "AAD"}])


def list_locations(call: Call) -> Reply:
    return Reply(200, {"value": registry.location_docs(call.params["subscription"])})


# --- resource providers ---------------------------------------------------------------------


def list_providers(call: Call) -> Reply:
    subscription = call.params.get("subscription")
    return paging.page(call, [registry.provider_doc(subscription, n) for n in registry.namespaces()])


def get_provider(call: Call) -> Reply:
    namespace = call.params["namespace"]
    doc = registry.provider_doc(call.params.get("subscription"), namespace)
    if doc is None:
        # Wording as quoted in Azure/aci-connector-k8s#13; the status UNVERIFIED.
        raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid.")
    return Reply(200, doc)


# --- generic resource lists (Resources_List, Resources_ListByResourceGroup) ------------------


def list_resources(call: Call) -> Reply:
    return _resources(call, f"/subscriptions/{call.params['subscription']}")


def list_group_resources(call: Call) -> Reply:
    require_group(call, call.params["subscription"], call.params["group"])
    return _resources(call, f"/subscriptions/{call.params['subscription']}/resourceGroups/{call.params['group']}")


def _resources(call: Call, scope: str) -> Reply:
    clauses = _filter(call.query.get("$filter", ""))
    expand = {e.strip().lower() for e in call.query.get("$expand", "").split(",") if e.strip()}
    items = []
    for resource_type in LISTED_TYPES:
        for doc in call.store.under(scope, resource_type):
            if _top_level(doc) and all(_matches(doc, field, value) for field, value in clauses):
                items.append(_generic(doc, expand))
    return paging.page(call, items)


def _filter(expression: str) -> list[tuple[str, str]]:
    """`field eq 'value'` clauses joined with `and` (what ARM's $filter on resources takes, minus
    substringof and the tag forms beyond tagName/tagValue)."""
    if not expression.strip():
        return []
    clauses = []
    for part in re.split(r"\s+and\s+", expression.strip(), flags=re.IGNORECASE):
        found = CLAUSE.match(part)
        if found is None:
            # Code as ARM names it for a bad $filter; wording UNVERIFIED.
            raise ArmError(400, "InvalidFilterInQueryString",
                           f"Invalid $filter '{expression}' specified in the query string. The emulator takes "
                           "resourceType, name, resourceGroup, location, tagName and tagValue with eq, joined by and.")
        clauses.append((found.group("field").lower(), found.group("value").replace("''", "'")))
    return clauses


def _top_level(doc: dict) -> bool:
    parts = doc.get("id", "").split("/")
    return len(parts) == 9 and parts[3].lower() == "resourcegroups"


def _matches(doc: dict, field: str, value: str) -> bool:
    if field == "resourcetype":
        return doc["type"].lower() == value.lower()
    if field == "name":
        return doc["name"].lower() == value.lower()
    if field == "resourcegroup":
        return doc["id"].split("/")[4].lower() == value.lower()
    if field == "location":
        return doc.get("location", "").replace(" ", "").lower() == value.replace(" ", "").lower()
    if field == "tagname":
        return value.lower() in {k.lower() for k in (doc.get("tags") or {})}
    return value in (doc.get("tags") or {}).values()  # tagValue


def _generic(doc: dict, expand: set[str]) -> dict:
    """A resource as the generic lists show it (GenericResourceExpanded): no properties."""
    item = {k: doc[k] for k in ("id", "name", "type", "kind", "sku", "location", "identity", "managedBy") if k in doc}
    item["tags"] = doc.get("tags") or {}
    system = doc.get("systemData") or {}
    if "createdtime" in expand and system.get("createdAt"):
        item["createdTime"] = system["createdAt"]
    if "changedtime" in expand and system.get("lastModifiedAt"):
        item["changedTime"] = system["lastModifiedAt"]
    if "provisioningstate" in expand:
        item["provisioningState"] = (doc.get("properties") or {}).get("provisioningState", "Succeeded")
    return item
