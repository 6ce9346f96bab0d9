"""`provision quota`: limit, in use and available capacity per region, model and SKU."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from provisioner.cli.options import CLOUD_OPTION, EMULATOR_OPTION, ENV_OPTION, console, workspace
from provisioner.errors import ExitCode
from provisioner.render.capacity import render_quota
from provisioner.workspace import connect, quota_report


def register(app: typer.Typer) -> None:
    app.command("quota")(quota)


def quota(
    spec: Path = typer.Argument(Path("deployments.yaml"), help="The spec file: its subscriptions, regions and "
                                                              "models are the defaults."),
    region: list[str] = typer.Option([], "--region", help="Region to report (repeatable). Default: the spec's."),
    subscription: list[str] = typer.Option([], "--subscription", help="Subscription (repeatable). "
                                                                      "Default: the spec's."),
    model: list[str] = typer.Option([], "--model", help="Only these models (repeatable). Default: the spec's."),
    sku: list[str] = typer.Option([], "--sku", help="Only these SKUs, e.g. GlobalStandard (repeatable)."),
    all_models: bool = typer.Option(False, "--all-models", help="Every model the regions offer."),
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
    env: Optional[str] = ENV_OPTION,
) -> int:
    """Where is capacity? Quota limits, use and availability per region, model and SKU."""
    if output not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--output")
    options = dict(subscriptions=subscription, regions=region, models=model, skus=sku, all_models=all_models)
    if subscription and region and (model or all_models):  # everything given: no spec needed
        with connect(spec, emulator=emulator, cloud=cloud) as clients:
            rows = quota_report(clients, **options)
    else:
        with workspace(spec, emulator=emulator, cloud=cloud, env=env) as ws:
            rows = ws.quota(**options)
    if output == "json":
        typer.echo(json.dumps({"format_version": "1", "rows": rows}, indent=2))
    else:
        render_quota(rows, console())
    return ExitCode.OK
