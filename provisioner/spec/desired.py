"""Translate a valid Spec into desired Resources, in the vocabulary of provisioner.model.resources."""
from __future__ import annotations

from typing import Any

from provisioner.model import roles
from provisioner.model.resources import (
    ATTACHED_TAGS,
    PRIVATE_LINK_GROUP,
    DesiredState,
    KeyVaultTarget,
    Kind,
    Resource,
    Scope,
    address_of,
    arm_id,
    assignment_description,
    attached_tags,
    diagnostic_setting_name,
    key_vault_id,
    ownership_tags,
    role_assignment_name,
)
from provisioner.spec.schema import (
    Account,
    CapacityRange,
    CategoryThresholds,
    ContentFilter,
    Deployment,
    Diagnostics,
    Grant,
    Network,
    Path,
    RegexItem,
    Spec,
    is_built_in_policy,
)

ACCOUNT_SKU = "S0"
MODE = {"default": "Default", "blocking": "Blocking", "asynchronous": "Asynchronous_filter"}
PUBLIC_NETWORK_ACCESS = {"enabled": "Enabled", "disabled": "Disabled"}
DEFAULT_ACTION = {"allow": "Allow", "deny": "Deny"}
BYPASS = {"azure_services": "AzureServices", "none": "None"}
PRINCIPAL_TYPE = {"user": "User", "group": "Group", "service_principal": "ServicePrincipal"}
PROMPT_SHIELDS = ("jailbreak", "indirect_attack")  # act on the prompt
PROTECTED_MATERIAL = ("protected_material_text", "protected_material_code")  # act on the completion


def build_desired(spec: Spec, spec_name: str, *, environment: str | None = None) -> DesiredState:
    """Everything `spec` asks for; `spec_name` goes into the ownership tags. Expects a validated spec."""
    owner_tags = ownership_tags(spec_name)
    resources = _resource_groups(spec, owner_tags)
    for index, account in enumerate(spec.accounts):
        resources += _account_resources(spec, index, account, owner_tags)
        resources += _account_security(spec, spec_name, index, account, owner_tags)
    resources += _key_vault_grants(spec, spec_name)
    return DesiredState(
        spec_name=spec_name,
        resources=tuple(resources),
        on_soft_deleted={account.name: account.on_soft_deleted for account in spec.accounts},
        key_vault=_key_vault_target(spec),
        adopt=spec.adopt,
        environment=environment,
    )


def _resource_groups(spec: Spec, owner_tags: dict[str, str]) -> list[Resource]:
    tags = {**spec.defaults.tags, **owner_tags}
    groups: dict[tuple[str, str], Resource] = {}
    for index, account in enumerate(spec.accounts):
        subscription, name = spec.subscription_of(account), spec.resource_group_of(account)
        if (subscription, name) not in groups:
            declared_at = ("accounts", index) if account.resource_group else ("defaults",)
            groups[subscription, name] = Resource(
                Kind.RESOURCE_GROUP,
                name,
                Scope(subscription, name),
                {"location": spec.location_of(account).lower(), "tags": dict(tags)},
                source=spec.source.locate(declared_at + ("resource_group",)),
            )
    vault = _key_vault_target(spec)
    if vault is not None and (vault.scope.subscription, vault.scope.resource_group) not in groups:
        name = vault.scope.resource_group
        groups[vault.scope.subscription, name] = Resource(
            Kind.RESOURCE_GROUP,
            name,
            Scope(vault.scope.subscription, name),
            {"location": _key_vault_group_location(spec).lower(), "tags": dict(tags)},
            source=spec.source.locate(("key_vault",)),
        )
    return list(groups.values())


def _key_vault_group_location(spec: Spec) -> str:
    """Location for a key vault resource group that holds no account (validate ensures there is one)."""
    return spec.defaults.location or spec.location_of(spec.accounts[0])


def _key_vault_target(spec: Spec) -> KeyVaultTarget | None:
    vault = spec.key_vault
    if vault is None:
        return None
    scope = Scope(
        vault.subscription or spec.defaults.subscription,
        vault.resource_group or spec.defaults.resource_group,
    )
    location = (vault.location or _key_vault_group_location(spec)).replace(" ", "").lower()
    return KeyVaultTarget(vault.name, scope, vault.endpoint_secret, vault.key_secret, create=vault.create,
                          location=location, adopt_existing=vault.adopt_existing)


