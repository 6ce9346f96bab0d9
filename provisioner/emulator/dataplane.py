"""Azure OpenAI's data plane (inference), served by the emulator's own process.

The emulator has one host, so an account is found by the first path segment: the endpoint the
emulator reports for an account is `{emulator}/{host of Azure's endpoint}/`, e.g.
`https://127.0.0.1:8443/aoai-prod.openai.azure.com/`, and a client that appends
`openai/deployments/{deployment}/chat/completions` to it (as the `openai` package's
`AzureOpenAI` does) reaches

  POST /{host}/openai/deployments/{deployment}/chat/completions?api-version=...
  POST /{host}/openai/deployments/{deployment}/embeddings?api-version=...

Shapes follow the Azure OpenAI inference REST reference (learn.microsoft.com/azure/ai-foundry/openai/reference,
specification/cognitiveservices/data-plane/AzureOpenAI/inference in Azure/azure-rest-api-specs). Answers are
deterministic: the same request gets the same text and the same embedding.

Authentication: `api-key` (key1 or key2; 403 when the account has disableLocalAuth) or a bearer token this
emulator signed for https://cognitiveservices.azure.com, after the network rules and, for tokens, the
caller's role assignments (access.py). Rate limits per deployment come from its
`rateLimits` (catalog per-unit limits times capacity, ARM-FACTS §11), enforced over short windows;
provisioned deployments use the utilisation model of ptu.py instead. Streaming: streaming.py; token
counts and Azure's token estimate: tokens.py.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import math
import re
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

from provisioner.emulator import access, content_filter, ptu, tokens
from provisioner.emulator.arm import Call, Reply, Router
from provisioner.emulator.jwt import InvalidToken
from provisioner.emulator.streaming import chat_stream

ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"
DELETED_TYPE = "Microsoft.CognitiveServices/deletedAccounts"
KEYS_SUFFIX = "/keys/default"
AUDIENCE = "https://cognitiveservices.azure.com"  # ARM-FACTS §11
PREFIX = "/{host}/openai/deployments/{deployment}"
EMBEDDING_DIMENSIONS = {"text-embedding-3-large": 3072}  # others (ada-002, 3-small): 1536

# Azure's answers, as reported from the service [ISSUE SciSharp/BotSharp#386 (401 key),
# Azure-Samples/azure-search-openai-demo-csharp#379 (404 DeploymentNotFound)].
BAD_KEY = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
           "for an active subscription and use a correct regional API endpoint for your resource.")
BAD_TOKEN = ("Unauthorized. Access token is missing, invalid, audience is incorrect "
             "(https://cognitiveservices.azure.com), or have expired.")
NO_DEPLOYMENT = ("The API deployment for this resource does not exist. If you created the deployment within the "
                 "last 5 minutes, please wait a moment and try again.")


def register(router: Router) -> None:
    router.add("POST", PREFIX + "/chat/completions", public=True)(chat_completions)
    router.add("POST", PREFIX + "/embeddings", public=True)(embeddings)


class DataPlaneError(Exception):
    def __init__(self, status: int, body: dict, headers: dict[str, str] | None = None):
        super().__init__(f"{status}")
        self.reply = Reply(status, body, {"apim-request-id": str(uuid.uuid4()), **(headers or {})})


def _error(status: int, code: str, message: str) -> DataPlaneError:
    return DataPlaneError(status, {"error": {"code": code, "message": message}})


# --- endpoints ---------------------------------------------------------------------------------

def emulator_endpoint(azure_endpoint: str, base_url: str) -> str:
    """Where the emulator serves what Azure serves at `azure_endpoint` (https://x.openai.azure.com/)."""
    host = urlparse(azure_endpoint).hostname
    return f"{base_url}/{host}/" if host else azure_endpoint


def point_endpoints(reply: Reply, base_url: str) -> None:
    """Accounts are stored with Azure's endpoints; every answer shows the emulator's instead, so the
    endpoint a client reads works here (computed per answer: the emulator's port changes between runs)."""
    body = reply.body
    if isinstance(body, dict) and isinstance(body.get("value"), list):
        body["value"] = [_pointed(item, base_url) for item in body["value"]]
    elif isinstance(body, dict):
        reply.body = _pointed(body, base_url)


def _pointed(doc, base_url: str):
    if not (isinstance(doc, dict) and str(doc.get("type", "")).lower() in (ACCOUNT_TYPE.lower(), DELETED_TYPE.lower())
            and isinstance(doc.get("properties"), dict)):
        return doc
    doc = copy.deepcopy(doc)
    props = doc["properties"]
    if isinstance(props.get("endpoint"), str):
        props["endpoint"] = emulator_endpoint(props["endpoint"], base_url)
    if isinstance(props.get("endpoints"), dict):
        props["endpoints"] = {k: emulator_endpoint(v, base_url) if isinstance(v, str) else v
                              for k, v in props["endpoints"].items()}
    return doc


# --- the pipeline: account, authentication, deployment, rate limit -----------------------------

@dataclass
class Target:
    account: dict
    deployment: dict


def _serve(call: Call, answer) -> Reply:
    try:
        # Azure's answer to a missing api-version: 404 (MicrosoftDocs/azure-docs#114602) with this body
        # (ThinkInAIXYZ/deepchat#262).
        if not call.api_version:
            raise _error(404, "404", "Resource not found")
        target = _target(call)
        body = call.json_body()
        charge = answer.charge(body)
        window = call.config.rate_window if call.config else 10.0
        headers = call.limiter.take(target.deployment, charge, call.api_version, answer.operation,
                                    time.monotonic(), window)
        reply = answer.reply(call, target, body)
        if answer.usage is not None:
            call.limiter.settle(target.deployment, charge, answer.usage, time.monotonic())
        reply.headers = {"apim-request-id": str(uuid.uuid4()), "x-ms-region": target.account.get("location", ""),
                         "azureml-model-deployment": target.deployment["name"], **headers, **reply.headers}
        return reply
    except (DataPlaneError, access.Denied) as error:
        return error.reply


def _target(call: Call) -> Target:
    account = _account(call)
    _authenticate(call, account)
    deployment = call.store.get(f"{account['id']}/deployments/{call.params['deployment']}")
    if deployment is None or deployment["properties"].get("provisioningState") != "Succeeded":
        raise _error(404, "DeploymentNotFound", NO_DEPLOYMENT)
    return Target(account, deployment)


def _account(call: Call) -> dict:
    host = call.params["host"].lower()
    for doc in call.store.under("/subscriptions", ACCOUNT_TYPE):
        if (urlparse(doc["properties"].get("endpoint", "")).hostname or "").lower() == host:
            return doc
    raise _error(404, "404", "Resource not found")  # Azure: the host does not resolve (UNVERIFIED stand-in)


def _authenticate(call: Call, account: dict) -> None:
    props = account["properties"]
    access.check_network(call, account)  # network rules and private endpoints (access.py)
    key = call.headers.get("api-key")
    if key is not None:
        if props.get("disableLocalAuth"):
            raise _error(403, "AuthenticationTypeDisabled", "Key based authentication is disabled for this resource.")
        keys = call.store.get(account["id"] + KEYS_SUFFIX) or {}
        if key not in (keys.get("key1"), keys.get("key2")):
            raise _error(401, "401", BAD_KEY)
        return
    scheme, _, token = (call.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _error(401, "401", BAD_KEY)
    try:
        claims = call.identity.claims(token.strip())
    except InvalidToken:
        raise _error(401, "401", BAD_TOKEN) from None
    if str(claims.get("aud", "")).rstrip("/") != AUDIENCE or claims["exp"] < call.now:
        raise _error(401, "401", BAD_TOKEN)
    access.check_roles(call, account, claims)  # data actions of the caller's roles, where roles are assigned


# --- answers --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Charge:
    """What a request costs the limiter when it arrives: Azure's estimate of the prompt (not the tokenizer's
    count) and the completion it may generate (max_tokens; None when unset)."""

    prompt: int
    completion: int | None = None

    @property
    def tokens(self) -> int:
        return self.prompt + (self.completion or 0)


def _model_name(deployment: dict) -> str:
    """The `model` field Azure answers with: name and dated version ("gpt-4o-2024-11-20"); numbered versions
    ("0613") are not shown (UNVERIFIED rule, from answers seen in public issues)."""
    model = deployment["properties"]["model"]
    version = model.get("version", "")
    return f"{model['name']}-{version}" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", version) else model["name"]


def _messages(body: dict, *, strict: bool = True) -> list[tuple[str, str]]:
    """(role, text) per message."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        if not strict:
            return []
        # Wording as Azure answers it (Azure-Samples/azure-search-openai-demo#118); the body's other fields UNVERIFIED.
        raise _error(400, "BadRequest", "'messages' is a required property")
    pairs = []
    for message in messages:
        message = message if isinstance(message, dict) else {}
        content = message.get("content")
        if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        pairs.append((str(message.get("role") or ""), str(content or "")))
    return pairs


def _messages_text(body: dict) -> str:
    return "\n".join(text for _, text in _messages(body))


def _max_tokens(body: dict) -> int | None:
    value = body.get("max_completion_tokens", body.get("max_tokens"))
    return value if isinstance(value, int) and value > 0 else None


class Chat:
    operation = "ChatCompletions_Create"

    def __init__(self) -> None:
        self.usage: dict | None = None  # set by reply: what the limiter settles PTU utilisation with

    def charge(self, body: dict) -> Charge:
        """What the limiter charges at request time: the prompt's estimate plus max_tokens (ARM-FACTS §11)."""
        prompt = sum(tokens.MESSAGE_OVERHEAD + tokens.estimate(text) for _, text in _messages(body, strict=False))
        return Charge(prompt + tokens.REPLY_PRIMING if prompt else 0, _max_tokens(body))

    def reply(self, call: Call, target: Target, body: dict) -> Reply:
        prompt = _messages_text(body)
        policy = content_filter.policy_of(call.store, target.account, target.deployment)
        prompt_results, refused = policy.results("prompt", prompt)
        if refused:
            raise DataPlaneError(400, content_filter.prompt_refused(prompt_results))
        model = target.deployment["properties"]["model"]["name"]
        text, completion_tokens, cut = tokens.truncate(model, f"This is the emulator's answer to: {prompt}",
                                                       _max_tokens(body))
        finish = "length" if cut else "stop"
        content: str | None = text
        completion_results, withheld = policy.results("completion", text)
        if withheld:
            content, finish = None, "content_filter"
        prompt_tokens = tokens.chat_prompt(model, _messages(body))
        self.usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,  # generated, then
                      "total_tokens": prompt_tokens + completion_tokens}                    # withheld if filtered
        digest = hashlib.sha256(prompt.encode()).hexdigest()
        completion = {
            "id": f"chatcmpl-{digest[:29]}", "object": "chat.completion", "created": int(time.time()),
            "model": _model_name(target.deployment), "system_fingerprint": f"fp_{digest[29:39]}",
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": prompt_results}],
            "choices": [{
                "index": 0, "finish_reason": finish, "logprobs": None,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "content_filter_results": completion_results,
            }],
            "usage": self.usage,
        }
        if body.get("stream") is True:
            options = body.get("stream_options") if isinstance(body.get("stream_options"), dict) else {}
            return Reply(200, chat_stream(completion, text=text, finish="length" if cut else "stop",
                                          check=lambda sent: policy.results("completion", sent),
                                          include_usage=options.get("include_usage") is True))
        return Reply(200, completion)


class Embeddings:
    operation = "Embeddings_Create"

    def __init__(self) -> None:
        self.usage: dict | None = None

    def charge(self, body: dict) -> Charge:
        return Charge(sum(tokens.estimate(text) for text in self._inputs(body, strict=False)), 0)

    @staticmethod
    def _inputs(body: dict, *, strict: bool = True) -> list[str]:
        value = body.get("input")
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return value
        if strict:
            raise _error(400, "BadRequest", "'input' must be a string or an array of strings")  # wording UNVERIFIED
        return []

    def reply(self, call: Call, target: Target, body: dict) -> Reply:  # embeddings are not filtered
        inputs = self._inputs(body)
        model = target.deployment["properties"]["model"]["name"]
        size = EMBEDDING_DIMENSIONS.get(model, 1536)
        if isinstance(body.get("dimensions"), int) and 0 < body["dimensions"] <= size:
            size = body["dimensions"]
        base64_format = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(inputs):
            vector = embedding(text, size)
            encoded = base64.b64encode(struct.pack(f"<{size}f", *vector)).decode() if base64_format else vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        counted = sum(tokens.count(model, text) for text in inputs)
        self.usage = {"prompt_tokens": counted, "completion_tokens": 0, "total_tokens": counted}
        return Reply(200, {"object": "list", "data": data, "model": model,
                           "usage": {"prompt_tokens": counted, "total_tokens": counted}})


def embedding(text: str, size: int) -> list[float]:
    """A unit vector that depends only on the text: its SHA-256, stretched and normalised."""
    raw: list[float] = []
    counter = 0
    while len(raw) < size:
        block = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        raw.extend((b - 127.5) / 127.5 for b in block)
        counter += 1
    raw = raw[:size]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def chat_completions(call: Call) -> Reply:
    return _serve(call, Chat())


def embeddings(call: Call) -> Reply:
    return _serve(call, Embeddings())


# --- rate limits ------------------------------------------------------------------------------------

class RateLimiter:
    """Requests and tokens per deployment, as token buckets over a short window; provisioned
    deployments by their utilisation (ptu.py).

    A deployment's `rateLimits` say e.g. 1 request per 10 s and 1,000 tokens per 60 s per capacity unit
    (ARM-FACTS §11). Azure enforces them over short windows rather than the whole minute ("evaluated over
    a small period of time, typically 1 or 10 seconds", learn.microsoft.com/azure/ai-foundry/openai/how-to/quota):
    each bucket holds what the limit allows in `window` seconds (Config.rate_window, at least one request)
    and refills continuously at the limit's rate. A request is charged its estimate (prompt + max_tokens)
    when it arrives; when either bucket cannot pay, the answer is 429 with the wait until it could.
    In memory per process, like ARM's throttling.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._levels: dict[tuple[str, str], tuple[float, float]] = {}  # (deployment id, key) -> (level, at)
        self._utilisation = ptu.Utilisation()

    def take(self, deployment: dict, charge: Charge, api_version: str, operation: str, now: float,
             window: float = 10.0) -> dict[str, str]:
        if ptu.is_provisioned(deployment):
            return self._take_provisioned(deployment, charge, api_version, operation, now, window)
        limits = {r["key"]: r for r in deployment["properties"].get("rateLimits") or []}
        needs = {"request": 1, "token": charge.tokens}
        with self._lock:
            state = {key: self._level(deployment["id"], limits[key], now, window) for key in needs if key in limits}
            waits = {key: self._wait(limits[key], level, needs[key], window) for key, (level, _) in state.items()}
            if any(w > 0 for w in waits.values()):
                key = max(waits, key=waits.get)
                kind = "token rate limit" if key == "token" else "call rate limit"
                raise _too_many(waits[key], f"{kind} of your current OpenAI S0 pricing tier", api_version,
                                operation, {f"x-ratelimit-remaining-{key}s": "0"})
            for key, (level, size) in state.items():
                self._levels[(deployment["id"].lower(), key)] = (level - needs[key], now)
            return {f"x-ratelimit-remaining-{key}s": str(max(0, int(level - needs[key])))
                    for key, (level, _) in state.items()}

    def settle(self, deployment: dict, charge: Charge, usage: dict, now: float) -> None:
        """The answer is known: a provisioned deployment's utilisation is corrected to its actual cost."""
        if ptu.is_provisioned(deployment):
            throughput = ptu.Throughput.of(deployment)
            actual = throughput.cost(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))
            with self._lock:
                self._utilisation.settle(deployment, throughput.cost(charge.prompt, charge.completion), actual, now)

    def _take_provisioned(self, deployment: dict, charge: Charge, api_version: str, operation: str, now: float,
                          window: float) -> dict[str, str]:
        with self._lock:
            wait, utilisation = self._utilisation.take(deployment, charge.prompt, charge.completion, now, window)
        if wait > 0:
            # Azure's wording for a provisioned deployment's 429 is not documented (UNVERIFIED)
            raise _too_many(wait, "the provisioned throughput capacity (utilization over 100%) of this deployment",
                            api_version, operation, ptu.utilisation_header(utilisation))
        return ptu.utilisation_header(utilisation)

    def _level(self, deployment_id: str, limit: dict, now: float, window: float) -> tuple[float, float]:
        size = _bucket_size(limit, window)
        level, at = self._levels.get((deployment_id.lower(), limit["key"]), (size, now))
        return min(size, level + (now - at) * _rate(limit)), size

    @staticmethod
    def _wait(limit: dict, level: float, need: int, window: float) -> float:
        # A request larger than the bucket goes through once the bucket is full (it then owes the rest).
        need = min(need, _bucket_size(limit, window))
        return 0.0 if level >= need else (need - level) / _rate(limit)


def _rate(limit: dict) -> float:
    return limit["count"] / limit["renewalPeriod"]


def _bucket_size(limit: dict, window: float) -> float:
    window = min(window, limit["renewalPeriod"])
    return max(1.0, limit["count"] * window / limit["renewalPeriod"])


def _too_many(wait: float, exceeded: str, api_version: str, operation: str, headers: dict[str, str]) -> DataPlaneError:
    """Azure's 429 [ISSUE alex-wolf-ps/dbchatprov2#2, jasonacox/TinyLLM#17]: code "429", the operation,
    api-version and tier in the message, `retry-after` (whole seconds) and `retry-after-ms`."""
    milliseconds = max(1, math.ceil(wait * 1000))
    seconds = max(1, math.ceil(wait))
    message = (f"Requests to the {operation} Operation under Azure OpenAI API version {api_version} have exceeded "
               f"{exceeded}. Please retry after {seconds} seconds. Please go "
               "here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.")
    return DataPlaneError(429, {"error": {"code": "429", "message": message}},
                          {"retry-after": str(seconds), "retry-after-ms": str(milliseconds), **headers})
