"""ARM's request budget: an apply paced by the x-ms-ratelimit headers gets (almost) no 429s where the
same apply without pacing gets many, against the emulator's ARM token buckets (counts, not times)."""
from __future__ import annotations

import pytest

from provisioner.azure.budget import ARM_BUCKETS, POLL_SHARE, SCARCE_POLL_SHARE, ArmBudget, TokenBucket
from provisioner.workspace import Workspace

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000b5"
ACCOUNTS, DEPLOYMENTS = 6, 2
# ARM's shape, scaled down so that the run is short but must be paced: kind -> (bucket size, refill per second)
RATES = {"reads": (10, 20), "writes": (2, 4), "deletes": (2, 4)}


def spec() -> dict:
    return {"version": 1, "name": "budget",
            "defaults": {"subscription": SUBSCRIPTION, "resource_group": "rg-budget", "location": "eastus2"},
            "accounts": [{"name": f"budget-{a}",
                          "deployments": [{"name": f"d{i}", "model": "gpt-4o-mini", "version": "2024-07-18",
                                           "capacity": 1} for i in range(DEPLOYMENTS)]}
                         for a in range(ACCOUNTS)]}


def throttled_apply(workdir, emulator, *, pacing: bool) -> tuple[int, int]:
    """(429s the client saw, writes the emulator served) for one apply from empty with small buckets."""
    emulator.control.configure(throttle={"enabled": True, **{k: list(v) for k, v in RATES.items()},
                                         "global_factor": 15}, lro_durations={"default": 0.2})
    workdir.write(spec())
    with Workspace.open(workdir.spec) as workspace:
        workspace.clients.budget.pacing = pacing
        workspace.clients.budget.rates = dict(RATES)  # the documented refill rates of this "ARM"
        result = workspace.apply(parallelism=ACCOUNTS)
        assert not result.failed, result
        counts = emulator.control.requests()["counts"]
        return workspace.clients.budget.throttled, sum(n for route, n in counts.items() if route.startswith("PUT"))


def test_paced_apply_is_not_throttled_where_an_unpaced_one_is(workdir, external_emulator):
    paced, writes = throttled_apply(workdir, external_emulator, pacing=True)
    assert writes >= 1 + ACCOUNTS * (1 + DEPLOYMENTS)
    assert paced <= 0.02 * writes, (paced, writes)
    external_emulator.control.reset()
    external_emulator.control.clear_requests()
    unpaced, _ = throttled_apply(workdir, external_emulator, pacing=False)
    assert unpaced > 5 * max(1, paced), (paced, unpaced)  # the same work, unpaced, runs into ARM's limits


class FakeTime:
    """A clock that only moves when someone sleeps: the bucket's arithmetic, without real waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_waits_for_refill_and_believes_arm_over_itself():
    time = FakeTime()
    bucket = TokenBucket(200, 10, clock=lambda: time.now, sleep=time.sleep)
    bucket.take()
    bucket.observe(200, 2, None)  # ARM says 2 left (someone else spends the subscription too)
    bucket.take()
    bucket.take()
    assert time.slept == []
    bucket.take()  # empty: waits for one token at 10/s
    assert sum(time.slept) == pytest.approx(0.1)
    bucket.observe(429, None, 3.0)
    bucket.take()  # a 429's Retry-After holds every request of the bucket
    assert sum(time.slept) >= 0.1 + 3.0
    assert bucket.throttled == 1


def test_arm_saying_more_is_left_is_believed_too():
    """An endpoint that is not throttling says its bucket is full on every answer: never wait for it."""
    time = FakeTime()
    bucket = TokenBucket(5, 1, clock=lambda: time.now, sleep=time.sleep)
    for _ in range(50):
        bucket.take()
        bucket.observe(200, 4, None)
    assert time.slept == []


def test_one_probe_until_the_first_answer():
    time = FakeTime()
    bucket = TokenBucket(200, 10, clock=lambda: time.now, sleep=time.sleep)
    bucket.take()
    waits: list[float] = []

    def answer_while_waiting(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            bucket.observe(200, 0, None)  # the probe's answer: nothing left
        time.now += seconds

    bucket._sleep = answer_while_waiting
    bucket.take()
    assert waits[0] < 0.1, "a second request must wait for the probe's answer before spending an unknown bucket"
    assert sum(waits) >= 0.1  # and then for a token: ARM said none was left


def test_poll_interval_grows_with_operations_in_flight():
    budget = ArmBudget()
    assert budget.poll_interval("s", 1.0) == 1.0
    for _ in range(100):
        budget.operation_started("s")
    assert budget.poll_interval("s", 1.0) == pytest.approx(100 / (POLL_SHARE * ARM_BUCKETS["reads"][1]))
    assert budget.poll_interval("other", 1.0) == 1.0  # buckets are per subscription
    for _ in range(100):
        budget.operation_finished("s")
    assert budget.poll_interval("s", 2.0) == 2.0


def test_polls_thin_out_when_reads_run_short():
    clock = [0.0]
    budget = ArmBudget(clock=lambda: clock[0])
    for _ in range(50):
        budget.operation_started("s")
    refill = ARM_BUCKETS["reads"][1]
    assert budget.poll_interval("s", 1.0) == pytest.approx(50 / (POLL_SHARE * refill))
    budget.bucket("s", "reads").observe(200, 100, None)  # ARM: 100 of 250 reads left
    assert budget.poll_interval("s", 1.0) == pytest.approx(50 / (SCARCE_POLL_SHARE * refill))
    clock[0] += 100 / refill  # refilled past half again
    assert budget.poll_interval("s", 1.0) == pytest.approx(50 / (POLL_SHARE * refill))
