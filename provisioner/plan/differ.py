"""The differ: a pure function from (desired, observed) to a Plan.

Comparison is left-scoped: only what the spec declares is compared, so fields
Azure fills in (or tags someone else adds) never show up as drift. No I/O here.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Iterable, Mapping

from provisioner.errors import PlanError
from provisioner.model.observed import ObservedState
from provisioner.model.resources import (
    SPEC_TAG,
    DesiredState,
    Kind,
    Resource,
    is_managed,
)
from provisioner.plan import capacity
from provisioner.plan.model import Action, Change, FieldChange, Plan, Unmanaged, _plain

# Fields Azure cannot change in place: changing them means delete and create again.
REPLACE_FIELDS = {Kind.DEPLOYMENT: {"model", "format", "sku"}}
# Fields that would need the account itself replaced: we refuse rather than delete every deployment.
FIXED_FIELDS = {Kind.ACCOUNT: {"location", "kind", "custom_subdomain"}, Kind.RESOURCE_GROUP: {"location"}}
ORDER = [Kind.RESOURCE_GROUP, Kind.ACCOUNT, Kind.BLOCKLIST, Kind.RAI_POLICY, Kind.DEPLOYMENT]
# Left to Azure when the spec says nothing (None): never compared, so Azure's default is no drift.
AZURE_DEFAULTS = {Kind.DEPLOYMENT: {"content_filter"}}
# What `destroy` removes; accounts only with include_accounts, resource groups never.
DESTROYABLE = {Kind.DEPLOYMENT, Kind.RAI_POLICY, Kind.BLOCKLIST}


def make_plan(desired: DesiredState, observed: ObservedState, *, spec_file: str, spec_digest: str,
              destroy: bool = False, include_accounts: bool = False, purge: bool = False,
              targets: Iterable[str] = (), retirement_warning_days: int = 90, now: datetime | None = None) -> Plan:
    targets = tuple(targets)
    errors: list[str] = []
    regions = {r.name: r.properties["location"] for r in desired.resources if r.kind is Kind.ACCOUNT}
    resolved = [_resolve_version(r, observed, regions, errors) for r in desired.resources]
    findings = capacity.Findings()
    if destroy:
        changes = _destroy_changes(resolved, observed, desired.spec_name, include_accounts, purge, errors)
        unmanaged: list[Unmanaged] = []
    else:
        resolved, notes = _resolve_capacities(resolved, desired, observed, regions, errors)
        changes, unmanaged = _apply_changes(resolved, desired, observed, errors)
        changes = [replace(c, notes=c.notes + (notes[c.address],)) if c.address in notes else c for c in changes]
    changes = _select(changes, targets, errors)
    if not destroy:
        selected = {c.address for c in changes}
        findings = capacity.check(changes, [r for r in desired.resources if r.address in selected], observed,
                                  regions, retirement_warning_days=retirement_warning_days, now=now)
        errors.extend(findings.errors)
    if errors or findings.shortfalls or findings.unavailable:
        raise capacity.CapacityError(errors, findings) if (findings.shortfalls or findings.unavailable) \
            else PlanError("the plan cannot be made:\n  " + "\n  ".join(errors))
    changes.sort(key=lambda c: (ORDER.index(c.kind), c.address))
    warnings = tuple(note for c in changes if c.action is Action.REPLACE for note in c.notes) + findings.warnings
    return Plan(spec_file=spec_file, spec_digest=spec_digest, spec_name=desired.spec_name,
                observed_fingerprint=observed.fingerprint(), changes=tuple(changes),
                unmanaged=tuple(sorted(unmanaged, key=lambda u: u.address)), warnings=warnings,
                destroy=destroy, targets=targets)


def resolve(desired: DesiredState, observed: ObservedState) -> list[Resource]:
    """The desired resources with everything the spec leaves open filled in, as a plan would
    (versions, flexible capacities): what `export` writes into templates."""
    errors: list[str] = []
    regions = {r.name: r.properties["location"] for r in desired.resources if r.kind is Kind.ACCOUNT}
    resolved = [_resolve_version(r, observed, regions, errors) for r in desired.resources]
    resolved, _ = _resolve_capacities(resolved, desired, observed, regions, errors)
    if errors:
        raise PlanError("the desired state cannot be resolved:\n  " + "\n  ".join(errors))
    return resolved


def _resolve_capacities(resolved: list[Resource], desired: DesiredState, observed: ObservedState,
                        regions: Mapping[str, str], errors: list[str]) -> tuple[list[Resource], dict[str, str]]:
    """Flexible capacities get what quota has left after the plan's fixed changes."""
    flexible = frozenset(r.address for r in resolved
                         if r.kind is Kind.DEPLOYMENT and isinstance(r.properties.get("capacity"), Mapping))
    if not flexible:
        return resolved, {}
    fixed, _ = _apply_changes([r for r in resolved if r.address not in flexible], desired, observed, [],
                              keep=flexible)
    return capacity.resolve_flexible(resolved, fixed, observed, regions, errors)


