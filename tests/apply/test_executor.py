"""The executor with a fake Writer: ordering within an account, concurrency across accounts,
failure isolation and interruption. No Azure SDK here: the executor only knows the Writer protocol."""
from __future__ import annotations

import _thread
import threading
import time
from collections import defaultdict

import pytest

from provisioner.apply.executor import Executor, lanes, order_account_changes
from provisioner.errors import PermanentError, TransientError
from provisioner.model.resources import Kind, Scope, address_of
from provisioner.plan.model import Action, Change, FieldChange, Plan
from provisioner.plan.result import FAILED, SKIPPED, SUCCEEDED

SUB = "00000000-0000-0000-0000-000000000001"


# building plans

def group_scope() -> Scope:
    return Scope(SUB, "rg")


def child_scope(account: str) -> Scope:
    return Scope(SUB, "rg", account=account)


def resource_group(name: str = "rg") -> Change:
    return Change(Kind.RESOURCE_GROUP, name, Scope(SUB, name), Action.CREATE, None, {"location": "eastus"})


def account(name: str, action: Action = Action.CREATE) -> Change:
    props = {"location": "eastus", "kind": "OpenAI"}
    return Change(Kind.ACCOUNT, name, group_scope(), action, None if action is Action.CREATE else props,
                  None if action is Action.DELETE else props,
                  depends_on=(address_of(Kind.RESOURCE_GROUP, "rg", Scope(SUB, "rg")),))


def child(kind: Kind, account_name: str, name: str, action: Action = Action.CREATE, *, depends_on=(),
          **props) -> Change:
    before = None if action is Action.CREATE else dict(props)
    after = None if action is Action.DELETE else dict(props)
    return Change(kind, name, child_scope(account_name), action, before, after,
                  depends_on=(account_name, *depends_on))


def deployment(account_name: str, name: str, action: Action = Action.CREATE, *, capacity=(None, 10),
               spillover: str | None = None, depends_on=()) -> Change:
    before_capacity, after_capacity = capacity
    before = None if action is Action.CREATE else {"capacity": before_capacity, "spillover": spillover}
    after = None if action is Action.DELETE else {"capacity": after_capacity, "spillover": spillover}
    fields = ()
    if action is Action.UPDATE and before_capacity != after_capacity:
        fields = (FieldChange("capacity", before_capacity, after_capacity),)
    depends = [account_name, *depends_on]
    if spillover and action is not Action.DELETE:
        depends.append(f"{account_name}/deployments/{spillover}")
    return Change(Kind.DEPLOYMENT, name, child_scope(account_name), action, before, after, fields=fields,
                  depends_on=tuple(depends))


def plan_of(*changes: Change) -> Plan:
    return Plan(spec_file="deployments.yaml", spec_digest="sha256:x", spec_name="test",
                observed_fingerprint="sha256:y", changes=tuple(changes))


# the fake writer

class FakeWriter:
    """Records what ran, in which order and how many ran at once (per account and overall)."""

    def __init__(self, *, delay: float = 0.0, fail: dict[str, Exception] | None = None, on_execute=None):
        self.delay = delay
        self.fail = fail or {}
        self.on_execute = on_execute
        self.order: list[str] = []
        self.changes: list[Change] = []
        self.by_account: dict[str, list[str]] = defaultdict(list)
        self._lock = threading.Lock()
        self._active: dict[str, int] = defaultdict(int)
        self._active_total = 0
        self.max_per_account: dict[str, int] = defaultdict(int)
        self.max_total = 0

    def execute(self, change: Change, on_retry) -> None:
        lane = change.name if change.kind is Kind.ACCOUNT else (change.scope.account or "")
        with self._lock:
            self.order.append(change.address)
            self.changes.append(change)
            self.by_account[lane].append(change.address)
            self._active[lane] += 1
            self._active_total += 1
            self.max_per_account[lane] = max(self.max_per_account[lane], self._active[lane])
            self.max_total = max(self.max_total, self._active_total)
        try:
            if self.on_execute:
                self.on_execute(change, on_retry)
            time.sleep(self.delay)
            if change.address in self.fail:
                raise self.fail[change.address]
        finally:
            with self._lock:
                self._active[lane] -= 1
                self._active_total -= 1


