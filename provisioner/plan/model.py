"""The plan: an immutable, versioned value that says exactly what apply will do.

It holds data only (no clients, no callables), serialises to the documented
JSON document (`to_dict`) and back (`from_dict`), and the human view is
rendered from that same document.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

from provisioner.model.resources import Kind, Scope, address_of
from provisioner.plan.cost import CostEstimate

FORMAT_VERSION = "1"


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "no-op"
    # exists without ownership tags: take it over (write our tags, and any real differences)
    ADOPT = "adopt"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "no-op": " ", "adopt": ">"}[self.value]


@dataclass(frozen=True)
class FieldChange:
    path: str  # e.g. "capacity", "filters.hate.prompt", "tags.team"
    before: Any
    after: Any
    forces_replace: bool = False


@dataclass(frozen=True)
class Change:
    kind: Kind
    name: str
    scope: Scope
    action: Action
    before: Mapping[str, Any] | None  # observed properties (None when creating)
    after: Mapping[str, Any] | None  # desired properties, resolved (None when deleting)
    fields: tuple[FieldChange, ...] = ()
    reason: str = ""
    depends_on: tuple[str, ...] = ()
    prevent_destroy: bool = False
    notes: tuple[str, ...] = ()  # extra facts shown with the change (soft-deleted account, downtime)
    # how to carry it out, beyond the properties: {"on_soft_deleted": "restore"|"purge"}, {"purge": true}
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return address_of(self.kind, self.name, self.scope)


@dataclass(frozen=True)
class Unmanaged:
    """A live resource next to ours that the spec does not declare and we did not create."""

    kind: Kind
    name: str
    scope: Scope

    @property
    def address(self) -> str:
        return address_of(self.kind, self.name, self.scope)


@dataclass(frozen=True)
class Plan:
    spec_file: str
    spec_digest: str
    spec_name: str
    observed_fingerprint: str
    changes: tuple[Change, ...]
    unmanaged: tuple[Unmanaged, ...] = ()
    warnings: tuple[str, ...] = ()
    destroy: bool = False
    targets: tuple[str, ...] = ()
    include_accounts: bool = False  # destroy: the accounts too
    purge: bool = False  # destroy: purge deleted accounts
    delete_unowned: bool = False  # destroy: an account may take resources no spec of ours manages with it
    format_version: str = FORMAT_VERSION
    cost: CostEstimate | None = None  # shown to the user; apply never reads it
    environment: str | None = None  # the spec's environment (see "Environments" in the README)

    @property
    def pending(self) -> tuple[Change, ...]:
        """The changes that do something."""
        return tuple(c for c in self.changes if c.action is not Action.NOOP)

    @property
    def has_changes(self) -> bool:
        return bool(self.pending)

    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action if a is not Action.NOOP}
        for change in self.pending:
            counts[change.action.value] += 1
        return counts

    # the JSON document (see README "Plan JSON")
    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "spec": {"file": self.spec_file, "name": self.spec_name, "digest": self.spec_digest,
                     "environment": self.environment},
            "observed_fingerprint": self.observed_fingerprint,
            "destroy": self.destroy,
            "targets": list(self.targets),
            "options": {"include_accounts": self.include_accounts, "purge": self.purge,
                        "delete_unowned": self.delete_unowned},
            "summary": self.summary(),
            "changes": [_change_to_dict(c) for c in self.changes],
            "unmanaged": [{"address": u.address, "kind": u.kind.value, "name": u.name, "scope": _scope(u.scope)}
                          for u in self.unmanaged],
            "warnings": list(self.warnings),
            "cost": self.cost.to_dict() if self.cost is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Plan":
        version = str(data.get("format_version"))
        if version != FORMAT_VERSION:
            raise ValueError(f"plan format_version {version!r} is not supported (this provision reads "
                             f"{FORMAT_VERSION!r})")
        spec = data["spec"]
        options = data.get("options") or {}
        return cls(
            spec_file=spec["file"], spec_digest=spec["digest"], spec_name=spec["name"],
            observed_fingerprint=data["observed_fingerprint"],
            changes=tuple(_change_from_dict(c) for c in data["changes"]),
            unmanaged=tuple(Unmanaged(Kind(u["kind"]), u["name"], Scope(**u["scope"])) for u in data["unmanaged"]),
            warnings=tuple(data.get("warnings", ())), destroy=bool(data.get("destroy")),
            targets=tuple(data.get("targets", ())), format_version=version,
            include_accounts=bool(options.get("include_accounts")), purge=bool(options.get("purge")),
            delete_unowned=bool(options.get("delete_unowned")),
            cost=CostEstimate.from_dict(data.get("cost")),  # absent in documents from before costs
            environment=spec.get("environment"),  # absent in documents from before environments
        )


def _scope(scope: Scope) -> dict[str, Any]:
    document = {"subscription": scope.subscription, "resource_group": scope.resource_group,
                "account": scope.account}
    if scope.key_vault is not None:  # role assignments on the key vault
        document["key_vault"] = scope.key_vault
    return document


def _change_to_dict(c: Change) -> dict[str, Any]:
    return {
        "address": c.address, "kind": c.kind.value, "name": c.name, "scope": _scope(c.scope),
        "action": c.action.value, "reason": c.reason,
        "before": _plain(c.before), "after": _plain(c.after),
        "fields": [{"path": f.path, "before": f.before, "after": f.after, "forces_replace": f.forces_replace}
                   for f in c.fields],
        "depends_on": list(c.depends_on), "prevent_destroy": c.prevent_destroy, "notes": list(c.notes),
        "options": dict(c.options),
    }


def _change_from_dict(d: Mapping[str, Any]) -> Change:
    return Change(
        kind=Kind(d["kind"]), name=d["name"], scope=Scope(**d["scope"]), action=Action(d["action"]),
        before=_plain(d["before"]), after=_plain(d["after"]),
        fields=tuple(FieldChange(f["path"], _plain(f["before"]), _plain(f["after"]), f["forces_replace"])
                     for f in d["fields"]),
        reason=d.get("reason", ""), depends_on=tuple(d.get("depends_on", ())),
        prevent_destroy=bool(d.get("prevent_destroy")), notes=tuple(d.get("notes", ())),
        options=dict(d.get("options", {})),
    )


def _plain(value: Any) -> Any:
    """Mappings and tuples as JSON's dicts and lists, so a Change equals its JSON round trip."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value

