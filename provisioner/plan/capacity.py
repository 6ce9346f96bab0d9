"""Quota and lifecycle at plan time: what other tools find out halfway through apply.

Pure functions over the plan and the regions' catalogs and usages (read once per
subscription and region): the net capacity a plan asks of each quota, whether each
model, version, SKU and capacity is offered, how close pinned versions are to
retirement, and how much a flexible `capacity: {min, max}` gets.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from provisioner.errors import PlanError
from provisioner.model.observed import ObservedState, RegionInfo, SkuOffer
from provisioner.model.resources import Kind, Resource
from provisioner.plan.model import Action, Change


@dataclass(frozen=True)
class Shortfall:
    """A quota this plan would exceed."""

    subscription: str
    region: str
    usage: str
    localized: str
    limit: int
    in_use: int
    requested: int  # net, by this plan
    deployments: tuple[str, ...]  # the addresses asking for more

    @property
    def short_by(self) -> int:
        return self.in_use + self.requested - self.limit


@dataclass(frozen=True)
class Unavailable:
    """A deployment whose model, version, SKU or capacity the region does not offer."""

    address: str
    subscription: str
    region: str
    model_format: str
    model: str
    version: str
    sku: str
    reason: str


@dataclass(frozen=True)
class Findings:
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    shortfalls: tuple[Shortfall, ...] = ()
    unavailable: tuple[Unavailable, ...] = ()


class CapacityError(PlanError):
    """The plan would fail in Azure for quota or availability; carries the details to show."""

    def __init__(self, errors: list[str], findings: Findings):
        self.findings = findings
        # (format, model, version) -> SKU -> [(region, available)]: where what is missing is offered,
        # filled in by whoever can ask Azure (the workspace)
        self.offered: Mapping[tuple[str, str, str], Mapping[str, list[tuple[str, int]]]] = {}
        lines = list(errors)
        lines += [f"{u.address}: {u.reason}" for u in findings.unavailable]
        lines += [f"quota {s.usage} in {s.region}: limit {s.limit}, in use {s.in_use}, this plan asks "
                  f"{s.requested} more, short by {s.short_by} ({', '.join(s.deployments)})" for s in findings.shortfalls]
        super().__init__("the plan cannot be made:\n  " + "\n  ".join(lines),
                         hint="`provision quota` shows where capacity is available")


def usage_of(region: RegionInfo | None, props: Mapping[str, Any]) -> SkuOffer | None:
    if region is None:
        return None
    offer = region.offer(props.get("format") or "OpenAI", props.get("model") or "", props.get("version"))
    return offer.sku(props.get("sku") or "") if offer else None


def resolve_flexible(resources: list[Resource], fixed_changes: list[Change], observed: ObservedState,
                     regions_of: Mapping[str, str], errors: list[str]) -> tuple[list[Resource], dict[str, str]]:
    """Give each `capacity: {min, max}` deployment as much as its quota has left (after the plan's fixed
    changes), up to max and in the SKU's steps; an error when not even min is left.
    Returns the resources with numbers, and a note per flexible address."""
    net = net_usage(fixed_changes, observed, regions_of)
    notes: dict[str, str] = {}
    resolved = []
    for resource in resources:
        bounds = resource.properties.get("capacity") if resource.kind is Kind.DEPLOYMENT else None
        if not isinstance(bounds, Mapping):
            resolved.append(resource)
            continue
        region = observed.region(resource.scope.subscription, regions_of.get(resource.scope.account or "", ""))
        sku = usage_of(region, resource.properties)
        if sku is None or sku.usage_name is None or region is None or sku.usage_name not in region.usages:
            errors.append(f"{resource.address}: flexible capacity needs the quota of "
                          f"{resource.properties.get('model')} {resource.properties.get('sku')} in "
                          f"{regions_of.get(resource.scope.account or '')}, which Azure did not report; set a number")
            resolved.append(resource)
            continue
        usage = region.usages[sku.usage_name]
        live = observed.get(resource.address)
        own = _capacity_in(live.resource.properties, sku.usage_name, region) if live else 0
        available = usage.limit - usage.current - net.get((region.subscription, region.region, sku.usage_name), 0) + own
        ceiling = min(bounds["max"], sku.maximum or bounds["max"], max(available, 0))
        chosen = ceiling - ceiling % sku.step if sku.step > 1 else ceiling
        if chosen < max(bounds["min"], sku.minimum):
            errors.append(f"{resource.address}: flexible capacity {{min: {bounds['min']}, max: {bounds['max']}}} "
                          f"cannot be met: quota {sku.usage_name} has {max(available, 0)} left in "
                          f"{region.region} (limit {usage.limit}, in use {usage.current})")
            resolved.append(resource)
            continue
        key = (region.subscription, region.region, sku.usage_name)
        net[key] = net.get(key, 0) + chosen - own
        notes[resource.address] = (f"capacity {chosen} chosen from {{min: {bounds['min']}, max: {bounds['max']}}}: "
                                   f"quota {sku.usage_name} has {max(available, 0)} available")
        resolved.append(Resource(kind=resource.kind, name=resource.name, scope=resource.scope,
                                 properties={**resource.properties, "capacity": chosen},
                                 depends_on=resource.depends_on, prevent_destroy=resource.prevent_destroy,
                                 source=resource.source))
    return resolved, notes


def _capacity_in(props: Mapping[str, Any], usage_name: str, region: RegionInfo) -> int:
    sku = usage_of(region, props)
    capacity = props.get("capacity")
    return capacity if sku is not None and sku.usage_name == usage_name and isinstance(capacity, int) else 0


def net_usage(changes: list[Change], observed: ObservedState,
              regions_of: Mapping[str, str]) -> dict[tuple[str, str, str], int]:
    """Capacity each quota gains (+) or frees (-) across these changes: creations and increases minus
    deletions and decreases; a replace frees the old and takes the new."""
    net: dict[tuple[str, str, str], int] = {}
    for change in changes:
        if change.kind is not Kind.DEPLOYMENT or change.action is Action.NOOP:
            continue
        region = observed.region(change.scope.subscription, regions_of.get(change.scope.account or "", ""))
        if region is None:
            continue
        for props, sign in ((change.before, -1), (change.after, +1)):
            sku = usage_of(region, props or {})
            capacity = (props or {}).get("capacity")
            if sku is not None and sku.usage_name and isinstance(capacity, int):
                key = (region.subscription, region.region, sku.usage_name)
                net[key] = net.get(key, 0) + sign * capacity
    return net


def check(changes: list[Change], desired: list[Resource], observed: ObservedState, regions_of: Mapping[str, str],
          *, retirement_warning_days: int = 90, now: datetime | None = None) -> Findings:
    now = now or datetime.now(timezone.utc)
    errors: list[str] = []
    warnings: list[str] = []
    unavailable = [u for c in changes if (u := _availability(c, observed, regions_of)) is not None]
    for resource in desired:
        _lifecycle(resource, observed, regions_of, now, retirement_warning_days, errors, warnings)
    return Findings(errors=tuple(errors), warnings=tuple(warnings),
                    shortfalls=tuple(_shortfalls(changes, observed, regions_of)), unavailable=tuple(unavailable))


def _availability(change: Change, observed: ObservedState, regions_of: Mapping[str, str]) -> Unavailable | None:
    if change.kind is not Kind.DEPLOYMENT or change.action not in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.ADOPT):
        return None
    props = change.after or {}
    region_name = regions_of.get(change.scope.account or "", "")
    region = observed.region(change.scope.subscription, region_name)
    if region is None or not region.models:
        return None  # Azure reported no catalog for the region: nothing to judge by
    model_format, model, version, sku_name = (props.get("format") or "OpenAI", props.get("model") or "",
                                              props.get("version") or "", props.get("sku") or "")

    def unavailable(reason: str) -> Unavailable:
        return Unavailable(change.address, change.scope.subscription, region_name, model_format, model, version,
                           sku_name, reason)

    offer = region.offer(model_format, model, version)
    if offer is None:
        known = sorted(m.version for m in region.models if m.format == model_format and m.name == model)
        return unavailable(f"{model} {version} is not offered in {region_name}"
                           + (f" (it offers {', '.join(known)})" if known else ""))
    sku = offer.sku(sku_name)
    if sku is None:
        return unavailable(f"{model} {version} is not offered as {sku_name} in {region_name} "
                           f"(it is offered as {', '.join(s.name for s in offer.skus) or 'nothing'})")
    capacity = props.get("capacity")
    if isinstance(capacity, int):
        if capacity < sku.minimum or (sku.maximum is not None and capacity > sku.maximum):
            return unavailable(f"capacity {capacity} is outside {sku.minimum}..{sku.maximum} for {sku_name}")
        if capacity % sku.step:
            return unavailable(f"capacity {capacity} is not a multiple of {sku.step} for {sku_name} "
                               f"(nearest: {capacity - capacity % sku.step or sku.step} or "
                               f"{capacity - capacity % sku.step + sku.step})")
    return None


def _lifecycle(resource: Resource, observed: ObservedState, regions_of: Mapping[str, str], now: datetime,
               warning_days: int, errors: list[str], warnings: list[str]) -> None:
    """Pinned versions near or past retirement; `upgrade: never` on a version that will retire."""
    props = resource.properties
    if resource.kind is not Kind.DEPLOYMENT or props.get("version") is None:
        return
    region = observed.region(resource.scope.subscription, regions_of.get(resource.scope.account or "", ""))
    offer = region.offer(props.get("format") or "OpenAI", props["model"], props["version"]) if region else None
    if offer is None or not offer.retires:
        return
    retires = datetime.fromisoformat(offer.retires.replace("Z", "+00:00"))
    instead = f"; the catalog suggests {offer.replacement}" if offer.replacement else ""
    label = f"{resource.address}: {props['model']} {props['version']}"
    if retires <= now:
        errors.append(f"{label} was retired on {retires.date()}{instead}")
    elif retires <= now + timedelta(days=warning_days):
        warnings.append(f"{label} retires on {retires.date()} (in {(retires - now).days} days){instead}")
    if props.get("upgrade") == "never" and retires > now:
        warnings.append(f"{label} has `upgrade: never` but retires on {retires.date()}: it will stop serving "
                        f"then{instead}")


def _shortfalls(changes: list[Change], observed: ObservedState, regions_of: Mapping[str, str]) -> list[Shortfall]:
    net = net_usage(changes, observed, regions_of)
    shortfalls = []
    for (subscription, region_name, usage_name), requested in sorted(net.items()):
        region = observed.region(subscription, region_name)
        usage = region.usages.get(usage_name) if region else None
        if usage is None or requested <= 0 or usage.current + requested <= usage.limit:
            continue
        # only the changes that take more of this quota: a decrease or a replace that moves to another
        # quota frees capacity here and is not asking for any
        key = (subscription, region_name, usage_name)
        asking = tuple(c.address for c in changes if net_usage([c], observed, regions_of).get(key, 0) > 0)
        shortfalls.append(Shortfall(subscription, region_name, usage_name, usage.localized, usage.limit,
                                    usage.current, requested, asking))
    return shortfalls
