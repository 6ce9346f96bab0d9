"""Rules that span fields and sections, checked once the document has the right shape."""
from __future__ import annotations

import ipaddress
import re
from typing import Any, Iterator, Mapping

from provisioner.errors import Diagnostic
from provisioner.model import ids, names, roles
from provisioner.model.names import MAX_BLOCKLIST_ITEMS, shown
from provisioner.model.resources import ATTACHED_TAGS, OWNER_TAG, SPEC_TAG
from provisioner.spec.loader import did_you_mean
from provisioner.spec.rules import RULES_BY_ID
from provisioner.spec.schema import (
    BUILT_IN_POLICY_PREFIX,
    Account,
    DEFAULT_SCOPE,
    DEFAULT_TYPE,
    SKU_BY_TYPE_AND_SCOPE,
    CapacityRange,
    Defaults,
    Deployment,
    Grant,
    KeyVault,
    Path,
    RegexItem,
    Spec,
    Waiver,
    format_path,
    is_built_in_policy,
)

PROVISION_TAGS = (OWNER_TAG, SPEC_TAG, *ATTACHED_TAGS.values())


def validate_spec(spec: Spec, default_name: str | None = None) -> list[Diagnostic]:
    """Every semantic problem in `spec`, errors and warnings (severity "warning"), in file order.

    `default_name` is the spec's name when it sets none (its file's stem); it is checked too.
    """
    checks = (_names, _accounts, _deployments, _content_filters, _unused_blocklists, _key_vault, _tags, _waivers,
              _security)
    diagnostics = [diagnostic for check in checks for diagnostic in check(spec)]
    if spec.name is None and default_name is not None and (message := names.problem("spec_name", default_name)):
        diagnostics.append(spec.source.diagnostic((), f"the spec sets no name, so its file's stem is used: {message};"
                                                      " set `name:`"))
    return sorted(diagnostics, key=lambda d: (d.line or 0, d.column or 0))


def _where(spec: Spec, path: Path) -> str:
    """"line 12" when the spec came from a file, else the field path."""
    line, _ = spec.source.position(path)
    return f"line {line}" if line is not None else format_path(path)


def _accounts(spec: Spec) -> Iterator[Diagnostic]:
    first_index: dict[str, int] = {}
    for index, account in enumerate(spec.accounts):
        path: Path = ("accounts", index)
        name = account.name
        # Azure names are case-insensitive.
        first = first_index.setdefault(name.lower(), index)
        if first != index:
            yield spec.source.diagnostic(
                path + ("name",), f"duplicate account name {shown(name)} (first at {_where(spec, ('accounts', first))})"
            )
        placement = {
            "subscription": spec.subscription_of(account),
            "resource_group": spec.resource_group_of(account),
            "location": spec.location_of(account),
        }
        for field, value in placement.items():
            if not value:
                yield spec.source.diagnostic(
                    path,
                    f"account {shown(name)} has no {field}: set defaults.{field} or {format_path(path + (field,))}",
                )


def _deployments(spec: Spec) -> Iterator[Diagnostic]:
    for account_index, account in enumerate(spec.accounts):
        by_name = {deployment.name: deployment for deployment in account.deployments}
        first_index: dict[str, int] = {}
        for index, deployment in enumerate(account.deployments):
            path: Path = ("accounts", account_index, "deployments", index)
            first = first_index.setdefault(deployment.name.lower(), index)
            if first != index:
                first_path = ("accounts", account_index, "deployments", first)
                yield spec.source.diagnostic(
                    path + ("name",),
                    f"duplicate deployment name {shown(deployment.name)} in account {shown(account.name)}"
                    f" (first at {_where(spec, first_path)})",
                )
            yield from _sku(spec, path, deployment)
            if isinstance(deployment.capacity, CapacityRange) and deployment.capacity.min > deployment.capacity.max:
                yield spec.source.diagnostic(
                    path + ("capacity",),
                    f"capacity min ({deployment.capacity.min}) is greater than max ({deployment.capacity.max})",
                )
            yield from _content_filter_reference(spec, path, deployment.content_filter)
            yield from _spillover(spec, path, account.name, deployment, by_name)


