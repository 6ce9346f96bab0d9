"""Microsoft.CognitiveServices account deployments: a model version of the catalog, served
with a SKU and a capacity that count against the subscription's quota in the region.

Every write goes through `writable_account` and runs as an operation that locks the
account, so a second write to the account (or any of its children) while a deployment
is being created, updated or deleted gets 409 RequestConflict, as in Azure.
"""
from __future__ import annotations

from provisioner.emulator import lro, quota, schemas
from provisioner.emulator.arm import (
    Call,
    Reply,
    Router,
    list_reply,
    new_etag,
    normalize_location,
    system_data,
)
from provisioner.emulator.catalog import Catalog, rate_limits, validate_deployment
from provisioner.emulator.errors import ArmError
from provisioner.emulator.providers.accounts import (
    ACCOUNT,
    NAMESPACE,
    require_account,
    start_write,
    writable_account,
)

DEPLOYMENT_TYPE = "Microsoft.CognitiveServices/accounts/deployments"
RAI_POLICY_TYPE = "Microsoft.CognitiveServices/accounts/raiPolicies"
DEPLOYMENT = ACCOUNT + "/deployments/{deployment}"
BUILT_IN_RAI_POLICIES = {"microsoft.default", "microsoft.defaultv2", "microsoft.nil"}


def register(router: Router) -> None:
    router.add("PUT", DEPLOYMENT)(put_deployment)
    router.add("GET", DEPLOYMENT)(get_deployment)
    router.add("PATCH", DEPLOYMENT)(patch_deployment)
    router.add("DELETE", DEPLOYMENT)(delete_deployment)
    router.add("GET", ACCOUNT + "/deployments")(list_deployments)
    router.add("GET", DEPLOYMENT + "/skus")(list_skus)


def _find(call: Call, account: dict) -> dict | None:
    return call.store.get(f"{account['id']}/deployments/{call.params['deployment']}")


def _require(call: Call, account: dict) -> dict:
    doc = _find(call, account)
    if doc is None:
        # Seen from the management SDK [ISSUE microsoft/PubSec-Info-Assistant#385]:
        # "(NotFound) Specified resource '.../deployments/chat' cannot be found."
        raise ArmError(404, "NotFound",
                       f"Specified resource '{account['id']}/deployments/{call.params['deployment']}' "
                       "cannot be found.")
    return doc


def _region(account: dict) -> str:
    return normalize_location(account["location"])


# --- validation --------------------------------------------------------------------------


def _read_sku(catalog: Catalog, region: str, body: dict, model: dict) -> dict:
    """The deployment's SKU: `sku`, or (older api-versions) one named after scaleSettings.scaleType. A
    capacity left out is the catalog's default for the SKU, else 1 (the API makes it optional)."""
    sku = body.get("sku")
    if sku is None and body.get("properties", {}).get("scaleSettings", {}).get("scaleType"):
        scale = body["properties"]["scaleSettings"]
        # scaleType Standard|Manual named the SKU before `sku` existed; Manual -> Standard is UNVERIFIED
        sku = {"name": "Standard", "capacity": scale.get("capacity")}
    if not sku:
        # Code and wording UNVERIFIED.
        raise ArmError(400, "InvalidResourceProperties", "The deployment needs a 'sku' (name and capacity).")
    sku = dict(sku)
    if sku.get("capacity") is None:
        entry = catalog.sku(region, model["format"], model["name"], model.get("version") or "", sku["name"])
        sku["capacity"] = int(((entry or {}).get("capacity") or {}).get("default") or 1)
    return sku


def _read_model(properties: dict) -> dict:
    model = properties.get("model")
    if not isinstance(model, dict) or not all(model.get(k) for k in ("format", "name")):
        # Code and wording UNVERIFIED.
        raise ArmError(400, "InvalidRequestContent",
                       "The 'properties.model' of the deployment must name a 'format' and a 'name'.")
    return model


def _check_catalog(catalog: Catalog, region: str, model: dict, sku: dict) -> None:
    problem = validate_deployment(catalog, region, model, sku)
    if problem is not None:
        raise ArmError(*problem)


def _check_fixed(existing: dict, model: dict, sku: dict) -> None:
    """Azure cannot change a deployment's model or SKU in place (only version and capacity)."""
    old_model, old_sku = existing["properties"]["model"], existing["sku"]["name"]
    if (model["format"], model["name"]) != (old_model["format"], old_model["name"]):
        raise ArmError(400, "InvalidResourceProperties",
                       f"The model of deployment '{existing['name']}' is '{old_model['format']}/"
                       f"{old_model['name']}' and cannot be changed to '{model['format']}/{model['name']}'. "
                       "Delete the deployment and create it again.")
    if sku["name"].lower() != old_sku.lower():
        raise ArmError(400, "InvalidResourceProperties",
                       f"The SKU of deployment '{existing['name']}' is '{old_sku}' and cannot be changed to "
                       f"'{sku['name']}'. Delete the deployment and create it again.")


