"""The differ: a pure function from (desired, observed) to a Plan.

Comparison is left-scoped: only what the spec declares is compared, so fields
Azure fills in (or tags someone else adds) never show up as drift. A resource
whose provisioningState is Failed or Canceled differs from the spec even when
its properties match: it is written again (repaired). Ownership decides what
may be written at all: a resource another spec manages is never touched, and
nothing is deleted, directly or with its parent, unless this spec manages it. A declared
resource that exists without ownership tags (made in the portal, by a script) is adopted:
its own action, writing our tags and any real differences, or a plan error when adoption
is off (`adopt: false`, `--no-adopt`), as Terraform's "already exists".
No I/O here.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Iterable, Mapping

from provisioner.errors import PlanError
from provisioner.model.observed import ObservedResource, ObservedState
from provisioner.model.resources import (
    ADDRESS_SEGMENT,
    REFERENCES,
    DesiredState,
    Kind,
    Resource,
    address_of,
    owner_of,
    owner_of_resource,
)
from provisioner.plan import capacity
from provisioner.plan.model import Action, Change, FieldChange, Plan, Unmanaged, _plain

# Fields Azure cannot change in place: changing them means delete and create again. (A role assignment's
# scope, principal and role are in its name, so only its principal type can differ under the same name.)
REPLACE_FIELDS = {Kind.DEPLOYMENT: {"model", "format", "sku"},
                  Kind.PRIVATE_ENDPOINT: {"location", "subnet", "target", "group_id"},
                  Kind.ROLE_ASSIGNMENT: {"scope", "principal", "principal_type", "role"}}
# Fields that would need the account itself replaced: we refuse rather than delete every deployment.
FIXED_FIELDS = {Kind.ACCOUNT: {"location", "kind", "custom_subdomain"}}
ORDER = [Kind.RESOURCE_GROUP, Kind.ACCOUNT, Kind.BLOCKLIST, Kind.RAI_POLICY, Kind.DEPLOYMENT, Kind.PRIVATE_ENDPOINT,
         Kind.DIAGNOSTIC_SETTING, Kind.ROLE_ASSIGNMENT]
# Left to Azure when the spec says nothing (None): never compared, so Azure's default is no drift.
AZURE_DEFAULTS = {Kind.DEPLOYMENT: {"content_filter"},
                  Kind.ACCOUNT: {"network", "identity", "restrict_outbound", "allowed_fqdns"}}
# What `destroy` removes; accounts only with include_accounts, resource groups never.
DESTROYABLE = {Kind.DEPLOYMENT, Kind.RAI_POLICY, Kind.BLOCKLIST, Kind.PRIVATE_ENDPOINT, Kind.DIAGNOSTIC_SETTING,
               Kind.ROLE_ASSIGNMENT}
# What lives on an account (its children in Azure, and what attaches to it from outside): deleted before it.
CHILD_KINDS = (Kind.DEPLOYMENT, Kind.RAI_POLICY, Kind.BLOCKLIST, Kind.PRIVATE_ENDPOINT, Kind.DIAGNOSTIC_SETTING,
               Kind.ROLE_ASSIGNMENT)
# provisioningStates after which a resource does not serve until it is written again (ARM-FACTS §1)
BROKEN_STATES = {"failed", "canceled"}
STATE_FIELD = "provisioning_state"  # a pseudo-field: a repair shows as provisioning_state Failed → Succeeded


def make_plan(desired: DesiredState, observed: ObservedState, *, spec_file: str, spec_digest: str,
              destroy: bool = False, include_accounts: bool = False, purge: bool = False,
              delete_unowned: bool = False, targets: Iterable[str] = (), retirement_warning_days: int = 90,
              adopt: bool = True, now: datetime | None = None) -> Plan:
    """`adopt`: False refuses adoption as the spec's `adopt: false` does."""
    targets = tuple(targets)
    errors: list[str] = []
    regions = {r.name: r.properties["location"] for r in desired.resources if r.kind is Kind.ACCOUNT}
    resolved = [_resolve_version(r, observed, regions, errors) for r in desired.resources]
    findings = capacity.Findings()
    _check_references(resolved, observed, errors)
    if destroy:
        changes = _destroy_changes(resolved, desired, observed, include_accounts, purge, delete_unowned, errors)
        unmanaged: list[Unmanaged] = []
    else:
        resolved, notes = _resolve_capacities(resolved, desired, observed, regions, errors)
        changes, unmanaged = _apply_changes(resolved, desired, observed, errors)
        changes = [replace(c, notes=c.notes + (notes[c.address],)) if c.address in notes else c for c in changes]
    changes = [_with_connection(_with_identities(c, observed), observed) for c in changes]
    changes = _select(changes, targets, errors)
    errors.extend(_prevented(changes))
    if not (adopt and desired.adopt):
        errors.extend(_refused_adoptions(changes))
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
                destroy=destroy, targets=targets, include_accounts=include_accounts, purge=purge,
                delete_unowned=delete_unowned, environment=desired.environment)


