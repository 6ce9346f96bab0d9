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
DEFAULT_POLICY = "Microsoft.DefaultV2"  # what a deployment naming no content filter gets
# Why a request failed, by HTTP status, in the words a user acts on.
EXPLAINED = {
    401: "not authorised: the key is wrong, or the token is not for https://cognitiveservices.azure.com",
    403: "refused: key authentication is off (local_auth: false), public network access is disabled, "
         "or the caller lacks the 'Cognitive Services OpenAI User' role",
    404: "deployment not found: not ready yet (new deployments can take minutes), or the endpoint is wrong",
    429: "rate limited: the deployment's capacity is exhausted right now",
}
ROLE = ("the caller lacks a data-plane role on the account: assign 'Cognitive Services OpenAI User' to it "
        "(role assignments can take a few minutes to apply)")
# Azure's own answers, recognised by their body (code, then a phrase of the message), as quoted in public
# reports of the service's answers (GitHub issues and projects' notes; no recording here): network rules
# 403 "Access denied due to Virtual Network/Firewall rules." (code "403"; one client's fixture has
# "AccessDenied"), private endpoints only 403 "Traffic is not from an approved private endpoint.", a missing
# role 401 PermissionDenied "The principal `...` lacks the required data action `Microsoft.CognitiveServices/
# accounts/OpenAI/deployments/chat/completions/action` ...", key auth off 403 AuthenticationTypeDisabled.
RECOGNISED = (
    ("AuthenticationTypeDisabled", None, "key authentication is off on this account (local_auth: false): "
                                         "test with Microsoft Entra ID instead of --key"),
    ("PermissionDenied", None, ROLE),
    (None, "lacks the required data action", ROLE),
    (None, "Virtual Network/Firewall rules", "your IP is not allowed by the account's network rules: call "
                                             "through a private endpoint or add an IP rule for this address"),
    (None, "approved private endpoint", "public network access is disabled: this account only answers through "
                                        "its private endpoints; test from inside that network"),
    (None, "Public access is disabled", "public network access is disabled: use a private endpoint, or enable "
                                        "public access with an IP rule for this address"),
    ("DeploymentNotFound", None, EXPLAINED[404]),
    (None, "audience is incorrect", "the token was refused: wrong audience (it must be for "
                                    "https://cognitiveservices.azure.com) or expired"),
    (None, "invalid subscription key", "the key was refused: wrong key, or the wrong endpoint for it"),
    ("content_filter", None, "the content filter refused the test prompt"),
)


def probe(clients: Clients, account: Resource, deployment: Resource, *, use_key: bool) -> dict[str, Any]:
    """Send one request to `deployment` on `account`; a row describing what happened."""
    props = deployment.properties
    row: dict[str, Any] = {
        "address": deployment.address, "account": account.name, "deployment": deployment.name,
        "model": props.get("model"), "version": props.get("version"), "sku": props.get("sku"),
        "capacity": props.get("capacity"), "kind": kind_of(props), "status": "failed", "latency_ms": None,
        "spec_capacity": props.get("capacity"), "answered_model": None, "http_status": None,
        "remaining_requests": None, "remaining_tokens": None, "utilization": None, "retry_after_ms": None,
        "limits": {}, "content_filter": None, "reason": None, "notes": []}
    if row["kind"] == "batch":
        return {**row, "status": "skipped", "reason": "batch deployments take files through the Batch API"}
    cognitive = clients.cognitive(account.scope.subscription)
    try:
        live = cognitive.accounts.get(account.scope.resource_group, account.name)
        live_deployment = cognitive.deployments.get(account.scope.resource_group, account.name, deployment.name)
        key = cognitive.accounts.list_keys(account.scope.resource_group, account.name).key1 if use_key else None
    except HttpResponseError as error:
        return {**row, "reason": management_failure(error, use_key)}
    row["version"] = live_deployment.properties.model.version
    row["capacity"] = live_deployment.sku.capacity if live_deployment.sku else row["capacity"]
    row["limits"] = {r.key: {"count": r.count, "per_seconds": r.renewal_period}
                     for r in live_deployment.properties.rate_limits or []}
    policy = _policy(cognitive, account, live_deployment.properties.rai_policy_name or DEFAULT_POLICY)
    client = clients.inference(live.properties.endpoint, key=key)
    try:
        row = {**row, **_request(client, row)}
    finally:
        client.close()
    if row.get("filter_results") is not None:
        row["content_filter"] = filter_check(policy, row.pop("filter_results"))
    row.pop("filter_results", None)
    row["notes"] = _capacity_notes(row) + ([row["content_filter"]["detail"]] if row["content_filter"]
                                           and not row["content_filter"]["matches"] else [])
    return row


def _policy(cognitive: Any, account: Resource, name: str) -> dict[str, Any]:
    """The content filter policy the deployment names: its enabled prompt filters and prompt blocklists."""
    policy: dict[str, Any] = {"name": name, "filters": None, "blocklists": None}
    try:
        live = cognitive.rai_policies.get(account.scope.resource_group, account.name, name)
    except HttpResponseError:
        return policy  # unreadable here (a role without read access): compared by name only
    props = live.properties
    policy["filters"] = sorted({_filter_key(f.name) for f in props.content_filters or []
                                if f.enabled is not False and str(f.source).lower() == "prompt"})
    policy["blocklists"] = sorted(b.blocklist_name for b in props.custom_blocklists or []
                                  if str(b.source).lower() == "prompt")
    return policy


