"""Content filtering on the data plane, from the deployment's RAI policy and its blocklists.

The emulator has no classifier: every harm category answers `safe` and detections answer
`detected: false`. What it does enforce is the policy's custom blocklists: an item (a phrase,
matched case-insensitively, or a regular expression) found in the prompt of a blocklist
with source Prompt and blocking on refuses the request as Azure refuses it (400
`content_filter`, innererror `ResponsibleAIPolicyViolation`); found in the answer of one
with source Completion, the choice ends with finish_reason `content_filter` and no content.
Result shapes: the inference API's contentFilterPromptResults / contentFilterChoiceResults
(specification/cognitiveservices/data-plane/AzureOpenAI/inference/stable/2024-10-21/inference.json)
and the documented error body (learn.microsoft.com/azure/ai-foundry/openai/concepts/content-filter).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from provisioner.emulator.providers.rai import BASE_POLICIES, ITEM_TYPE, blocklist_id, builtin_policy, policy_id

DEFAULT_POLICY = "Microsoft.DefaultV2"  # what a deployment without raiPolicyName gets (UNVERIFIED)
# Policy filter names -> the result keys of the inference API, and whether they grade severity.
CATEGORIES = {"hate": ("hate", True), "sexual": ("sexual", True), "violence": ("violence", True),
              "selfharm": ("self_harm", True), "profanity": ("profanity", False),
              "jailbreak": ("jailbreak", False), "indirect attack": ("indirect_attack", False),
              "protected material text": ("protected_material_text", False),
              "protected material code": ("protected_material_code", False)}
PROMPT_REFUSED = ("The response was filtered due to the prompt triggering Azure OpenAI's content management policy. "
                  "Please modify your prompt and retry. To learn more about our content filtering policies please "
                  "read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766")


@dataclass
class Blocklist:
    name: str
    blocking: bool
    patterns: list[re.Pattern] = field(default_factory=list)

    def hit(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)


@dataclass
class Policy:
    filters: list[dict]
    blocklists: dict[str, list[Blocklist]]  # source ("prompt" / "completion") -> blocklists

    def results(self, source: str, text: str) -> tuple[dict, bool]:
        """The content_filter_results for one side, and whether a blocking blocklist hit."""
        results: dict = {}
        for entry in self.filters:
            if not entry.get("enabled", True) or str(entry.get("source", "")).lower() != source:
                continue
            key, graded = CATEGORIES.get(str(entry.get("name", "")).lower(), (None, False))
            if key is not None:
                results[key] = {"filtered": False, "severity": "safe"} if graded else \
                    {"filtered": False, "detected": False}
        hits = [(b, b.hit(text)) for b in self.blocklists.get(source, [])]
        blocked = any(hit and b.blocking for b, hit in hits)
        if hits:
            results["custom_blocklists"] = {
                "filtered": blocked,
                "details": [{"filtered": hit and b.blocking, "id": b.name} for b, hit in hits]}
        return results, blocked


def policy_of(store, account: dict, deployment: dict) -> Policy:
    name = deployment["properties"].get("raiPolicyName") or DEFAULT_POLICY
    if name.lower() in (b.lower() for b in BASE_POLICIES):
        doc = builtin_policy(account["id"], name)
    else:
        doc = store.get(policy_id(account["id"], name)) or builtin_policy(account["id"], DEFAULT_POLICY)
    props = doc.get("properties") or {}
    blocklists: dict[str, list[Blocklist]] = {}
    for entry in props.get("customBlocklists") or []:
        blocklist = Blocklist(entry["blocklistName"], bool(entry.get("blocking", True)),
                              _patterns(store, account, entry["blocklistName"]))
        blocklists.setdefault(str(entry.get("source", "Prompt")).lower(), []).append(blocklist)
    return Policy(list(props.get("contentFilters") or []), blocklists)


def _patterns(store, account: dict, blocklist: str) -> list[re.Pattern]:
    """Items as patterns: a phrase matches anywhere, ignoring case; a regex as written, ignoring case
    (the service's matching rules beyond this are UNVERIFIED)."""
    patterns = []
    for item in store.children(blocklist_id(account["id"], blocklist), ITEM_TYPE):
        props = item.get("properties") or {}
        text = props.get("pattern") or ""
        try:
            patterns.append(re.compile(text if props.get("isRegex") else re.escape(text), re.IGNORECASE))
        except re.error:
            continue  # refused when it was written; nothing to match
    return patterns


def prompt_refused(results: dict) -> dict:
    """Azure's 400 for a filtered prompt."""
    return {"error": {"message": PROMPT_REFUSED, "type": None, "param": "prompt", "code": "content_filter",
                      "status": 400, "innererror": {"code": "ResponsibleAIPolicyViolation",
                                                    "content_filter_result": results}}}