def resolve(desired: DesiredState, observed: ObservedState) -> list[Resource]:
    """The desired resources with everything the spec leaves open filled in, as a plan would
    (versions, flexible capacities): what `export` writes into templates. A grant that another role
    assignment already gives is left out, as the plan leaves it alone: a template creating it again
    would fail with RoleAssignmentExists."""
    errors: list[str] = []
    regions = {r.name: r.properties["location"] for r in desired.resources if r.kind is Kind.ACCOUNT}
    resolved = [_resolve_version(r, observed, regions, errors) for r in desired.resources]
    resolved, _ = _resolve_capacities(resolved, desired, observed, regions, errors)
    if errors:
        raise PlanError("the desired state cannot be resolved:\n  " + "\n  ".join(errors))
    return [r for r in resolved if observed.get(r.address) is not None or _granted_elsewhere(r, observed) is None]


def differences(kind: Kind, desired: Mapping[str, Any], observed: Mapping[str, Any]) -> list[FieldChange]:
    """What differs between desired and observed properties of one resource, by the differ's rules
    (left-scoped; what the spec leaves to Azure is not compared; a resource group's tags are its own).
    The Azure layer uses the same rules to tell whether a write already happened."""
    declared = {k: v for k, v in desired.items() if not (v is None and k in AZURE_DEFAULTS.get(kind, ()))}
    for key in REFERENCES.get(kind, {}):  # names of other resources: `STRICT` is the live `strict`
        want, have = declared.get(key), observed.get(key)
        if _names(want) is not None and _names(want) == _names(have):
            declared[key] = have
    if kind is Kind.RESOURCE_GROUP:  # create-only: an existing group (often not ours) keeps its tags, and its
        declared.pop("tags", None)  # location (the first account's) need not be its accounts' region
        declared.pop("location", None)
    return diff_properties(declared, observed)


def _names(value: Any) -> tuple[str, ...] | None:
    """A name, or a list of names, as ARM compares them: without case (and a list in any order)."""
    if isinstance(value, str):
        return (value.lower(),)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(sorted(v.lower() for v in value))
    return None


def broken(observed: ObservedResource) -> bool:
    return (observed.provisioning_state or "").lower() in BROKEN_STATES


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


def _check_references(resolved: list[Resource], observed: ObservedState, errors: list[str]) -> None:
    for resource in resolved:
        if resource.reference and observed.get(resource.address) is None:
            errors.append(f"{resource.address}: the spec says `existing: true`, but there is no such "
                          f"{resource.kind.value.replace('_', ' ')} in resource group {resource.scope.resource_group}; "
                          "create it first (with the spec that owns it), or drop `existing`")


