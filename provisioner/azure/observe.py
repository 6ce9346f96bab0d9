"""Reading live state for a desired state, cheaply.

Per resource group: one list of its accounts (Azure's list answers carry every field
the plan compares; a 404 says the group does not exist, and nothing else of an
existing group is compared), never a GET per group or account. Per existing account:
one list each of deployments, RAI policies and blocklists (plus the items of
blocklists we manage), never a GET per deployment. What attaches to an account from
outside is read where it can matter: the role assignments on it when the spec grants
roles there or the account's mark says provision once did (model.resources.ATTACHED_TAGS),
its diagnostic settings likewise, and two reads per private endpoint its connections
name or the spec declares. Per (subscription, region) with deployments: one list of
models and one of usages, whatever the number of accounts there. An account missing
from the list costs one more read: is it soft-deleted? So `plan` of a spec whose
resources all exist sends G + 3A + 2R requests (plus one per managed blocklist, and
one or two per account with grants or diagnostics), whatever the number of
deployments. All of it in parallel, and every list is read as JSON through the
client's own pipeline: building SDK models only to turn them back into dicts cost
most of a large plan's time.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Callable, Iterable
from urllib.parse import quote

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    map_error,
)
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat

from provisioner.azure import retry
from provisioner.azure.clients import Clients
from provisioner.azure.polling import get_json
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
from provisioner.model.resources import (
    DNS_ZONE_GROUP,
    DesiredState,
    Kind,
    Resource,
    Scope,
    arm_id,
    is_managed,
    key_vault_id,
    marked,
    owner_of,
)

READ_POLICY = retry.RetryPolicy(deadline=120.0)
COGNITIVE = "providers/Microsoft.CognitiveServices"
# as the generated SDK operations map them (azure/mgmt/cognitiveservices/operations/*.py)
ERROR_MAP = {401: ClientAuthenticationError, 404: ResourceNotFoundError, 409: ResourceExistsError}
# what attaches to an account from outside and is listed only where declared or marked (ATTACHED_TAGS' keys)
ATTACHED_KINDS = {Kind.ROLE_ASSIGNMENT: "access", Kind.DIAGNOSTIC_SETTING: "diagnostics"}
EVERY_ATTACHMENT = frozenset(ATTACHED_KINDS.values())


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
    """systemData's createdAt / lastModifiedAt; role assignments give properties.createdOn / updatedOn instead
    (authorization-RoleAssignmentsCalls.json)."""
    value = (doc.get("systemData") or {}).get(key)
    if value is None:
        value = (doc.get("properties") or {}).get({"createdAt": "createdOn", "lastModifiedAt": "updatedOn"}[key])
    return value if isinstance(value, str) else None


def _key(*parts: str) -> tuple[str, ...]:
    return tuple(p.lower() for p in parts)  # ARM names are case-insensitive


def _group_of(azure_id: str) -> str:
    """The resource group named in an ARM id (/subscriptions/s/resourceGroups/{group}/...)."""
    parts = azure_id.split("/")
    lowered = [p.lower() for p in parts]
    return parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""


def read_observed(clients: Clients, desired: DesiredState, *, every_attachment: bool = False,
                  parallelism: int = 8) -> ObservedState:
    """What exists of `desired`. `every_attachment`: read the role assignments and diagnostic settings
    of every account, marked or not (a destroy must know what others put on an account it deletes)."""
    accounts = [r for r in desired.resources if r.kind is Kind.ACCOUNT]
    groups = [r for r in desired.resources if r.kind is Kind.RESOURCE_GROUP]
    wanted_blocklists: dict[tuple[str, ...], set[str]] = {}
    wanted_endpoints: dict[tuple[str, ...], set[str]] = {}
    declared: dict[tuple[str, ...], set[str]] = {}  # per account, what attaches to it: "access", "diagnostics"
    for r in desired.resources:
        attached = ATTACHED_KINDS.get(r.kind)
        if attached and r.scope.account:
            declared.setdefault(_key(r.scope.subscription, r.scope.resource_group, r.scope.account),
                                set()).add(attached)
        if r.kind is Kind.BLOCKLIST and r.scope.account:
            wanted_blocklists.setdefault(_key(r.scope.subscription, r.scope.resource_group, r.scope.account),
                                         set()).add(r.name.lower())  # ARM names ignore case
        if r.kind is Kind.PRIVATE_ENDPOINT:
            wanted_endpoints.setdefault(_key(r.scope.subscription, r.scope.resource_group, r.scope.account or ""),
                                        set()).add(r.name)
    vaults = sorted({(r.scope.subscription, r.scope.resource_group, r.scope.key_vault) for r in desired.resources
                     if r.kind is Kind.ROLE_ASSIGNMENT and r.scope.key_vault})
    if desired.key_vault is not None:  # grants of ours may be left on the vault when the spec declares none
        target = desired.key_vault
        vaults = sorted(set(vaults) | {(target.scope.subscription, target.scope.resource_group, target.name)})
    found: dict[str, ObservedResource] = {}
    soft_deleted: dict[str, SoftDeletedAccount] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        region_results = pool.map(lambda sr: _read_region(clients, *sr), regions_of(desired))
        # one list of accounts per group: it also tells whether the group exists (404 when it does not), and
        # nothing else of an existing group is compared (its location and tags are create-only)
        listings = list(pool.map(lambda g: _list_group_accounts(clients, g.scope.subscription, g.name), groups))
        listed_accounts = {k: doc for listing in listings if listing is not None for k, doc in listing.items()}

        def read(account: Resource) -> tuple[list[ObservedResource], SoftDeletedAccount | None]:
            key = _key(account.scope.subscription, account.scope.resource_group, account.name)
            doc = listed_accounts.get(key)
            # an account this spec does not write (existing: true) carries no marks: always read
            everything = every_attachment or account.reference
            attached = {kind for kind in EVERY_ATTACHMENT
                        if everything or kind in declared.get(key, ()) or marked((doc or {}).get("tags"), kind)}
            return _read_account(clients, account, doc, wanted_blocklists.get(key, set()),
                                 wanted_endpoints.get(key, set()), attached)

        account_results = pool.map(read, accounts)
        vault_results = pool.map(lambda v: _read_vault_grants(clients, *v), vaults)
        for group, listing in zip(groups, listings):
            if listing is not None:
                doc = {"id": f"/subscriptions/{group.scope.subscription}/resourceGroups/{group.name}",
                       "name": group.name}
                observed = _observed(Kind.RESOURCE_GROUP, group.name, group.scope, doc, {})
                found[observed.resource.address] = observed
        for observed_children, deleted in account_results:
            for observed in observed_children:
                found[observed.resource.address] = observed
            if deleted:
                soft_deleted[deleted.name] = deleted
        for grants in vault_results:
            found.update((observed.resource.address, observed) for observed in grants)
        regions = {region_key(r.subscription, r.region): r for r in region_results}
    return ObservedState(resources=_spelled_as_declared(found, desired), soft_deleted=soft_deleted, regions=regions)


def _spelled_as_declared(found: dict[str, ObservedResource], desired: DesiredState) -> dict[str, ObservedResource]:
    """ARM names ignore case and keep the spelling they were made with: a live `chat` is the spec's
    `Chat`. Each live resource whose address is a declared one but for case goes by the declared
    spelling, so the plan compares the two instead of creating one that exists (for ever)."""
    declared = {r.address.lower(): r for r in desired.resources}
    spelled: dict[str, ObservedResource] = {}
    for address, observed in found.items():
        wanted = declared.get(address.lower())
        if wanted is not None and wanted.address != address:
            live = observed.resource.scope  # where it is stays as read: only the names are respelled
            scope = replace(live, account=wanted.scope.account if live.account else None,
                            key_vault=wanted.scope.key_vault if live.key_vault else None)
            resource = replace(observed.resource, name=wanted.name, scope=scope)
            observed, address = replace(observed, resource=resource), wanted.address
        spelled[address] = observed
    return spelled


def read_inventory(clients: Clients, *, resource_groups: Iterable[tuple[str, str]] = (),
                   account_ids: Iterable[str] = (), parallelism: int = 8) -> list[ObservedResource]:
    """Every account in these resource groups and these accounts (ARM ids), with everything on them
    (blocklist items included), for `provision import`. A missing group or account is an error."""
    accounts: list[tuple[Resource, dict | None]] = []
    for subscription, group in resource_groups:
        client = clients.cognitive(subscription)
        path = f"/subscriptions/{quote(subscription)}/resourceGroups/{quote(group)}/{COGNITIVE}/accounts"
        listed = _read(f"accounts of resource group {group}", lambda: _list_json(client, path))
        if listed is None:
            raise AzureReadError(f"resource group {group} was not found in subscription {subscription}")
        accounts += [(Resource(Kind.ACCOUNT, doc["name"], Scope(subscription, group)), doc) for doc in listed]
    for account_id in account_ids:
        account = _account_of_id(account_id)
        client = clients.cognitive(account.scope.subscription)
        path = (f"/subscriptions/{quote(account.scope.subscription)}/resourceGroups/"
                f"{quote(account.scope.resource_group)}/{COGNITIVE}/accounts/{quote(account.name)}")
        accounts.append((account, _read(f"account {account.name}", lambda: get_json(client, f"{path}?api-version={client._config.api_version}"))))
    found: list[ObservedResource] = []
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        results = pool.map(lambda pair: _read_account(clients, pair[0], pair[1], None, set(), EVERY_ATTACHMENT)
                           if pair[1] else ([], None), accounts)
        for (account, _), (observed, _) in zip(accounts, results):
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


def _list_group_accounts(clients: Clients, subscription: str, group: str) -> dict[tuple[str, ...], dict] | None:
    """The accounts of a resource group by (subscription, group, name); None when the group does not exist."""
    client = clients.cognitive(subscription)
    path = f"/subscriptions/{quote(subscription)}/resourceGroups/{quote(group)}/{COGNITIVE}/accounts"
    listed = _read(f"accounts of resource group {group}", lambda: _list_json(client, path))
    if listed is None:
        return None
    return {_key(subscription, _group_of(doc.get("id", "")), doc.get("name", "")): doc for doc in listed}


def _read_account(clients: Clients, account: Resource, doc: dict | None, wanted_blocklists: set[str] | None,
                  wanted_endpoints: set[str], attached: set[str] | frozenset[str]
                  ) -> tuple[list[ObservedResource], SoftDeletedAccount | None]:
    """The account's children, from its listed document; a missing account may be soft-deleted. Blocklist
    items are read for the blocklists in `wanted_blocklists` (None: for all). Then what attaches to it:
    its private endpoints (those its connections name, and those in `wanted_endpoints`), and its role
    assignments and diagnostic settings when `attached` names them ("access", "diagnostics")."""
    if doc is None:  # its declared endpoints' names may be taken all the same
        scope = Scope(account.scope.subscription, account.scope.resource_group, account=account.name)
        endpoints = [_private_endpoint(clients, scope, scope.resource_group, name) for name in sorted(wanted_endpoints)]
        return [e for e in endpoints if e is not None], _read_soft_deleted(clients, account)
    scope = account.scope
    client = clients.cognitive(scope.subscription)
    name = account.name
    results = [_observed(Kind.ACCOUNT, name, scope, doc, rest.account_properties(doc))]
    child_scope = Scope(scope.subscription, scope.resource_group, account=name)
    base = (f"/subscriptions/{quote(scope.subscription)}/resourceGroups/{quote(scope.resource_group)}"
            f"/{COGNITIVE}/accounts/{quote(name)}")

    def children(what: str, path: str) -> list[dict]:
        return _read(f"{what} of {name}", lambda: _list_json(client, base + path)) or []

    for d in children("deployments", "/deployments"):
        results.append(_observed(Kind.DEPLOYMENT, d["name"], child_scope, d, rest.deployment_properties(d)))
    for d in children("RAI policies", "/raiPolicies"):
        if (d.get("properties") or {}).get("type") == "SystemManaged" or d["name"].startswith("Microsoft."):
            continue  # built-in policies are Azure's, never ours to plan
        results.append(_observed(Kind.RAI_POLICY, d["name"], child_scope, d, rest.rai_policy_properties(d)))
    for d in children("blocklists", "/raiBlocklists"):
        items: list[dict] = []
        if wanted_blocklists is None or d["name"].lower() in wanted_blocklists:  # items only matter where compared
            items = children(f"items of blocklist {d['name']}",
                             f"/raiBlocklists/{quote(d['name'])}/raiBlocklistItems")
        results.append(_observed(Kind.BLOCKLIST, d["name"], child_scope, d, rest.blocklist_properties(d, items)))
    results += _read_attached(clients, account, doc, wanted_endpoints, attached)
    return results, None


# what attaches to an account from outside: private endpoints, role assignments, diagnostic settings

def _read_attached(clients: Clients, account: Resource, doc: dict, wanted_endpoints: set[str],
                   attached: set[str] | frozenset[str]) -> list[ObservedResource]:
    """One list each of the account's role assignments and diagnostic settings, when `attached` names
    them, and two reads per private endpoint (the endpoint, its DNS zone group). The endpoints are found
    in the account's own document (each connection names its endpoint), so no list of a resource
    group's endpoints is needed."""
    scope = Scope(account.scope.subscription, account.scope.resource_group, account=account.name)
    account_id = arm_id(account.scope, Kind.ACCOUNT, account.name)
    results = _role_assignments(clients, scope, account_id) if "access" in attached else []
    listed = (_read(f"diagnostic settings of {account.name}",
                    lambda: list(clients.monitor(scope.subscription).diagnostic_settings.list(account_id)))
              if "diagnostics" in attached else [])
    for model in listed or []:
        setting = _doc(model)
        observed = _observed(Kind.DIAGNOSTIC_SETTING, setting["name"], scope, setting,
                             rest.diagnostic_setting_properties(setting))
        # a setting has no tags: the account's owner settles whose a default-named one is (owner_of_resource)
        results.append(replace(observed, account_owner=owner_of(doc.get("tags"))))
    endpoints = {(scope.resource_group.lower(), name.lower()): (scope.resource_group, name)
                 for name in wanted_endpoints}
    for connection in (doc.get("properties") or {}).get("privateEndpointConnections") or []:
        endpoint_id = str(((connection.get("properties") or {}).get("privateEndpoint") or {}).get("id") or "")
        parts = endpoint_id.split("/")
        if len(parts) == 9 and parts[3].lower() == "resourcegroups" and parts[1].lower() == "subscriptions" \
                and parts[2].lower() == scope.subscription.lower():
            endpoints.setdefault((parts[4].lower(), parts[8].lower()), (parts[4], parts[8]))
    for group, name in sorted(endpoints.values()):
        observed = _private_endpoint(clients, scope, group, name)
        if observed is not None:
            results.append(observed)
    return results