class RecordingEvents:
    def __init__(self):
        self.events: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def started(self, change):
        with self._lock:
            self.events.append(("started", change.address))

    def retrying(self, change, error, attempt, delay):
        with self._lock:
            self.events.append(("retrying", change.address))

    def finished(self, change, outcome):
        with self._lock:
            self.events.append((outcome.status, change.address))


def outcomes_of(result) -> dict[str, tuple[str, str]]:
    return {o.address: (o.status, o.reason) for o in result.outcomes}


# ordering within one account

def test_one_accounts_changes_run_in_the_order_azure_accepts():
    changes = [
        child(Kind.BLOCKLIST, "a1", "old-list", Action.DELETE),
        child(Kind.RAI_POLICY, "a1", "old-policy", Action.DELETE),
        deployment("a1", "a-overflow", spillover="z-primary"),  # created after its spillover target
        deployment("a1", "z-primary"),
        deployment("a1", "grow", Action.UPDATE, capacity=(5, 10)),
        child(Kind.RAI_POLICY, "a1", "strict", depends_on=("a1/raiBlocklists/banned",)),
        child(Kind.BLOCKLIST, "a1", "banned"),
        deployment("a1", "shrink", Action.UPDATE, capacity=(10, 5)),
        deployment("a1", "gone", Action.DELETE, capacity=(10, None)),
        account("a1", Action.UPDATE),
    ]
    writer = FakeWriter()

    result = Executor(writer, parallelism=4).run(plan_of(*changes))

    assert not result.failed
    order = writer.order
    assert order[0] == "a1"  # the account itself
    assert set(order[1:3]) == {"a1/deployments/gone", "a1/deployments/shrink"}  # quota freed first
    assert order[3:5] == ["a1/raiBlocklists/banned", "a1/raiPolicies/strict"]  # blocklists before policies
    assert set(order[5:8]) == {"a1/deployments/z-primary", "a1/deployments/a-overflow", "a1/deployments/grow"}
    assert order.index("a1/deployments/z-primary") < order.index("a1/deployments/a-overflow")  # spillover target
    assert order[8:] == ["a1/raiPolicies/old-policy", "a1/raiBlocklists/old-list"]  # once nothing uses them
    assert writer.max_per_account["a1"] == 1


def test_deletions_of_spillover_sources_come_before_their_targets_and_the_account_last():
    changes = [
        account("a1", Action.DELETE),
        deployment("a1", "a-target", Action.DELETE, capacity=(10, None)),
        deployment("a1", "z-source", Action.DELETE, capacity=(10, None), spillover="a-target"),
        child(Kind.RAI_POLICY, "a1", "strict", Action.DELETE),
        child(Kind.BLOCKLIST, "a1", "banned", Action.DELETE),
    ]

    ordered = [c.address for c in order_account_changes(changes)]

    assert ordered == ["a1/deployments/z-source", "a1/deployments/a-target", "a1/raiPolicies/strict",
                       "a1/raiBlocklists/banned", "a1"]


def test_replaces_run_before_other_creations_so_the_quota_they_free_is_there():
    changes = [
        deployment("a1", "alpha"),  # would take the quota zeta's old model frees
        deployment("a1", "beta", Action.UPDATE, capacity=(5, 10)),
        deployment("a1", "zeta", Action.REPLACE, capacity=(10, 10)),
        deployment("a1", "omega", Action.REPLACE, capacity=(10, 10), spillover="new-target"),
        deployment("a1", "new-target"),  # created before the replace that spills over to it
        child(Kind.RAI_POLICY, "a1", "strict"),  # before every deployment write: a replace may need it
    ]

    ordered = [c.address for c in order_account_changes(changes)]

    assert ordered == ["a1/raiPolicies/strict", "a1/deployments/new-target", "a1/deployments/omega",
                       "a1/deployments/zeta", "a1/deployments/alpha", "a1/deployments/beta"]


