"""Token counts: the model's tokenizer for `usage`, Azure's estimate for the rate limiter.

Azure's limiter does not tokenize: "TPM rate limits are based on the maximum number of tokens that are
estimated to be processed by a request at the time the request is received", from the prompt text and
count, `max_tokens` and `best_of` (learn.microsoft.com/azure/ai-foundry/openai/how-to/quota, "Understanding
rate limits"). So the limiter charges `estimate` (4 characters a token, OpenAI's rule of thumb for English)
while answers report `count`, the model family's real encoding: o200k_base for gpt-4o, gpt-4.1, gpt-5 and
the o-series, cl100k_base for gpt-4, gpt-35-turbo and the text-embedding models (tiktoken's model table).

The encodings come from quicktok-v1, whose wheel carries the BPE tables (token ids identical to
tiktoken's); tiktoken itself downloads its tables on first use, which a machine without internet cannot.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD = 3  # tokens per chat message for role and separators (OpenAI cookbook, gpt-4 family)
REPLY_PRIMING = 3  # every reply is primed with <|start|>assistant<|message|>
CL100K_MODELS = re.compile(r"^(gpt-4(?!o|\.|-?5)|gpt-35|gpt-3\.5|text-embedding)", re.IGNORECASE)


def estimate(text: str) -> int:
    """Azure's request-time estimate of a text's tokens (the rate limiter's charge)."""
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN)) if text else 0


def encoding_name(model: str) -> str:
    return "cl100k_base" if CL100K_MODELS.match(model) else "o200k_base"


@lru_cache(maxsize=None)
def _encoding(name: str):
    import quicktok  # loads its tables (about 0.4 s): only when the data plane first answers

    return quicktok.get_encoding(name)


def count(model: str, text: str) -> int:
    return len(_encoding(encoding_name(model)).encode_ordinary(text)) if text else 0


def chat_prompt(model: str, messages: list[tuple[str, str]]) -> int:
    """prompt_tokens of a chat request: (role, content) pairs counted as OpenAI's cookbook counts them."""
    return sum(MESSAGE_OVERHEAD + count(model, role) + count(model, content) for role, content in messages) \
        + REPLY_PRIMING


def truncate(model: str, text: str, limit: int | None) -> tuple[str, int, bool]:
    """`text` cut to at most `limit` tokens: (text, its tokens, whether it was cut)."""
    encoding = _encoding(encoding_name(model))
    ids = encoding.encode_ordinary(text)
    if limit is None or len(ids) <= limit:
        return text, len(ids), False
    return encoding.decode(ids[:limit]), limit, True
