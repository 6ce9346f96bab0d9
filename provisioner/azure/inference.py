"""One small real request per deployment through the `openai` package's Azure client: does it serve?

A chat completion of a few tokens for chat models, one embedding for embedding models; batch
deployments take files through the Batch API, so they are skipped. Each probe returns a plain
row (what `provision test` renders). Keys are read with listKeys only for `use_key` and never
leave this module.
"""
from __future__ import annotations

import re
import time
from typing import Any

from azure.core.exceptions import HttpResponseError

from provisioner.azure.clients import Clients
from provisioner.model.resources import Resource

PROBE_MAX_TOKENS = 5
BATCH_SKUS = ("GlobalBatch", "DataZoneBatch")
# Why a request failed, by HTTP status, in the words a user acts on.
EXPLAINED = {
    401: "not authorised: the key is wrong, or the token is not for https://cognitiveservices.azure.com",
    403: "refused: key authentication is off (local_auth: false), public network access is disabled, "
         "or the caller lacks the 'Cognitive Services OpenAI User' role",
    404: "deployment not found: not ready yet (new deployments can take minutes), or the endpoint is wrong",
    429: "rate limited: the deployment's capacity is exhausted right now",
}


def probe(clients: Clients, account: Resource, deployment: Resource, *, use_key: bool) -> dict[str, Any]:
    """Send one request to `deployment` on `account`; a row describing what happened."""
    props = deployment.properties
    row: dict[str, Any] = {
        "address": deployment.address, "account": account.name, "deployment": deployment.name,
        "model": props.get("model"), "version": props.get("version"), "sku": props.get("sku"),
        "capacity": props.get("capacity"), "kind": _kind(props), "status": "failed", "latency_ms": None,
        "answered_model": None, "http_status": None, "remaining_requests": None, "remaining_tokens": None,
        "retry_after_ms": None, "limits": {}, "reason": None}
    if row["kind"] == "batch":
        return {**row, "status": "skipped", "reason": "batch deployments take files through the Batch API"}
    cognitive = clients.cognitive(account.scope.subscription)
    try:
        live = cognitive.accounts.get(account.scope.resource_group, account.name)
        live_deployment = cognitive.deployments.get(account.scope.resource_group, account.name, deployment.name)
        key = cognitive.accounts.list_keys(account.scope.resource_group, account.name).key1 if use_key else None
    except HttpResponseError as error:
        return {**row, "reason": _management_failure(error, use_key)}
    row["version"] = live_deployment.properties.model.version
    row["capacity"] = live_deployment.sku.capacity if live_deployment.sku else row["capacity"]
    row["limits"] = {r.key: {"count": r.count, "per_seconds": r.renewal_period}
                     for r in live_deployment.properties.rate_limits or []}
    client = clients.inference(live.properties.endpoint, key=key)
    try:
        return {**row, **_request(client, row)}
    finally:
        client.close()


def _request(client: Any, row: dict[str, Any]) -> dict[str, Any]:
    from openai import APIConnectionError, APIStatusError

    started = time.monotonic()
    try:
        if row["kind"] == "embedding":
            raw = client.embeddings.with_raw_response.create(model=row["deployment"], input="provision test")
        else:
            raw = client.chat.completions.with_raw_response.create(
                model=row["deployment"], max_tokens=PROBE_MAX_TOKENS,
                messages=[{"role": "user", "content": "Reply with one word: ready"}])
        answer = raw.parse()
    except APIStatusError as error:
        return {"latency_ms": _ms(started), "http_status": error.status_code,
                "reason": f"{error.status_code} {EXPLAINED.get(error.status_code, 'refused')}"
                          f" ({_code(error)})",
                **_headers(error.response.headers)}
    except APIConnectionError as error:
        return {"latency_ms": _ms(started), "reason": f"could not connect to the endpoint: {error.__class__.__name__}"}
    result = {"latency_ms": _ms(started), "http_status": raw.http_response.status_code,
              "answered_model": answer.model, **_headers(raw.headers)}
    if not _same_model(str(answer.model or ""), str(row["model"]), str(row.get("version") or "")):
        return {**result, "reason": f"answered by {answer.model}, the spec asks for {row['model']} {row['version']}"}
    return {**result, "status": "ok"}


def _same_model(answered: str, model: str, version: str) -> bool:
    """Azure answers "gpt-4o-2024-11-20" for dated versions and the bare name for others ("0613")."""
    if not answered.startswith(model):
        return False
    dated = re.fullmatch(r"\d{4}-\d{2}-\d{2}", version)
    return not dated or answered == f"{model}-{version}"


def _kind(props: Any) -> str:
    if props.get("sku") in BATCH_SKUS:
        return "batch"
    return "embedding" if re.search(r"embedding|embed", str(props.get("model", "")), re.IGNORECASE) else "chat"


def _headers(headers: Any) -> dict[str, Any]:
    def number(name: str) -> int | None:
        value = headers.get(name)
        return int(value) if value is not None and str(value).isdigit() else None

    return {"remaining_requests": number("x-ratelimit-remaining-requests"),
            "remaining_tokens": number("x-ratelimit-remaining-tokens"),
            "retry_after_ms": number("retry-after-ms")}


def _code(error: Any) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    return str(body.get("code") or error.__class__.__name__)


def _management_failure(error: HttpResponseError, use_key: bool) -> str:
    message = str(getattr(error, "message", "") or error)
    if use_key and "disableLocalAuth" in message:
        return "--key: key authentication is off on this account (local_auth: false); test with Entra ID instead"
    if error.status_code == 404:
        return "the account or deployment does not exist: run `provision apply` first"
    return f"could not read the deployment: {error.status_code} {getattr(error.error, 'code', '') or ''}".strip()


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