def test_a_replace_whose_new_policy_failed_is_skipped_whole():
    """The replace runs after the policy it needs and as one change: a failed policy leaves the old
    deployment in place rather than deleted and not created again."""
    changes = [account("a1", Action.NOOP), child(Kind.RAI_POLICY, "a1", "new-filter"),
               deployment("a1", "chat", Action.REPLACE, capacity=(10, 10), depends_on=("a1/raiPolicies/new-filter",))]
    writer = FakeWriter(fail={"a1/raiPolicies/new-filter": PermanentError("400 BadRequest: bad filter")})

    result = Executor(writer).run(plan_of(*changes))

    assert outcomes_of(result)["a1/deployments/chat"] == (
        SKIPPED, "depends on a1/raiPolicies/new-filter, which did not succeed")
    assert "a1/deployments/chat" not in writer.order


def test_resource_groups_first_then_one_lane_per_account():
    plan = plan_of(deployment("a2", "d"), account("a2"), deployment("a1", "d"), account("a1"), resource_group())

    groups, account_lanes = lanes(plan)

    assert [c.address for c in groups] == [f"rg:{SUB}/rg"]
    assert [[c.address for c in lane] for lane in account_lanes] == [["a1", "a1/deployments/d"],
                                                                      ["a2", "a2/deployments/d"]]


# concurrency

def test_accounts_run_concurrently_but_one_write_at_a_time_within_each():
    changes = [resource_group()]
    for name in ("a1", "a2", "a3"):
        changes += [account(name), deployment(name, "d1"), deployment(name, "d2")]
    writer = FakeWriter(delay=0.1)

    result = Executor(writer, parallelism=10).run(plan_of(*changes))

    assert not result.failed
    assert writer.max_total == 3  # the three lanes overlapped
    assert all(n == 1 for n in writer.max_per_account.values()), writer.max_per_account
    for name in ("a1", "a2", "a3"):
        assert writer.by_account[name] == [name, f"{name}/deployments/d1", f"{name}/deployments/d2"]
    assert writer.order[0] == f"rg:{SUB}/rg"  # before any account


def test_parallelism_bounds_how_many_accounts_run_at_once():
    changes = [c for name in ("a1", "a2", "a3", "a4") for c in (account(name), deployment(name, "d"))]
    writer = FakeWriter(delay=0.03)

    result = Executor(writer, parallelism=2).run(plan_of(*changes))

    assert not result.failed
    assert writer.max_total == 2


def test_parallelism_one_runs_everything_serially():
    changes = [c for name in ("a1", "a2") for c in (account(name), deployment(name, "d"))]
    writer = FakeWriter(delay=0.01)

    result = Executor(writer, parallelism=1).run(plan_of(*changes))

    assert not result.failed
    assert writer.max_total == 1
    assert writer.order == ["a1", "a1/deployments/d", "a2", "a2/deployments/d"]


# failure isolation

def test_a_failed_change_skips_its_dependents_and_nothing_else():
    changes = [
        account("a1"),
        child(Kind.BLOCKLIST, "a1", "banned"),
        child(Kind.RAI_POLICY, "a1", "strict", depends_on=("a1/raiBlocklists/banned",)),
        deployment("a1", "filtered", depends_on=("a1/raiPolicies/strict",)),
        deployment("a1", "plain"),
        deployment("a1", "overflow", spillover="plain"),
        account("a2"),
        deployment("a2", "d"),
    ]
    writer = FakeWriter(fail={"a1/raiBlocklists/banned": PermanentError("400 BadRequest: no", hint="fix it")})

    result = Executor(writer, parallelism=4).run(plan_of(*changes))

    assert result.failed and not result.interrupted
    outcomes = outcomes_of(result)
    assert outcomes["a1/raiBlocklists/banned"] == (FAILED, "400 BadRequest: no (fix it)")
    assert outcomes["a1/raiPolicies/strict"] == (
        SKIPPED, "depends on a1/raiBlocklists/banned, which did not succeed")
    assert outcomes["a1/deployments/filtered"] == (SKIPPED, "depends on a1/raiPolicies/strict, which did not succeed")
    for address in ("a1", "a1/deployments/plain", "a1/deployments/overflow", "a2", "a2/deployments/d"):
        assert outcomes[address][0] == SUCCEEDED, address
    assert "a1/raiPolicies/strict" not in writer.order and "a1/deployments/filtered" not in writer.order
    assert [o.address for o in result.outcomes] == [c.address for c in changes]  # in plan order


