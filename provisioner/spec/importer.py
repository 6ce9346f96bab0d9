"""`provision import`: a deployments.yaml written from live resources (pure: no I/O).

The text is what a person would write: defaults omitted (kind OpenAI, format OpenAI, type
standard, scope global, custom subdomain = the name, upgrade on-new-default, ...), the
subscription, resource group and location shared by every account under `defaults:`, content
filters and blocklists that several accounts hold identically written once, and a comment
wherever a value was resolved or something was left out. Planning it shows nothing but
adoptions and no-ops: every property the spec declares is taken from what exists. The
account's security settings, private endpoints, role assignments and diagnostic settings are
described too (see `_security`); what a spec cannot say is left out with a note at the top.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, get_args

from provisioner.errors import ProvisionerError
from provisioner.model.observed import ObservedResource
from provisioner.model.resources import (
    PRIVATE_LINK_GROUP,
    REFERENCES,
    Kind,
    arm_id,
    assignment_owner,
    diagnostic_setting_name,
    role_assignment_name,
)
from provisioner.spec.desired import BYPASS, MODE, PRINCIPAL_TYPE
from provisioner.spec.schema import SKU_BY_TYPE_AND_SCOPE, LogCategory, is_built_in_policy

TYPE_AND_SCOPE = {sku: pair for pair, sku in SKU_BY_TYPE_AND_SCOPE.items()}
SPEC_MODE = {azure: spec for spec, azure in MODE.items()}
CATEGORIES = ("hate", "sexual", "violence", "self_harm")
SHIELDS = {"jailbreak": "prompt", "indirect_attack": "prompt", "protected_material_text": "completion",
           "protected_material_code": "completion"}
SPEC_BYPASS = {azure.lower(): spec for spec, azure in BYPASS.items()}
SPEC_PRINCIPAL_TYPE = {azure.lower(): spec for spec, azure in PRINCIPAL_TYPE.items()}
LOG_CATEGORIES = frozenset(get_args(LogCategory))
OPEN_NETWORK = {"default_action": "Allow", "bypass": "AzureServices", "ip_rules": [], "virtual_network_rules": []}
UPGRADE_DEFAULT = "on-new-default"
BASE_DEFAULT = "Microsoft.DefaultV2"


@dataclass
class _Lines:
    lines: list[str] = field(default_factory=list)

    def add(self, indent: int, text: str, comment: str = "") -> None:
        self.lines.append(" " * indent + text + (f"  # {comment}" if comment else ""))


def write_spec(resources: Iterable[ObservedResource], *, name: str, source: str) -> str:
    """The spec text for these accounts and everything on them (`source` says where they were read)."""
    resources = list(resources)
    accounts = [r for r in resources if r.resource.kind is Kind.ACCOUNT]
    if not accounts:
        raise ProvisionerError(f"no Azure OpenAI or AI Services account found in {source}; nothing to import")
    children = {a.resource.name: _references_as_named([
                    r for r in resources if r.resource.scope.account == a.resource.name
                    and r.resource.scope.subscription == a.resource.scope.subscription])
                for a in accounts}
    filters, blocklists, left_out = _shared_definitions(accounts, children)
    defaults = _defaults(accounts)
    body = _Lines()
    for account in accounts:
        _account(body, account, defaults, children[account.resource.name], name, left_out)
    out = _Lines()
    out.add(0, "# yaml-language-server: $schema=./deployments.schema.json")
    out.add(0, f"# Written by `provision import` from {source}.")
    out.add(0, "# Tags are not imported: provision leaves tags it does not declare alone, and adopting keeps them.")
    for note in left_out:
        out.add(0, f"# Left out: {note}")
    out.add(0, "version: 1")
    out.add(0, f"name: {_scalar(name)}", "in the ownership tags that adopting adds")
    out.add(0, "defaults:")
    for key in ("subscription", "resource_group", "location"):
        if key in defaults:
            out.add(2, f"{key}: {_scalar(defaults[key])}")
    if filters:
        out.add(0, "content_filters:")
        for filter_name, properties in sorted(filters.items()):
            _content_filter(out, filter_name, properties)
    if blocklists:
        out.add(0, "blocklists:")
        for list_name, properties in sorted(blocklists.items()):
            out.add(2, f"{_key(list_name)}:")
            if properties.get("description"):
                out.add(4, f"description: {_scalar(properties['description'])}")
            items = [{"regex": i["pattern"]} if i["regex"] else i["pattern"] for i in properties.get("items") or []]
            out.add(4, f"items: {_flow(items)}")
    out.add(0, "accounts:")
    out.lines += body.lines
    return "\n".join(out.lines) + "\n"


def _references_as_named(children: list[ObservedResource]) -> list[ObservedResource]:
    """ARM names ignore case, so Azure takes `STRICT` for the policy `Strict`; a spec's references
    are exact, so each is spelled as the resource it names."""
    names = {(r.resource.kind, r.resource.name.lower()): r.resource.name for r in children}

    def named(kind: Kind, value: Any) -> Any:
        if isinstance(value, list):
            return [named(kind, v) for v in value]
        return names.get((kind, value.lower()), value) if isinstance(value, str) else value

    respelled = []
    for child in children:
        refs = {key: named(kind, child.resource.properties[key])
                for key, kind in REFERENCES.get(child.resource.kind, {}).items() if key in child.resource.properties}
        if refs:
            child = replace(child, resource=replace(child.resource, properties={**child.resource.properties, **refs}))
        respelled.append(child)
    return respelled


def _defaults(accounts: list[ObservedResource]) -> dict[str, str]:
    """Subscription and resource group when every account shares them; the most common location."""
    defaults: dict[str, str] = {}
    for key, value_of in (("subscription", lambda a: a.resource.scope.subscription),
                          ("resource_group", lambda a: a.resource.scope.resource_group)):
        values = {value_of(a) for a in accounts}
        if len(values) == 1:
            defaults[key] = values.pop()
    locations = Counter(a.resource.properties.get("location") for a in accounts)
    defaults["location"] = sorted(locations.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return defaults


def _shared_definitions(accounts: list[ObservedResource], children: Mapping[str, list[ObservedResource]]
                        ) -> tuple[dict[str, dict], dict[str, dict], list[str]]:
    """Content filters and blocklists by name, once each, from the accounts whose deployments use them.
    The spec names them once for every account, so one name with different contents is an error."""
    filters: dict[str, tuple[str, dict]] = {}
    lists: dict[str, tuple[str, dict]] = {}
    left_out: list[str] = []
    for account in accounts:
        name = account.resource.name
        by_kind = {kind: {r.resource.name: r for r in children[name] if r.resource.kind is kind} for kind in Kind}
        used = {d.resource.properties.get("content_filter") for d in by_kind[Kind.DEPLOYMENT].values()}
        for policy_name, policy in sorted(by_kind[Kind.RAI_POLICY].items()):
            if policy_name not in used:
                left_out.append(f"content filter {policy_name} on {name} (no deployment uses it, so the spec "
                                "would not manage it there)")
                continue
            _once(filters, "content filter", policy_name, name, _comparable(policy.resource.properties))
            for list_name in policy.resource.properties.get("blocklists") or []:
                blocklist = by_kind[Kind.BLOCKLIST].get(list_name)
                if blocklist is not None:
                    _once(lists, "blocklist", list_name, name, _comparable(blocklist.resource.properties))
        wanted = {b for p in by_kind[Kind.RAI_POLICY].values() if p.resource.name in used
                  for b in p.resource.properties.get("blocklists") or []}
        for list_name in sorted(set(by_kind[Kind.BLOCKLIST]) - wanted):
            left_out.append(f"blocklist {list_name} on {name} (no content filter in use refers to it)")
    return ({k: v for k, (_, v) in filters.items()}, {k: v for k, (_, v) in lists.items()}, left_out)


def _once(found: dict[str, tuple[str, dict]], what: str, name: str, account: str, properties: dict) -> None:
    if name in found and found[name][1] != properties:
        raise ProvisionerError(f"{what} {name} differs between accounts {found[name][0]} and {account}; a spec "
                               f"names each {what} once for every account",
                               hint=f"import the accounts separately (--account), or make the {what}s equal first")
    found.setdefault(name, (account, properties))


def _comparable(properties: Mapping[str, Any]) -> dict:
    return {k: v for k, v in properties.items() if k != "tags"}


def _content_filter(out: _Lines, name: str, p: Mapping[str, Any]) -> None:
    out.add(2, f"{_key(name)}:")
    if p.get("base") and p["base"] != BASE_DEFAULT:
        out.add(4, f"base: {_scalar(p['base'])}")
    mode = SPEC_MODE.get(p.get("mode") or "Default")
    if mode is None:
        raise ProvisionerError(f"content filter {name}: mode {p.get('mode')!r} has no spec equivalent")
    if mode != "default":
        out.add(4, f"mode: {mode}")
    filters = p.get("filters") or {}
    categories = {c: filters[c] for c in CATEGORIES if c in filters}
    if categories:
        out.add(4, "categories:")
        for category, sides in categories.items():
            same = len(sides) == 2 and sides.get("prompt") == sides.get("completion")
            out.add(6, f"{category}: {sides['prompt'] if same else _flow(dict(sorted(sides.items(), reverse=True)))}")
    for shield, side in SHIELDS.items():
        if side in filters.get(shield, {}):
            out.add(4, f"{shield}: {filters[shield][side]}")
    if p.get("blocklists"):
        out.add(4, f"blocklists: {_flow(list(p['blocklists']))}")


def _account(out: _Lines, account: ObservedResource, defaults: Mapping[str, str],
             children: list[ObservedResource], spec_name: str, left_out: list[str]) -> None:
    p, scope, name = account.resource.properties, account.resource.scope, account.resource.name
    out.add(2, f"- name: {_scalar(name)}")
    if scope.subscription != defaults.get("subscription"):
        out.add(4, f"subscription: {_scalar(scope.subscription)}")
    if scope.resource_group != defaults.get("resource_group"):
        out.add(4, f"resource_group: {_scalar(scope.resource_group)}")
    if p.get("location") != defaults["location"]:
        out.add(4, f"location: {_scalar(p['location'])}")
    if p.get("kind") != "OpenAI":
        out.add(4, f"kind: {_scalar(p.get('kind'))}")
    if p.get("custom_subdomain") is None:
        out.add(4, f"custom_subdomain: {_scalar(name)}",
                "UNRESOLVED: the account has no custom subdomain, which provision cannot adopt; plan refuses it")
    elif p["custom_subdomain"] != name:
        out.add(4, f"custom_subdomain: {_scalar(p['custom_subdomain'])}")
    if p.get("local_auth") is False:
        out.add(4, "local_auth: false")
    _security(out, account, children, spec_name, left_out)
    deployments = sorted((r for r in children if r.resource.kind is Kind.DEPLOYMENT), key=lambda r: r.resource.name)
    if not deployments:
        return
    out.add(4, "deployments:")
    for deployment in deployments:
        _deployment(out, deployment)


def _security(out: _Lines, account: ObservedResource, children: list[ObservedResource], spec_name: str,
              left_out: list[str]) -> None:
    """The account's network, identity and outbound settings, private endpoints, grants and diagnostics as
    they are (settings at Azure's defaults omitted); what a spec cannot say is left out with a note."""
    p = account.resource.properties
    _network(out, account)
    identity = p.get("identity") or {}
    if identity.get("system_assigned") or identity.get("user_assigned"):
        out.add(4, "identity:")
        if identity.get("system_assigned"):
            out.add(6, "system_assigned: true")
        if identity.get("user_assigned"):
            out.add(6, "user_assigned:")
            for identity_id in identity["user_assigned"]:
                out.add(8, f"- {_scalar(identity_id)}")
    if p.get("restrict_outbound"):
        out.add(4, "restrict_outbound: true")
    if p.get("allowed_fqdns"):
        out.add(4, f"allowed_fqdns: {_flow(list(p['allowed_fqdns']))}",
                "" if p.get("restrict_outbound") else "in effect only with restrict_outbound: true")

    def of(kind: Kind) -> list[ObservedResource]:
        return sorted((r for r in children if r.resource.kind is kind), key=lambda r: r.resource.name.lower())

    _private_endpoints(out, account, of(Kind.PRIVATE_ENDPOINT), left_out)
    _access(out, account, of(Kind.ROLE_ASSIGNMENT), spec_name, left_out)
    _diagnostics(out, account, of(Kind.DIAGNOSTIC_SETTING), spec_name, left_out)


def _network(out: _Lines, account: ObservedResource) -> None:
    """`network:` when the account is not open to every network (public access on, no rules)."""
    p = account.resource.properties
    network = {key: (p.get("network") or {}).get(key, value) for key, value in OPEN_NETWORK.items()}
    public = str(p.get("public_network_access") or "Enabled").lower()
    if public != "disabled" and network == OPEN_NETWORK:
        return
    bypass = SPEC_BYPASS.get(str(network["bypass"]).lower())
    if bypass is None:
        raise ProvisionerError(f"account {account.resource.name}: network bypass {network['bypass']!r} has no "
                               "spec equivalent")
    out.add(4, "network:")
    if public == "disabled":
        out.add(6, "public_access: disabled")
    action = str(network["default_action"]).lower()
    if action != ("deny" if network["ip_rules"] or network["virtual_network_rules"] else "allow"):
        out.add(6, f"default_action: {action}")
    if network["ip_rules"]:
        out.add(6, f"ip_rules: {_flow(list(network['ip_rules']))}")
    if network["virtual_network_rules"]:
        out.add(6, "virtual_network_rules:")
        for subnet in network["virtual_network_rules"]:
            out.add(8, f"- {_scalar(subnet)}")
    if bypass != "azure_services":
        out.add(6, f"bypass: {bypass}")


def _private_endpoints(out: _Lines, account: ObservedResource, endpoints: list[ObservedResource],
                       left_out: list[str]) -> None:
    """The endpoints connected to the account (its privateEndpointConnections name them) that a spec can
    declare: in the account's resource group, connecting its `account` sub-resource."""
    scope = account.resource.scope
    account_id = arm_id(scope, Kind.ACCOUNT, account.resource.name)
    declared = []
    for endpoint in endpoints:
        p, where = endpoint.resource.properties, f"private endpoint {endpoint.resource.name} of {account.resource.name}"
        if endpoint.resource.scope.resource_group.lower() != scope.resource_group.lower():
            left_out.append(f"{where} (it is in resource group {endpoint.resource.scope.resource_group}; a spec "
                            "declares endpoints in the account's resource group)")
        elif p.get("manual_connection"):
            left_out.append(f"{where} (it connects through a manual connection, which the account's owner approves; "
                            "a spec's endpoints connect directly)")
        elif p.get("target") != account_id or p.get("group_id") != PRIVATE_LINK_GROUP:
            left_out.append(f"{where} (it connects {p.get('group_id') or 'nothing'} on {p.get('target') or 'nothing'}"
                            f", not the account's {PRIVATE_LINK_GROUP} sub-resource)")
        else:
            declared.append(endpoint)
    if not declared:
        return
    out.add(4, "private_endpoints:")
    for endpoint in declared:
        p = endpoint.resource.properties
        state = p.get("connection_state")
        out.add(6, f"- name: {_scalar(endpoint.resource.name)}",
                "" if state in (None, "Approved") else f"connection {state}: no traffic until it is approved")
        out.add(8, f"subnet: {_scalar(p.get('subnet'))}")
        if p.get("dns_zone_ids"):
            out.add(8, "dns_zone_ids:")
            for zone in p["dns_zone_ids"]:
                out.add(10, f"- {_scalar(zone)}")
        if p.get("location") and p["location"] != account.resource.properties.get("location"):
            out.add(8, f"location: {_scalar(p['location'])}")


def _access(out: _Lines, account: ObservedResource, assignments: list[ObservedResource], spec_name: str,
            left_out: list[str]) -> None:
    """Every role assignment made on the account itself, as grants. One named as provision names that grant
    is adopted by the next apply (its description gets the ownership marker); one under another name stays
    its maker's: the plan shows the grant up to date, and provision never writes or deletes it (Azure
    allows one assignment per scope, principal and role, so creating provision's own would fail). Grants
    another spec's description claims are left out: planning them would be an error."""
    account_id = arm_id(account.resource.scope, Kind.ACCOUNT, account.resource.name)
    grants = []
    for assignment in assignments:
        p, where = assignment.resource.properties, f"role assignment {assignment.resource.name} on " \
                                                    f"{account.resource.name}"
        owner = assignment_owner(p.get("description"))
        kind = SPEC_PRINCIPAL_TYPE.get(str(p.get("principal_type") or "").lower())
        if owner is not None and owner != spec_name:
            left_out.append(f"{where} (managed by spec {owner})")
        elif kind is None:
            left_out.append(f"{where} (principal type {p.get('principal_type')}: a grant is for a user, group or "
                            "service principal)")
        else:
            grants.append((p.get("role_name") or p["role"], p["principal"], kind, assignment.resource.name, p["role"],
                           owner, p.get("description") or ""))
    if not grants:
        return
    out.add(4, "access:")
    for role, principal, kind, name, role_id, owner, description in sorted(grants):
        if name.lower() != role_assignment_name(account_id, principal, role_id):
            note = f"granted by role assignment {name}, " + ("this spec's under an earlier name" if owner else
                                                             "which provision leaves to whoever made it")
        elif description and owner is None:  # adopting writes the ownership marker in its place
            note = f"adopting replaces its description {json.dumps(description)}"
        else:
            note = ""
        out.add(6, f"- principal: {_scalar(principal)}", note)
        out.add(8, f"type: {kind}")
        out.add(8, f"role: {_scalar(role)}")


def _diagnostics(out: _Lines, account: ObservedResource, settings: list[ObservedResource], spec_name: str,
                 left_out: list[str]) -> None:
    """One diagnostic setting (a spec declares one per account): the one with this spec's default name,
    else the first by name that a spec can describe."""
    default = diagnostic_setting_name(spec_name)
    usable = []
    for setting in settings:
        p, where = setting.resource.properties, f"diagnostic setting {setting.resource.name} on {account.resource.name}"
        logs = p.get("logs")
        if not p.get("workspace"):
            left_out.append(f"{where} (it sends to no Log Analytics workspace)")
        elif p.get("other_destinations"):
            left_out.append(f"{where} (it also sends to {', '.join(p['other_destinations'])}, which a spec cannot "
                            "say; writing it from the spec would drop them)")
        elif not logs:
            left_out.append(f"{where} (it sends no logs)")
        elif logs != "all" and not set(logs) <= LOG_CATEGORIES:
            left_out.append(f"{where} (log categories {', '.join(sorted(set(logs) - LOG_CATEGORIES))} are not "
                            "among the spec's)")
        else:
            usable.append(setting)
    usable.sort(key=lambda s: s.resource.name.lower() != default.lower())
    for setting in usable[1:]:
        left_out.append(f"diagnostic setting {setting.resource.name} on {account.resource.name} (a spec declares "
                        f"one per account; {usable[0].resource.name} is imported)")
    if not usable:
        return
    setting = usable[0]
    p = setting.resource.properties
    out.add(4, "diagnostics:")
    out.add(6, f"workspace: {_scalar(p['workspace'])}")
    if p["logs"] != "all":
        out.add(6, f"logs: {_flow(list(p['logs']))}")
    if not p.get("metrics"):
        out.add(6, "metrics: false")
    if setting.resource.name.lower() != default.lower():
        out.add(6, f"name: {_scalar(setting.resource.name)}", "kept while the spec declares it, left in place "
                                                                 "if the spec drops it")


def _deployment(out: _Lines, deployment: ObservedResource) -> None:
    p = deployment.resource.properties
    out.add(6, f"- name: {_scalar(deployment.resource.name)}")
    out.add(8, f"model: {_scalar(p.get('model'))}")
    if p.get("format") != "OpenAI":
        out.add(8, f"format: {_scalar(p.get('format'))}")
    if p.get("version"):
        out.add(8, f"version: {_scalar(str(p['version']))}", "pinned to the deployed version")
    sku = p.get("sku") or ""
    pair = TYPE_AND_SCOPE.get(sku)
    if pair is None:
        out.add(8, f"sku: {_scalar(sku)}", "no type/scope pair maps to this SKU")
    else:
        kind, scope = pair
        if kind != "standard":
            out.add(8, f"type: {kind}", "" if scope != "global" else f"SKU {sku}")
        if scope != "global":
            out.add(8, f"scope: {scope}", f"SKU {sku}")
    out.add(8, f"capacity: {p.get('capacity')}")
    if p.get("content_filter") and p["content_filter"] != BASE_DEFAULT:
        out.add(8, f"content_filter: {_scalar(p['content_filter'])}",
                "built in" if is_built_in_policy(p["content_filter"]) else "")
    if p.get("upgrade") and p["upgrade"] != UPGRADE_DEFAULT:
        out.add(8, f"upgrade: {p['upgrade']}")
    if p.get("spillover"):
        out.add(8, f"spillover: {_scalar(p['spillover'])}")


def _scalar(value: Any, *, in_flow: bool = False) -> str:
    """A YAML scalar: plain when YAML reads it back as the same string, else JSON-quoted (valid YAML).
    Inside [..] and {..}, the flow indicators end a plain scalar, so values holding them are quoted."""
    import yaml

    if isinstance(value, (bool, int)) or value is None:
        return json.dumps(value)
    text = str(value).replace("${", "$${")  # the loader expands ${VAR}; $${ is a literal ${
    try:
        plain_ok = yaml.safe_load(f"k: {text}") == {"k": text} and not text.startswith(("${", "#"))
    except yaml.YAMLError:
        plain_ok = False
    flow_safe = not in_flow or not any(c in text for c in ",[]{}")
    return text if plain_ok and flow_safe and "#" not in text and ": " not in text else json.dumps(text)


def _key(value: str) -> str:
    return _scalar(value)


def _flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_scalar(k, in_flow=True)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value, in_flow=True)
