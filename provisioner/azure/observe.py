"""Reading live state for a desired state, cheaply.

Per account: one GET of the account, one list each of deployments, RAI
policies and blocklists (plus the items of blocklists we manage), never a GET
per deployment. Per resource group one GET. Per (subscription, region) with
deployments: one list of models and one of usages, whatever the number of
accounts there. All of it in parallel.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable

from azure.core.exceptions import ResourceNotFoundError
from azure.core.rest import HttpRequest

from provisioner.azure import retry
from provisioner.azure.clients import Clients
from provisioner.errors import AzureReadError, ProvisionerError
from provisioner.model import rest
from provisioner.model.observed import (
    ModelOffer,
    ObservedResource,
    ObservedState,
    RegionInfo,
    SkuOffer,
    SoftDeletedAccount,
    Usage,
    region_key,
)
from provisioner.model.resources import DesiredState, Kind, Resource, Scope, is_managed

READ_POLICY = retry.RetryPolicy(deadline=120.0)


def _doc(model: Any) -> dict:
    """An SDK model back to the REST document it came from (msrest- and TypeSpec-generated SDKs differ)."""
    if hasattr(model, "serialize"):
        return model.serialize(keep_readonly=True)
    return model.as_dict()


def _read(what: str, operation: Callable[[], Any]) -> Any:
    """One read through the retry layer; None for 404."""
    try:
        return retry.call(operation, READ_POLICY)
    except ResourceNotFoundError:
        return None
    except ProvisionerError as exc:
        if getattr(exc, "code", None) in ("ResourceNotFound", "ResourceGroupNotFound", "NotFound"):
            return None
        raise AzureReadError(f"reading {what} failed: {exc}", hint=exc.hint) from None


def _observed(kind: Kind, name: str, scope: Scope, doc: dict, properties: dict) -> ObservedResource:
    resource = Resource(kind=kind, name=name, scope=scope, properties=properties)
    return ObservedResource(resource=resource, azure_id=doc.get("id", ""), etag=doc.get("etag"),
                            managed=is_managed(doc.get("tags")),
                            provisioning_state=(doc.get("properties") or {}).get("provisioningState"),
                            created_at=_timestamp(doc, "createdAt"), modified_at=_timestamp(doc, "lastModifiedAt"))


def _timestamp(doc: dict, key: str) -> str | None:
    value = (doc.get("systemData") or {}).get(key)
    return value if isinstance(value, str) else None


def read_observed(clients: Clients, desired: DesiredState, *, parallelism: int = 8) -> ObservedState:
    accounts = [r for r in desired.resources if r.kind is Kind.ACCOUNT]
    groups = [r for r in desired.resources if r.kind is Kind.RESOURCE_GROUP]
    found: dict[str, ObservedResource] = {}
    soft_deleted: dict[str, SoftDeletedAccount] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        region_results = pool.map(lambda sr: _read_region(clients, *sr), regions_of(desired))
        group_results = pool.map(lambda g: _read_group(clients, g), groups)
        account_results = pool.map(lambda a: _read_account(clients, a, desired), accounts)
        regions = {region_key(r.subscription, r.region): r for r in region_results}
        for observed in group_results:
            if observed:
                found[observed.resource.address] = observed
        for observed_children, deleted in account_results:
            for observed in observed_children:
                found[observed.resource.address] = observed
            if deleted:
                soft_deleted[deleted.name] = deleted
    return ObservedState(resources=found, soft_deleted=soft_deleted, regions=regions)


def _read_group(clients: Clients, group: Resource) -> ObservedResource | None:
    client = clients.resources(group.scope.subscription)
    model = _read(f"resource group {group.name}", lambda: client.resource_groups.get(group.name))
    if model is None:
        return None
    doc = _doc(model)
    return _observed(Kind.RESOURCE_GROUP, group.name, group.scope, doc, rest.resource_group_properties(doc))


def read_inventory(clients: Clients, *, resource_groups: Iterable[tuple[str, str]] = (),
                   account_ids: Iterable[str] = (), parallelism: int = 8) -> list[ObservedResource]:
    """Every account in these resource groups and these accounts (ARM ids), with everything on them
    (blocklist items included), for `provision import`. A missing group or account is an error."""
    accounts: list[Resource] = []
    for subscription, group in resource_groups:
        client = clients.cognitive(subscription)
        listed = _read(f"accounts of resource group {group}",
                       lambda: list(client.accounts.list_by_resource_group(group)))
        if listed is None:
            raise AzureReadError(f"resource group {group} was not found in subscription {subscription}")
        accounts += [Resource(Kind.ACCOUNT, a.name, Scope(subscription, group)) for a in listed]
    for account_id in account_ids:
        accounts.append(_account_of_id(account_id))
    found: list[ObservedResource] = []
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        for account, (observed, _) in zip(accounts, pool.map(lambda a: _read_account(clients, a, None), accounts)):
            if not observed:
                raise AzureReadError(f"account {account.name} was not found in resource group "
                                     f"{account.scope.resource_group}")
            found += [o for o in observed if o.resource.address not in {f.resource.address for f in found}]
    return found


def _account_of_id(account_id: str) -> Resource:
    parts = account_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if (len(parts) != 8 or lowered[0] != "subscriptions" or lowered[2] != "resourcegroups"
            or lowered[4] != "providers" or lowered[5] != "microsoft.cognitiveservices" or lowered[6] != "accounts"):
        raise ProvisionerError(f"{account_id!r} is not an account id",
                               hint="pass /subscriptions/SUB/resourceGroups/RG/providers/"
                                    "Microsoft.CognitiveServices/accounts/NAME")
    return Resource(Kind.ACCOUNT, parts[7], Scope(parts[1], parts[3]))


def _read_account(clients: Clients, account: Resource, desired: DesiredState | None
                  ) -> tuple[list[ObservedResource], SoftDeletedAccount | None]:
    """The account and everything on it; blocklist items of the blocklists `desired` declares (None: of all)."""
    scope = account.scope
    client = clients.cognitive(scope.subscription)
    group, name = scope.resource_group, account.name
    model = _read(f"account {name}", lambda: client.accounts.get(group, name))
    if model is None:
        return [], _read_soft_deleted(clients, account)
    doc = _doc(model)
    results = [_observed(Kind.ACCOUNT, name, scope, doc, rest.account_properties(doc))]
    child_scope = Scope(scope.subscription, group, account=name)
    for item in _read(f"deployments of {name}", lambda: list(client.deployments.list(group, name))) or []:
        d = _doc(item)
        results.append(_observed(Kind.DEPLOYMENT, d["name"], child_scope, d, rest.deployment_properties(d)))
    for item in _read(f"RAI policies of {name}", lambda: list(client.rai_policies.list(group, name))) or []:
        d = _doc(item)
        if (d.get("properties") or {}).get("type") == "SystemManaged" or d["name"].startswith("Microsoft."):
            continue  # built-in policies are Azure's, never ours to plan
        results.append(_observed(Kind.RAI_POLICY, d["name"], child_scope, d, rest.rai_policy_properties(d)))
    wanted_blocklists = None if desired is None else {r.name for r in desired.resources
                                                      if r.kind is Kind.BLOCKLIST and r.scope.account == name}
    for item in _read(f"blocklists of {name}", lambda: list(client.rai_blocklists.list(group, name))) or []:
        d = _doc(item)
        items: list[dict] = []
        if wanted_blocklists is None or d["name"] in wanted_blocklists:  # items only matter where compared
            listed = _read(f"items of blocklist {d['name']}",
                           lambda: list(client.rai_blocklist_items.list(group, name, d["name"])))
            items = [_doc(i) for i in listed or []]
        results.append(_observed(Kind.BLOCKLIST, d["name"], child_scope, d, rest.blocklist_properties(d, items)))
    return results, None


def _read_soft_deleted(clients: Clients, account: Resource) -> SoftDeletedAccount | None:
    scope = account.scope
    location = account.properties["location"]
    client = clients.cognitive(scope.subscription)
    model = _read(f"deleted account {account.name}",
                  lambda: client.deleted_accounts.get(location, scope.resource_group, account.name))
    if model is None:
        return None
    doc = _doc(model)
    props = doc.get("properties") or {}
    return SoftDeletedAccount(name=account.name, subscription=scope.subscription,
                              resource_group=scope.resource_group, location=location,
                              deletion_date=props.get("deletionDate"),
                              scheduled_purge_date=props.get("scheduledPurgeDate"), tags=dict(doc.get("tags") or {}))


def regions_of(desired: DesiredState) -> list[tuple[str, str]]:
    """(subscription, region) of every account that has deployments."""
    locations = {r.name: r.properties["location"] for r in desired.resources if r.kind is Kind.ACCOUNT}
    return sorted({(r.scope.subscription, locations[r.scope.account]) for r in desired.resources
                   if r.kind is Kind.DEPLOYMENT and r.scope.account in locations})


def read_regions(clients: Clients, pairs: Iterable[tuple[str, str]], *, parallelism: int = 8) -> list[RegionInfo]:
    """Catalog and usages of each (subscription, region), read in parallel."""
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        return list(pool.map(lambda pair: _read_region(clients, *pair), sorted(set(pairs))))


def _read_region(clients: Clients, subscription: str, region: str) -> RegionInfo:
    client = clients.cognitive(subscription)
    path = f"/subscriptions/{subscription}/providers/Microsoft.CognitiveServices/locations/{region}/models"
    listed = _read(f"models in {region}", lambda: _list_json(client, path)) or []
    usages = _read(f"quota usages in {region}", lambda: list(client.usages.list(region))) or []
    offers = {}
    for item in listed:  # the list repeats each model once per account kind (OpenAI, AIServices)
        offer = _model_offer(item.get("model") or {})
        offers.setdefault((offer.format, offer.name, offer.version), offer)
    return RegionInfo(subscription=subscription, region=region, models=tuple(offers.values()),
                      usages={u.name.value: Usage(u.name.value, u.name.localized_value or u.name.value,
                                                  int(u.limit or 0), int(u.current_value or 0))
                              for u in usages if u.name and u.name.value})


def _list_json(client: Any, path: str) -> list[dict]:
    """A list operation's items as JSON, through the client's own pipeline (auth, TLS, policies) but
    without its model classes: a region's model list holds hundreds of entries (700 KB in Azure), and
    building SDK objects only to turn them back into dicts costs ten times the request."""
    items: list[dict] = []
    url: str | None = f"{path}?api-version={client._config.api_version}"
    while url:
        response = client._send_request(HttpRequest("GET", url))
        response.raise_for_status()
        page = response.json()
        items.extend(page.get("value") or [])
        url = page.get("nextLink")
    return items


def _model_offer(model: dict) -> ModelOffer:
    replacement = model.get("replacementConfig") or {}
    skus = tuple(SkuOffer(name=s.get("name", ""), usage_name=s.get("usageName"),
                          minimum=int((s.get("capacity") or {}).get("minimum") or 1),
                          maximum=(s.get("capacity") or {}).get("maximum"),
                          step=int((s.get("capacity") or {}).get("step") or 1))
                 for s in model.get("skus") or [])
    target = " ".join(v for v in (replacement.get("targetModelName"), replacement.get("targetModelVersion")) if v)
    return ModelOffer(format=model.get("format", ""), name=model.get("name", ""), version=model.get("version", ""),
                      is_default=bool(model.get("isDefaultVersion")),
                      retires=(model.get("deprecation") or {}).get("inference"), replacement=target or None,
                      skus=skus)


def offering_regions(clients: Clients, subscription: str, model_format: str, model: str,
                     version: str) -> dict[str, list[tuple[str, int]]]:
    """Where a model version is offered: SKU -> [(region, available capacity)], from modelCapacities."""
    client = clients.cognitive(subscription)
    listed = _read(f"capacities of {model} {version}",
                   lambda: list(client.model_capacities.list(model_format=model_format, model_name=model,
                                                             model_version=version))) or []
    offered: dict[str, list[tuple[str, int]]] = {}
    for item in listed:
        props = item.properties
        if props is None or not props.sku_name:
            continue
        region = (item.location or "").replace(" ", "").lower()
        offered.setdefault(props.sku_name, []).append((region, int(props.available_capacity or 0)))
    return {sku: sorted(regions) for sku, regions in sorted(offered.items())}