def _sku(spec: Spec, path: Path, deployment: Deployment) -> Iterator[Diagnostic]:
    if deployment.sku is not None:
        if deployment.type is not None or deployment.scope is not None:
            yield spec.source.diagnostic(
                path + ("sku",), "give either sku or type/scope, not both: sku already names the Azure SKU"
            )
        return
    type_ = deployment.type or DEFAULT_TYPE
    scope = deployment.scope or DEFAULT_SCOPE
    if (type_, scope) not in SKU_BY_TYPE_AND_SCOPE:
        possible = [s for (t, s) in SKU_BY_TYPE_AND_SCOPE if t == type_]
        yield spec.source.diagnostic(
            path + ("scope",), f"{type_} deployments cannot have scope {scope}; use {' or '.join(possible)}"
        )


def _content_filter_reference(spec: Spec, path: Path, name: str | None) -> Iterator[Diagnostic]:
    if name is None or is_built_in_policy(name) or name in spec.content_filters:
        return
    defined = list(spec.content_filters)
    yield spec.source.diagnostic(
        path + ("content_filter",),
        f"content filter {shown(name)} is not defined: define it under content_filters"
        f" or use a built-in policy ({BUILT_IN_POLICY_PREFIX}DefaultV2, {BUILT_IN_POLICY_PREFIX}Default)"
        + did_you_mean(name, defined),
    )


def _spillover(
    spec: Spec, path: Path, account: str, deployment: Deployment, by_name: dict[str, Deployment]
) -> Iterator[Diagnostic]:
    name, target = deployment.name, deployment.spillover
    if target is None:
        return
    here = path + ("spillover",)
    if target == name:
        yield spec.source.diagnostic(here, "a deployment cannot spill over to itself")
        return
    if target not in by_name:
        elsewhere = [
            other.name
            for other in spec.accounts
            if other.name != account and any(d.name == target for d in other.deployments)
        ]
        if elsewhere:
            detail = f" ({shown(target)} is on account {shown(elsewhere[0])})"
        else:
            detail = did_you_mean(target, list(by_name))
        yield spec.source.diagnostic(
            here,
            f"spillover must name a deployment on the same account; account {shown(account)} has no {shown(target)}"
            + detail,
        )
        return
    chain = [name, target]
    while (next_target := by_name[chain[-1]].spillover) in by_name and next_target not in chain:
        chain.append(next_target)
    if next_target == name:
        # Each deployment would have to exist before the other.
        yield spec.source.diagnostic(here, "spillover loop: " + " -> ".join(chain + [name]))
        return
    if "Provisioned" not in (deployment.azure_sku() or ""):
        yield spec.source.diagnostic(
            here, "spillover only takes effect on provisioned deployments", severity="warning"
        )


def _content_filters(spec: Spec) -> Iterator[Diagnostic]:
    used = {d.content_filter for account in spec.accounts for d in account.deployments}
    yield from _alike_but_for_case(spec)
    for name, content_filter in spec.content_filters.items():
        path: Path = ("content_filters", name)
        if is_built_in_policy(name):
            yield spec.source.diagnostic(
                path, f"names starting with '{BUILT_IN_POLICY_PREFIX}' are kept for built-in policies", at_key=True
            )
        for index, blocklist in enumerate(content_filter.blocklists):
            if blocklist not in spec.blocklists:
                yield spec.source.diagnostic(
                    path + ("blocklists", index),
                    f"blocklist {shown(blocklist)} is not defined under blocklists"
                    + did_you_mean(blocklist, list(spec.blocklists)),
                )
        if name not in used:
            yield spec.source.diagnostic(
                path,
                f"content filter {shown(name)} is used by no deployment, so it is not created",
                severity="warning",
                at_key=True,
            )


