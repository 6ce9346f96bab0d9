"""The table of `provision test`: does each deployment serve?"""
from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

STATUS_STYLE = {"ok": "green", "failed": "red", "skipped": "yellow"}


def render_test(rows: Sequence[dict[str, Any]], console: Console) -> None:
    table = Table(title="Test after apply")
    for column in ("deployment", "status", "latency", "model (answered / spec)", "rate limits seen / capacity",
                   "content filter"):
        table.add_column(column, overflow="fold")
    for row in rows:
        style = STATUS_STYLE.get(row["status"], "")
        latency = f"{row['latency_ms']} ms" if row.get("latency_ms") is not None else "-"
        table.add_row(escape(row["address"]), f"[{style}]{row['status']}[/{style}]", latency,
                      escape(_models(row)), escape(_limits(row)), escape(_filter(row)))
    console.print(table)
    for row in rows:
        if row.get("reason"):
            label = "Skipped" if row["status"] == "skipped" else "Failed" if row["status"] == "failed" else "Note"
            console.print(f"{label}: {escape(row['address'])}: {escape(row['reason'])}")
        for note in row.get("notes") or []:
            console.print(f"Note: {escape(row['address'])}: {escape(note)}")
    failed = sum(r["status"] == "failed" for r in rows)
    console.print(f"{len(rows) - failed} of {len(rows)} deployments passed or were skipped; {failed} failed.")


def _models(row: dict[str, Any]) -> str:
    spec = f"{row['model']} {row.get('version') or ''}".strip()
    return f"{row['answered_model'] or '-'} / {spec}"


def _limits(row: dict[str, Any]) -> str:
    if row.get("utilization") is not None:  # provisioned: utilisation is what limits it, not rates
        return f"utilization {row['utilization']:g}%; capacity {row.get('capacity')} PTU"
    limits = row.get("limits") or {}
    seen = []
    for key, header in (("request", "remaining_requests"), ("token", "remaining_tokens")):
        remaining = row.get(header)
        limit = limits.get(key)
        allowed = f" of {limit['count']:g}/{limit['per_seconds']:g}s" if limit else ""
        if remaining is not None or limit:
            seen.append(f"{key}s {'-' if remaining is None else remaining}{allowed}")
    capacity = f"capacity {row['capacity']}" if row.get("capacity") is not None else ""
    return "; ".join(seen + ([capacity] if capacity else [])) or "-"


def _filter(row: dict[str, Any]) -> str:
    check = row.get("content_filter")
    if not check:
        return "-"
    return f"{check['policy']}: {'as configured' if check['matches'] else 'NOT as configured'}"
