"""Plan values as text, the same in every view: nested properties flattened to dotted paths."""
from __future__ import annotations

from typing import Any, Mapping


def flatten(value: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """{"tags": {"team": "x"}} -> [("tags.team", "x")]; empty values are left out."""
    rows: list[tuple[str, Any]] = []
    for key, item in value.items():
        if isinstance(item, Mapping) and item:
            rows.extend(flatten(item, f"{prefix}{key}."))
        elif item is not None and item != {} and item != []:
            rows.append((f"{prefix}{key}", item))
    return rows


def show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)
