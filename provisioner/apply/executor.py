"""Carrying out a Plan: ordering, parallelism, failure isolation, interruption.

Azure allows one write at a time per account, so each account's changes run in
one lane, in order; lanes for different accounts run in parallel (bounded).
Resource groups come first. A failed change never
stops other lanes; changes that depend on it are skipped and say why. The
executor never raises for a single change: it returns an Outcome for each.
"""
from __future__ import annotations

import threading
from dataclasses import replace
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Protocol

from provisioner.errors import PermanentError, ProvisionerError, TransientError
from provisioner.model.resources import Kind
from provisioner.plan.model import Action, Change, Plan
from provisioner.plan.result import FAILED, SKIPPED, SUCCEEDED, ApplyResult, Outcome


class Writer(Protocol):
    """Carries out one change in Azure (provisioner.azure.writers implements it)."""

    def execute(self, change: Change, on_retry) -> None: ...


class Events(Protocol):
    """Progress hooks (renderers implement them; calls come from worker threads)."""

    def started(self, change: Change) -> None: ...

    def retrying(self, change: Change, error: TransientError, attempt: int, delay: float) -> None: ...

    def finished(self, change: Change, outcome: Outcome) -> None: ...


class NoEvents:
    def started(self, change: Change) -> None:
        pass

    def retrying(self, change: Change, error: TransientError, attempt: int, delay: float) -> None:
        pass

    def finished(self, change: Change, outcome: Outcome) -> None:
        pass


def lanes(plan: Plan) -> tuple[list[Change], list[list[Change]]]:
    """(resource groups, one ordered lane per account)."""
    groups = [c for c in plan.pending if c.kind is Kind.RESOURCE_GROUP]
    by_account: dict[tuple[str, str], list[Change]] = {}
    for change in plan.pending:
        if change.kind is Kind.RESOURCE_GROUP:
            continue
        account = change.name if change.kind is Kind.ACCOUNT else change.scope.account
        by_account.setdefault((change.scope.subscription.lower(), account or ""), []).append(change)
    return groups, [order_account_changes(changes) for _, changes in sorted(by_account.items())]


def split_freeing(account_lanes: list[list[Change]]) -> tuple[list[list[Change]], list[list[Change]]]:
    """Quota is shared by every account of a subscription in a region, so capacity one account frees may be
    what another account's lane needs: the lanes' beginnings up to their last deployment deletion or
    capacity decrease run first, all of them, and only then the rest of every lane. (No such change: no wait.)"""
    heads, tails = [], []
    for lane in account_lanes:
        cut = max((i + 1 for i, c in enumerate(lane) if c.kind is Kind.DEPLOYMENT
                   and (c.action is Action.DELETE or capacity_decrease(c) is not None)), default=0)
        if cut:
            heads.append(lane[:cut])
        if lane[cut:]:
            tails.append(lane[cut:])
    return heads, tails


# What attaches to an account from outside (not its children in Azure), written right after the account
# (whose identity and network settings they may rely on) and deleted just before it.
ATTACHED_KINDS = (Kind.PRIVATE_ENDPOINT, Kind.DIAGNOSTIC_SETTING, Kind.ROLE_ASSIGNMENT)


