"""Tables for quota and availability: plan failures and `provision quota`."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from provisioner.plan.capacity import Findings


def render_findings(findings: Findings, offered: Mapping[tuple[str, str, str], Mapping[str, list[tuple[str, int]]]],
                    console: Console) -> None:
    """Why the plan cannot be applied; `offered` maps (format, model, version) to SKU -> [(region, available)]."""
    for error in findings.errors:
        console.print(f"[red]Error:[/red] {escape(error)}")
    if findings.shortfalls:
        table = Table(title="Quota this plan would exceed")
        for column in ("region", "usage", "limit", "in use", "requested by this plan", "short by", "deployments"):
            table.add_column(column, overflow="fold")
        for s in findings.shortfalls:
            table.add_row(s.region, f"{escape(s.usage)}\n[dim]{escape(s.localized)}[/dim]", str(s.limit),
                          str(s.in_use), str(s.requested), f"[red]{s.short_by}[/red]",
                          "\n".join(escape(d) for d in s.deployments))
        console.print(table)
    for u in findings.unavailable:
        console.print(f"[red]Not available:[/red] {escape(u.address)}: {escape(u.reason)}")
        skus = offered.get((u.model_format, u.model, u.version), {})
        regions = skus.get(u.sku) or next((v for k, v in skus.items() if k.lower() == u.sku.lower()), None)
        if regions:
            listing = ", ".join(f"{region} ({available} available)" for region, available in regions)
            console.print(f"    {escape(u.model)} {escape(u.version)} as {escape(u.sku)} is offered in: {listing}")
        elif skus:
            console.print(f"    {escape(u.model)} {escape(u.version)} is offered as: "
                          + "; ".join(f"{sku} in {', '.join(r for r, _ in regions)}" for sku, regions in skus.items()))
        else:
            console.print(f"    no region reports {escape(u.model)} {escape(u.version)}")


def render_quota(rows: Sequence[Mapping[str, Any]], console: Console) -> None:
    table = Table(title="Azure OpenAI quota")
    for column in ("subscription", "region", "model", "version", "sku", "usage", "limit", "in use", "available"):
        table.add_column(column, overflow="fold", justify="right" if column in ("limit", "in use", "available")
                         else "left")
    for row in rows:
        style = "green" if row["available"] > 0 else "red"
        table.add_row(row["subscription"], row["region"], row["model"], row["version"], row["sku"],
                      row["usage"], str(row["limit"]), str(row["in_use"]),
                      f"[{style}]{row['available']}[/{style}]")
    console.print(table)