def _alike_but_for_case(spec: Spec) -> Iterator[Diagnostic]:
    """Azure names ignore case: content filters (or blocklists) named alike but for case that one
    account would hold are one resource there, written in turn with each one's settings."""
    reported: set[tuple[str, str]] = set()
    for account in spec.accounts:
        filters = {d.content_filter for d in account.deployments if d.content_filter in spec.content_filters}
        blocklists = {b for f in filters for b in spec.content_filters[f].blocklists if b in spec.blocklists}
        for what, key, defined, held in (("content filter", "content_filters", spec.content_filters, filters),
                                         ("blocklist", "blocklists", spec.blocklists, blocklists)):
            first: dict[str, str] = {}
            for name in (n for n in defined if n in held):  # in the order written
                same = first.setdefault(name.lower(), name)
                if same != name and (key, name) not in reported:
                    reported.add((key, name))
                    yield spec.source.diagnostic(
                        (key, name), f"{what} {shown(name)} and {shown(same)} (at {_where(spec, (key, same))}) "
                        f"are one Azure resource on account {shown(account.name)}: Azure names ignore case",
                        at_key=True)


def _unused_blocklists(spec: Spec) -> Iterator[Diagnostic]:
    used = {name for content_filter in spec.content_filters.values() for name in content_filter.blocklists}
    for name in spec.blocklists:
        if name not in used:
            yield spec.source.diagnostic(
                ("blocklists", name),
                f"blocklist {shown(name)} is used by no content filter, so it is not created",
                severity="warning",
                at_key=True,
            )


def _key_vault(spec: Spec) -> Iterator[Diagnostic]:
    vault = spec.key_vault
    if vault is None:
        return
    path: Path = ("key_vault",)
    for field, value in (
        ("subscription", vault.subscription or spec.defaults.subscription),
        ("resource_group", vault.resource_group or spec.defaults.resource_group),
    ):
        if not value:
            yield spec.source.diagnostic(path, f"key_vault has no {field}: set defaults.{field} or key_vault.{field}")
    if not spec.accounts and not spec.defaults.location:
        yield spec.source.diagnostic(path, "key_vault's resource group needs a location: set defaults.location")
    if vault.endpoint_secret == vault.key_secret:
        yield spec.source.diagnostic(path + ("key_secret",), "key_secret must differ from endpoint_secret")
    else:
        yield from _secret_names(spec)
    # local_auth: false with a key_vault is guardrail PRV006 (provision validate --rules).


def _secret_names(spec: Spec) -> Iterator[Diagnostic]:
    """Each template gives a valid secret name for every account, and no two secrets share a name."""
    vault = spec.key_vault
    first: dict[str, str] = {}  # secret name (lowercase: Key Vault ignores case) -> what it holds
    for field, what in (("endpoint_secret", "endpoint"), ("key_secret", "key")):
        path: Path = ("key_vault", field)
        template = getattr(vault, field)
        if "{account}" not in template and len(spec.accounts) > 1:
            yield spec.source.diagnostic(
                path, f"{shown(template)} must contain {{account}}, else every account writes the same secret"
            )
            continue
        for account in spec.accounts:
            if names.problem("account", account.name) is not None:
                continue  # reported at the name
            secret = template.replace("{account}", account.name)
            if names.problem("secret", secret) is not None:
                yield spec.source.diagnostic(
                    path,
                    f"{shown(template)} gives the secret name {shown(secret)} for account {shown(account.name)}:"
                    f" Key Vault secret names {names.RULES['secret'].rule}",
                )
                break
            holder = f"the {what} of account {shown(account.name)}"
            earlier = first.setdefault(secret.lower(), holder)
            if earlier != holder:
                yield spec.source.diagnostic(
                    path, f"{shown(template)} gives the secret name {shown(secret)} to {holder}, but {earlier}"
                          " already has it (Key Vault secret names ignore case)"
                )


def _names(spec: Spec) -> Iterator[Diagnostic]:
    """Every name the spec holds follows Azure's rules (see provisioner.model.names)."""
    for kind, path, value, at_key in _every_name(spec):
        if value is not None and (message := names.problem(kind, value)) is not None:
            yield spec.source.diagnostic(path, message, at_key=at_key)
    yield from _default_subdomains(spec)
    for name, blocklist in spec.blocklists.items():
        if len(blocklist.items) > MAX_BLOCKLIST_ITEMS:
            yield spec.source.diagnostic(
                ("blocklists", name, "items"),
                f"{len(blocklist.items)} items; Azure allows at most {MAX_BLOCKLIST_ITEMS} in one blocklist",
            )


