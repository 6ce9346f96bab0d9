"""`provision test --load SECONDS`: a short, bounded load per deployment, measured against what its
capacity promises.

Each deployment gets its own run of SECONDS (one after another, so one deployment's limits never
blur another's): a few workers send the same request through the `openai` package's Azure client,
with no client retries. A 429 is counted, the wait its `retry-after-ms` asks for is added up and
honoured by that worker (as the client's own retry would), and the run reports what got through:
requests and tokens per minute (tokens from each answer's `usage`; from the first 429 on, once the
burst a rate window allows at the start is spent), latency p50/p95 of the answered requests, and the
deployment's limits (its `rateLimits`: requests and tokens per minute; none for provisioned deployments,
which utilisation limits).

Request size and concurrency follow the capacity: a request of about twice the deployment's tokens
per request allowance (TPM / RPM), so the token limit is the one reached, not the request limit; the
prompt is half of it and `max_tokens` the other half (the limiter charges both when the request
arrives, learn.microsoft.com/azure/ai-foundry/openai/how-to/quota). Workers: about two seconds' worth
of requests in flight, 2 to 8.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from azure.core.exceptions import HttpResponseError

from provisioner.azure.clients import Clients
from provisioner.azure.inference import BATCH_SKUS, explain, kind_of, management_failure
from provisioner.model.resources import Resource

FILLER = "the cat sat and ran far but not now one two six ten red sun sky".split()  # 4 characters a token
INSTRUCTION = "Repeat these words back, as many as you can: "
DEFAULT_REQUEST_TOKENS = 400  # a deployment without rate limits (provisioned): its utilisation decides
BURST_SECONDS = 10  # Azure's longest rate window: what a run may take beyond the per-minute rate at its start
MAX_WORKERS = 8
STEADY_SECONDS = 5  # the least time after the first 429 that rates are measured over


@dataclass
class LoadPlan:
    """What a run against one deployment will send, read from the live deployment."""

    address: str
    account: Resource
    deployment: Resource
    kind: str
    sku: str | None
    capacity: int | None
    limits: dict[str, dict[str, float]]  # key -> {"count", "per_seconds"}, as the deployment's rateLimits
    request_tokens: int = DEFAULT_REQUEST_TOKENS
    workers: int = 2
    skip: str | None = None  # why this deployment is not loaded

    def per_minute(self, key: str) -> float | None:
        limit = self.limits.get(key)
        return limit["count"] * 60 / limit["per_seconds"] if limit else None

    def tokens_at_most(self, seconds: float) -> int:
        """Roughly what the run can use: the token limit over the run plus one burst window."""
        if self.skip:
            return 0
        tpm = self.per_minute("token")
        if tpm is None:  # no token limit reported: the workers' pace decides
            return self.request_tokens * self.workers * math.ceil(seconds)
        return math.ceil(tpm * (seconds + BURST_SECONDS) / 60)


def plan(clients: Clients, account: Resource, deployment: Resource) -> LoadPlan:
    props = deployment.properties
    load = LoadPlan(deployment.address, account, deployment, kind_of(props), props.get("sku"),
                    props.get("capacity"), {})
    if load.kind == "batch" or load.sku in BATCH_SKUS:
        load.skip = "batch deployments take files through the Batch API"
        return load
    cognitive = clients.cognitive(account.scope.subscription)
    try:
        live = cognitive.deployments.get(account.scope.resource_group, account.name, deployment.name)
    except HttpResponseError as error:
        load.skip = management_failure(error, False)
        return load
    load.capacity = live.sku.capacity if live.sku else load.capacity
    load.limits = {r.key: {"count": r.count, "per_seconds": r.renewal_period}
                   for r in live.properties.rate_limits or []}
    tpm, rpm = load.per_minute("token"), load.per_minute("request")
    if tpm and rpm:
        load.request_tokens = max(32, min(4000, round(2 * tpm / rpm)))
    requests_per_second = (tpm / load.request_tokens if tpm else 600) / 60
    load.workers = max(2, min(MAX_WORKERS, round(requests_per_second * 2)))
    return load


@dataclass
class _Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    answered: list[tuple[float, float, int]] = field(default_factory=list)  # (sent at, latency ms, tokens)
    first_throttled: float | None = None  # when the first 429 came: the burst allowance was spent
    throttled: int = 0
    retry_after_ms: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    utilization_max: float | None = None
    fatal: str | None = None  # a refusal no retry will change (401, 403, 404)


def run(clients: Clients, load: LoadPlan, seconds: float, *, use_key: bool,
        progress: Callable[[float], None] = lambda fraction: None) -> dict[str, Any]:
    """Load one deployment for `seconds`; the row `provision test --load` reports."""
    row = _row(load, seconds)
    if load.skip:
        return {**row, "status": "skipped" if load.kind == "batch" else "failed", "reason": load.skip}
    account = load.account
    cognitive = clients.cognitive(account.scope.subscription)
    try:
        endpoint = cognitive.accounts.get(account.scope.resource_group, account.name).properties.endpoint
        key = cognitive.accounts.list_keys(account.scope.resource_group, account.name).key1 if use_key else None
    except HttpResponseError as error:
        return {**row, "status": "failed", "reason": management_failure(error, use_key)}
    client = clients.inference(endpoint, key=key)
    tally = _Tally()
    started = time.monotonic()
    deadline = started + seconds
    workers = [threading.Thread(target=_work, args=(client, load, deadline, tally), daemon=True)
               for _ in range(load.workers)]
    try:
        for worker in workers:
            worker.start()
        while any(w.is_alive() for w in workers):
            progress(min(1.0, (time.monotonic() - started) / seconds))
            for worker in workers:
                worker.join(timeout=0.2)
        progress(1.0)
    finally:
        client.close()
    return {**row, **_measured(tally, started, seconds)}


def _work(client: Any, load: LoadPlan, deadline: float, tally: _Tally) -> None:
    from openai import APIConnectionError, APIStatusError, RateLimitError

    half = load.request_tokens if load.kind == "embedding" else max(1, load.request_tokens // 2)
    words = (FILLER * (half // len(FILLER) + 1))[:half]
    text = INSTRUCTION + " ".join(words)
    while time.monotonic() < deadline and tally.fatal is None:
        sent = time.monotonic()
        try:
            if load.kind == "embedding":
                raw = client.embeddings.with_raw_response.create(model=load.deployment.name, input=text)
            else:
                raw = client.chat.completions.with_raw_response.create(
                    model=load.deployment.name, max_tokens=load.request_tokens - half,
                    messages=[{"role": "user", "content": text}])
            answer = raw.parse()
        except RateLimitError as error:
            wait_ms = _int(error.response.headers.get("retry-after-ms"))
            if wait_ms is None:
                wait_ms = 1000 * (_int(error.response.headers.get("retry-after")) or 1)
            with tally.lock:
                tally.first_throttled = tally.first_throttled or sent
                tally.throttled += 1
                tally.retry_after_ms += wait_ms
                _note_utilization(tally, error.response.headers)
            time.sleep(max(0.0, min(wait_ms / 1000, deadline - time.monotonic())))
            continue
        except APIStatusError as error:
            reason = f"{error.status_code} {explain(error.status_code, error.body)}"
            with tally.lock:
                tally.errors[reason] = tally.errors.get(reason, 0) + 1
                if error.status_code in (400, 401, 403, 404):
                    tally.fatal = reason
            time.sleep(0.5)
            continue
        except APIConnectionError as error:
            with tally.lock:
                name = f"could not connect: {error.__class__.__name__}"
                tally.errors[name] = tally.errors.get(name, 0) + 1
            time.sleep(0.5)
            continue
        with tally.lock:  # sent within the run: counted, even if it is answered after its end
            tally.answered.append((sent, (time.monotonic() - sent) * 1000,
                                   answer.usage.total_tokens if answer.usage else 0))
            _note_utilization(tally, raw.headers)


def _note_utilization(tally: _Tally, headers: Any) -> None:
    value = str(headers.get("azure-openai-deployment-utilization") or "").rstrip("%")
    try:
        seen = float(value)
    except ValueError:
        return
    tally.utilization_max = seen if tally.utilization_max is None else max(tally.utilization_max, seen)


def _row(load: LoadPlan, seconds: float) -> dict[str, Any]:
    return {"address": load.address, "account": load.account.name, "deployment": load.deployment.name,
            "kind": load.kind, "sku": load.sku, "capacity": load.capacity, "seconds": seconds,
            "workers": load.workers, "request_tokens": load.request_tokens, "status": "failed",
            "requests": 0, "throttled": 0, "errors": {}, "retry_after_ms_total": 0,
            "measured_from_s": None, "requests_per_minute": None, "tokens_per_minute": None,
            "tokens_per_minute_whole_run": None, "latency_p50_ms": None,
            "latency_p95_ms": None, "utilization_max": None,
            "limit_requests_per_minute": load.per_minute("request"),
            "limit_tokens_per_minute": load.per_minute("token"), "reason": None}


def _measured(tally: _Tally, started: float, seconds: float) -> dict[str, Any]:
    """Rates of the requests sent over the steady part of the run: from the first 429 on, once the burst a
    rate window allows at the start is spent (Azure's windows are 1 or 10 s), when that leaves at least
    STEADY_SECONDS and a quarter of the run; over the whole run otherwise (the limit was not reached, or
    the run is too short to tell)."""
    end = started + seconds
    steady = tally.first_throttled is not None and end - tally.first_throttled >= max(STEADY_SECONDS, seconds / 4)
    since = tally.first_throttled if steady else started
    counted = [tokens for sent, _, tokens in tally.answered if sent >= since]
    done = sorted(latency for _, latency, _ in tally.answered)
    minutes = (end - since) / 60
    result = {"requests": len(done), "throttled": tally.throttled, "errors": dict(tally.errors),
              "retry_after_ms_total": tally.retry_after_ms, "utilization_max": tally.utilization_max,
              "measured_from_s": round(since - started, 1),
              "requests_per_minute": round(len(counted) / minutes, 1),
              "tokens_per_minute": round(sum(counted) / minutes),
              "tokens_per_minute_whole_run": round(sum(t for _, _, t in tally.answered) * 60 / seconds),
              "latency_p50_ms": _percentile(done, 0.50), "latency_p95_ms": _percentile(done, 0.95)}
    if tally.utilization_max is not None:  # provisioned: utilisation limits it, not the rates it reports
        result.update(limit_requests_per_minute=None, limit_tokens_per_minute=None)
    if tally.fatal or not done:
        return {**result, "status": "failed", "reason": tally.fatal or "no request was answered"}
    return {**result, "status": "ok"}


def _percentile(ordered: list[float], fraction: float) -> int | None:
    """Nearest rank: the smallest value with at least `fraction` of the values at or below it."""
    if not ordered:
        return None
    return round(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)])


def _int(value: Any) -> int | None:
    return int(value) if value is not None and str(value).isdigit() else None
