"""Spending ARM's request budget on purpose instead of discovering it through 429s.

ARM throttles with a token bucket per subscription and kind of request: reads, writes,
deletes (ARM-FACTS §8: reads 250 refilled at 25/s, writes and deletes 200 at 10/s), and
says what is left on every response (`x-ms-ratelimit-remaining-subscription-{kind}`).
`ArmBudget` keeps our own copy of each bucket, shared by every client and lane of a run:
a request waits for a token before it goes out, and each answer sets the copy to what
ARM says is left, less our requests still on their way (other clients spend the same
budget; an unthrottled endpoint always says its bucket is full). A 429 empties
the bucket until its Retry-After has passed. Until a bucket's first answer arrives, one
request at a time probes it, so a burst of parallel lanes never overdraws a bucket
whose real size we do not know yet. Status polls are reads and are paced like any other.

`poll_interval` spreads status polls: with n operations in flight, polling each once
per n / (share of the read refill) seconds keeps polls within that share of the budget,
leaving the rest to the reads that verify results; the share shrinks when the read bucket
runs low.

`ArmBudgetPolicy` is the azure-core pipeline policy that applies it; clients.py adds it
to every client it builds (after the retry policy, so each attempt is paced).
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy

# ARM-FACTS §8 (https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling)
ARM_BUCKETS = {"reads": (250.0, 25.0), "writes": (200.0, 10.0), "deletes": (200.0, 10.0)}
POLL_SHARE = 0.8  # of the read refill rate that status polls may use while reads are to spare
SCARCE_POLL_SHARE = 0.4  # once the read bucket is less than half full
_SUBSCRIPTION = re.compile(r"/subscriptions/([^/?#]+)", re.IGNORECASE)


def kind_of(method: str) -> str:
    return {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}.get(method.upper(), "writes")


class TokenBucket:
    """Our estimate of one ARM bucket; thread-safe; `take` blocks until a token is ours."""

    def __init__(self, size: float, refill: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.size, self.refill = size, refill
        self.tokens = size
        self._clock, self._sleep = clock, sleep
        self._at = clock()
        self._blocked_until = 0.0
        self._calibrated = False  # has ARM told us what is left yet?
        self._in_flight = 0
        self._sent = 0  # tickets handed out, in order
        self._heard = 0  # the newest ticket whose answer set our count
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for tokens, for progress and benchmarks
        self.throttled = 0  # 429s seen

    def _refilled(self, now: float) -> None:
        self.tokens = min(self.size, self.tokens + (now - self._at) * self.refill)
        self._at = now

    def level(self) -> float:
        """How full the bucket is now, 0 to 1."""
        with self._lock:
            self._refilled(self._clock())
            return max(0.0, self.tokens) / self.size

    def take(self) -> int:
        """Wait for a token; returns the request's ticket for `observe`."""
        while True:
            with self._lock:
                now = self._clock()
                self._refilled(now)
                if now >= self._blocked_until and self.tokens >= 1 and (self._calibrated or not self._in_flight):
                    self.tokens -= 1
                    self._in_flight += 1
                    self._sent += 1
                    return self._sent
                if now < self._blocked_until:
                    wait = self._blocked_until - now
                elif self.tokens < 1:
                    wait = (1 - self.tokens) / self.refill
                else:
                    wait = 0.05  # the probe's answer is on its way
            self.waited += wait
            self._sleep(wait)

    def observe(self, status: int | None, remaining: int | None, retry_after: float | None,
                ticket: int | None = None) -> None:
        """What ARM answered the request with `ticket`: its count of what is left, or a 429. An answer
        to a request older than one already heard from is stale: its count is ignored."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            now = self._clock()
            self._refilled(now)
            if ticket is not None:
                if ticket < self._heard:
                    remaining = None
                else:
                    self._heard = ticket
            if remaining is not None:
                # ARM's count is the truth, up or down (its refill, other clients); the requests we
                # still have on their way will be spent from it too.
                self.size = max(self.size, remaining + 1.0)
                self.tokens = remaining - self._in_flight
                self._calibrated = True
            if status == 429:
                self.throttled += 1
                self.tokens = min(self.tokens, 0.0)
                self._blocked_until = max(self._blocked_until, now + (retry_after or 1.0 / self.refill))
                self._calibrated = True


@dataclass
class ArmBudget:
    """The buckets of one run, per (subscription, kind), and the operations in flight per subscription."""

    pacing: bool = True  # False: count 429s but never wait (what a client without pacing does)
    rates: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(ARM_BUCKETS))  # kind -> size, refill
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._operations: dict[str, int] = {}
        self._lock = threading.Lock()

    def bucket(self, subscription: str, kind: str) -> TokenBucket:
        key = (subscription.lower(), kind)
        with self._lock:
            if key not in self._buckets:
                size, refill = self.rates[kind]
                self._buckets[key] = TokenBucket(size, refill, clock=self.clock, sleep=self.sleep)
            return self._buckets[key]

    @property
    def throttled(self) -> int:
        """429s answered to this run, all buckets."""
        with self._lock:
            return sum(b.throttled for b in self._buckets.values())

    def operation_started(self, subscription: str) -> None:
        with self._lock:
            self._operations[subscription.lower()] = self._operations.get(subscription.lower(), 0) + 1

    def operation_finished(self, subscription: str) -> None:
        with self._lock:
            self._operations[subscription.lower()] = max(0, self._operations.get(subscription.lower(), 0) - 1)

    def poll_interval(self, subscription: str, wanted: float) -> float:
        """How long to wait before the next status poll: what ARM asked for (`wanted`), or longer when so
        many operations are in flight that polling each that often would spend more than POLL_SHARE of
        the read refill; SCARCE_POLL_SHARE once reads run short, since a poll that finds its operation
        still running is a read the checks before and after each write wait for."""
        if not self.pacing:
            return wanted
        with self._lock:
            in_flight = self._operations.get(subscription.lower(), 0)
        share = POLL_SHARE if self.bucket(subscription, "reads").level() >= 0.5 else SCARCE_POLL_SHARE
        return max(wanted, in_flight / (share * self.rates["reads"][1]))


def subscription_of(url: str) -> str | None:
    found = _SUBSCRIPTION.search(url)
    return found.group(1) if found else None


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class ArmBudgetPolicy(HTTPPolicy):
    """Waits for a token of the request's bucket, then tells the bucket what ARM answered."""

    def __init__(self, budget: ArmBudget):
        super().__init__()
        self._budget = budget

    def send(self, request: PipelineRequest) -> PipelineResponse:
        http = request.http_request
        subscription = subscription_of(http.url)
        if subscription is None:  # not subscription-scoped (tenant-level, prices): not ARM's subscription budget
            return self.next.send(request)
        kind = kind_of(http.method)
        bucket = self._budget.bucket(subscription, kind)
        ticket = bucket.take() if self._budget.pacing else None
        status = remaining = retry_after = None
        try:
            response = self.next.send(request)
            headers = response.http_response.headers
            status = response.http_response.status_code
            remaining = _number(headers.get(f"x-ms-ratelimit-remaining-subscription-{kind}"))
            retry_after = _number(headers.get("Retry-After"))
            return response
        finally:
            bucket.observe(status, int(remaining) if remaining is not None else None, retry_after, ticket)