def order_account_changes(changes: list[Change]) -> list[Change]:
    """One account's changes in the order Azure accepts and quota favours:
    the account itself (its identity and network settings included); its private endpoints, diagnostic
    settings and role assignments (new grants before the deletion of those they replace: no gap in
    access); deletions of deployments and capacity decreases, so freed quota is reusable in
    this run (an update that lowers capacity and changes more does the decrease alone first: the rest
    may need a content filter created later in this run); blocklists and policies; then deployment replaces (each deletes, then creates: the quota the
    old deployment held is free before anything else grows) and then creations and updates (spillover
    targets first throughout); then policy and blocklist deletions, once nothing uses them, and the
    deletions of private endpoints, diagnostic settings and role assignments.
    An account deletion (destroy) comes last of all. (A replace runs whole, after the policies it may
    need: split, a failed policy would leave its deployment deleted and not created again.)"""
    account = [c for c in changes if c.kind is Kind.ACCOUNT and c.action is not Action.DELETE]
    account_delete = [c for c in changes if c.kind is Kind.ACCOUNT and c.action is Action.DELETE]
    deployments = [c for c in changes if c.kind is Kind.DEPLOYMENT]
    decreases = {c.address: capacity_decrease(c) for c in deployments}
    freeing = [c if c.action is Action.DELETE else decreases[c.address] for c in deployments
               if c.action is Action.DELETE or decreases[c.address] is not None]
    growing = [_after_decrease(c, decreases[c.address]) for c in deployments
               if c.action is not Action.DELETE and decreases[c.address] is not c]
    writes = [c for c in changes if c.kind in (Kind.BLOCKLIST, Kind.RAI_POLICY) and c.action is not Action.DELETE]
    deletes = [c for c in changes if c.kind in (Kind.RAI_POLICY, Kind.BLOCKLIST) and c.action is Action.DELETE]
    writes.sort(key=lambda c: c.kind is Kind.RAI_POLICY)  # blocklists before the policies that use them
    deletes.sort(key=lambda c: c.kind is Kind.BLOCKLIST)  # policies before their blocklists
    attached = [c for c in changes if c.kind in ATTACHED_KINDS and c.action is not Action.DELETE]
    detached = [c for c in changes if c.kind in ATTACHED_KINDS and c.action is Action.DELETE]
    attached.sort(key=lambda c: ATTACHED_KINDS.index(c.kind))
    detached.sort(key=lambda c: ATTACHED_KINDS.index(c.kind))
    return (account + attached + _by_spillover(freeing, reverse=True) + writes
            + _by_spillover(growing, first=lambda c: c.action is Action.REPLACE) + deletes + detached
            + account_delete)


def capacity_decrease(change: Change) -> Change | None:
    """For an update (or adoption) that lowers a deployment's capacity: the change that lowers only the capacity
    (the change itself when that is all it does); None for any other change."""
    lowered = [f for f in change.fields if f.path == "capacity" and isinstance(f.before, int)
               and isinstance(f.after, int) and f.after < f.before]
    if change.action not in (Action.UPDATE, Action.ADOPT) or not lowered:
        return None
    if len(change.fields) == 1:
        return change
    return replace(change, after={**(change.before or {}), "capacity": lowered[0].after}, fields=tuple(lowered))


def _after_decrease(change: Change, decrease: Change | None) -> Change:
    """The rest of a change whose capacity decrease runs first: it starts from what the decrease left."""
    return change if decrease is None else replace(change, before=decrease.after)


def _by_spillover(changes: list[Change], reverse: bool = False,
                  first: Callable[[Change], bool] = lambda c: False) -> list[Change]:
    """Spillover targets before the deployments that spill over to them (after them when deleting);
    otherwise the changes `first` picks before the rest, each group by name."""
    names = {c.name: c for c in changes}
    ordered: list[Change] = []
    seen: set[str] = set()

    def visit(change: Change) -> None:
        if change.name in seen:
            return
        seen.add(change.name)
        target = (change.after or change.before or {}).get("spillover")
        if target in names:
            visit(names[target])
        ordered.append(change)

    for change in sorted(changes, key=lambda c: (not first(c), c.name)):
        visit(change)
    return list(reversed(ordered)) if reverse else ordered


