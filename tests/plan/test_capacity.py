"""provisioner.plan.capacity: quota, availability, lifecycle and flexible capacity as pure functions.

Hand-built ObservedState / RegionInfo values, no SDK and no emulator; `now` is always passed.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from provisioner.errors import PlanError
from provisioner.model.observed import (
    ModelOffer,
    ObservedResource,
    ObservedState,
    RegionInfo,
    SkuOffer,
    Usage,
    region_key,
)
from provisioner.model.resources import (
    DesiredState,
    Kind,
    Resource,
    Scope,
    ownership_tags,
)
from provisioner.plan import capacity, differ
from provisioner.plan.capacity import (
    CapacityError,
    Findings,
    Shortfall,
    check,
    net_usage,
    resolve_flexible,
)
from provisioner.plan.model import Action, Change, FieldChange

SUB = "00000000-0000-0000-0000-00000000cafe"
GROUP = "rg"
ACCOUNT = "acct"
REGION = "eastus2"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
GS = "OpenAI.GlobalStandard.gpt-4o"
MINI_GS = "OpenAI.GlobalStandard.gpt-4o-mini"
GPM = "OpenAI.GlobalProvisionedManaged"
SCOPE = Scope(SUB, GROUP, account=ACCOUNT)
TAGS = ownership_tags("spec")

GPT4O = ModelOffer("OpenAI", "gpt-4o", "2024-11-20", is_default=True, retires="2026-03-31T00:00:00Z",
                   replacement="gpt-4.1 2025-04-14",
                   skus=(SkuOffer("GlobalStandard", GS, 1, 1000000, 1),
                         SkuOffer("GlobalProvisionedManaged", GPM, 15, 30000, 5),
                         SkuOffer("ProvisionedManaged", "OpenAI.ProvisionedManaged.gpt-4o-2024-11-20", 50, 30000, 50)))
GPT4O_OLD = ModelOffer("OpenAI", "gpt-4o", "2024-05-13", retires="2025-12-01T00:00:00Z",
                       replacement="gpt-4.1 2025-04-14", skus=(SkuOffer("GlobalStandard", GS, 1, 1000000, 1),))
MINI = ModelOffer("OpenAI", "gpt-4o-mini", "2024-07-18", is_default=True, retires="2030-01-01T00:00:00Z",
                  skus=(SkuOffer("GlobalStandard", MINI_GS, 1, 1000000, 1),))
FOREVER = ModelOffer("OpenAI", "forever", "1", skus=(SkuOffer("GlobalStandard", "OpenAI.GlobalStandard.forever"),))


def quota(*pairs: tuple[str, int, int]) -> RegionInfo:
    """eastus2 with the models above and usages (name, limit, current)."""
    return RegionInfo(SUB, REGION, models=(GPT4O, GPT4O_OLD, MINI, FOREVER),
                      usages={name: Usage(name, f"{name} (localized)", limit, current) for name, limit, current in pairs})


def props(capacity: Any = 10, *, model: str = "gpt-4o", version: str | None = "2024-11-20", sku: str = "GlobalStandard",
          upgrade: str = "on-new-default") -> dict[str, Any]:
    return {"model": model, "format": "OpenAI", "version": version, "sku": sku, "capacity": capacity,
            "content_filter": None, "upgrade": upgrade, "spillover": None, "tags": dict(TAGS)}


def deployment(name: str, **kwargs) -> Resource:
    return Resource(Kind.DEPLOYMENT, name, SCOPE, props(**kwargs), depends_on=(ACCOUNT,))


def observed(info: RegionInfo | None, *live: Resource) -> ObservedState:
    account = Resource(Kind.ACCOUNT, ACCOUNT, Scope(SUB, GROUP), {"location": REGION, "tags": dict(TAGS)})
    resources = {r.address: ObservedResource(r, azure_id=r.address, etag=f"etag-{r.address}") for r in (account, *live)}
    return ObservedState(resources=resources, regions={region_key(SUB, REGION): info} if info else {})


def change(name: str, action: Action, before: dict | None = None, after: dict | None = None) -> Change:
    fields = ()
    if before and after:
        fields = tuple(FieldChange(k, before.get(k), v) for k, v in after.items() if before.get(k) != v)
    return Change(Kind.DEPLOYMENT, name, SCOPE, action, before, after, fields=fields)


REGIONS = {ACCOUNT: REGION}


# --- net usage -------------------------------------------------------------------------------------------


def test_net_usage_counts_creations_and_increases_minus_deletions_and_decreases():
    changes = [
        change("new", Action.CREATE, after=props(100)),
        change("grown", Action.UPDATE, props(10), props(40)),
        change("shrunk", Action.UPDATE, props(50), props(20)),
        change("gone", Action.DELETE, before=props(25)),
        change("same", Action.NOOP, props(999), props(999)),
        change("mini", Action.CREATE, after=props(7, model="gpt-4o-mini", version="2024-07-18")),
    ]
    assert net_usage(changes, observed(quota()), REGIONS) == {
        (SUB, REGION, GS): 100 + 30 - 30 - 25,
        (SUB, REGION, MINI_GS): 7,
    }


def test_a_replace_frees_the_old_quota_and_takes_the_new():
    replaced = change("chat", Action.REPLACE, props(30), props(20, sku="GlobalProvisionedManaged"))
    assert net_usage([replaced], observed(quota()), REGIONS) == {(SUB, REGION, GS): -30, (SUB, REGION, GPM): 20}


def test_net_usage_ignores_what_it_cannot_place():
    unknown_model = change("x", Action.CREATE, after=props(5, model="nope"))
    flexible = change("y", Action.CREATE, after=props({"min": 1, "max": 5}))
    other_kind = Change(Kind.RAI_POLICY, "p", SCOPE, Action.CREATE, None, {"capacity": 5})
    assert net_usage([unknown_model, flexible, other_kind], observed(quota()), REGIONS) == {}
    assert net_usage([change("z", Action.CREATE, after=props(5))], observed(None), REGIONS) == {}


# --- quota shortfalls ----------------------------------------------------------------------------------


def test_a_plan_over_quota_is_a_shortfall_naming_the_deployments_asking():
    info = quota((GS, 300, 100), (MINI_GS, 10, 0))
    changes = [change("a", Action.CREATE, after=props(150)), change("b", Action.UPDATE, props(50), props(150)),
               change("mini", Action.CREATE, after=props(5, model="gpt-4o-mini", version="2024-07-18"))]
    findings = check(changes, [], observed(info), REGIONS, now=NOW)
    assert findings.shortfalls == (Shortfall(SUB, REGION, GS, f"{GS} (localized)", 300, 100, 250,
                                             (f"{ACCOUNT}/deployments/a", f"{ACCOUNT}/deployments/b")),)
    assert findings.shortfalls[0].short_by == 50


def test_exactly_at_the_limit_is_no_shortfall():
    info = quota((GS, 300, 100))
    assert check([change("a", Action.CREATE, after=props(200))], [], observed(info), REGIONS, now=NOW).shortfalls == ()


def test_deletions_and_decreases_in_the_same_plan_make_room():
    info = quota((GS, 450, 300))
    moved = [change("old", Action.DELETE, before=props(300)), change("new", Action.CREATE, after=props(300))]
    assert check(moved, [], observed(info), REGIONS, now=NOW).shortfalls == ()
    shrunk = [change("old", Action.UPDATE, props(300), props(100)), change("new", Action.CREATE, after=props(250))]
    assert check(shrunk, [], observed(info), REGIONS, now=NOW).shortfalls == ()
    too_much = [change("old", Action.UPDATE, props(300), props(200)), change("new", Action.CREATE, after=props(300))]
    [shortfall] = check(too_much, [], observed(info), REGIONS, now=NOW).shortfalls
    # net +200 on 300 of 450; the decrease frees quota, it is not asking for any
    assert (shortfall.requested, shortfall.short_by, shortfall.deployments) == (200, 50, (f"{ACCOUNT}/deployments/new",))


def test_a_replace_to_another_quota_is_not_asking_for_the_old_one():
    info = quota((GS, 100, 90), (GPM, 100, 0))
    changes = [change("chat", Action.REPLACE, props(30), props(20, sku="GlobalProvisionedManaged")),
               change("more", Action.CREATE, after=props(50))]
    [shortfall] = check(changes, [], observed(info), REGIONS, now=NOW).shortfalls
    assert (shortfall.usage, shortfall.requested, shortfall.short_by, shortfall.deployments) == (
        GS, 20, 10, (f"{ACCOUNT}/deployments/more",))


def test_a_quota_azure_did_not_report_is_not_judged():
    assert check([change("a", Action.CREATE, after=props(10 ** 6))], [], observed(quota()), REGIONS,
                 now=NOW).shortfalls == ()


def test_the_capacity_error_lists_every_problem():
    findings = Findings(shortfalls=(Shortfall(SUB, REGION, GS, "GPT-4o", 300, 100, 250, ("a/deployments/x",)),),
                        unavailable=(capacity.Unavailable("a/deployments/y", SUB, REGION, "OpenAI", "gpt-4o", "1",
                                                          "Standard", "not here"),))
    error = CapacityError(["a/deployments/z: retired"], findings)
    assert isinstance(error, PlanError)
    assert str(error).splitlines() == [
        "the plan cannot be made:",
        "  a/deployments/z: retired",
        "  a/deployments/y: not here",
        f"  quota {GS} in {REGION}: limit 300, in use 100, this plan asks 250 more, short by 50 (a/deployments/x)",
    ]


# --- availability ---------------------------------------------------------------------------------------


def _unavailable(after: dict, action: Action = Action.CREATE, info: RegionInfo | None = None):
    findings = check([change("d", action, before=props() if action is not Action.CREATE else None, after=after)],
                     [], observed(info or quota()), REGIONS, now=NOW)
    return findings.unavailable


def test_a_version_the_region_does_not_offer():
    [u] = _unavailable(props(version="2099-01-01"))
    assert u.reason == "gpt-4o 2099-01-01 is not offered in eastus2 (it offers 2024-05-13, 2024-11-20)"
    assert (u.address, u.subscription, u.region, u.model_format, u.model, u.version, u.sku) == (
        f"{ACCOUNT}/deployments/d", SUB, REGION, "OpenAI", "gpt-4o", "2099-01-01", "GlobalStandard")
    [u] = _unavailable(props(model="unknown-model"))
    assert u.reason == "unknown-model 2024-11-20 is not offered in eastus2"


def test_an_sku_the_model_is_not_offered_with():
    [u] = _unavailable(props(sku="DataZoneStandard"))
    assert u.reason == ("gpt-4o 2024-11-20 is not offered as DataZoneStandard in eastus2 (it is offered as "
                        "GlobalStandard, GlobalProvisionedManaged, ProvisionedManaged)")
    assert u.sku == "DataZoneStandard"


def test_sku_names_compare_case_insensitively():
    assert _unavailable(props(sku="globalstandard")) == ()


@pytest.mark.parametrize("capacity_, reason", [
    (75, "capacity 75 is not a multiple of 50 for ProvisionedManaged (nearest: 50 or 100)"),
    (30, "capacity 30 is outside 50..30000 for ProvisionedManaged"),
    (30050, "capacity 30050 is outside 50..30000 for ProvisionedManaged"),
])
def test_ptu_capacity_must_lie_within_min_max_and_on_the_step(capacity_, reason):
    [u] = _unavailable(props(capacity_, sku="ProvisionedManaged"))
    assert u.reason == reason


def test_capacity_below_the_first_step_suggests_the_step():
    [u] = _unavailable(props(17, sku="GlobalProvisionedManaged"))
    assert u.reason == "capacity 17 is not a multiple of 5 for GlobalProvisionedManaged (nearest: 15 or 20)"


@pytest.mark.parametrize("capacity_", [50, 100, 30000])
def test_ptu_capacity_on_the_step_is_fine(capacity_):
    assert _unavailable(props(capacity_, sku="ProvisionedManaged")) == ()


def test_updates_and_replaces_are_checked_deletions_and_no_ops_are_not():
    assert len(_unavailable(props(75, sku="ProvisionedManaged"), Action.UPDATE)) == 1
    assert len(_unavailable(props(75, sku="ProvisionedManaged"), Action.REPLACE)) == 1
    assert _unavailable(props(75, sku="ProvisionedManaged"), Action.NOOP) == ()
    gone = check([change("d", Action.DELETE, before=props(75, sku="ProvisionedManaged"))], [], observed(quota()),
                 REGIONS, now=NOW)
    assert gone.unavailable == ()


def test_a_region_without_a_catalog_is_not_judged():
    assert _unavailable(props(version="2099-01-01"), info=RegionInfo(SUB, REGION)) == ()
    assert check([change("d", Action.CREATE, after=props())], [], observed(None), REGIONS, now=NOW) == Findings()


# --- lifecycle --------------------------------------------------------------------------------------------


def lifecycle(*resources: Resource, now: datetime = NOW, days: int = 90) -> Findings:
    return check([], list(resources), observed(quota()), REGIONS, retirement_warning_days=days, now=now)


def test_a_version_past_retirement_is_an_error():
    findings = lifecycle(deployment("old", version="2024-05-13"))
    assert findings.errors == (f"{ACCOUNT}/deployments/old: gpt-4o 2024-05-13 was retired on 2025-12-01; "
                               "the catalog suggests gpt-4.1 2025-04-14",)
    assert findings.warnings == ()


def test_retiring_at_this_very_instant_is_retired():
    findings = lifecycle(deployment("old", version="2024-05-13"), now=datetime(2025, 12, 1, tzinfo=timezone.utc))
    assert findings.errors and not findings.warnings


def test_a_version_near_retirement_warns_with_date_days_and_replacement():
    findings = lifecycle(deployment("chat"))  # retires 2026-03-31: 89 days after NOW
    assert findings.errors == ()
    assert findings.warnings == (f"{ACCOUNT}/deployments/chat: gpt-4o 2024-11-20 retires on 2026-03-31 (in 89 days); "
                                 "the catalog suggests gpt-4.1 2025-04-14",)


def test_the_warning_window_is_a_parameter():
    assert lifecycle(deployment("chat"), days=88).warnings == ()
    assert len(lifecycle(deployment("chat"), days=89).warnings) == 1
    assert lifecycle(deployment("chat"), days=0).warnings == ()
    assert lifecycle(deployment("mini", model="gpt-4o-mini", version="2024-07-18")).warnings == ()
    [warning] = lifecycle(deployment("mini", model="gpt-4o-mini", version="2024-07-18"), days=10000).warnings
    assert warning.endswith("(in 1461 days)")  # no replacement in the catalog: none suggested


def test_upgrade_never_on_a_version_that_will_retire_is_flagged():
    far = lifecycle(deployment("mini", model="gpt-4o-mini", version="2024-07-18", upgrade="never"))
    assert far.warnings == (f"{ACCOUNT}/deployments/mini: gpt-4o-mini 2024-07-18 has `upgrade: never` but retires on "
                            "2030-01-01: it will stop serving then",)
    near = lifecycle(deployment("chat", upgrade="never"))
    assert len(near.warnings) == 2 and "has `upgrade: never` but retires on 2026-03-31" in near.warnings[1]
    assert near.warnings[1].endswith("; the catalog suggests gpt-4.1 2025-04-14")
    retired = lifecycle(deployment("old", version="2024-05-13", upgrade="never"))
    assert len(retired.errors) == 1 and retired.warnings == ()  # already an error; no second message


def test_no_retirement_date_or_no_pinned_version_says_nothing():
    assert lifecycle(deployment("f", model="forever", version="1", upgrade="never")) == Findings()
    assert lifecycle(deployment("chat", version=None)) == Findings()  # resolved defaults are not "pinned"
    assert lifecycle(deployment("gone", version="2099-01-01")) == Findings()  # availability's business
    account = Resource(Kind.ACCOUNT, ACCOUNT, Scope(SUB, GROUP), {"location": REGION})
    assert lifecycle(account) == Findings()


# --- flexible capacity -----------------------------------------------------------------------------------


def flexible(name: str = "flex", lo: int = 10, hi: int = 200, **kwargs) -> Resource:
    return deployment(name, capacity={"min": lo, "max": hi}, **kwargs)


def test_flexible_capacity_takes_what_the_quota_has_left_up_to_max():
    errors: list[str] = []
    [resolved], notes = resolve_flexible([flexible()], [], observed(quota((GS, 120, 30))), REGIONS, errors)
    assert errors == []
    assert resolved.properties["capacity"] == 90
    assert notes == {f"{ACCOUNT}/deployments/flex": f"capacity 90 chosen from {{min: 10, max: 200}}: quota {GS} has "
                                                     "90 available"}
    [capped], _ = resolve_flexible([flexible(hi=50)], [], observed(quota((GS, 120, 30))), REGIONS, errors)
    assert capped.properties["capacity"] == 50


def test_flexible_capacity_keeps_to_the_sku_step():
    errors: list[str] = []
    [resolved], _ = resolve_flexible([flexible(lo=15, hi=100, sku="GlobalProvisionedManaged")], [],
                                     observed(quota((GPM, 52, 0))), REGIONS, errors)
    assert (errors, resolved.properties["capacity"]) == ([], 50)


def test_flexible_capacity_below_min_is_an_error():
    errors: list[str] = []
    [resolved], notes = resolve_flexible([flexible(lo=50)], [], observed(quota((GS, 70, 30))), REGIONS, errors)
    assert errors == [f"{ACCOUNT}/deployments/flex: flexible capacity {{min: 50, max: 200}} cannot be met: quota {GS} "
                      "has 40 left in eastus2 (limit 70, in use 30)"]
    assert notes == {} and resolved.properties["capacity"] == {"min": 50, "max": 200}


def test_flexible_capacity_respects_the_skus_own_minimum():
    errors: list[str] = []
    resolve_flexible([flexible(lo=1, hi=100, sku="GlobalProvisionedManaged")], [], observed(quota((GPM, 12, 0))),
                     REGIONS, errors)
    assert len(errors) == 1 and "has 12 left" in errors[0]


def test_flexible_capacity_counts_the_plans_fixed_changes():
    info = quota((GS, 450, 300))
    freed = [change("old", Action.DELETE, before=props(300))]
    taken = [change("new", Action.CREATE, after=props(100))]
    errors: list[str] = []
    [more], _ = resolve_flexible([flexible(hi=1000)], freed, observed(info), REGIONS, errors)
    [less], _ = resolve_flexible([flexible(hi=1000)], taken, observed(info), REGIONS, errors)
    assert (errors, more.properties["capacity"], less.properties["capacity"]) == ([], 450, 50)


def test_flexible_capacity_counts_its_own_live_capacity_as_available():
    live = deployment("flex", capacity=90)
    errors: list[str] = []
    [resolved], _ = resolve_flexible([flexible()], [], observed(quota((GS, 120, 120)), live), REGIONS, errors)
    assert (errors, resolved.properties["capacity"]) == ([], 90)  # a no-op, not a shrink to 0


def test_two_flexible_deployments_on_one_quota_share_it():
    errors: list[str] = []
    first, second = resolve_flexible([flexible("a", hi=70), flexible("b", hi=200)], [],
                                      observed(quota((GS, 100, 0))), REGIONS, errors)[0]
    assert (errors, first.properties["capacity"], second.properties["capacity"]) == ([], 70, 30)


def test_flexible_capacity_needs_a_reported_quota():
    errors: list[str] = []
    [resolved], _ = resolve_flexible([flexible()], [], observed(quota()), REGIONS, errors)
    assert errors == [f"{ACCOUNT}/deployments/flex: flexible capacity needs the quota of gpt-4o GlobalStandard in "
                      "eastus2, which Azure did not report; set a number"]
    assert resolved.properties["capacity"] == {"min": 10, "max": 200}


def test_fixed_capacities_pass_through_untouched():
    fixed = deployment("fixed", capacity=5)
    errors: list[str] = []
    assert resolve_flexible([fixed], [], observed(quota((GS, 1, 1))), REGIONS, errors) == ([fixed], {})
    assert errors == []


# --- through make_plan (still pure) ----------------------------------------------------------------------


def desired(*deployments: Resource) -> DesiredState:
    account = Resource(Kind.ACCOUNT, ACCOUNT, Scope(SUB, GROUP), {"location": REGION, "tags": dict(TAGS)})
    return DesiredState(spec_name="spec", resources=(account, *deployments))


def plan(state: DesiredState, live: ObservedState, **kwargs):
    return differ.make_plan(state, live, spec_file="deployments.yaml", spec_digest="sha256:x", now=NOW, **kwargs)


def test_make_plan_raises_a_capacity_error_with_the_findings():
    with pytest.raises(CapacityError) as raised:
        plan(desired(deployment("a", capacity=400), deployment("p", capacity=75, sku="ProvisionedManaged")),
             observed(quota((GS, 450, 100))))
    findings = raised.value.findings
    assert [(s.usage, s.requested, s.short_by) for s in findings.shortfalls] == [(GS, 400, 50)]
    assert [u.address for u in findings.unavailable] == [f"{ACCOUNT}/deployments/p"]


def test_make_plan_counts_a_managed_deployment_removed_from_the_spec():
    live = deployment("old", capacity=300)
    result = plan(desired(deployment("new", capacity=300)), observed(quota((GS, 450, 300)), live))
    assert {c.address: c.action for c in result.pending} == {f"{ACCOUNT}/deployments/new": Action.CREATE,
                                                             f"{ACCOUNT}/deployments/old": Action.DELETE}


def test_make_plan_resolves_flexible_capacity_after_deletions_and_notes_it():
    live = deployment("old", capacity=300)
    result = plan(desired(flexible("new", hi=1000)), observed(quota((GS, 450, 300)), live))
    new = next(c for c in result.changes if c.name == "new")
    assert new.after["capacity"] == 450
    assert new.notes == (f"capacity 450 chosen from {{min: 10, max: 1000}}: quota {GS} has 450 available",)


def test_make_plan_lifecycle_errors_are_plan_errors_and_warnings_are_kept():
    with pytest.raises(PlanError) as raised:
        plan(desired(deployment("old", version="2024-05-13")), observed(quota((GS, 450, 0))))
    assert not isinstance(raised.value, CapacityError)
    assert "gpt-4o 2024-05-13 was retired on 2025-12-01" in str(raised.value)
    result = plan(desired(deployment("chat")), observed(quota((GS, 450, 0))))
    assert result.warnings == (f"{ACCOUNT}/deployments/chat: gpt-4o 2024-11-20 retires on 2026-03-31 (in 89 days); "
                               "the catalog suggests gpt-4.1 2025-04-14",)
    assert plan(desired(deployment("chat")), observed(quota((GS, 450, 0))), retirement_warning_days=30).warnings == ()


def test_make_plan_skips_capacity_checks_when_destroying():
    live = deployment("chat", version="2024-05-13", capacity=10 ** 6)
    result = plan(desired(deployment("chat", version="2024-05-13", capacity=10 ** 6)),
                  observed(quota((GS, 1, 10 ** 6)), live), destroy=True)
    assert [(c.address, c.action) for c in result.pending] == [(f"{ACCOUNT}/deployments/chat", Action.DELETE)]
