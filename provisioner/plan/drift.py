"""Drift: what changed in Azure since the spec was applied, read from a plan of the applied spec.

provision keeps no state file, so "since the spec was applied" is read from Azure itself. Run
against the spec that was applied (the default branch, in a scheduled job), a plan's changes
are what Azure no longer has as applied:

- changed: a resource this spec manages differs from the spec (an update or replace), or is no
  longer Succeeded: someone changed it outside provision;
- missing: a declared resource does not exist: deleted outside provision (or never applied);
- untagged: a declared resource exists without our ownership tags (made again by hand, or its
  tags were removed): the plan would adopt it;
- appeared: a resource on the spec's accounts that no spec of ours manages and that was created
  after the last apply. The last apply is the newest `systemData.lastModifiedAt` among the
  resources this spec manages that still match it (each was last written by provision, since
  nothing else has changed it since); without one, every unmanaged resource counts.

Deletions in the plan (managed by this spec, no longer declared) are a change of the spec not
yet applied, not of Azure, and are left to `plan`. Pure: no I/O.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from provisioner.model.observed import ObservedState
from provisioner.plan.model import Action, FieldChange, Plan

KINDS = ("changed", "missing", "untagged", "appeared")
REASON = {"changed": "changed outside provision", "missing": "deleted outside provision, or never applied",
          "untagged": "exists without ownership tags (made again by hand, or its tags were removed)",
          "appeared": "created outside provision since the last apply"}


@dataclass(frozen=True)
class DriftItem:
    address: str
    kind: str  # resource kind: account, deployment, ...
    drift: str  # one of KINDS
    fields: tuple[FieldChange, ...] = ()
    created_at: str | None = None  # for `appeared`


@dataclass(frozen=True)
class Drift:
    spec_file: str
    spec_name: str
    since: str | None  # the last apply, as far as Azure tells (None: unknown)
    items: tuple[DriftItem, ...]

    @property
    def drifted(self) -> bool:
        return bool(self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"spec": {"file": self.spec_file, "name": self.spec_name}, "since": self.since,
                "drifted": self.drifted, "summary": {k: sum(1 for i in self.items if i.drift == k) for k in KINDS},
                "items": [{"address": i.address, "kind": i.kind, "drift": i.drift, "reason": REASON[i.drift],
                           "fields": [{"path": f.path, "applied": f.after, "live": f.before} for f in i.fields],
                           "created_at": i.created_at} for i in self.items]}


def detect(plan: Plan, observed: ObservedState) -> Drift:
    """The drift in `plan` (a plan of the applied spec against `observed`, the state it was made from)."""
    items: list[DriftItem] = []
    for change in plan.pending:
        kind = change.kind.value
        if change.action in (Action.UPDATE, Action.REPLACE):
            items.append(DriftItem(change.address, kind, "changed", change.fields))
        elif change.action is Action.CREATE:
            items.append(DriftItem(change.address, kind, "missing"))
        elif change.action is Action.ADOPT:
            items.append(DriftItem(change.address, kind, "untagged", change.fields))
    since = last_apply(plan, observed)
    for unmanaged in plan.unmanaged:
        live = observed.get(unmanaged.address)
        created = live.created_at if live is not None else None
        if since is None or _moment(created) is None or _moment(created) > _moment(since):
            items.append(DriftItem(unmanaged.address, unmanaged.kind.value, "appeared", created_at=created))
    return Drift(plan.spec_file, plan.spec_name, since, tuple(items))


def last_apply(plan: Plan, observed: ObservedState) -> str | None:
    """The newest lastModifiedAt among the resources this spec manages that match the spec."""
    unchanged = [observed.get(c.address) for c in plan.changes if c.action is Action.NOOP]
    stamps = [o.modified_at for o in unchanged if o is not None and o.managed and _moment(o.modified_at)]
    return max(stamps, key=_moment) if stamps else None


def _moment(stamp: str | None) -> datetime | None:
    """ARM timestamps have up to 7 fractional digits ("...46.1234567Z"); Python reads up to 6.
    None for a missing or unreadable one."""
    if not stamp:
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", stamp.strip()).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
