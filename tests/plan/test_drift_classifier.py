"""The drift classifier on hand-made plans and observed states (the e2e tests drive it through Azure)."""
from __future__ import annotations

from provisioner.model.observed import ObservedResource, ObservedState
from provisioner.model.resources import Kind, Resource, Scope
from provisioner.plan import drift
from provisioner.plan.model import Action, Change, Plan, Unmanaged

SCOPE = Scope("sub", "rg", account="acct")


def _observed(name: str, *, managed: bool, created: str | None, modified: str | None) -> ObservedResource:
    return ObservedResource(Resource(Kind.DEPLOYMENT, name, SCOPE), azure_id=name, managed=managed,
                            created_at=created, modified_at=modified)


def _plan(noops: list[str], unmanaged: list[str]) -> Plan:
    changes = tuple(Change(Kind.DEPLOYMENT, n, SCOPE, Action.NOOP, {}, {}) for n in noops)
    return Plan("d.yaml", "sha256:x", "spec", "sha256:y", changes,
                unmanaged=tuple(Unmanaged(Kind.DEPLOYMENT, n, SCOPE) for n in unmanaged))


def test_arm_timestamps_with_seven_digits_compare_by_time_not_text():
    observed = ObservedState({
        "acct/deployments/ours": _observed("ours", managed=True, created=None, modified="2026-01-01T10:00:00.1234567Z"),
        "acct/deployments/early": _observed("early", managed=False, created="2026-01-01T09:59:59.9Z", modified=None),
        "acct/deployments/late": _observed("late", managed=False, created="2026-01-01T11:00:00+01:00", modified=None),
        "acct/deployments/odd": _observed("odd", managed=False, created="yesterday", modified=None),
    })
    report = drift.detect(_plan(["ours"], ["early", "late", "odd"]), observed)
    # 11:00+01:00 is 10:00 UTC, before the apply at 10:00:00.12; an unreadable time counts as drift
    assert [i.address for i in report.items] == ["acct/deployments/odd"]
    assert report.since == "2026-01-01T10:00:00.1234567Z"


def test_without_a_baseline_every_unmanaged_resource_is_drift():
    observed = ObservedState({
        "acct/deployments/theirs": _observed("theirs", managed=False, created="2020-01-01T00:00:00Z", modified=None),
        "acct/deployments/ours": _observed("ours", managed=False, created=None, modified="2026-01-01T00:00:00Z"),
    })
    report = drift.detect(_plan(["ours"], ["theirs"]), observed)  # "ours" carries no tags: no baseline
    assert report.since is None and [i.drift for i in report.items] == ["appeared"]