def _check_rai_policy(call: Call, account: dict, name: str) -> None:
    if name.lower() in BUILT_IN_RAI_POLICIES:
        return
    policy = call.store.get(f"{account['id']}/raiPolicies/{name}")
    if policy is None or policy.get("type", "").lower() != RAI_POLICY_TYPE.lower():
        # Code and wording UNVERIFIED: Azure is only reported to fail with "rai policy not found"
        # (ARM-FACTS §3, AVM#115).
        raise ArmError(400, "RaiPolicyNotFound",
                       f"The RAI policy '{name}' was not found on account '{account['name']}'. Use a built-in "
                       "policy (Microsoft.DefaultV2, Microsoft.Default) or create the policy first.")


def _check_spillover(call: Call, account: dict, name: str) -> None:
    # Code and wording UNVERIFIED.
    if name.lower() == call.params["deployment"].lower():
        raise ArmError(400, "InvalidResourceProperties",
                       f"The spillover deployment '{name}' cannot be the deployment itself.")
    if call.store.get(f"{account['id']}/deployments/{name}") is None:
        raise ArmError(400, "InvalidResourceProperties",
                       f"The spillover deployment '{name}' does not exist on account '{account['name']}'.")


def _check_quota(call: Call, catalog: Catalog, account: dict, model: dict, sku: dict,
                 existing: dict | None) -> None:
    region = _region(account)
    usage = catalog.usage_name(region, model["format"], model["name"], model["version"], sku["name"])
    if usage is None:
        return
    requested = sku["capacity"]
    if existing is not None and quota.deployment_usage(catalog, region, existing) == usage:
        requested -= existing["sku"].get("capacity", 0)  # only the increase is new
    quota.check(call.store, catalog, call.params["subscription"], region, usage, requested)


# --- documents -----------------------------------------------------------------------------


def _capabilities(model: dict) -> dict:
    # The recorded deployment shows the model's capabilities without the fine-tuning ones
    # and without allowProvisionedManagedCommitment (ARM-FACTS §1).
    return {k: v for k, v in (model.get("capabilities") or {}).items()
            if "finetune" not in k.lower() and k != "allowProvisionedManagedCommitment"}


def _fill(call: Call, catalog: Catalog, account: dict, doc: dict, model: dict, sku: dict) -> None:
    """Set the server-computed parts of a deployment from its model and sku."""
    region = _region(account)
    entry = catalog.find(region, model["format"], model["name"], model["version"]) or {}
    sku_entry = catalog.sku(region, model["format"], model["name"], model["version"], sku["name"])
    doc["sku"] = {"name": sku_entry["name"] if sku_entry else sku["name"], "capacity": sku["capacity"]}
    props = doc["properties"]
    props["model"] = {"format": model["format"], "name": model["name"], "version": model["version"],
                      **{k: model[k] for k in ("publisher", "source", "sourceAccount") if model.get(k)}}
    props["currentCapacity"] = sku["capacity"]
    props["capabilities"] = _capabilities(entry)
    props["rateLimits"] = rate_limits(sku_entry, sku["capacity"])
    doc["etag"] = new_etag()
    doc["systemData"] = system_data(call.now, doc.get("systemData"))


def _ordered(doc: dict) -> dict:
    """Fields in the order Azure sends them (as recorded)."""
    props = doc["properties"]
    order = ("model", "versionUpgradeOption", "raiPolicyName", "spilloverDeploymentName", "parentDeploymentName",
             "scaleSettings", "capacitySettings", "currentCapacity", "capabilities", "provisioningState", "rateLimits")
    ordered_props = {k: props[k] for k in order if k in props}
    ordered_props.update({k: v for k, v in props.items() if k not in ordered_props})
    ordered = {"id": doc["id"], "type": doc["type"], "name": doc["name"], "sku": doc["sku"]}
    if "tags" in doc:
        ordered["tags"] = doc["tags"]
    return {**ordered, "properties": ordered_props, "systemData": doc["systemData"], "etag": doc["etag"]}


# --- handlers ------------------------------------------------------------------------------


# Settings a deployment PUT takes and keeps as given (every writable property of DeploymentProperties
# but the model, which _fill sets); versionUpgradeOption gets its default.
SETTINGS = ("raiPolicyName", "versionUpgradeOption", "spilloverDeploymentName", "parentDeploymentName",
            "capacitySettings", "scaleSettings")


