"""The parts of an account's document that depend on its kind, as Azure returns them.

Taken from the recorded accounts (tests/fixtures/recordings, azure-cli cassettes): OpenAI
(2023, 2025), FormRecognizer (2021, 2023) and TextAnalytics (2025). AIServices gets
OpenAI's (not recorded). Other kinds (Face, SpeechServices, ...) are accepted like any
other and get the generic profile: the two rules and the one endpoint every recorded
non-OpenAI kind has (UNVERIFIED beyond that).

- `endpoints`: data-plane endpoint names -> the account's endpoint (all the same URL in
  every recording);
- `callRateLimit.rules`: data-plane throttling rules (informational; the emulator does not
  serve the data plane);
- `apiProperties` defaults (2025 answers carry the object), `quotaLimit` (TextAnalytics);
- the account's own usages for kinds whose usages are not OpenAI deployment quota.
"""
from __future__ import annotations

import copy


def _rule(key: str, period: int, count: int, *patterns: tuple[str, str], dynamic: bool | None = None) -> dict:
    rule: dict = {"key": key, "renewalPeriod": period, "count": count}
    if dynamic is not None:
        rule["dynamicThrottlingEnabled"] = dynamic
    rule["matchPatterns"] = [{"path": path, "method": method} for path, method in patterns]
    return rule


# Recorded for an OpenAI account, api 2025 (test_cognitiveservices_deployment.yaml).
OPENAI_RULES = [
    _rule("openai.dalle.post", 1, 30, ("dalle/*", "POST"), ("openai/images/*", "POST")),
    _rule("openai.dalle.other", 1, 30, ("dalle/*", "*"), ("openai/operations/images/*", "*")),
    _rule("openai.assistants.list", 60, 120, ("openai/assistants", "GET")),
    _rule("openai.threads.list", 60, 120, ("openai/threads", "GET")),
    _rule("openai.vectorstores.list", 60, 120, ("openai/vector_stores", "GET")),
    _rule("openai.vectorstores.post", 1, 60, ("openai/vector_stores", "POST"), ("openai/vector_stores/*", "POST")),
    _rule("openai.assistants.default", 1, 100000, ("openai/assistants", "*"), ("openai/assistants/*", "*"),
          ("openai/threads", "*"), ("openai/threads/*", "*"), ("openai/vector_stores", "*"),
          ("openai/vector_stores/*", "*")),
    _rule("openai.responses.default", 1, 100000, ("openai/responses", "*"), ("openai/responses/*", "*")),
    _rule("openai.batches.post", 60, 30, ("openai/v1/batches", "POST"), ("openai/batches", "POST")),
    _rule("openai.batches.get", 60, 500, ("openai/v1/batches/*", "GET"), ("openai/batches/*", "GET")),
    _rule("openai.batches.list", 60, 100, ("openai/v1/batches", "GET"), ("openai/batches", "GET")),
    _rule("openai.moderations.post", 60, 120, ("openai/v1/moderations", "POST"),
          ("openai/v1/safeberry/moderations", "POST")),
    _rule("openai", 1, 30, ("openai/*", "*")),
    _rule("default", 1, 30, ("*", "*")),
]
OPENAI_ENDPOINTS = ["OpenAI Language Model Instance API", "OpenAI Dall-E API", "OpenAI Sora API",
                    "OpenAI Moderations API", "OpenAI Whisper API", "OpenAI Model Scaleset API",
                    "OpenAI Realtime API", "Token Service API", "Azure OpenAI Legacy API - Latest moniker"]

# kind (lower case) -> profile; "*" is every other kind.
PROFILES: dict[str, dict] = {
    "openai": {"endpoints": OPENAI_ENDPOINTS, "rules": OPENAI_RULES},
    "aiservices": {"endpoints": OPENAI_ENDPOINTS, "rules": OPENAI_RULES},
    "formrecognizer": {  # 2021 and 2023 recordings
        "endpoints": ["FormRecognizer", "Container"],
        "rules": [_rule("container.billing", 10, 500, ("billing/*", "*"), dynamic=False),
                  _rule("default", 1, 30, ("*", "*"), dynamic=False)],
        "usages": [],
    },
    "textanalytics": {  # 2025 recording
        "endpoints": ["Text Analytics", "Custom Text Authoring", "Conversational Language Understanding Authoring",
                      "Custom Question Answering Authoring", "Custom Question Answering", "ConversationalLURuntime",
                      "Language", "QnAMaker", "Turing", "QuestionAnswering", "LUIS", "Container"],
        "rules": [_rule("container.billing", 10, 500, ("billing/*", "*")), _rule("default", 1, 20, ("*", "*"))],
        "apiProperties": {"qnaAzureSearchEndpointKey": None},
        "quotaLimit": {"rules": [_rule("workflow.endpoint.postcalls", 2592000, 100000,
                                       ("/language/:analyze-conversations", "*"))]},
        "usages": [("TextAnalytics.CtAutoTagging", 5000.0), ("TextAnalytics.CtSaAutoTagging", 1000.0),
                   ("TextAnalytics.CtEvaluation", 5000.0), ("TextAnalytics.CustomHealthcare", 10000.0)],
    },
    "face": {  # the meter of the spec's GetUsages.json example (Microsoft.CognitiveServices 2024-10-01)
        "endpoints": None,
        "rules": [_rule("container.billing", 10, 500, ("billing/*", "*")), _rule("default", 1, 30, ("*", "*"))],
        "usages": [("Face.Transactions", 30000.0)],
    },
    "*": {
        "endpoints": None,  # one endpoint named after the kind
        "rules": [_rule("container.billing", 10, 500, ("billing/*", "*")), _rule("default", 1, 30, ("*", "*"))],
        "usages": [],
    },
}


