"""Microsoft.CognitiveServices questions asked before creating something: which SKUs exist
(subscription-wide and for an account), whether SKUs or a custom subdomain are available, and how
much provisioned capacity a workload needs.

Shapes from the REST spec (Microsoft.CognitiveServices 2025-09-01): ResourceSkuListResult,
AccountSkuListResult, SkuAvailabilityListResult, DomainAvailability, CalculateModelCapacityResult,
and their examples (tests/fixtures/rest-examples/cognitiveservices).
"""
from __future__ import annotations

import math

from provisioner.emulator import kinds, registry
from provisioner.emulator.arm import Call, Reply, Router, list_reply, normalize_location
from provisioner.emulator.catalog import Catalog
from provisioner.emulator.errors import ArmError
from provisioner.emulator.providers.accounts import (
    ACCOUNT,
    ACCOUNT_TYPE,
    DELETED_TYPE,
    SUBDOMAIN,
    require_account,
)

PROVIDER = "/subscriptions/{subscription}/providers/microsoft.cognitiveservices"
# Tokens per minute one PTU serves in the calculator below (UNVERIFIED: Azure's calculator is not public;
# the deployable value follows the catalog's minimum and step, which are real).
TOKENS_PER_MINUTE_PER_PTU = 2500


def register(router: Router) -> None:
    router.add("GET", PROVIDER + "/skus")(list_resource_skus)
    router.add("GET", ACCOUNT + "/skus")(list_account_skus)
    router.add("POST", PROVIDER + "/locations/{location}/checkskuavailability")(check_sku_availability)
    router.add("POST", PROVIDER + "/checkdomainavailability")(check_domain_availability)
    router.add("POST", PROVIDER + "/calculatemodelcapacity")(calculate_model_capacity)


def list_resource_skus(call: Call) -> Reply:
    """Every kind's SKUs with the regions offering them (ResourceSku, one item per kind, SKU and region
    group, as the example lists them)."""
    physical = registry.physical_regions()
    items = []
    for kind, skus in kinds.ACCOUNT_SKUS.items():
        regions = [r.upper() for r in kinds.regions_of(kind, physical)]
        for sku in skus:
            items.append({"resourceType": "accounts", "name": sku, "tier": kinds.sku_tier(sku), "kind": kind,
                          "locations": regions, "restrictions": []})
    return list_reply(items)


def list_account_skus(call: Call) -> Reply:
    """The SKUs an existing account can move to: its kind's."""
    account = require_account(call)
    return list_reply([{"resourceType": ACCOUNT_TYPE, "sku": {"name": sku, "tier": kinds.sku_tier(sku)}}
                       for sku in kinds.skus_of(account["kind"])])


def check_sku_availability(call: Call) -> Reply:
    body = call.json_body()
    skus, kind, resource_type = body.get("skus"), body.get("kind"), body.get("type")
    if not isinstance(skus, list) or not all(isinstance(s, str) for s in skus) or not skus:
        # As Azure answers a body without skus [ISSUE Azure/azure-rest-api-specs#22395].
        raise ArmError(400, "BadRequest", "Value cannot be null. (Parameter 'requestObject.Skus')")
    if not isinstance(kind, str) or not isinstance(resource_type, str):
        raise ArmError(400, "BadRequest", "Value cannot be null. (Parameter 'requestObject.Kind')")  # UNVERIFIED
    region = normalize_location(call.params["location"])
    offered = region in kinds.regions_of(kind, registry.physical_regions())
    items = []
    for sku in skus:
        available = offered and resource_type.lower() == ACCOUNT_TYPE.lower() and \
            sku.upper() in {s.upper() for s in kinds.skus_of(kind)}
        items.append({"kind": kind, "type": resource_type, "skuName": sku, "skuAvailable": available,
                      # reason and message wording UNVERIFIED
                      "reason": None if available else "SkuNotAvailable",
                      "message": None if available else
                      f"The SKU '{sku}' of account kind '{kind}' is not available in region '{region}'."})
    return list_reply(items)


