"""The catalog and quota views: models a region (or an account) offers, quota usages, and
the capacity still available per region and SKU for a model version (modelCapacities).

Quota numbers come from `quota` (the same arithmetic deployments are checked against).
"""
from __future__ import annotations

import re

from provisioner.emulator import kinds, quota, registry
from provisioner.emulator.arm import Call, Reply, Router, list_reply, normalize_location
from provisioner.emulator.catalog import Catalog
from provisioner.emulator.errors import ArmError
from provisioner.emulator.providers.accounts import ACCOUNT, NAMESPACE, require_account

LOCATION = "/subscriptions/{subscription}/providers/microsoft.cognitiveservices/locations/{location}"
CAPACITY_TYPE = "Microsoft.CognitiveServices/locations/models/skuCapacities"
QUERY_VALUE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")  # the SDK's pattern for the three parameters
NAME_FILTER = re.compile(r"^\s*name\.value\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)


def register(router: Router) -> None:
    router.add("GET", LOCATION + "/models")(list_location_models)
    router.add("GET", LOCATION + "/usages")(list_location_usages)
    router.add("GET", LOCATION + "/modelcapacities")(list_location_capacities)
    router.add("GET", "/subscriptions/{subscription}/providers/microsoft.cognitiveservices/modelcapacities")(
        list_capacities)
    router.add("GET", ACCOUNT + "/usages")(list_account_usages)
    router.add("GET", ACCOUNT + "/models")(list_account_models)


def list_location_models(call: Call) -> Reply:
    """Every catalog item of the region, once per account kind; an unknown region lists nothing."""
    return list_reply(Catalog.load(call.config.catalog_date).models(call.params["location"], call.params["subscription"]))


def list_account_models(call: Call) -> Reply:
    """AccountModel items: the model fields at the top level (no `model` wrapper, ARM-FACTS §5)."""
    account = require_account(call)
    items = Catalog.load(call.config.catalog_date).models(account["location"], call.params["subscription"], kind=account["kind"])
    return list_reply([item["model"] for item in items])


# --- usages ------------------------------------------------------------------------------


def _usage(name: str, localized: str, current: int, limit: int) -> dict:
    return {"name": {"value": name, "localizedValue": localized}, "currentValue": current, "limit": limit,
            "unit": "Count"}


def _name_filter(call: Call) -> str | None:
    """The usage named by `$filter=name.value eq 'X'` (the only filter supported), or None."""
    expression = call.query.get("$filter")
    if not expression:
        return None
    found = NAME_FILTER.match(expression)
    if not found:
        # Code and wording UNVERIFIED.
        raise ArmError(400, "BadRequest", f"The filter '{expression}' is not supported: use name.value eq 'name'.")
    return found.group(1)


def _usages(call: Call, region: str, account_id: str | None) -> list[dict]:
    catalog, store, subscription = Catalog.load(call.config.catalog_date), call.store, call.params["subscription"]
    used = quota.in_use(store, catalog, subscription, region, account_id=account_id)
    counts = quota.account_counts(store, subscription, region)
    items = []
    names = catalog.usage_names(region)
    if not names and normalize_location(region) in registry.physical_regions():
        # a region without OpenAI models still counts accounts (ListUsages.json lists AccountCount for WestUS)
        names = {usage: catalog.localized_name(usage) for usage in catalog.account_usages()}
    for name, localized in names.items():
        if name in counts and account_id is not None:
            continue  # an account's own usages do not count accounts
        current = counts[name] if name in counts else used.get(name, 0)
        items.append(_usage(name, localized, current, quota.limit(store, catalog, subscription, region, name)))
    wanted = _name_filter(call)
    if wanted is not None:
        items = [i for i in items if i["name"]["value"].lower() == wanted.lower()]
    return items


def list_location_usages(call: Call) -> Reply:
    """The subscription's quota in the region: capacity in use per usage name, and accounts."""
    return list_reply(_usages(call, call.params["location"], None))


def list_account_usages(call: Call) -> Reply:
    """The account's own share: its deployments' capacity per usage name, against the region's
    limits. What Azure shows here for an OpenAI account is UNVERIFIED."""
    account = require_account(call)
    fixed = kinds.account_usages(account["kind"])
    if fixed is not None:  # a kind whose usages are fixed meters (TextAnalytics, ...), not deployment quota
        wanted = _name_filter(call)
        return list_reply([u for u in fixed if wanted is None or u["name"]["value"].lower() == wanted.lower()])
    return list_reply(_usages(call, account["location"], account["id"]))


# --- modelCapacities ---------------------------------------------------------------------


def _model_query(call: Call) -> tuple[str, str, str]:
    values = []
    for key in ("modelFormat", "modelName", "modelVersion"):
        value = next((v for k, v in call.query.items() if k.lower() == key.lower()), "")
        # Code and wording UNVERIFIED; the parameters and their pattern are the SDK's.
        if not value:
            raise ArmError(400, "BadRequest", f"The query parameter '{key}' is required.")
        if not QUERY_VALUE.match(value):
            raise ArmError(400, "BadRequest", f"The query parameter '{key}' value '{value}' is not valid: it must "
                                              f"match {QUERY_VALUE.pattern}.")
        values.append(value)
    return values[0], values[1], values[2]


def _capacities(call: Call, only_region: str | None) -> list[dict]:
    fmt, name, version = _model_query(call)
    catalog, store, subscription = Catalog.load(call.config.catalog_date), call.store, call.params["subscription"]
    items = []
    for region, skus in catalog.offering_regions(fmt, name, version).items():
        if only_region is not None and region != normalize_location(only_region):
            continue
        used = quota.in_use(store, catalog, subscription, region)
        location = catalog.location(region)
        for sku in skus:
            usage = catalog.usage_name(region, fmt, name, version, sku)
            limit = quota.limit(store, catalog, subscription, region, usage)
            items.append({
                "id": f"/subscriptions/{subscription}/providers/{NAMESPACE}/locations/{location}/models/"
                      f"{fmt}.{name}.{version}/skuCapacities/{sku}",
                "type": CAPACITY_TYPE, "name": sku, "location": location,
                "properties": {"model": {"format": fmt, "name": name, "version": version}, "skuName": sku,
                               "availableCapacity": max(0, limit - used.get(usage, 0)),
                               "availableFinetuneCapacity": 0},  # fine-tuning capacity is not emulated
            })
    return items


def list_capacities(call: Call) -> Reply:
    """Every region offering the model version: one item per SKU with the quota still free."""
    return list_reply(_capacities(call, None))


def list_location_capacities(call: Call) -> Reply:
    return list_reply(_capacities(call, call.params["location"]))