def _private_endpoint(clients: Clients, scope: Scope, group: str, name: str) -> ObservedResource | None:
    network = clients.network(scope.subscription)
    model = _read(f"private endpoint {name}", lambda: network.private_endpoints.get(group, name))
    if model is None:
        return None
    endpoint = _doc(model)
    zone_group = _read(f"DNS zone group of private endpoint {name}",
                       lambda: network.private_dns_zone_groups.get(group, name, DNS_ZONE_GROUP))
    # A declared name may hold an endpoint that connects something else: it is read all the same, and the
    # plan sees the difference (a replace it refuses unless the endpoint is this spec's).
    properties = rest.private_endpoint_properties(endpoint, _doc(zone_group) if zone_group is not None else None)
    return _observed(Kind.PRIVATE_ENDPOINT, endpoint["name"], Scope(scope.subscription, group, account=scope.account),
                     endpoint, properties)


def _role_assignments(clients: Clients, scope: Scope, scope_id: str) -> list[ObservedResource]:
    """The role assignments made at `scope_id` itself (atScope() also lists those inherited from above)."""
    authorization = clients.authorization(scope.subscription)
    listed = _read(f"role assignments of {scope_id.rsplit('/', 1)[-1]}",
                   lambda: list(authorization.role_assignments.list_for_scope(scope_id, filter="atScope()")))
    results = []
    for model in listed or []:
        assignment = _doc(model)
        properties = rest.role_assignment_properties(assignment)
        if properties["scope"] == scope_id:
            results.append(_observed(Kind.ROLE_ASSIGNMENT, assignment["name"], scope, assignment, properties))
    return results