def _profile(kind: str) -> dict:
    return PROFILES.get(kind.lower(), PROFILES["*"])


def endpoints(kind: str, base: str) -> dict[str, str]:
    names = _profile(kind)["endpoints"] or [kind]
    return {name: base for name in names}


def call_rate_limit(kind: str) -> dict:
    return {"rules": copy.deepcopy(_profile(kind)["rules"])}


def api_properties(kind: str, requested: dict | None) -> dict:
    return {**copy.deepcopy(_profile(kind).get("apiProperties", {})), **(requested or {})}


def quota_limit(kind: str) -> dict | None:
    return copy.deepcopy(_profile(kind).get("quotaLimit"))


def account_usages(kind: str) -> list[dict] | None:
    """The account's own usages for kinds whose usages are fixed meters (monthly call quotas,
    recorded shape), or None for OpenAI/AIServices, whose usages are deployment quota."""
    meters = _profile(kind).get("usages")
    if meters is None:
        return None
    return [{"name": {"value": name, "localizedValue": name}, "status": "Included", "currentValue": 0.0,
             "limit": limit, "nextResetTime": "0001-01-01T00:00:00Z", "quotaPeriod": "30.00:00:00", "unit": "Count"}
            for name, limit in meters]


# Account kinds and the SKUs each offers: the kinds and SKU names of the REST spec's GetSkus.json example
# (Microsoft.CognitiveServices 2025-06-01) and of the recorded accounts (OpenAI, AIServices, FormRecognizer,
# SpeechServices, QnAMaker, LUIS.Authoring, TextAnalytics "S"). Where Azure offers which kind is UNVERIFIED:
# Bing kinds live in "global" only (as the example lists them), the translators in "global" and every physical
# region, every other kind in every physical region.
ACCOUNT_SKUS: dict[str, tuple[str, ...]] = {
    "OpenAI": ("S0",), "AIServices": ("S0",), "CognitiveServices": ("S0",),
    "FormRecognizer": ("F0", "S0"), "SpeechServices": ("F0", "S0"), "QnAMaker": ("F0", "S0"),
    "LUIS": ("F0", "S0"), "LUIS.Authoring": ("F0", "S1"), "Face": ("F0", "S0"), "ComputerVision": ("F0", "S1"),
    "ContentModerator": ("F0", "S0"), "TextAnalytics": ("F0", "S", "S0", "S1", "S2", "S3", "S4"),
    "TextTranslation": ("F0", "S1", "S2", "S3", "S4"), "SpeechTranslation": ("F0", "S1", "S2", "S3", "S4"),
    "Bing.Speech": ("F0", "S0"), "Bing.Search.v7": ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"),
    "Bing.Autosuggest.v7": ("S1",), "Bing.CustomSearch": ("S1",), "Bing.SpellCheck.v7": ("S1",),
    "Bing.EntitySearch": ("F0", "S1"),
}
GLOBAL_ONLY_KINDS = {"Bing.Speech", "Bing.Search.v7", "Bing.Autosuggest.v7", "Bing.CustomSearch", "Bing.SpellCheck.v7",
                     "Bing.EntitySearch"}
ALSO_GLOBAL_KINDS = {"SpeechTranslation", "TextTranslation"}


def known_kind(kind: str) -> str | None:
    """The kind's canonical spelling (kinds compare case-insensitively), or None for an unknown kind."""
    return next((k for k in ACCOUNT_SKUS if k.lower() == str(kind).lower()), None)


def skus_of(kind: str) -> tuple[str, ...]:
    canonical = known_kind(kind)
    return ACCOUNT_SKUS[canonical] if canonical else ()


def sku_tier(sku: str) -> str:
    """F0 Free, S* Standard, P* Premium, E0 Enterprise (the tiers the spec's examples pair with the names)."""
    return {"F": "Free", "S": "Standard", "P": "Premium", "E": "Enterprise"}.get(sku[:1].upper(), "Standard")


def regions_of(kind: str, physical: list[str]) -> list[str]:
    """The regions (lower case) where accounts of `kind` can be created; [] for an unknown kind."""
    canonical = known_kind(kind)
    if canonical is None:
        return []
    if canonical in GLOBAL_ONLY_KINDS:
        return ["global"]
    return (["global"] if canonical in ALSO_GLOBAL_KINDS else []) + list(physical)