def _apply_changes(resolved: list[Resource], desired: DesiredState, observed: ObservedState,
                   errors: list[str], keep: frozenset[str] = frozenset()) -> tuple[list[Change], list[Unmanaged]]:
    """Changes for everything declared, and deletions of what we manage but no longer declare (except `keep`)."""
    changes: list[Change] = []
    wanted = {r.address for r in resolved} | keep
    for resource in resolved:
        if resource.reference:
            continue  # read, never written
        live = observed.get(resource.address)
        if live is None:
            granted = _granted_elsewhere(resource, observed)
            if granted is None:
                changes.append(_create(resource, desired, observed, errors))
                continue
            # the assignment that grants it is not pruned, even when this spec made it under another name
            # (before assignments were named by guid()): deleting it would take the access away
            wanted.add(granted.resource.address)
            whose = "this spec's, under an earlier name" if _owner(granted, desired.spec_name) == desired.spec_name \
                else "which this spec does not manage"
            changes.append(_change(resource, Action.NOOP, None, [], reason=f"granted already by role assignment "
                                   f"{granted.resource.name}, {whose}"))
            continue
        other = _foreign_owner(live, desired.spec_name, resource.kind)
        if other is not None:
            errors.append(f"{resource.address}: is managed by spec '{other}', not by '{desired.spec_name}': a "
                          "resource belongs to one spec; rename it here, or remove it from one of the specs "
                          "(see \"Sharing an account\" in the README)")
            continue
        fields = differences(resource.kind, resource.properties, live.resource.properties)
        fixed = [f for f in fields if f.path.split(".")[0] in FIXED_FIELDS.get(resource.kind, ())]
        if fixed:
            errors.append(f"{resource.address}: {', '.join(f.path for f in fixed)} cannot change on an existing "
                          f"{resource.kind.value.replace('_', ' ')} ({_describe(fixed)}); choose a new name, or "
                          "destroy it first")
            continue
        replace_keys = REPLACE_FIELDS.get(resource.kind, set())
        fields = [FieldChange(f.path, f.before, f.after, f.path.split(".")[0] in replace_keys) for f in fields]
        repair = broken(live)
        if repair:
            fields.append(FieldChange(STATE_FIELD, live.provisioning_state, "Succeeded"))
        if any(f.forces_replace for f in fields):
            replacing = ", ".join(f.path for f in fields if f.forces_replace)
            if _owner(live, desired.spec_name) != desired.spec_name:
                what = resource.kind.value.replace("_", " ")
                errors.append(f"{resource.address}: changing {replacing} means deleting and creating it again, "
                              "but it exists without this spec's ownership tags; provision never deletes what it "
                              f"does not manage: delete it yourself, or give the {what} another name")
            changes.append(_change(resource, Action.REPLACE, live.resource.properties, fields,
                                   reason=f"{replacing} cannot be changed in place",
                                   notes=(f"{resource.address} is deleted and created again: requests to it fail "
                                          "until the new deployment is ready",)))
        elif _unowned(live, resource.kind, desired.spec_name):
            changes.append(_change(resource, Action.ADOPT, live.resource.properties, fields,
                                   reason="exists without ownership tags: adopted by this spec"))
        elif fields:
            reason = (f"provisioning state is {live.provisioning_state}: written again to repair it" if repair
                      else "differs from the spec")
            changes.append(_change(resource, Action.UPDATE, live.resource.properties, fields, reason=reason))
        else:
            changes.append(_change(resource, Action.NOOP, live.resource.properties, [], reason="up to date"))
    unmanaged: list[Unmanaged] = []
    for address, live in sorted(observed.resources.items()):
        if address in wanted or live.resource.kind in (Kind.ACCOUNT, Kind.RESOURCE_GROUP):
            continue
        if _owner(live, desired.spec_name) == desired.spec_name:
            reason = "managed by this spec but no longer in it"
            if live.resource.kind is Kind.ROLE_ASSIGNMENT:  # its name says nothing: say what it grants
                reason += f" (grants {_grant_text(live.resource.properties)})"
            changes.append(_delete(live, reason=reason))
        else:
            unmanaged.append(Unmanaged(live.resource.kind, live.resource.name, live.resource.scope))
    return _pair_replaced_grants(changes), unmanaged


def _with_identities(change: Change, observed: ObservedState) -> Change:
    """An account's managed identities and their principal ids (what grants elsewhere name), as notes:
    known once Azure has made them, "known after apply" before."""
    if change.kind is not Kind.ACCOUNT or change.action is Action.DELETE:
        return change
    wanted = (change.after or {}).get("identity") or {}
    live = observed.get(change.address)
    have = (live.resource.properties.get("identity") or {}) if live is not None else {}
    notes = []
    if wanted.get("system_assigned") or have.get("system_assigned"):
        principal = have.get("principal_id") if have.get("system_assigned") else None
        notes.append(f"system-assigned identity: principal id {principal or 'known after apply'}")
    principals = have.get("user_assigned_principals") or {}
    for identity in sorted(set(wanted.get("user_assigned") or ()) | set(principals)):
        notes.append(f"user-assigned identity {identity.rsplit('/', 1)[-1]}: principal id "
                     f"{principals.get(identity) or 'known after apply'}")
    return replace(change, notes=change.notes + tuple(notes)) if notes else change


def _with_connection(change: Change, observed: ObservedState) -> Change:
    """A private endpoint's connection to the account as Azure shows it: Approved, or Pending until the
    account's owner approves it (an endpoint from another tenant or without the right to approve)."""
    live = observed.get(change.address)
    if change.kind is not Kind.PRIVATE_ENDPOINT or change.action is Action.DELETE or live is None:
        return change
    state = live.resource.properties.get("connection_state")
    if not state:
        return change
    note = f"connection to the account: {state}" + ("" if state == "Approved" else
                                                    " (it carries no traffic until it is approved on the account)")
    return replace(change, notes=change.notes + (note,))


def _owner(live: ObservedResource, spec_name: str) -> str | None:
    """The spec that manages a live resource (tags; a role assignment's description; a diagnostic setting's
    name), as far as the resource itself says."""
    resource = live.resource
    return owner_of_resource(resource.kind, resource.name, resource.properties, spec_name, live.account_owner)