def test_a_failed_account_skips_all_of_its_changes_but_not_other_accounts():
    changes = [account("a1"), deployment("a1", "d1"), deployment("a1", "d2"), account("a2"), deployment("a2", "d1")]
    writer = FakeWriter(fail={"a1": TransientError("gave up after 3 attempt(s): 500: boom")})

    result = Executor(writer).run(plan_of(*changes))

    outcomes = outcomes_of(result)
    assert outcomes["a1"] == (FAILED, "gave up after 3 attempt(s): 500: boom")
    assert outcomes["a1/deployments/d1"] == (SKIPPED, "depends on a1, which did not succeed")
    assert outcomes["a1/deployments/d2"] == (SKIPPED, "depends on a1, which did not succeed")
    assert outcomes["a2"][0] == SUCCEEDED and outcomes["a2/deployments/d1"][0] == SUCCEEDED


def test_a_failed_resource_group_skips_its_accounts():
    changes = [resource_group(), account("a1"), deployment("a1", "d")]
    writer = FakeWriter(fail={f"rg:{SUB}/rg": PermanentError("403 AuthorizationFailed: no")})

    result = Executor(writer).run(plan_of(*changes))

    outcomes = outcomes_of(result)
    assert outcomes[f"rg:{SUB}/rg"][0] == FAILED
    assert outcomes["a1"] == (SKIPPED, f"depends on rg:{SUB}/rg, which did not succeed")
    assert outcomes["a1/deployments/d"] == (SKIPPED, "depends on a1, which did not succeed")
    assert writer.order == [f"rg:{SUB}/rg"]


def test_events_are_reported_for_each_change_and_retry():
    def retry_once(change, on_retry):
        if change.kind is Kind.DEPLOYMENT:
            on_retry(TransientError("429: throttled", delay=0), 1, 0.0)

    events = RecordingEvents()
    writer = FakeWriter(on_execute=retry_once, fail={"a1/deployments/bad": PermanentError("nope")})
    plan = plan_of(account("a1"), deployment("a1", "bad"), deployment("a1", "good", depends_on=("a1/deployments/bad",)))

    Executor(writer, events=events).run(plan)

    assert events.events == [
        ("started", "a1"), (SUCCEEDED, "a1"),
        ("started", "a1/deployments/bad"), ("retrying", "a1/deployments/bad"), (FAILED, "a1/deployments/bad"),
        (SKIPPED, "a1/deployments/good"),  # skipped without being started
    ]


# interruption

def test_stopping_lets_the_running_change_finish_and_reports_the_rest_interrupted():
    executor: Executor

    def stop_after_first(change, on_retry):
        executor.stopping.set()  # as Ctrl-C does: in-flight work finishes, nothing new starts

    writer = FakeWriter(on_execute=stop_after_first)
    changes = [account("a1"), deployment("a1", "d1"), deployment("a1", "d2")]
    executor = Executor(writer, parallelism=1)

    result = executor.run(plan_of(*changes))

    assert writer.order == ["a1"]
    outcomes = outcomes_of(result)
    assert outcomes["a1"][0] == SUCCEEDED  # the change in flight was finished and reported
    assert outcomes["a1/deployments/d1"] == (SKIPPED, "interrupted before it started")
    assert outcomes["a1/deployments/d2"] == (SKIPPED, "interrupted before it started")
    assert result.interrupted and result.failed