def _read_vault_grants(clients: Clients, subscription: str, group: str, vault: str) -> list[ObservedResource]:
    scope = Scope(subscription, group, key_vault=vault)
    return _role_assignments(clients, scope, key_vault_id(scope))


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
    path = f"/subscriptions/{quote(subscription)}/{COGNITIVE}/locations/{quote(region)}/models"
    listed = _read(f"models in {region}", lambda: _list_json(client, path)) or []
    usages = _read(f"quota usages in {region}", lambda: _list_json(client, path.rsplit("/", 1)[0] + "/usages")) or []
    offers = {}
    for item in listed:  # the list repeats each model once per account kind (OpenAI, AIServices)
        offer = _model_offer(item.get("model") or {})
        offers.setdefault((offer.format, offer.name, offer.version), offer)
    return RegionInfo(subscription=subscription, region=region, models=tuple(offers.values()),
                      usages=dict(_usage(u) for u in usages if (u.get("name") or {}).get("value")))


def _usage(doc: dict) -> tuple[str, Usage]:
    name = doc["name"]["value"]
    return name, Usage(name, doc["name"].get("localizedValue") or name, int(doc.get("limit") or 0),
                       int(doc.get("currentValue") or 0))


def _list_json(client: Any, path: str) -> list[dict]:
    """A list operation's items as JSON, through the client's own pipeline (auth, TLS, policies) but
    without its model classes: a region's model list holds hundreds of entries (700 KB in Azure), and
    building SDK objects only to turn them back into dicts costs ten times the request."""
    items: list[dict] = []
    url: str | None = f"{path}?api-version={client._config.api_version}"
    while url:
        send = getattr(client, "send_request", None) or client._send_request  # TypeSpec- / msrest-generated
        response = send(HttpRequest("GET", url, headers={"Accept": "application/json"}))
        if response.status_code != 200:  # the errors the SDK's own operations would raise
            map_error(status_code=response.status_code, response=response, error_map=ERROR_MAP)
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
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