Named = tuple[str, Path, "str | None", bool]  # kind of name, where, the name, written as a mapping key


def _every_name(spec: Spec) -> Iterator[Named]:
    yield "spec_name", ("name",), spec.name, False
    yield from _placement_names(("defaults",), spec.defaults)
    if spec.key_vault is not None:
        yield "key_vault", ("key_vault", "name"), spec.key_vault.name, False
        yield from _placement_names(("key_vault",), spec.key_vault)
    for name, content_filter in spec.content_filters.items():
        if not is_built_in_policy(name):  # reported by _content_filters
            yield "rai_policy", ("content_filters", name), name, True
        yield "rai_policy", ("content_filters", name, "base"), content_filter.base, False
    for name, blocklist in spec.blocklists.items():
        yield "blocklist", ("blocklists", name), name, True
        for index, item in enumerate(blocklist.items):
            if isinstance(item, RegexItem):
                yield "blocklist_item", ("blocklists", name, "items", index, "regex"), item.regex, False
            else:
                yield "blocklist_item", ("blocklists", name, "items", index), item, False
    for index, account in enumerate(spec.accounts):
        path: Path = ("accounts", index)
        yield "account", path + ("name",), account.name, False
        yield "custom_subdomain", path + ("custom_subdomain",), account.custom_subdomain, False
        yield from _placement_names(path, account)
        for deployment_index, deployment in enumerate(account.deployments):
            deployment_path = path + ("deployments", deployment_index)
            yield "deployment", deployment_path + ("name",), deployment.name, False
            if deployment.content_filter and is_built_in_policy(deployment.content_filter):
                yield "rai_policy", deployment_path + ("content_filter",), deployment.content_filter, False


def _placement_names(path: Path, holder: Defaults | KeyVault | Account) -> list[Named]:
    """The subscription, resource group and location `holder` sets itself (empty ones are reported elsewhere);
    each field is named like its kind of name."""
    return [(field, path + (field,), getattr(holder, field) or None, False)
            for field in ("subscription", "resource_group", "location")]


def _default_subdomains(spec: Spec) -> Iterator[Diagnostic]:
    """An account without custom_subdomain uses its name as subdomain, which allows one character less."""
    for index, account in enumerate(spec.accounts):
        if account.custom_subdomain is None and names.problem("account", account.name) is None:
            if (message := names.problem("custom_subdomain", account.name)) is not None:
                yield spec.source.diagnostic(
                    ("accounts", index, "name"), f"{message} (the name is the custom subdomain: set custom_subdomain)"
                )


def _tags(spec: Spec) -> Iterator[Diagnostic]:
    """Tag names and values follow Azure's rules; a resource carries at most MAX_USER_TAGS of the spec's tags."""
    defaults: Path = ("defaults", "tags")
    yield from _tag_map(spec, defaults, spec.defaults.tags, {})
    yield from _tag_count(spec, defaults, spec.defaults.tags, spec.defaults.tags)
    for account_index, account in enumerate(spec.accounts):
        path: Path = ("accounts", account_index, "tags")
        inherited = _spelled(spec.defaults.tags, defaults)
        yield from _tag_map(spec, path, account.tags, inherited)
        account_tags = {**spec.defaults.tags, **account.tags}
        yield from _tag_count(spec, path, account.tags, account_tags)
        inherited = {**inherited, **_spelled(account.tags, path)}
        for index, deployment in enumerate(account.deployments):
            deployment_path = ("accounts", account_index, "deployments", index, "tags")
            yield from _tag_map(spec, deployment_path, deployment.tags, inherited)
            yield from _tag_count(spec, deployment_path, deployment.tags, {**account_tags, **deployment.tags})


def _spelled(tags: Mapping[str, str], path: Path) -> dict[str, tuple[str, Path]]:
    """Each tag name, lowercase -> as written and where."""
    return {name.lower(): (name, path) for name in tags}