def _filter_key(name: str | None) -> str:
    """A policy's filter name as the inference API's result key ("Selfharm" -> "self_harm")."""
    key = str(name or "").lower().replace(" ", "_")
    return "self_harm" if key == "selfharm" else key


def filter_check(policy: dict[str, Any], prompt_results: dict[str, Any]) -> dict[str, Any]:
    """Did the answer's prompt_filter_results come from `policy`? Its enabled prompt filters and its
    prompt blocklists should each have answered."""
    answered = sorted(k for k in prompt_results if k != "custom_blocklists")
    blocklists = sorted(d.get("id") for d in (prompt_results.get("custom_blocklists") or {}).get("details") or [])
    check = {"policy": policy["name"], "answered": answered, "blocklists": blocklists, "matches": True,
             "detail": f"content filter {policy['name']} answered"}
    if not prompt_results:
        return {**check, "matches": False,
                "detail": f"no content filter results in the answer, the deployment names {policy['name']}"}
    missing = sorted(set(policy["filters"] or []) - set(answered)) + \
        sorted(f"blocklist {b}" for b in set(policy["blocklists"] or []) - set(blocklists))
    if missing:
        return {**check, "matches": False,
                "detail": f"content filter {policy['name']} did not answer for: {', '.join(missing)}"}
    return check


def _capacity_notes(row: dict[str, Any]) -> list[str]:
    """The rate-limit headers and live limits checked against the capacity the spec asks for."""
    notes = []
    wanted, live = row.get("spec_capacity"), row.get("capacity")
    low, high = (wanted.get("min"), wanted.get("max")) if isinstance(wanted, dict) else (wanted, wanted)
    if live is not None and ((low is not None and live < low) or (high is not None and live > high)):
        asked = wanted if not isinstance(wanted, dict) else f"{low} to {high}"
        notes.append(f"live capacity is {live}, the spec asks for {asked}: run `provision plan`")
    for key, header in (("request", "remaining_requests"), ("token", "remaining_tokens")):
        limit, remaining = row["limits"].get(key), row.get(header)
        if limit and remaining is not None and remaining > limit["count"]:
            notes.append(f"x-ratelimit-remaining-{key}s {remaining} is more than the capacity allows "
                         f"({limit['count']:g} per {limit['per_seconds']:g} s)")
    return notes


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
                "reason": f"{error.status_code} {explain(error.status_code, error.body)} ({_code(error)})",
                **_headers(error.response.headers)}
    except APIConnectionError as error:
        return {"latency_ms": _ms(started), "reason": f"could not connect to the endpoint: {error.__class__.__name__}"}
    result = {"latency_ms": _ms(started), "http_status": raw.http_response.status_code,
              "answered_model": answer.model, **_headers(raw.headers)}
    if row["kind"] == "chat":  # embeddings are not filtered
        results = (getattr(answer, "prompt_filter_results", None) or [{}])[0]
        result["filter_results"] = (results.get("content_filter_results") or {}) if isinstance(results, dict) else {}
    if not _same_model(str(answer.model or ""), str(row["model"]), str(row.get("version") or "")):
        return {**result, "reason": f"answered by {answer.model}, the spec asks for {row['model']} {row['version']}"}
    return {**result, "status": "ok"}


def _same_model(answered: str, model: str, version: str) -> bool:
    """Azure answers "gpt-4o-2024-11-20" for dated versions and the bare name for others ("0613")."""
    if not answered.startswith(model):
        return False
    dated = re.fullmatch(r"\d{4}-\d{2}-\d{2}", version)
    return not dated or answered == f"{model}-{version}"


def kind_of(props: Any) -> str:
    if props.get("sku") in BATCH_SKUS:
        return "batch"
    return "embedding" if re.search(r"embedding|embed", str(props.get("model", "")), re.IGNORECASE) else "chat"


def explain(status: int, body: Any) -> str:
    """Why Azure refused, recognised from its answer's body, else from its status alone."""
    body = body if isinstance(body, dict) else {}
    code, message = str(body.get("code") or ""), str(body.get("message") or "")
    for known_code, phrase, explanation in RECOGNISED:
        if (known_code is None or code == known_code) and (phrase is None or phrase.lower() in message.lower()):
            return explanation
    return EXPLAINED.get(status, "refused")


def _headers(headers: Any) -> dict[str, Any]:
    def number(name: str) -> int | None:
        value = headers.get(name)
        return int(value) if value is not None and str(value).isdigit() else None

    utilization = str(headers.get("azure-openai-deployment-utilization") or "").rstrip("%")
    return {"remaining_requests": number("x-ratelimit-remaining-requests"),
            "remaining_tokens": number("x-ratelimit-remaining-tokens"),
            "utilization": float(utilization) if re.fullmatch(r"\d+(\.\d+)?", utilization) else None,
            "retry_after_ms": number("retry-after-ms")}


def _code(error: Any) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    return str(body.get("code") or error.__class__.__name__)


def management_failure(error: HttpResponseError, use_key: bool) -> str:
    message = str(getattr(error, "message", "") or error)
    if use_key and "disableLocalAuth" in message:
        return "--key: key authentication is off on this account (local_auth: false); test with Entra ID instead"
    if error.status_code == 404:
        return "the account or deployment does not exist: run `provision apply` first"
    return f"could not read the deployment: {error.status_code} {getattr(error.error, 'code', '') or ''}".strip()


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
