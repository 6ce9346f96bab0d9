"""Following a long-running operation to its end without ever sending its write again.

ARM answers a write with an operation to follow (Azure-AsyncOperation or Location) or
with the resource in a non-terminal provisioningState (ARM-FACTS §0). `ResumingPolling`
is azure-mgmt-core's ARMPolling with three changes:

- a poll that fails in transit (408, 429, 5xx, a dropped connection) is retried, the
  status URL or final GET again, honouring Retry-After: the write is never re-sent
  (re-sending it would collide with its own operation: 409 RequestConflict);
- Retry-After 0 or absent means backoff (1 s, growing by half, up to 15 s), never a
  tight loop and never the SDK's fixed 30 s;
- an operation whose status URL is gone (404), or that keeps failing past its budget,
  is followed through the resource instead, until its provisioningState is terminal
  (for a delete: until it is gone);
- given the run's ArmBudget, it counts itself in flight while it polls, and waits at
  least the budget's poll interval, which grows with the operations in flight, so that
  many operations polled at once do not spend the subscription's reads.

A poll that reads an operation ending Failed raises the SDK's HttpResponseError whose
`error` holds the operation's own code and message; `retry.classify` reports those.
"""
from __future__ import annotations

import random
import time
from typing import Any, Callable

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    IncompleteReadError,
    ServiceRequestError,
    ServiceResponseError,
    map_error,
)
from azure.core.pipeline.policies._utils import get_retry_after
from azure.core.polling.base_polling import BadResponse
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.core.polling.arm_polling import ARMPolling

from provisioner.azure.budget import ArmBudget, subscription_of

RETRIED_STATUS = {408, 429, 500, 502, 503, 504}
TERMINAL_STATES = {"succeeded", "failed", "canceled"}
IN_TRANSIT = (ServiceRequestError, ServiceResponseError, IncompleteReadError)


class OperationLost(Exception):
    """The operation's status can no longer be read; the resource tells the outcome instead."""


class ResumingPolling(ARMPolling):
    """ARM polling that resumes instead of failing when a poll is lost (see the module docstring)."""

    def __init__(self, first: float = 1.0, factor: float = 1.5, cap: float = 15.0, poll_budget: float = 600.0,
                 sleep: Callable[[float], None] = time.sleep, budget: ArmBudget | None = None, **kwargs: Any):
        super().__init__(timeout=first, **kwargs)
        self._budget = budget
        self._first, self._next_delay, self._factor, self._cap = first, first, factor, cap
        self._poll_budget = poll_budget  # seconds one status URL may keep failing before the resource is asked
        self._sleep_for = sleep
        self.poll_errors = 0  # polls retried, for tests and progress

    # waiting
    def run(self) -> None:
        subscription = subscription_of(self._resource_url()) if self._budget is not None else None
        if subscription is None:
            return super().run()
        self._budget.operation_started(subscription)
        try:
            super().run()
        finally:
            self._budget.operation_finished(subscription)

    def _extract_delay(self) -> float:
        delay = get_retry_after(self._pipeline_response)
        if delay is None or delay <= 0:
            delay = self._backoff()
        subscription = subscription_of(self._resource_url()) if self._budget is not None else None
        return self._budget.poll_interval(subscription, delay) if subscription else delay

    def _backoff(self) -> float:
        delay, self._next_delay = self._next_delay, min(self._cap, self._next_delay * self._factor)
        return delay

    def _sleep(self, delay: float) -> None:
        self._sleep_for(delay)

    # asking
    def request_status(self, status_link: str) -> Any:
        """GET a status URL (or the final resource), retrying what fails in transit."""
        started = time.monotonic()
        while True:
            try:
                response = super().request_status(status_link)
            except IN_TRANSIT:
                response = None
            except HttpResponseError as exc:
                if exc.status_code is not None:
                    raise
                response = None  # a broken stream: azure-core raises a bare HttpResponseError
            if response is not None:
                status = response.http_response.status_code
                if status == 404 and self._is_operation_url(status_link):
                    raise OperationLost(status_link)
                if status not in RETRIED_STATUS:
                    return response
                delay = get_retry_after(response)
            else:
                delay = None
            self.poll_errors += 1
            if time.monotonic() - started > self._poll_budget:
                if self._is_operation_url(status_link):
                    raise OperationLost(status_link)
                raise BadResponse(f"polling {status_link} kept failing for {self._poll_budget:.0f} s")
            self._sleep_for(delay if delay and delay > 0 else self._jittered())

    def _jittered(self) -> float:
        return random.uniform(self._first / 2, self._backoff())

    def _is_operation_url(self, link: str) -> bool:
        return link.split("?")[0].rstrip("/") != self._resource_url().split("?")[0].rstrip("/")

    def _resource_url(self) -> str:
        return self._initial_response.http_response.request.url

    # following
    def _poll(self) -> None:
        try:
            super()._poll()
        except OperationLost:
            self._follow_resource()

    def _follow_resource(self) -> None:
        """The operation is lost: watch the resource until it settles (a delete: until it is gone)."""
        method = self._initial_response.http_response.request.method
        url = self._resource_url()
        while True:
            response = self.request_status(url)
            status = response.http_response.status_code
            if method == "DELETE" and status == 404:
                self._status = "Succeeded"
                self._pipeline_response = response
                return
            if status == 200 and method != "DELETE":
                state = str(((response.http_response.json() or {}).get("properties") or {})
                            .get("provisioningState") or "Succeeded")
                if state.lower() in TERMINAL_STATES:
                    self._pipeline_response = response
                    self._status = state
                    if state.lower() != "succeeded":
                        raise HttpResponseError(response=response.http_response,
                                                message=f"the resource ended in provisioning state {state}")
                    return
            elif status not in (200, 202, 204):
                raise HttpResponseError(response=response.http_response)
            self._pipeline_response = response
            self._sleep_for(self._extract_delay())


def get_json(client: Any, url: str) -> Any:
    """A GET through a client's own pipeline (auth, TLS, policies), as JSON; None for 404.
    Errors are raised as the SDK raises them (ARM's error code on `.error`)."""
    send = getattr(client, "send_request", None) or client._send_request
    response = send(HttpRequest("GET", url))
    if response.status_code == 404:
        return None
    if response.status_code >= 400:
        map_error(status_code=response.status_code, response=response,
                  error_map={401: ClientAuthenticationError})
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    return response.json()
