"""The human view of a plan, rendered from the plan's JSON document only.

Because this reads the same dict that `--output json` prints, the two views
cannot disagree. Colour comes from Rich, which turns it off when the stream is
not a terminal or NO_COLOR is set.
"""
from __future__ import annotations

from typing import Any, Mapping

from rich.console import Console
from rich.markup import escape

from provisioner.render import cost as cost_text
from provisioner.render.values import flatten, show

STYLE = {"adopt": "cyan", "create": "green", "update": "yellow", "replace": "magenta", "delete": "red"}
SYMBOL = {"adopt": ">", "create": "+", "update": "~", "replace": "-/+", "delete": "-"}
VERB = {"adopt": "to adopt", "create": "to create", "update": "to update", "replace": "to replace",
        "delete": "to delete"}


def render_plan(document: Mapping[str, Any], console: Console) -> None:
    pending = [c for c in document["changes"] if c["action"] != "no-op"]
    title = "Destroy plan" if document.get("destroy") else "Plan"
    environment = document["spec"].get("environment")
    console.print(f"[bold]{title}[/bold] for {escape(document['spec']['file'])}"
                  + (f" (environment {escape(environment)})" if environment else "")
                  + (f" (targets: {', '.join(document['targets'])})" if document.get("targets") else ""))
    console.print()
    if not pending:
        console.print("[green]No changes.[/green] Azure matches the spec.")
    for change in pending:
        _render_change(change, console)
    noted = [c for c in document["changes"] if c["action"] == "no-op" and c.get("notes")]
    if noted:  # e.g. the principal ids of an unchanged account's identities
        console.print("[dim]Unchanged:[/dim]")
        for change in noted:
            for note in change["notes"]:
                console.print(f"[dim]    {escape(change['address'])}: {escape(note)}[/dim]")
        console.print()
    if document.get("unmanaged"):
        console.print("[dim]Not managed by this spec (left alone):[/dim]")
        for item in document["unmanaged"]:
            console.print(f"[dim]    {escape(item['address'])} ({item['kind'].replace('_', ' ')})[/dim]")
        console.print()
    for warning in document.get("warnings", ()):
        console.print(f"[yellow]Warning:[/yellow] {escape(warning)}")
    if document.get("cost") and document["cost"]["lines"]:
        _render_cost(document["cost"], console)
    console.print(f"[bold]Plan:[/bold] {summary_text(document['summary'])}.")


def summary_text(summary: Mapping[str, int]) -> str:
    """"1 to create, 0 to update, ..."; adoptions only when there are some (plans before them had none)."""
    parts = [f"{summary.get(action, 0)} {VERB[action]}" for action in ("create", "update", "replace", "delete")]
    return ", ".join(([f"{summary['adopt']} {VERB['adopt']}"] if summary.get("adopt") else []) + parts)


def _render_change(change: Mapping[str, Any], console: Console) -> None:
    action = change["action"]
    style = STYLE[action]
    kind = change["kind"].replace("_", " ")
    header = f"[{style}]{SYMBOL[action]:>3}[/{style}] [bold]{escape(change['address'])}[/bold] ({kind})"
    if action in ("replace", "delete") or change.get("reason") not in ("does not exist", "differs from the spec"):
        header += f" [dim]— {escape(change['reason'])}[/dim]"
    console.print(header)
    if action == "create":
        for path, value in flatten(change["after"] or {}):
            console.print(f"        {escape(path)}: {escape(show(value))}")
    elif action in ("update", "replace", "adopt"):
        for field in change["fields"]:
            mark = "  [magenta]# forces replacement[/magenta]" if field["forces_replace"] else ""
            console.print(f"        {escape(field['path'])}: {escape(show(field['before']))} → "
                          f"{escape(show(field['after']))}{mark}")
    for note in change.get("notes", ()):
        if action != "replace":  # replace notes are repeated as warnings at the end
            console.print(f"        [yellow]note:[/yellow] {escape(note)}")
    console.print()


def _render_cost(cost: Mapping[str, Any], console: Console) -> None:
    console.print(f"[bold]Cost[/bold] ({escape(cost_text.heading(cost))}):")
    for line in cost["lines"]:
        console.print(f"    {escape(cost_text.change_line(line, cost['currency']))}")
        for note in line.get("notes", ()):
            console.print(f"        [dim]note: {escape(note)}[/dim]")
    for total in cost_text.totals(cost):
        console.print(f"  {escape(total)}")
    console.print()