def check_domain_availability(call: Call) -> Reply:
    """Is a custom subdomain free? Taken by any account or soft-deleted account of any subscription."""
    body = call.json_body()
    name, resource_type = body.get("subdomainName"), body.get("type")
    if not isinstance(name, str) or not isinstance(resource_type, str):
        raise ArmError(400, "BadRequest", "The subdomainName and type properties are required.")  # UNVERIFIED
    answer = {"isSubdomainAvailable": True, "reason": None, "subdomainName": name, "type": resource_type}
    if body.get("kind") is not None:
        answer["kind"] = body["kind"]
    if not SUBDOMAIN.match(name) or name.endswith("-"):
        # The reason wording of the spec example (CheckDomainAvailability.json).
        return Reply(200, {**answer, "isSubdomainAvailable": False, "reason": f"Sub domain name '{name}' is not valid"})
    taken = {str((d.get("properties") or {}).get("customSubDomainName", "")).lower()
             for kind_type in (ACCOUNT_TYPE, DELETED_TYPE) for d in call.store.under("/subscriptions", kind_type)}
    if name.lower() in taken:
        # The reason as learn.microsoft.com/azure/ai-services/speech-service/speech-services-private-link quotes it.
        return Reply(200, {**answer, "isSubdomainAvailable": False,
                           "reason": f"Sub domain name '{name}' is already used. Please pick a different name."})
    return Reply(200, answer)


def calculate_model_capacity(call: Call) -> Reply:
    """The PTUs a workload needs for a model version and provisioned SKU: its tokens per minute over what
    a PTU serves, and the deployable value rounded up to the catalog's minimum and step."""
    body = call.json_body()
    model, sku_name, workloads = body.get("model"), body.get("skuName"), body.get("workloads")
    if not isinstance(model, dict) or not isinstance(sku_name, str) or not isinstance(workloads, list):
        raise ArmError(400, "BadRequest", "The model, skuName and workloads properties are required.")  # UNVERIFIED
    catalog = Catalog.load(call.config.catalog_date)
    fmt, name, version = (str(model.get(k, "")) for k in ("format", "name", "version"))
    capacity = _sku_capacity(catalog, fmt, name, version, sku_name)
    if capacity is None:
        raise ArmError(400, "InvalidResourceProperties",
                       f"The specified SKU '{sku_name}' is not supported by the model '{name}' version '{version}'.")
    tokens = 0.0
    for workload in workloads:
        if not isinstance(workload, dict):
            raise ArmError(400, "BadRequest", "Each workload must be an object.")
        parameters = workload.get("requestParameters") or {}
        per_request = float(parameters.get("avgPromptTokens") or 0) + float(parameters.get("avgGeneratedTokens") or 0)
        tokens += float(workload.get("requestPerMinute") or 0) * per_request
        tokens += float(workload.get("tokensPerMinute") or 0)
    value = max(1, math.ceil(tokens / TOKENS_PER_MINUTE_PER_PTU))
    minimum, step = int(capacity.get("minimum") or 1), int(capacity.get("step") or 1)
    deployable = max(minimum, math.ceil(value / step) * step)
    return Reply(200, {"model": {"format": fmt, "name": name, "version": version}, "skuName": sku_name,
                       "estimatedCapacity": {"value": value, "deployableValue": deployable}})


def _sku_capacity(catalog: Catalog, fmt: str, name: str, version: str, sku_name: str) -> dict | None:
    """The capacity rules of the SKU in the first region offering the model version with it."""
    for region, skus in catalog.offering_regions(fmt, name, version).items():
        if sku_name.lower() in {s.lower() for s in skus}:
            entry = catalog.sku(region, fmt, name, version, sku_name)
            return (entry or {}).get("capacity") or {}
    return None
