"""The one retry layer for every Azure call, reads and writes alike.

`classify` turns SDK exceptions into TransientError (worth retrying: 409
RequestConflict, 429, 5xx, a dropped connection) or PermanentError (explained
in words a user can act on). `call` retries transient errors with exponential
backoff and full jitter, honours Retry-After, and stops at a deadline.
"""
from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    IncompleteReadError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.polling.base_polling import OperationFailed

from provisioner.errors import PermanentError, TransientError

T = TypeVar("T")

TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
TRANSIENT_CODES = {"RequestConflict", "Conflict", "AnotherOperationInProgress", "OperationNotAllowed"}
# An operation that ended Failed with one of these is worth writing again (a repair), a few times.
TRANSIENT_OPERATION_CODES = {"InternalServerError", "InternalError", "ServiceUnavailable", "GatewayTimeout",
                             "RequestTimeout", "OperationTimedOut", "RequestConflict", "Conflict"}

# What a user can do about the errors Azure OpenAI provisioning hits most.
ADVICE = {
    "InsufficientQuota": "request more quota for this model and SKU in this region, lower the capacity, "
                         "or free capacity elsewhere (`provision quota` shows where capacity is)",
    "DeploymentModelNotSupported": "this model/version is not offered in this region or is retired: pick a "
                                   "version the region offers, or omit `version` to use the region's default",
    "InvalidResourceProperties": "the SKU is not offered for this model in this region: choose another `type`/"
                                 "`scope` or region",
    "InvalidCapacity": "the capacity is outside the model's minimum/maximum or not a multiple of its step",
    "FlagMustBeSetForRestore": "a soft-deleted account holds this name: set `on_soft_deleted: restore` or "
                               "`purge` on the account",
    "CustomDomainInUse": "the custom subdomain is taken (possibly by a soft-deleted account): purge it or "
                         "choose another `custom_subdomain`",
    "AuthorizationFailed": "the identity running provision lacks permission: grant it Cognitive Services "
                           "Contributor on the resource group",
}


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: float = 1.0
    max_delay: float = 30.0
    deadline: float = 600.0  # seconds for one change, all attempts and waits included
    failed_operations: int = 3  # writes whose operation ended Failed (transiently) are tried this often
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def error_code(exc: HttpResponseError) -> str | None:
    error = getattr(exc, "error", None)
    return getattr(error, "code", None) if error is not None else None


def error_message(exc: HttpResponseError) -> str:
    error = getattr(exc, "error", None)
    message = getattr(error, "message", None) if error is not None else None
    return message or (exc.reason or str(exc)).splitlines()[0]


def classify(exc: Exception) -> TransientError | PermanentError | None:
    """Our view of an SDK exception; None if it is not an Azure error at all."""
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)) or _connection_broken(exc):
        return TransientError(f"connection problem: {type(exc).__name__}", code="ConnectionError")
    if isinstance(exc, ClientAuthenticationError):
        return PermanentError("Azure refused our credentials (401)", code="AuthenticationFailed",
                              hint="check `az login`, AZURE_CLIENT_ID/AZURE_TENANT_ID, or the workload identity")
    if not isinstance(exc, HttpResponseError):
        return None
    status = exc.status_code
    code = error_code(exc)
    message = error_message(exc)
    if failed_operation(exc):  # the poll itself answered 200: the operation's body says what went wrong
        text = f"the operation ended Failed: {code or 'Failed'}: {message}"
        if code in TRANSIENT_OPERATION_CODES:
            return TransientError(text, code=code, failed_operation=True)
        return PermanentError(text, code=code, hint=ADVICE.get(code or ""))
    busy_account = code == "AccountProvisioningStateInvalid" and not re.search(r"state (Failed|Canceled)", message)
    if status in TRANSIENT_STATUS or (status == 409 and code in TRANSIENT_CODES) or busy_account:
        return TransientError(f"{status} {code or ''}: {message}".replace(" :", ":"), delay=retry_after(exc),
                              code=code)
    return PermanentError(f"{status} {code or 'Error'}: {message}", code=code, hint=ADVICE.get(code or ""))


def failed_operation(exc: HttpResponseError) -> bool:
    """Did polling read an operation (or resource) that ended Failed or Canceled?"""
    return isinstance(getattr(exc, "inner_exception", None), OperationFailed) \
        or isinstance(exc.__cause__, OperationFailed) \
        or (exc.message or "").startswith("the resource ended in provisioning state")


def _connection_broken(exc: Exception) -> bool:
    """The connection died while the response was read: azure-core raises HttpResponseError subclasses
    for that (IncompleteReadError; a bare HttpResponseError without a status for other broken streams),
    though no complete answer came back."""
    if isinstance(exc, IncompleteReadError):
        return True
    return type(exc) is HttpResponseError and getattr(exc, "status_code", None) is None


def retry_after(exc: HttpResponseError) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001), ("Retry-After", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return float(value) * scale
            except ValueError:
                return None  # an HTTP date: fall back to our backoff
    return None


def call(operation: Callable[[], T], policy: RetryPolicy = RetryPolicy(),
         on_retry: Callable[[TransientError, int, float], None] | None = None) -> T:
    """Run `operation`, retrying transient failures until the policy's deadline."""
    start = policy.clock()
    attempt = failures = 0
    while True:
        try:
            return operation()
        except Exception as exc:  # noqa: BLE001 - classified below, re-raised if not ours
            ours = exc if isinstance(exc, (TransientError, PermanentError)) else classify(exc)
            if ours is None:
                raise
            if isinstance(ours, PermanentError):
                raise ours from None
            if ours.failed_operation:
                failures += 1
                if failures >= policy.failed_operations:
                    raise PermanentError(f"{ours} ({failures} times)", code=ours.code) from None
            attempt += 1
            backoff = random.uniform(0, min(policy.max_delay, policy.first_delay * 2 ** (attempt - 1)))
            delay = ours.delay if ours.delay else backoff  # Retry-After: 0 must not mean a tight loop
            if policy.clock() - start + delay > policy.deadline:
                raise TransientError(f"gave up after {attempt} attempt(s): {ours}", code=ours.code) from None
            if on_retry:
                on_retry(ours, attempt, delay)
            policy.sleep(delay)
