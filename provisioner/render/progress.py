"""Progress while applying, and the outcome table at the end.

On a terminal: a live Rich display of what is running, waiting and done. Not on
a terminal (CI logs): one plain line per event.
"""
from __future__ import annotations

import threading
import time
from typing import Iterable

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from provisioner.errors import TransientError
from provisioner.plan.model import Change
from provisioner.plan.result import FAILED, SKIPPED, SUCCEEDED, Outcome

STATUS_STYLE = {SUCCEEDED: "green", FAILED: "red", SKIPPED: "yellow"}


class LineProgress:
    """One line per event, for logs."""

    def __init__(self, console: Console):
        self.console = console
        self._lock = threading.Lock()

    def _line(self, text: str) -> None:
        with self._lock:
            self.console.print(f"{time.strftime('%H:%M:%S')} {text}", highlight=False, soft_wrap=True)

    def started(self, change: Change) -> None:
        self._line(f"{change.action.value:<7} {escape(change.address)}: started")

    def retrying(self, change: Change, error: TransientError, attempt: int, delay: float) -> None:
        self._line(f"{change.action.value:<7} {escape(change.address)}: retrying in {delay:.1f}s "
                   f"(attempt {attempt + 1}) after {escape(str(error))}")

    def finished(self, change: Change, outcome: Outcome) -> None:
        detail = f" in {outcome.seconds:.1f}s" if outcome.status == SUCCEEDED else f": {escape(outcome.reason)}"
        self._line(f"{change.action.value:<7} {escape(change.address)}: {outcome.status}{detail}")

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *exc) -> None:
        pass


class LiveProgress:
    """A live view: running changes with their elapsed time, retries, and counts of what is done."""

    def __init__(self, console: Console, total: int):
        self.console = console
        self.total = total
        self._lock = threading.Lock()
        self._running: dict[str, tuple[Change, float, str]] = {}
        self._done: dict[str, int] = {SUCCEEDED: 0, FAILED: 0, SKIPPED: 0}
        self._live = Live(console=console, refresh_per_second=4, get_renderable=self._render, transient=True)

    def _render(self) -> Group:
        with self._lock:
            table = Table(box=None, show_header=False, padding=(0, 1))
            now = time.monotonic()
            for change, started, note in self._running.values():
                table.add_row(Text(change.action.value, style="cyan"), Text(change.address),
                              Text(f"{now - started:.0f}s"), Text(note, style="yellow"))
            done = sum(self._done.values())
            waiting = self.total - done - len(self._running)
            summary = Text(f"{done}/{self.total} done ({self._done[SUCCEEDED]} succeeded, {self._done[FAILED]} "
                           f"failed, {self._done[SKIPPED]} skipped), {len(self._running)} running, "
                           f"{waiting} waiting")
        return Group(table, summary)

    def started(self, change: Change) -> None:
        with self._lock:
            self._running[change.address] = (change, time.monotonic(), "")

    def retrying(self, change: Change, error: TransientError, attempt: int, delay: float) -> None:
        with self._lock:
            if change.address in self._running:
                _, started, _ = self._running[change.address]
                self._running[change.address] = (change, started, f"retry {attempt}: {error.code or error}")

    def finished(self, change: Change, outcome: Outcome) -> None:
        with self._lock:
            self._running.pop(change.address, None)
            self._done[outcome.status] += 1
        style = STATUS_STYLE[outcome.status]
        self.console.print(f"[{style}]{outcome.status:>9}[/{style}] {escape(change.action.value)} "
                           f"{escape(change.address)}"
                           + (f" ({outcome.seconds:.1f}s)" if outcome.status == SUCCEEDED
                              else f": {escape(outcome.reason)}"))

    def __enter__(self) -> "LiveProgress":
        self._live.start()
        return self

    def __exit__(self, *exc) -> None:
        self._live.stop()


def progress_for(console: Console, total: int) -> LineProgress | LiveProgress:
    return LiveProgress(console, total) if console.is_terminal else LineProgress(console)


def render_outcomes(outcomes: Iterable[Outcome], console: Console) -> None:
    table = Table(title="Apply results", show_lines=False)
    table.add_column("change")
    table.add_column("resource")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for outcome in outcomes:
        style = STATUS_STYLE[outcome.status]
        detail = outcome.reason or f"{outcome.seconds:.1f}s"
        table.add_row(outcome.action, escape(outcome.address), f"[{style}]{outcome.status}[/{style}]",
                      escape(detail))
    console.print(table)
