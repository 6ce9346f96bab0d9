"""Request bodies read as ARM reads them. ARM's JSON reader (Json.NET) accepts what strict JSON does
not: comments (// and /* */), property names without quotes and strings in single quotes
(ARM-FACTS §10: general-purpose clients send such bodies and ARM takes them). Strict JSON is parsed
as it is; anything else is rewritten to strict JSON first, or refused as Azure refuses it."""
from __future__ import annotations

import json
import re
from typing import Any

IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
LITERALS = {"true", "false", "null", "NaN", "Infinity"}


class NotJson(ValueError):
    """Not even ARM's lenient JSON."""


def loads(raw: bytes | str) -> Any:
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return json.loads(_strict(text))
    except ValueError as error:
        raise NotJson(str(error)) from None


def _strict(text: str) -> str:
    """The same document in strict JSON: comments removed, names and single-quoted strings double-quoted."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            end = _string_end(text, i, '"')
            out.append(text[i:end])
            i = end
        elif char == "'":
            end = _string_end(text, i, "'")
            out.append(json.dumps(json.loads('"' + text[i + 1:end - 1].replace("\\'", "'").replace('"', '\\"') + '"')))
            i = end
        elif text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close < 0:
                raise ValueError("unterminated comment")
            i = close + 2
        elif (found := IDENTIFIER.match(text, i)) and not (i and (text[i - 1].isalnum() or text[i - 1] in "._")):
            word = found.group()
            rest = text[found.end():].lstrip()
            out.append(json.dumps(word) if rest.startswith(":") and word not in LITERALS else word)
            i = found.end()
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _string_end(text: str, start: int, quote: str) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    raise ValueError("unterminated string")