def _tag_map(
    spec: Spec, path: Path, tags: Mapping[str, str], inherited: Mapping[str, tuple[str, Path]]
) -> Iterator[Diagnostic]:
    seen: dict[str, str] = {}
    for name, value in tags.items():
        here = path + (name,)
        if name.lower() in (reserved.lower() for reserved in PROVISION_TAGS):
            yield spec.source.diagnostic(here, f"tag {shown(name)} is set by provision itself", at_key=True)
            continue
        if (message := names.tag_name_problem(name)) is not None:
            yield spec.source.diagnostic(here, message, at_key=True)
            continue
        if (message := names.tag_value_problem(name, value)) is not None:
            yield spec.source.diagnostic(here, message)
        # Azure tag names ignore case: `Team` and `team` are one tag, and which value wins is unclear.
        first = seen.setdefault(name.lower(), name)
        if first != name:
            yield spec.source.diagnostic(
                here, f"tag {shown(name)} is also written {shown(first)} here; Azure tag names ignore case",
                at_key=True,
            )
        elif name.lower() in inherited and inherited[name.lower()][0] != name:
            spelling, where = inherited[name.lower()]
            yield spec.source.diagnostic(
                here,
                f"tag {shown(name)} is written {shown(spelling)} in {format_path(where)}; Azure tag names ignore"
                " case, so spell it the same way to override it",
                at_key=True,
            )


def _tag_count(spec: Spec, path: Path, own: Mapping[str, str], merged: Mapping[str, str]) -> Iterator[Diagnostic]:
    """Reported where a resource's own tags are written; a resource adding none repeats its parent's count."""
    if own and (message := names.tag_count_problem(merged)) is not None:
        yield spec.source.diagnostic(path, message)


def _waivers(spec: Spec) -> Iterator[Diagnostic]:
    """A waiver names a known rule, gives a reason and (at the top) names accounts of this spec."""
    located: list[tuple[Path, Waiver]] = [(("waivers", i), w) for i, w in enumerate(spec.waivers)]
    for a_index, account in enumerate(spec.accounts):
        located += [(("accounts", a_index, "waive", i), w) for i, w in enumerate(account.waive)]
        for d_index, deployment in enumerate(account.deployments):
            located += [(("accounts", a_index, "deployments", d_index, "waive", i), w)
                        for i, w in enumerate(deployment.waive)]
    for name, content_filter in spec.content_filters.items():
        located += [(("content_filters", name, "waive", i), w) for i, w in enumerate(content_filter.waive)]
    accounts = [account.name for account in spec.accounts]
    for path, waiver in located:
        if waiver.rule not in RULES_BY_ID:
            yield spec.source.diagnostic(
                path + ("rule",), f"unknown guardrail rule '{waiver.rule}'; the rules are "
                f"{RULES_IDS_TEXT}" + did_you_mean(waiver.rule, list(RULES_BY_ID)))
        if not waiver.reason.strip():
            yield spec.source.diagnostic(path + ("reason",), f"the waiver of {waiver.rule} needs a reason: say why "
                                                             "the finding is accepted")
        for index, name in enumerate(getattr(waiver, "accounts", None) or ()):
            if name not in accounts:
                yield spec.source.diagnostic(path + ("accounts", index), f"the waiver names account '{name}', "
                                             "which this spec does not declare" + did_you_mean(name, accounts))


RULES_IDS_TEXT = f"{min(RULES_BY_ID)} to {max(RULES_BY_ID)} (see `provision validate --rules`)"


# security settings

# learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks: "Each Azure AI services resource
# supports up to 100 IP network rules"; "only IPv4 addresses are supported"; "Small address ranges that use
# /31 or /32 prefix sizes aren't supported"; "IP address ranges reserved for private networks aren't allowed".
MAX_IP_RULES = 100
RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_FQDN = re.compile(r"(?=.{1,253}$)(\*\.)?(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+")
ACCOUNT_SETTINGS = ("network", "identity", "restrict_outbound", "allowed_fqdns")  # account properties


