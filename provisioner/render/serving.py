"""The tables of `provision test`: does each deployment serve, and how much (`--load`)?"""
from __future__ import annotations

import time
from typing import Any, Sequence

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
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


class LoadProgress:
    """Progress of `provision test --load`: a Rich bar per deployment on a terminal, plain lines otherwise."""

    def __init__(self, console: Console, addresses: Sequence[str]):
        self.console = console
        self._bars: Progress | None = None
        self._tasks: dict[str, Any] = {}
        self._printed: dict[str, int] = {}
        if console.is_terminal:
            self._bars = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                                  TimeRemainingColumn(), console=console, transient=True)
            self._tasks = {a: self._bars.add_task(escape(a), total=1.0, start=False) for a in addresses}

    def update(self, address: str, fraction: float) -> None:
        if self._bars is not None:
            task = self._tasks[address]
            self._bars.start_task(task)
            self._bars.update(task, completed=fraction)
            return
        quarter = int(fraction * 4)  # plain lines: at the start and every quarter of the run
        if self._printed.get(address, -1) < quarter:
            self._printed[address] = quarter
            self.console.print(f"{time.strftime('%H:%M:%S')} load {escape(address)}: {quarter * 25}%",
                               highlight=False, soft_wrap=True)

    def __enter__(self) -> "LoadProgress":
        if self._bars is not None:
            self._bars.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._bars is not None:
            self._bars.stop()


def render_load(rows: Sequence[dict[str, Any]], console: Console) -> None:
    table = Table(title="Load against capacity")
    for column in ("deployment", "status", "requests/min (limit)", "tokens/min (limit)", "latency p50 / p95",
                   "429s (retry-after-ms asked)"):
        table.add_column(column, overflow="fold")
    for row in rows:
        style = STATUS_STYLE.get(row["status"], "")
        table.add_row(escape(row["address"]), f"[{style}]{row['status']}[/{style}]",
                      _against(row["requests_per_minute"], row["limit_requests_per_minute"],
                               row.get("utilization_max") is not None),
                      _against(row["tokens_per_minute"], row["limit_tokens_per_minute"],
                               row.get("utilization_max") is not None),
                      "-" if row["latency_p50_ms"] is None else f"{row['latency_p50_ms']} / {row['latency_p95_ms']} ms",
                      f"{row['throttled']} ({row['retry_after_ms_total'] / 1000:.1f} s)")
    console.print(table)
    for row in rows:
        shape = (f"{row['workers']} workers, requests of about {row['request_tokens']} tokens, {row['seconds']:g} s"
                 + (f"; rates from {row['measured_from_s']:g} s on (the first 429: the start's burst spent), "
                    f"{row['tokens_per_minute_whole_run']:,} tokens/min over the whole run"
                    if row.get("measured_from_s") else ""))
        extra = f"; utilization up to {row['utilization_max']:g}%" if row.get("utilization_max") is not None else ""
        console.print(f"{escape(row['address'])}: {shape}{extra}")
        for error, count in (row.get("errors") or {}).items():
            console.print(f"  {count} x {escape(error)}")
        if row.get("reason"):
            label = "Skipped" if row["status"] == "skipped" else "Failed"
            console.print(f"{label}: {escape(row['address'])}: {escape(row['reason'])}")


def _against(achieved: float | None, limit: float | None, utilisation: bool = False) -> str:
    if achieved is None:
        return "-"
    if not limit:
        return f"{achieved:,.0f} (utilisation-based)" if utilisation else f"{achieved:,.0f} (no limit reported)"
    return f"{achieved:,.0f} of {limit:,.0f} ({100 * achieved / limit:.0f} %)"