def _unowned(live: ObservedResource, kind: Kind, spec_name: str) -> bool:
    """Exists without our ownership tags, so writing it takes it over (resource groups are nobody's; a
    diagnostic setting is ours by the name the spec declares)."""
    if kind in (Kind.RESOURCE_GROUP, Kind.DIAGNOSTIC_SETTING):
        return False
    return _owner(live, spec_name) is None


def _granted_elsewhere(resource: Resource, observed: ObservedState) -> ObservedResource | None:
    """A role assignment under another name that grants the same role to the same principal on the same
    scope: Azure refuses a second one (409 RoleAssignmentExists), and the access is there already."""
    if resource.kind is not Kind.ROLE_ASSIGNMENT:
        return None
    grant = {k: resource.properties.get(k) for k in ("scope", "principal", "role")}
    return next((live for live in observed.resources.values() if live.resource.kind is Kind.ROLE_ASSIGNMENT
                 and {k: live.resource.properties.get(k) for k in grant} == grant), None)


def _pair_replaced_grants(changes: list[Change]) -> list[Change]:
    """A changed grant is a new role assignment and the deletion of the old one (assignments cannot
    change): each says which other it goes with, matched on the same scope and principal (the role
    changed) or the same scope and role (the principal changed)."""
    created = [c for c in changes if c.kind is Kind.ROLE_ASSIGNMENT and c.action is Action.CREATE]
    deleted = [c for c in changes if c.kind is Kind.ROLE_ASSIGNMENT and c.action is Action.DELETE]
    notes: dict[str, str] = {}
    for same in (("scope", "principal"), ("scope", "role")):
        for new in created:
            old = next((d for d in deleted if d.address not in notes and new.address not in notes
                        and all((d.before or {}).get(k) == (new.after or {}).get(k) for k in same)), None)
            if old is not None:
                notes[new.address] = f"replaces {old.address} ({_grant_text(old.before)}): a role assignment " \
                                     "cannot change, so the old one is deleted and this one created"
                notes[old.address] = f"replaced by {new.address} ({_grant_text(new.after)})"
    return [replace(c, notes=c.notes + (notes[c.address],)) if c.address in notes else c for c in changes]


def _grant_text(properties: Mapping[str, Any] | None) -> str:
    p = properties or {}
    kind = {"ServicePrincipal": "service principal"}.get(p.get("principal_type") or "",
                                                        (p.get("principal_type") or "principal").lower())
    return f"{p.get('role_name') or p.get('role')} for {kind} {p.get('principal')}"


def _refused_adoptions(changes: list[Change]) -> list[str]:
    adopted = [c.address for c in changes if c.action is Action.ADOPT]
    if not adopted:
        return []
    return [f"{', '.join(adopted)}: already exist{'s' if len(adopted) == 1 else ''} without ownership tags, and "
            "adoption is off (`adopt: false` in the spec, or --no-adopt); let this spec adopt "
            f"{'it' if len(adopted) == 1 else 'them'} (drop --no-adopt, or set `adopt: true`), write the spec from "
            "them with `provision import`, or choose other names"]


def _foreign_owner(live: ObservedResource, spec_name: str, kind: Kind) -> str | None:
    """The other spec that manages this live resource, if any (resource groups are nobody's)."""
    if kind is Kind.RESOURCE_GROUP:
        return None
    owner = _owner(live, spec_name)
    return owner if owner is not None and owner != spec_name else None


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
    reason = f"new grant: {_grant_text(resource.properties)}" if resource.kind is Kind.ROLE_ASSIGNMENT \
        else "does not exist"
    change = _change(resource, Action.CREATE, None, [], reason=reason, notes=notes)
    return replace(change, options=options) if options else change