def _account_resources(spec: Spec, index: int, account: Account, owner_tags: dict[str, str]) -> list[Resource]:
    group_scope = Scope(spec.subscription_of(account), spec.resource_group_of(account))
    child_scope = Scope(group_scope.subscription, group_scope.resource_group, account=account.name)
    account_tags = {**spec.defaults.tags, **account.tags}
    tags = {**account_tags, **owner_tags}
    marks = attached_tags(*(kind for kind in ATTACHED_TAGS if spec.security_of(account, kind)))
    account_resource = Resource(
        Kind.ACCOUNT,
        account.name,
        group_scope,
        {
            "location": spec.location_of(account).lower(),
            "kind": account.kind,
            "sku": ACCOUNT_SKU,
            "custom_subdomain": account.custom_subdomain or account.name,
            "public_network_access": PUBLIC_NETWORK_ACCESS[spec.public_access_of(account)],
            "local_auth": account.local_auth,
            "network": _network(spec.security_of(account, "network")),
            "identity": _identity(spec.security_of(account, "identity")),
            "restrict_outbound": spec.security_of(account, "restrict_outbound"),
            "allowed_fqdns": _sorted_unique(spec.security_of(account, "allowed_fqdns")),
            "tags": {**tags, **marks},
        },
        depends_on=(address_of(Kind.RESOURCE_GROUP, group_scope.resource_group, group_scope),),
        prevent_destroy=account.prevent_destroy,
        source=spec.source.locate(("accounts", index)),
        reference=account.existing,
    )
    resources = [account_resource]

    # Only what this account's deployments use is created on it; built-in policies already exist.
    filter_names = list(dict.fromkeys(
        d.content_filter for d in account.deployments if d.content_filter and not is_built_in_policy(d.content_filter)
    ))
    blocklist_names = sorted({name for f in filter_names for name in spec.content_filters[f].blocklists})
    for name in blocklist_names:
        blocklist = spec.blocklists[name]
        resources.append(Resource(
            Kind.BLOCKLIST,
            name,
            child_scope,
            {"description": blocklist.description, "items": _blocklist_items(blocklist.items), "tags": dict(tags)},
            depends_on=(account_resource.address,),
            source=spec.source.locate(("blocklists", name)),
        ))
    for name in filter_names:
        content_filter = spec.content_filters[name]
        blocklist_addresses = tuple(
            address_of(Kind.BLOCKLIST, blocklist, child_scope) for blocklist in sorted(content_filter.blocklists)
        )
        resources.append(Resource(
            Kind.RAI_POLICY,
            name,
            child_scope,
            _rai_policy_properties(content_filter, tags),
            depends_on=(account_resource.address, *blocklist_addresses),
            source=spec.source.locate(("content_filters", name)),
        ))
    for deployment_index, deployment in enumerate(account.deployments):
        path = ("accounts", index, "deployments", deployment_index)
        deployment_tags = {**account_tags, **deployment.tags, **owner_tags}
        resources.append(_deployment(spec, path, deployment, child_scope, deployment_tags))
    return resources


def _blocklist_items(items: list[str | RegexItem]) -> list[dict[str, Any]]:
    pairs = {(item.regex, True) if isinstance(item, RegexItem) else (item, False) for item in items}
    return [{"pattern": pattern, "regex": regex} for pattern, regex in sorted(pairs)]


def _rai_policy_properties(content_filter: ContentFilter, tags: dict[str, str]) -> dict[str, Any]:
    filters: dict[str, dict[str, str]] = {}
    for category, setting in content_filter.categories:
        if isinstance(setting, CategoryThresholds):
            filters[category] = {
                side: threshold
                for side, threshold in (("prompt", setting.prompt), ("completion", setting.completion))
                if threshold is not None
            }
        elif setting is not None:
            filters[category] = {"prompt": setting, "completion": setting}
    for shield in PROMPT_SHIELDS:
        if (action := getattr(content_filter, shield)) is not None:
            filters[shield] = {"prompt": action}
    for check in PROTECTED_MATERIAL:
        if (action := getattr(content_filter, check)) is not None:
            filters[check] = {"completion": action}
    return {
        "base": content_filter.base,
        "mode": MODE[content_filter.mode],
        "filters": filters,
        "blocklists": sorted(content_filter.blocklists),
        "tags": dict(tags),
    }


def _deployment(spec: Spec, path: Path, deployment: Deployment, scope: Scope, tags: dict[str, str]) -> Resource:
    capacity = deployment.capacity
    if isinstance(capacity, CapacityRange):
        capacity = {"min": capacity.min, "max": capacity.max}  # the planner picks a value in range
    depends_on = [address_of(Kind.ACCOUNT, scope.account, scope)]
    if deployment.content_filter and not is_built_in_policy(deployment.content_filter):
        depends_on.append(address_of(Kind.RAI_POLICY, deployment.content_filter, scope))
    if deployment.spillover:
        depends_on.append(address_of(Kind.DEPLOYMENT, deployment.spillover, scope))
    return Resource(
        Kind.DEPLOYMENT,
        deployment.name,
        scope,
        {
            "model": deployment.model,
            "format": deployment.format,
            "version": deployment.version,
            "sku": deployment.azure_sku(),
            "capacity": capacity,
            "content_filter": deployment.content_filter,
            "upgrade": deployment.upgrade,
            "spillover": deployment.spillover,
            "tags": dict(tags),
        },
        depends_on=tuple(depends_on),
        prevent_destroy=deployment.prevent_destroy,
        source=spec.source.locate(path),
    )