def _resolve_version(resource: Resource, observed: ObservedState, regions: Mapping[str, str],
                     errors: list[str]) -> Resource:
    """A deployment without `version` keeps its live version, or gets the region's default."""
    if resource.kind is not Kind.DEPLOYMENT or resource.properties.get("version") is not None:
        return resource
    props = dict(resource.properties)
    live = observed.get(resource.address)
    if live and live.resource.properties.get("model") == props["model"]:
        props["version"] = live.resource.properties.get("version")
    else:
        region_name = regions.get(resource.scope.account or "", "")
        region = observed.region(resource.scope.subscription, region_name)
        props["version"] = region.default_version(props.get("format", "OpenAI"), props["model"]) if region else None
        if props["version"] is None:
            errors.append(f"{resource.address}: model {props['model']!r} has no default version in region "
                          f"{region_name!r}; set `version` or choose a region that offers the model")
    return replace(resource, properties=props)


def _apply_changes(resolved: list[Resource], desired: DesiredState, observed: ObservedState,
                   errors: list[str], keep: frozenset[str] = frozenset()) -> tuple[list[Change], list[Unmanaged]]:
    """Changes for everything declared, and deletions of what we manage but no longer declare (except `keep`)."""
    changes: list[Change] = []
    wanted = {r.address for r in resolved} | keep
    for resource in resolved:
        live = observed.get(resource.address)
        if live is None:
            changes.append(_create(resource, desired, observed, errors))
            continue
        declared = {k: v for k, v in resource.properties.items()
                    if not (v is None and k in AZURE_DEFAULTS.get(resource.kind, ()))}
        if resource.kind is Kind.RESOURCE_GROUP:  # create-only: an existing group (often not ours) keeps its tags
            declared = {k: v for k, v in declared.items() if k != "tags"}
        fields = diff_properties(declared, live.resource.properties)
        fixed = [f for f in fields if f.path.split(".")[0] in FIXED_FIELDS.get(resource.kind, ())]
        if fixed:
            errors.append(f"{resource.address}: {', '.join(f.path for f in fixed)} cannot change on an existing "
                          f"{resource.kind.value.replace('_', ' ')} ({_describe(fixed)}); choose a new name, or "
                          "destroy it first")
            continue
        replace_keys = REPLACE_FIELDS.get(resource.kind, set())
        fields = [FieldChange(f.path, f.before, f.after, f.path.split(".")[0] in replace_keys) for f in fields]
        if any(f.forces_replace for f in fields):
            if resource.prevent_destroy:
                errors.append(f"{resource.address}: has prevent_destroy, but changing "
                              f"{', '.join(f.path for f in fields if f.forces_replace)} means replacing it")
            changes.append(_change(resource, Action.REPLACE, live.resource.properties, fields,
                                   reason=f"{', '.join(f.path for f in fields if f.forces_replace)} cannot be "
                                          "changed in place",
                                   notes=(f"{resource.address} is deleted and created again: requests to it fail "
                                          "until the new deployment is ready",)))
        elif fields:
            changes.append(_change(resource, Action.UPDATE, live.resource.properties, fields,
                                   reason="differs from the spec"))
        else:
            changes.append(_change(resource, Action.NOOP, live.resource.properties, [], reason="up to date"))
    unmanaged: list[Unmanaged] = []
    for address, live in sorted(observed.resources.items()):
        if address in wanted or live.resource.kind in (Kind.ACCOUNT, Kind.RESOURCE_GROUP):
            continue
        if _owned(live.resource.properties, desired.spec_name):
            changes.append(Change(kind=live.resource.kind, name=live.resource.name, scope=live.resource.scope,
                                  action=Action.DELETE, before=_plain(live.resource.properties), after=None,
                                  reason="managed by this spec but no longer in it"))
        else:
            unmanaged.append(Unmanaged(live.resource.kind, live.resource.name, live.resource.scope))
    return changes, unmanaged