def _security(spec: Spec) -> Iterator[Diagnostic]:
    yield from _security_settings(spec, ("defaults",), spec.defaults)
    endpoints: dict[tuple[str, str, str], Path] = {}  # (subscription, group, name) lowercase -> where
    for index, account in enumerate(spec.accounts):
        path: Path = ("accounts", index)
        yield from _security_settings(spec, path, account)
        if account.existing:
            for field in (*ACCOUNT_SETTINGS, "public_network_access"):
                if getattr(account, field) is not None:
                    # public_network_access was ignored here before it was checked: a warning keeps such specs
                    yield spec.source.diagnostic(
                        path + (field,), f"account {shown(account.name)} has `existing: true`: its {field} "
                        "belongs to whoever manages the account, so this spec cannot set it (private_endpoints, "
                        "access and diagnostics it can)" + (", and ignores it" if field == "public_network_access"
                                                            else ""),
                        severity="warning" if field == "public_network_access" else "error", at_key=True)
        network = spec.security_of(account, "network")
        if account.public_network_access is not None and network is not None and network.public_access is not None \
                and network.public_access != account.public_network_access:
            yield spec.source.diagnostic(
                path + ("public_network_access",),
                f"public_network_access: {account.public_network_access} contradicts network.public_access: "
                f"{network.public_access}; they are the same setting: keep network.public_access")
        for e_index, endpoint in enumerate(account.private_endpoints):
            here = path + ("private_endpoints", e_index)
            key = tuple(str(v).lower() for v in (spec.subscription_of(account), spec.resource_group_of(account),
                                                  endpoint.name))
            first = endpoints.setdefault(key, here)
            if first != here:
                yield spec.source.diagnostic(
                    here + ("name",), f"duplicate private endpoint name {shown(endpoint.name)} in resource group "
                    f"{shown(key[1])} (first at {_where(spec, first)})")
            if (message := names.problem("private_endpoint", endpoint.name)) is not None:
                yield spec.source.diagnostic(here + ("name",), message)
            if endpoint.location is not None and (message := names.problem("location", endpoint.location)):
                yield spec.source.diagnostic(here + ("location",), message)
            yield from _resource_id(spec, here + ("subnet",), endpoint.subnet, ids.SUBNET)
            yield from _resource_ids(spec, here + ("dns_zone_ids",), endpoint.dns_zone_ids, ids.PRIVATE_DNS_ZONE)
    if spec.key_vault is not None:
        yield from _grants(spec, ("key_vault", "access"), spec.key_vault.access)


def _security_settings(spec: Spec, path: Path, holder: Any) -> Iterator[Diagnostic]:
    """The checks of one place that sets security fields: `defaults` or an account."""
    network = holder.network
    if network is not None:
        here = path + ("network",)
        yield from _ip_rules(spec, here + ("ip_rules",), network.ip_rules)
        yield from _resource_ids(spec, here + ("virtual_network_rules",), network.virtual_network_rules, ids.SUBNET)
        if network.default_action == "allow" and (network.ip_rules or network.virtual_network_rules):
            yield spec.source.diagnostic(
                here + ("default_action",), "with default_action: allow every network gets in, so ip_rules and "
                "virtual_network_rules have no effect; set default_action: deny", severity="warning")
    if holder.identity is not None:
        yield from _resource_ids(spec, path + ("identity", "user_assigned"), holder.identity.user_assigned,
                                 ids.USER_ASSIGNED_IDENTITY)
    if holder.allowed_fqdns is not None:
        yield from _duplicates(spec, path + ("allowed_fqdns",), holder.allowed_fqdns, "host name")
        for index, fqdn in enumerate(holder.allowed_fqdns):
            if not _FQDN.fullmatch(fqdn):
                yield spec.source.diagnostic(path + ("allowed_fqdns", index),
                                             f"{shown(fqdn)} is not a host name such as api.contoso.com (no scheme, "
                                             "port or path)")
        if holder.restrict_outbound is not True and holder.allowed_fqdns:
            yield spec.source.diagnostic(path + ("allowed_fqdns",), "allowed_fqdns takes effect only with "
                                         "restrict_outbound: true", severity="warning", at_key=True)
    if holder.access is not None:
        yield from _grants(spec, path + ("access",), holder.access)
    diagnostics = holder.diagnostics
    if diagnostics is not None:
        here = path + ("diagnostics",)
        yield from _resource_id(spec, here + ("workspace",), diagnostics.workspace, ids.WORKSPACE)
        if diagnostics.logs != "all":
            if not diagnostics.logs:
                yield spec.source.diagnostic(here + ("logs",), "logs is empty: name categories, or write all")
            yield from _duplicates(spec, here + ("logs",), diagnostics.logs, "log category")
        if diagnostics.name is not None and (message := names.problem("diagnostic_setting", diagnostics.name)):
            yield spec.source.diagnostic(here + ("name",), message)