# security: the account's network, identity and outbound settings are account properties; private
# endpoints, role assignments and diagnostic settings are resources of their own

def _sorted_unique(values: list[str] | None, *, lower: bool = False) -> list[str] | None:
    if values is None:
        return None
    return sorted({v.lower() if lower else v for v in values})


def _network(network: Network | None) -> dict[str, Any] | None:
    if network is None:
        return None
    ip_rules = _sorted_unique(network.ip_rules) or []
    subnets = _sorted_unique(network.virtual_network_rules, lower=True) or []
    action = network.default_action or ("deny" if ip_rules or subnets else "allow")
    return {"default_action": DEFAULT_ACTION[action], "bypass": BYPASS[network.bypass], "ip_rules": ip_rules,
            "virtual_network_rules": subnets}


def _identity(identity: Any) -> dict[str, Any] | None:
    if identity is None:
        return None
    return {"system_assigned": identity.system_assigned,
            "user_assigned": _sorted_unique(identity.user_assigned, lower=True) or []}


def _account_security(spec: Spec, spec_name: str, index: int, account: Account, owner_tags: dict[str, str]
                      ) -> list[Resource]:
    path: Path = ("accounts", index)
    group_scope = Scope(spec.subscription_of(account), spec.resource_group_of(account))
    scope = Scope(group_scope.subscription, group_scope.resource_group, account=account.name)
    account_address = address_of(Kind.ACCOUNT, account.name, group_scope)
    account_id = arm_id(group_scope, Kind.ACCOUNT, account.name)
    tags = {**spec.defaults.tags, **account.tags, **owner_tags}
    resources = []
    for e_index, endpoint in enumerate(account.private_endpoints):
        resources.append(Resource(
            Kind.PRIVATE_ENDPOINT,
            endpoint.name,
            scope,
            {"location": (endpoint.location or spec.location_of(account)).replace(" ", "").lower(),
             "subnet": endpoint.subnet.lower(), "target": account_id, "group_id": PRIVATE_LINK_GROUP,
             "dns_zone_ids": _sorted_unique(endpoint.dns_zone_ids, lower=True), "tags": dict(tags)},
            depends_on=(account_address,),
            source=spec.source.locate(path + ("private_endpoints", e_index)),
        ))
    access = spec.security_of(account, "access") or []
    declared_at = path if account.access is not None else ("defaults",)
    for g_index, grant in enumerate(access):
        resources.append(_grant(grant, account_id, scope, spec_name, (account_address,),
                                 spec.source.locate(declared_at + ("access", g_index))))
    diagnostics: Diagnostics | None = spec.security_of(account, "diagnostics")
    if diagnostics is not None:
        declared_at = path if account.diagnostics is not None else ("defaults",)
        resources.append(Resource(
            Kind.DIAGNOSTIC_SETTING,
            diagnostics.name or diagnostic_setting_name(spec_name),
            scope,
            {"workspace": diagnostics.workspace.lower(),
             "logs": "all" if diagnostics.logs == "all" else sorted(set(diagnostics.logs)),
             "metrics": diagnostics.metrics},
            depends_on=(account_address,),
            source=spec.source.locate(declared_at + ("diagnostics",)),
        ))
    return resources


def _grant(grant: Grant, scope_id: str, scope: Scope, spec_name: str, depends_on: tuple[str, ...],
           source: Any) -> Resource:
    role = roles.role_id(grant.role)  # validate_spec has checked it names a role
    principal = grant.principal.lower()
    return Resource(
        Kind.ROLE_ASSIGNMENT,
        role_assignment_name(scope_id, principal, role),
        scope,
        {"scope": scope_id, "principal": principal, "principal_type": PRINCIPAL_TYPE[grant.type], "role": role,
         "role_name": roles.role_name(role), "description": assignment_description(spec_name)},
        depends_on=depends_on,
        source=source,
    )


def _key_vault_grants(spec: Spec, spec_name: str) -> list[Resource]:
    target = _key_vault_target(spec)
    if target is None:
        return []
    scope = Scope(target.scope.subscription, target.scope.resource_group, key_vault=target.name)
    return [_grant(grant, key_vault_id(scope), scope, spec_name, (),
                   spec.source.locate(("key_vault", "access", index)))
            for index, grant in enumerate(spec.key_vault.access)]