def _create(resource: Resource, desired: DesiredState, observed: ObservedState, errors: list[str]) -> Change:
    notes: tuple[str, ...] = ()
    options: dict[str, Any] = {}
    if resource.kind is Kind.ACCOUNT and resource.name in observed.soft_deleted:
        deleted = observed.soft_deleted[resource.name]
        choice = desired.on_soft_deleted.get(resource.name, "fail")
        if choice == "fail":
            errors.append(
                f"{resource.address}: a soft-deleted account with this name exists (deleted "
                f"{deleted.deletion_date or 'recently'}, purged automatically {deleted.scheduled_purge_date or 'later'}); "
                "set `on_soft_deleted: restore` on the account to bring it back, or `on_soft_deleted: purge` to "
                "delete it for good and create a new one")
        notes = (f"a soft-deleted account with this name exists: it will be "
                 f"{'restored' if choice == 'restore' else 'purged first'}",)
        options = {"on_soft_deleted": choice}
    change = _change(resource, Action.CREATE, None, [], reason="does not exist", notes=notes)
    return replace(change, options=options) if options else change


def _destroy_changes(resolved: list[Resource], observed: ObservedState, spec_name: str, include_accounts: bool,
                     purge: bool, errors: list[str]) -> list[Change]:
    kinds = DESTROYABLE | ({Kind.ACCOUNT} if include_accounts else set())
    changes = []
    for resource in resolved:
        live = observed.get(resource.address)
        if live is None or resource.kind not in kinds:
            continue
        if not _owned(live.resource.properties, spec_name):
            continue  # never delete what we did not create
        if resource.prevent_destroy:
            errors.append(f"{resource.address}: has prevent_destroy: true; remove it from the spec first if you "
                          "really mean to destroy it")
        changes.append(Change(kind=resource.kind, name=resource.name, scope=resource.scope, action=Action.DELETE,
                              before=_plain(live.resource.properties), after=None,
                              reason="destroy" + (" and purge" if purge and resource.kind is Kind.ACCOUNT else ""),
                              depends_on=resource.depends_on, prevent_destroy=resource.prevent_destroy,
                              options={"purge": True} if purge and resource.kind is Kind.ACCOUNT else {}))
    return changes


def _owned(properties: Mapping[str, Any], spec_name: str) -> bool:
    tags = properties.get("tags") or {}
    return is_managed(tags) and tags.get(SPEC_TAG) == spec_name


def _change(resource: Resource, action: Action, before: Mapping[str, Any] | None, fields: list[FieldChange], *,
            reason: str, notes: tuple[str, ...] = ()) -> Change:
    return Change(kind=resource.kind, name=resource.name, scope=resource.scope, action=action,
                  before=_plain(before) if before is not None else None, after=_plain(resource.properties),
                  fields=tuple(fields), reason=reason, depends_on=resource.depends_on,
                  prevent_destroy=resource.prevent_destroy, notes=notes)


def diff_properties(desired: Mapping[str, Any], observed: Mapping[str, Any], prefix: str = "") -> list[FieldChange]:
    """Left-scoped: every key the desired side declares, recursing into mappings."""
    changes: list[FieldChange] = []
    for key, want in desired.items():
        have = observed.get(key)
        path = f"{prefix}{key}"
        if isinstance(want, Mapping) and (have is None or isinstance(have, Mapping)):
            changes.extend(diff_properties(want, have or {}, path + "."))
        elif _plain(want) != _plain(have):
            changes.append(FieldChange(path, _plain(have), _plain(want)))
    return changes


def _describe(fields: list[FieldChange]) -> str:
    return ", ".join(f"{f.before!r} → {f.after!r}" for f in fields)


def _select(changes: list[Change], targets: tuple[str, ...], errors: list[str]) -> list[Change]:
    """Keep the targeted changes and what they depend on (like terraform -target)."""
    if not targets:
        return changes
    by_address = {c.address: c for c in changes}
    selected: set[str] = set()
    for target in targets:
        account, _, deployment = target.partition("/")
        matches = [a for a in by_address
                   if (deployment and a == f"{account}/deployments/{deployment}")
                   or (not deployment and (a == account or a.startswith(account + "/")))]
        if not matches:
            errors.append(f"--target {target}: matches nothing in the spec (use ACCOUNT or ACCOUNT/DEPLOYMENT)")
        selected.update(matches)
    pending = list(selected)
    while pending:
        for dependency in by_address[pending.pop()].depends_on:
            if dependency in by_address and dependency not in selected:
                selected.add(dependency)
                pending.append(dependency)
    return [c for c in changes if c.address in selected]