class Executor:
    def __init__(self, writer: Writer, *, parallelism: int = 10, events: Events | None = None):
        self.writer = writer
        self.parallelism = max(1, parallelism)
        self.events = events or NoEvents()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._outcomes: dict[str, Outcome] = {}
        self._lanes_running = 0  # lanes inside _run_lane (an interrupt waits for them, not for futures)
        self._lanes_changed = threading.Condition()

    def run(self, plan: Plan) -> ApplyResult:
        groups, account_lanes = lanes(plan)
        freeing, rest = split_freeing(account_lanes)
        interrupted = False
        try:
            self._run_parallel([[g] for g in groups])
            self._run_parallel(freeing)
            self._run_parallel(rest)
        except KeyboardInterrupt:
            interrupted = True
        interrupted = interrupted or self.stopping.is_set()  # stopped from outside (a signal handler)
        order = {c.address: i for i, c in enumerate(plan.pending)}
        for change in plan.pending:  # anything never started (interrupted): say so
            if change.address not in self._outcomes:
                self._outcomes[change.address] = Outcome(change.address, change.action.value, SKIPPED,
                                                         "interrupted before it started")
        return ApplyResult(tuple(sorted(self._outcomes.values(), key=lambda o: order[o.address])),
                           interrupted=interrupted)

    def _run_parallel(self, work: list[list[Change]]) -> None:
        if not work:
            return
        with ThreadPoolExecutor(max_workers=min(self.parallelism, len(work))) as pool:
            futures: set[Future] = set()
            try:
                # Submitting is inside the try: Ctrl-C can land while a worker thread is being started.
                for lane in work:
                    futures.add(pool.submit(self._run_lane, lane))
                while futures:
                    done, futures = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()  # a bug in the executor itself should not pass silently
            except KeyboardInterrupt:
                # stop starting new work; let in-flight Azure operations finish and be reported
                self.stopping.set()
                self._wait_for_lanes()
                raise

    def _wait_for_lanes(self) -> None:
        """Until no lane is running. Not `wait(futures)`: a Ctrl-C inside `submit` loses that future, and
        the pool does not join a worker whose start it interrupted, though the worker runs a lane."""
        with self._lanes_changed:
            self._lanes_changed.wait_for(lambda: self._lanes_running == 0)

    def _run_lane(self, lane: list[Change]) -> None:
        with self._lanes_changed:
            self._lanes_running += 1
        try:
            self._run_changes(lane)
        finally:
            with self._lanes_changed:
                self._lanes_running -= 1
                self._lanes_changed.notify_all()

    def _run_changes(self, lane: list[Change]) -> None:
        for change in lane:
            if self.stopping.is_set():
                return
            if self._first_half_failed(change):
                continue  # its capacity decrease failed earlier: that outcome stands
            blocked = self._blocked_by(change)
            if blocked:
                self._record(change, Outcome(change.address, change.action.value, SKIPPED,
                                             f"depends on {blocked}, which did not succeed"))
                continue
            self.events.started(change)
            start = time.monotonic()
            try:
                self.writer.execute(change, on_retry=lambda e, n, d, c=change: self.events.retrying(c, e, n, d))
                outcome = Outcome(change.address, change.action.value, SUCCEEDED, seconds=time.monotonic() - start)
            except ProvisionerError as exc:
                outcome = Outcome(change.address, change.action.value, FAILED, _reason(exc),
                                  seconds=time.monotonic() - start)
            except Exception as exc:  # noqa: BLE001 - a surprise fails this change only; the rest go on
                outcome = Outcome(change.address, change.action.value, FAILED,
                                  f"unexpected {type(exc).__name__}: {_first_line(exc)}",
                                  seconds=time.monotonic() - start)
            self._record(change, outcome)

    def _blocked_by(self, change: Change) -> str | None:
        with self._lock:
            for dependency in change.depends_on:
                outcome = self._outcomes.get(dependency)
                if outcome is not None and outcome.status != SUCCEEDED:
                    return dependency
        return None

    def _first_half_failed(self, change: Change) -> bool:
        """Did this change's capacity decrease run earlier and not succeed?"""
        with self._lock:
            earlier = self._outcomes.get(change.address)
        return earlier is not None and earlier.status != SUCCEEDED

    def _record(self, change: Change, outcome: Outcome) -> None:
        with self._lock:
            self._outcomes[change.address] = outcome
        self.events.finished(change, outcome)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


def _reason(exc: ProvisionerError) -> str:
    text = str(exc)
    if isinstance(exc, PermanentError) and exc.hint:
        text += f" ({exc.hint})"
    return text