def test_stopping_in_one_lane_stops_the_others_and_the_later_phases():
    executor: Executor
    release = threading.Event()

    def stop_on_a2(change, on_retry):
        if change.address == "a2":
            executor.stopping.set()
            release.set()
        elif change.address == "a1":
            release.wait(5)  # a1 is in flight when the stop comes

    writer = FakeWriter(on_execute=stop_on_a2)
    changes = [account("a1"), deployment("a1", "d"), account("a2"), deployment("a2", "d")]
    executor = Executor(writer, parallelism=4)

    result = executor.run(plan_of(*changes))

    outcomes = outcomes_of(result)
    assert outcomes["a1"][0] == SUCCEEDED and outcomes["a2"][0] == SUCCEEDED
    for address in ("a1/deployments/d", "a2/deployments/d"):
        assert outcomes[address] == (SKIPPED, "interrupted before it started")
    assert result.interrupted


@pytest.mark.parametrize("wait_first", [0.0, 0.3], ids=["while starting workers", "while waiting for lanes"])
def test_keyboard_interrupt_on_the_main_thread_finishes_in_flight_work(wait_first):
    """A real Ctrl-C: KeyboardInterrupt raised in the main thread (the one that starts and waits for the
    lanes), at once (it lands while the pool is still starting its worker) or once the main thread waits."""
    main = threading.main_thread()
    if threading.current_thread() is not main:
        pytest.skip("the interrupt goes to the main thread, and this test does not run there")
    started = threading.Event()

    def interrupt_main_once(change, on_retry):
        if change.address == "a1":
            started.set()
            assert threading.current_thread() is not main
            time.sleep(wait_first)
            _thread.interrupt_main()
            time.sleep(0.3)  # still in flight when the main thread sees the interrupt

    writer = FakeWriter(on_execute=interrupt_main_once)
    changes = [account("a1"), deployment("a1", "d1"), deployment("a1", "d2")]

    result = Executor(writer, parallelism=1).run(plan_of(*changes))

    assert started.is_set()
    outcomes = outcomes_of(result)
    assert outcomes["a1"][0] == SUCCEEDED
    assert outcomes["a1/deployments/d1"] == (SKIPPED, "interrupted before it started")
    assert outcomes["a1/deployments/d2"] == (SKIPPED, "interrupted before it started")
    assert result.interrupted


def test_no_pending_changes_is_an_empty_success():
    noop = Change(Kind.ACCOUNT, "a1", group_scope(), Action.NOOP, {}, {})
    writer = FakeWriter()

    result = Executor(writer).run(plan_of(noop))

    assert result.outcomes == () and not result.failed and writer.order == []


@pytest.mark.parametrize("parallelism", [0, -3])
def test_parallelism_below_one_means_one(parallelism):
    assert Executor(FakeWriter(), parallelism=parallelism).parallelism == 1


def test_a_decrease_that_also_switches_filter_lowers_capacity_first_and_switches_after_the_policy():
    before = {"model": "gpt-4o", "sku": "GlobalStandard", "capacity": 50, "content_filter": None}
    after = {**before, "capacity": 20, "content_filter": "new-filter"}
    update = Change(Kind.DEPLOYMENT, "chat", Scope(SUB, "rg", account="a1"), Action.UPDATE, before, after,
                    fields=(FieldChange("capacity", 50, 20), FieldChange("content_filter", None, "new-filter")),
                    depends_on=("a1", "a1/raiPolicies/new-filter"))
    policy = Change(Kind.RAI_POLICY, "new-filter", Scope(SUB, "rg", account="a1"), Action.CREATE, None, {})
    writer = FakeWriter()

    result = Executor(writer).run(plan_of(update, policy))

    # the capacity alone first (quota freed early), the filter once the policy exists
    assert writer.order == ["a1/deployments/chat", "a1/raiPolicies/new-filter", "a1/deployments/chat"]
    assert [c.after["content_filter"] for c in writer.changes if c.kind is Kind.DEPLOYMENT] == [None, "new-filter"]
    assert outcomes_of(result)["a1/deployments/chat"][0] == SUCCEEDED


