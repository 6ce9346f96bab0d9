"""The human view of a drift report, rendered from its JSON document (as `plan --drift --output json`)."""
from __future__ import annotations

from typing import Any, Mapping

from rich.console import Console
from rich.markup import escape

from provisioner.render.values import show as _show

SYMBOL = {"changed": "~", "missing": "-", "untagged": "?", "appeared": "+"}
STYLE = {"changed": "yellow", "missing": "red", "untagged": "cyan", "appeared": "magenta"}
KINDS = ("changed", "missing", "untagged", "appeared")


def render_drift(document: Mapping[str, Any], console: Console) -> None:
    since = document.get("since")
    console.print(f"[bold]Drift[/bold] of {escape(document['spec']['file'])} since the last apply"
                  + (f" ({escape(since)})" if since else " (unknown: nothing of this spec matches it)"))
    console.print()
    if not document["items"]:
        console.print("[green]No drift.[/green] Azure is as the spec was applied.")
        return
    for item in document["items"]:
        drift = item["drift"]
        console.print(f"[{STYLE[drift]}]{SYMBOL[drift]:>3}[/{STYLE[drift]}] [bold]{escape(item['address'])}"
                      f"[/bold] ({item['kind'].replace('_', ' ')}) [dim]— {escape(item['reason'])}[/dim]")
        for field in item["fields"]:
            console.print(f"        {escape(field['path'])}: applied {escape(_show(field['applied']))}, "
                          f"now {escape(_show(field['live']))}")
        if item.get("created_at"):
            console.print(f"        created {escape(item['created_at'])}")
    console.print()
    counts = document["summary"]
    console.print("[bold]Drift:[/bold] " + ", ".join(f"{counts[k]} {k}" for k in KINDS) + ".")