def _destroy_changes(resolved: list[Resource], desired: DesiredState, observed: ObservedState,
                     include_accounts: bool, purge: bool, delete_unowned: bool, errors: list[str]) -> list[Change]:
    """Everything this spec manages on its accounts (declared or left over), children before parents;
    accounts too with include_accounts, but only when nothing on them belongs to anyone else."""
    spec = desired.spec_name
    accounts = [r for r in resolved if r.kind is Kind.ACCOUNT]
    declared = {r.address: r for r in resolved}
    changes: list[Change] = []
    for account in accounts:
        children = [o for o in observed.resources.values()
                    if o.resource.kind in CHILD_KINDS and o.resource.scope.account == account.name
                    and o.resource.scope.subscription == account.scope.subscription]
        # a diagnostic setting the spec declares under its own name is ours by that name
        named = {o.resource.address for o in children if o.resource.kind is Kind.DIAGNOSTIC_SETTING
                 and o.resource.address in declared and _owner(o, spec) != spec}
        ours = [o for o in children if _owner(o, spec) == spec or o.resource.address in named]
        deletions = [_delete(o, reason="destroy", declared=declared.get(o.resource.address)) for o in ours]
        deletions = [replace(c, options={"declared_name": True}) if c.address in named else c for c in deletions]
        changes += _ordered_deletions(deletions)
        if not include_accounts or account.reference:
            continue
        live = observed.get(account.address)
        if live is None:
            deleted = observed.soft_deleted.get(account.name)
            if purge and deleted is not None and owner_of(deleted.tags) == spec:
                changes.append(Change(kind=Kind.ACCOUNT, name=account.name, scope=account.scope,
                                      action=Action.DELETE, before={"location": deleted.location,
                                                                    "tags": dict(deleted.tags)},
                                      after=None, reason="soft-deleted by an earlier destroy: purge",
                                      prevent_destroy=account.prevent_destroy,
                                      options={"purge": True, "soft_deleted": True}))
            continue
        owner = owner_of(live.resource.properties.get("tags"))
        if owner != spec:
            errors.append(f"{account.address}: the account is {_owned_by(owner)}, so destroy leaves it; drop "
                          "--include-accounts, or destroy it with the spec that manages it")
            continue
        foreign = [o for o in children if o not in ours]
        if foreign and not delete_unowned:
            listing = ", ".join(f"{_relative(o)} ({_owned_by(_owner(o, spec))})"
                                for o in sorted(foreign, key=lambda o: o.resource.address))
            errors.append(f"{account.address}: deleting the account would delete what this spec does not manage: "
                          f"{listing}; delete or move them first, or pass --delete-unowned to delete them with "
                          "the account")
            continue
        options: dict[str, Any] = {"purge": True} if purge else {}
        if foreign:
            options["delete_unowned"] = sorted(_relative(o) for o in foreign)
        changes.append(Change(kind=Kind.ACCOUNT, name=account.name, scope=account.scope, action=Action.DELETE,
                              before=_plain(live.resource.properties), after=None,
                              reason="destroy" + (" and purge" if purge else ""),
                              depends_on=tuple(c.address for c in deletions),
                              prevent_destroy=account.prevent_destroy, options=options))
    vault_grants = [o for o in observed.resources.values() if o.resource.kind is Kind.ROLE_ASSIGNMENT
                    and o.resource.scope.key_vault is not None and _owner(o, spec) == spec]
    changes += [_delete(o, reason="destroy", declared=declared.get(o.resource.address)) for o in vault_grants]
    return changes


def _ordered_deletions(deletions: list[Change]) -> list[Change]:
    """A policy is deleted after the deployments that use it, a blocklist after the policies that use it:
    each deletion depends on the deletions of what uses the resource."""
    users: dict[str, list[str]] = {}
    for change in deletions:
        before = change.before or {}
        if change.kind is Kind.DEPLOYMENT and before.get("content_filter"):
            policy = address_of(Kind.RAI_POLICY, before["content_filter"], change.scope)
            users.setdefault(policy, []).append(change.address)
        if change.kind is Kind.RAI_POLICY:
            for name in before.get("blocklists") or []:
                users.setdefault(address_of(Kind.BLOCKLIST, name, change.scope), []).append(change.address)
    return [replace(c, depends_on=tuple(sorted(users.get(c.address, ())))) for c in deletions]


def _delete(live: ObservedResource, *, reason: str, declared: Resource | None = None) -> Change:
    resource = live.resource
    return Change(kind=resource.kind, name=resource.name, scope=resource.scope, action=Action.DELETE,
                  before=_plain(resource.properties), after=None, reason=reason,
                  prevent_destroy=bool(declared and declared.prevent_destroy))


def _owned_by(owner: str | None) -> str:
    return f"managed by spec '{owner}'" if owner else "not managed by provision"


def _relative(observed: ObservedResource) -> str:
    resource = observed.resource
    return f"{ADDRESS_SEGMENT[resource.kind]}/{resource.name}"


def _prevented(changes: list[Change]) -> list[str]:
    """prevent_destroy, for the changes that are actually in the plan (after --target)."""
    return [f"{c.address}: has prevent_destroy: true, but this plan would "
            f"{'replace' if c.action is Action.REPLACE else 'delete'} it; remove prevent_destroy from the spec "
            "first if you really mean it" for c in changes
            if c.prevent_destroy and c.action in (Action.DELETE, Action.REPLACE)]


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