def test_when_the_capacity_decrease_fails_the_rest_of_the_update_does_not_run():
    before = {"model": "gpt-4o", "sku": "GlobalStandard", "capacity": 50, "upgrade": "on-new-default"}
    after = {**before, "capacity": 20, "upgrade": "never"}
    update = Change(Kind.DEPLOYMENT, "chat", Scope(SUB, "rg", account="a1"), Action.UPDATE, before, after,
                    fields=(FieldChange("capacity", 50, 20), FieldChange("upgrade", "on-new-default", "never")))
    writer = FakeWriter(fail={"a1/deployments/chat": PermanentError("400 BadRequest: no")})

    result = Executor(writer).run(plan_of(update))

    assert writer.order == ["a1/deployments/chat"]
    assert outcomes_of(result)["a1/deployments/chat"] == (FAILED, "400 BadRequest: no")


def test_an_unexpected_exception_fails_only_its_change():
    """A bug or a surprise inside one change (here a TypeError) is that change's failure, in one line;
    its dependents are skipped, everything else still runs, and the run returns its outcomes."""
    chat, other = deployment("a", "chat"), deployment("b", "other")
    after = deployment("a", "after-chat", spillover="chat")
    writer = FakeWriter(fail={chat.address: TypeError("'NoneType' object is not subscriptable\nsecond line")})

    result = Executor(writer).run(plan_of(account("a"), account("b"), chat, after, other))

    outcomes = {o.address: o for o in result.outcomes}
    assert outcomes[chat.address].status == FAILED
    assert outcomes[chat.address].reason == "unexpected TypeError: 'NoneType' object is not subscriptable"
    assert outcomes[after.address].status == SKIPPED
    assert outcomes[other.address].status == SUCCEEDED and outcomes["a"].status == SUCCEEDED
    assert result.failed and not result.interrupted


def test_what_attaches_to_an_account_comes_right_after_it_and_goes_right_before_its_deletion():
    written = [
        deployment("a1", "chat"),
        child(Kind.ROLE_ASSIGNMENT, "a1", "grant-new"),
        child(Kind.ROLE_ASSIGNMENT, "a1", "grant-old", Action.DELETE),  # replaced: deleted after its successor
        child(Kind.DIAGNOSTIC_SETTING, "a1", "provision-spec"),
        child(Kind.PRIVATE_ENDPOINT, "a1", "pe"),
        account("a1", Action.UPDATE),
    ]
    assert [c.address for c in order_account_changes(written)] == [
        "a1", "a1/privateEndpoints/pe", "a1/diagnosticSettings/provision-spec", "a1/roleAssignments/grant-new",
        "a1/deployments/chat", "a1/roleAssignments/grant-old"]
    destroyed = [
        account("a1", Action.DELETE),
        child(Kind.ROLE_ASSIGNMENT, "a1", "grant", Action.DELETE),
        child(Kind.PRIVATE_ENDPOINT, "a1", "pe", Action.DELETE),
        deployment("a1", "chat", Action.DELETE, capacity=(10, None)),
        child(Kind.DIAGNOSTIC_SETTING, "a1", "provision-spec", Action.DELETE),
    ]
    assert [c.address for c in order_account_changes(destroyed)] == [
        "a1/deployments/chat", "a1/privateEndpoints/pe", "a1/diagnosticSettings/provision-spec",
        "a1/roleAssignments/grant", "a1"]


def test_every_change_of_a_lane_is_kept():
    changes = [child(kind, "a1", "x") for kind in Kind if kind not in (Kind.RESOURCE_GROUP, Kind.ACCOUNT)]
    assert sorted(c.address for c in order_account_changes(changes)) == sorted(c.address for c in changes)