def put_deployment(call: Call) -> Reply:
    account = writable_account(call)
    body = schemas.clean(DEPLOYMENT_TYPE, call.json_body())
    properties = body.get("properties", {})
    model = dict(_read_model(properties))
    catalog = Catalog.load(call.config.catalog_date)
    region = _region(account)
    if not model.get("version"):  # Azure deploys the region's default version
        model["version"] = catalog.default_version(region, model["format"], model["name"]) or ""
    sku = _read_sku(catalog, region, body, model)
    existing = _find(call, account)
    if existing is not None:
        _check_fixed(existing, model, sku)
    _check_catalog(catalog, region, model, sku)
    if properties.get("raiPolicyName"):
        _check_rai_policy(call, account, properties["raiPolicyName"])
    if properties.get("spilloverDeploymentName"):
        _check_spillover(call, account, properties["spilloverDeploymentName"])
    _check_quota(call, catalog, account, model, sku, existing)

    doc = existing or {"id": f"{account['id']}/deployments/{call.params['deployment']}",
                       "type": DEPLOYMENT_TYPE, "name": call.params["deployment"]}
    # A PUT replaces: settings the body leaves out are gone.
    doc["properties"] = {"versionUpgradeOption": "OnceNewDefaultVersionAvailable",
                         **{k: properties[k] for k in SETTINGS if k in properties}}
    if "tags" in body:
        doc["tags"] = body["tags"]
    else:
        doc.pop("tags", None)
    _fill(call, catalog, account, doc, model, sku)
    if existing is None:
        call.store.put(doc["id"], DEPLOYMENT_TYPE, doc)
        headers = start_write(call, doc, resource="deployments", action="create", status_while_running="Accepted",
                              lock_id=account["id"])
        return Reply(201, _ordered(doc), {**headers, "ETag": doc["etag"]})
    return _finish_update(call, account, doc)


def _finish_update(call: Call, account: dict, doc: dict) -> Reply:
    """Store an updated deployment: at once (Succeeded) or as an operation that locks the account. A PATCH
    also gets a Location header: Deployments_Update is final-state-via location in the spec."""
    if call.config.duration("deployments", "update") <= 0:
        doc["properties"]["provisioningState"] = "Succeeded"
        call.store.put(doc["id"], DEPLOYMENT_TYPE, doc)
        return Reply(200, _ordered(doc), {"ETag": doc["etag"]})
    call.store.put(doc["id"], DEPLOYMENT_TYPE, doc)
    headers = start_write(call, doc, resource="deployments", action="update", status_while_running="Accepted",
                          lock_id=account["id"], location_header=call.method == "PATCH")
    return Reply(200, _ordered(doc), {**headers, "ETag": doc["etag"]})


def get_deployment(call: Call) -> Reply:
    doc = _require(call, require_account(call))
    return Reply(200, _ordered(doc), {"ETag": doc["etag"]})


def list_deployments(call: Call) -> Reply:
    account = require_account(call)
    return list_reply([_ordered(d) for d in call.store.children(account["id"], DEPLOYMENT_TYPE)])


def patch_deployment(call: Call) -> Reply:
    """PATCH takes tags and sku (PatchResourceTagsAndSku): a new capacity, never a new SKU name."""
    account = writable_account(call)
    doc = _require(call, account)
    body = schemas.clean(DEPLOYMENT_TYPE + "#patch", call.json_body())
    model = doc["properties"]["model"]
    sku = {**doc["sku"], **{k: v for k, v in (body.get("sku") or {}).items() if k in ("name", "capacity")}}
    _check_fixed(doc, model, sku)
    catalog = Catalog.load(call.config.catalog_date)
    _check_catalog(catalog, _region(account), model, sku)
    _check_quota(call, catalog, account, model, sku, doc)
    if "tags" in body:
        doc["tags"] = body["tags"]
    _fill(call, catalog, account, doc, model, sku)
    return _finish_update(call, account, doc)


def delete_deployment(call: Call) -> Reply:
    """200 with an empty body when deleting takes no time (as recorded); else 202 and the
    deployment stays "Deleting", holding the account's lock, until the operation is done."""
    account = require_account(call)
    doc = _find(call, account)
    if doc is None:
        return Reply(204)
    writable_account(call)
    duration = call.config.duration("deployments", "delete")
    if duration <= 0:
        call.store.delete(doc["id"])
        return Reply(200)
    headers = lro.start(call, resource_id=doc["id"], action="delete", duration=duration, namespace=NAMESPACE,
                        location=account["location"].upper(), lock_id=account["id"], initial_status="Deleting")
    doc["properties"]["provisioningState"] = "Deleting"
    call.store.put(doc["id"], DEPLOYMENT_TYPE, doc)
    return Reply(202, None, headers)


def list_skus(call: Call) -> Reply:
    """The SKUs the region offers for the deployment's model version, with their capacity rules.
    Which SKUs Azure lists here is UNVERIFIED (spec example only)."""
    account = require_account(call)
    doc = _require(call, account)
    model = doc["properties"]["model"]
    entry = Catalog.load(call.config.catalog_date).find(_region(account), model["format"], model["name"], model["version"]) or {}
    items = []
    for sku in entry.get("skus", []):
        rules = sku.get("capacity", {})
        # a catalog SKU without minimum or step takes any whole capacity (ARM-FACTS §2): 1 and 1
        capacity = {"minimum": rules.get("minimum", 1), "maximum": rules.get("maximum"),
                    "step": rules.get("step", 1), "default": rules.get("default", 1)}
        items.append({"resourceType": DEPLOYMENT_TYPE, "sku": {"name": sku["name"], "capacity": capacity["default"]},
                      "capacity": {k: v for k, v in capacity.items() if v is not None}})
    return list_reply(items)
