"""Reading live state for a desired state, cheaply.

Per account: one GET of the account, one list each of deployments, RAI
policies and blocklists (plus the items of blocklists we manage), never a GET
per deployment. Accounts are read in parallel. Per resource group one GET; per
(subscription, region) at most one model list, and only when a deployment
leaves its version to the region's default.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable

from azure.core.exceptions import ResourceNotFoundError

from provisioner.azure import convert, retry
from provisioner.azure.clients import Clients
from provisioner.errors import AzureReadError, ProvisionerError
from provisioner.model.observed import ObservedResource, ObservedState, SoftDeletedAccount, default_version_key
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
                            provisioning_state=(doc.get("properties") or {}).get("provisioningState"))


def read_observed(clients: Clients, desired: DesiredState, *, parallelism: int = 8) -> ObservedState:
    accounts = [r for r in desired.resources if r.kind is Kind.ACCOUNT]
    groups = [r for r in desired.resources if r.kind is Kind.RESOURCE_GROUP]
    found: dict[str, ObservedResource] = {}
    soft_deleted: dict[str, SoftDeletedAccount] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        group_results = pool.map(lambda g: _read_group(clients, g), groups)
        account_results = pool.map(lambda a: _read_account(clients, a, desired), accounts)
        for observed in group_results:
            if observed:
                found[observed.resource.address] = observed
        for observed_children, deleted in account_results:
            for observed in observed_children:
                found[observed.resource.address] = observed
            if deleted:
                soft_deleted[deleted.name] = deleted
    return ObservedState(resources=found, soft_deleted=soft_deleted,
                         default_versions=_read_default_versions(clients, desired))


def _read_group(clients: Clients, group: Resource) -> ObservedResource | None:
    client = clients.resources(group.scope.subscription)
    model = _read(f"resource group {group.name}", lambda: client.resource_groups.get(group.name))
    if model is None:
        return None
    doc = _doc(model)
    return _observed(Kind.RESOURCE_GROUP, group.name, group.scope, doc, convert.resource_group_properties(doc))


def _read_account(clients: Clients, account: Resource, desired: DesiredState
                  ) -> tuple[list[ObservedResource], SoftDeletedAccount | None]:
    scope = account.scope
    client = clients.cognitive(scope.subscription)
    group, name = scope.resource_group, account.name
    model = _read(f"account {name}", lambda: client.accounts.get(group, name))
    if model is None:
        return [], _read_soft_deleted(clients, account)
    doc = _doc(model)
    results = [_observed(Kind.ACCOUNT, name, scope, doc, convert.account_properties(doc))]
    child_scope = Scope(scope.subscription, group, account=name)
    for item in _read(f"deployments of {name}", lambda: list(client.deployments.list(group, name))) or []:
        d = _doc(item)
        results.append(_observed(Kind.DEPLOYMENT, d["name"], child_scope, d, convert.deployment_properties(d)))
    for item in _read(f"RAI policies of {name}", lambda: list(client.rai_policies.list(group, name))) or []:
        d = _doc(item)
        if (d.get("properties") or {}).get("type") == "SystemManaged" or d["name"].startswith("Microsoft."):
            continue  # built-in policies are Azure's, never ours to plan
        results.append(_observed(Kind.RAI_POLICY, d["name"], child_scope, d, convert.rai_policy_properties(d)))
    wanted_blocklists = {r.name for r in desired.resources
                         if r.kind is Kind.BLOCKLIST and r.scope.account == name}
    for item in _read(f"blocklists of {name}", lambda: list(client.rai_blocklists.list(group, name))) or []:
        d = _doc(item)
        items: list[dict] = []
        if d["name"] in wanted_blocklists:  # items only matter where we compare them
            listed = _read(f"items of blocklist {d['name']}",
                           lambda: list(client.rai_blocklist_items.list(group, name, d["name"])))
            items = [_doc(i) for i in listed or []]
        results.append(_observed(Kind.BLOCKLIST, d["name"], child_scope, d, convert.blocklist_properties(d, items)))
    return results, None


def _read_soft_deleted(clients: Clients, account: Resource) -> SoftDeletedAccount | None:
    scope = account.scope
    location = account.properties["location"]
    client = clients.cognitive(scope.subscription)
    model = _read(f"deleted account {account.name}",
                  lambda: client.deleted_accounts.get(location, scope.resource_group, account.name))
    if model is None:
        return None
    props = _doc(model).get("properties") or {}
    return SoftDeletedAccount(name=account.name, subscription=scope.subscription,
                              resource_group=scope.resource_group, location=location,
                              deletion_date=props.get("deletionDate"),
                              scheduled_purge_date=props.get("scheduledPurgeDate"))


def _read_default_versions(clients: Clients, desired: DesiredState) -> dict[str, str]:
    accounts = {r.name: r for r in desired.resources if r.kind is Kind.ACCOUNT}
    regions = sorted({(r.scope.subscription, accounts[r.scope.account].properties["location"])
                      for r in desired.resources
                      if r.kind is Kind.DEPLOYMENT and r.properties.get("version") is None})
    defaults: dict[str, str] = {}
    for subscription, region in regions:
        client = clients.cognitive(subscription)
        listed = _read(f"models in {region}", lambda: list(client.models.list(region))) or []
        for entry in _models(listed):
            model = entry.get("model") or {}
            if model.get("isDefaultVersion"):
                key = default_version_key(subscription, region, model.get("format", ""), model.get("name", ""))
                defaults[key] = model.get("version")
    return defaults


def _models(listed: Iterable[Any]) -> Iterable[dict]:
    for item in listed:
        yield _doc(item)