def _ip_rules(spec: Spec, path: Path, rules: list[str]) -> Iterator[Diagnostic]:
    if len(rules) > MAX_IP_RULES:
        yield spec.source.diagnostic(path, f"{len(rules)} IP rules; Azure allows at most {MAX_IP_RULES} per account")
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules):
        here = path + (index,)
        problem = _ip_rule_problem(rule)
        if problem is not None:
            yield spec.source.diagnostic(here, problem)
            continue
        first = seen.setdefault(str(ipaddress.ip_network(rule, strict=False)), index)
        if first != index:
            yield spec.source.diagnostic(here, f"duplicate IP rule {shown(rule)} (first at "
                                               f"{_where(spec, path + (first,))})")


def _ip_rule_problem(rule: str) -> str | None:
    try:
        network = ipaddress.ip_network(rule, strict=False)
    except ValueError:
        return f"{shown(rule)} is not an IPv4 address or CIDR range such as 203.0.113.0/24"
    if network.version != 4:
        return f"{shown(rule)} is IPv6; Azure OpenAI IP rules take IPv4 addresses and ranges only"
    if "/" in rule and network.prefixlen in (31, 32):
        return f"{shown(rule)}: Azure does not take /31 or /32 ranges; write each address on its own, without a " \
               "prefix"
    if "/" in rule and str(network) != rule:
        return f"{shown(rule)} has host bits set; the range is {network}"
    if any(network.overlaps(private) for private in RFC1918) or network.is_loopback or network.is_link_local \
            or network.is_multicast or network.is_unspecified:
        return f"{shown(rule)} is not a public address: IP rules admit public internet addresses only (reach the " \
               "account from private networks through virtual_network_rules or private_endpoints)"
    return None


def _grants(spec: Spec, path: Path, grants: list[Grant]) -> Iterator[Diagnostic]:
    seen: dict[tuple[str, str], int] = {}
    for index, grant in enumerate(grants):
        here = path + (index,)
        if not ids.GUID.fullmatch(grant.principal):
            yield spec.source.diagnostic(here + ("principal",), f"{shown(grant.principal)} is not an object id: "
                                         "give the principal's object id, a GUID (for a managed identity its "
                                         "principal id)")
        role = roles.role_id(grant.role)
        if role is None:
            yield spec.source.diagnostic(
                here + ("role",), f"unknown role {shown(grant.role)}: give a built-in role name provision knows ("
                + ", ".join(roles.BUILT_IN_ROLES) + ") or a role definition id"
                + did_you_mean(grant.role, list(roles.BUILT_IN_ROLES)))
            continue
        first = seen.setdefault((grant.principal.lower(), role), index)
        if first != index:
            yield spec.source.diagnostic(here, f"duplicate grant: principal {shown(grant.principal)} already has "
                                               f"{shown(grant.role)} here (at {_where(spec, path + (first,))})")


def _resource_ids(spec: Spec, path: Path, values: list[str], expected: str) -> Iterator[Diagnostic]:
    for index, value in enumerate(values):
        yield from _resource_id(spec, path + (index,), value, expected)
    yield from _duplicates(spec, path, values, "resource id", lower=True)


def _resource_id(spec: Spec, path: Path, value: str, expected: str) -> Iterator[Diagnostic]:
    if (message := ids.problem(value, expected)) is not None:
        yield spec.source.diagnostic(path, message)


def _duplicates(spec: Spec, path: Path, values: list[str], what: str, *, lower: bool = False) -> Iterator[Diagnostic]:
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        first = seen.setdefault(value.lower() if lower else value, index)
        if first != index:
            yield spec.source.diagnostic(path + (index,), f"duplicate {what} {shown(value)} (first at "
                                                          f"{_where(spec, path + (first,))})")
