"""`provision quota`: limit, in use and available capacity per region, model and SKU."""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from provisioner.azure.observe import read_regions
from provisioner.cli.plan import CLOUD_OPTION, EMULATOR_OPTION
from provisioner.cli.session import connect, load_spec
from provisioner.errors import ExitCode, ProvisionerError
from provisioner.model.observed import RegionInfo
from provisioner.model.resources import Kind
from provisioner.render.capacity import render_quota


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
) -> int:
    """Where is capacity? Quota limits, use and availability per region, model and SKU."""
    if output not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--output")
    subscriptions, regions, models = list(subscription), list(region), list(model)
    if not (subscriptions and regions) or not (models or all_models):
        loaded = load_spec(spec)
        accounts = [r for r in loaded.desired.resources if r.kind is Kind.ACCOUNT]
        subscriptions = subscriptions or sorted({a.scope.subscription for a in accounts})
        regions = regions or sorted({a.properties["location"] for a in accounts})
        if not (models or all_models):
            models = sorted({r.properties["model"] for r in loaded.desired.resources if r.kind is Kind.DEPLOYMENT})
    if not subscriptions or not regions:
        raise ProvisionerError("no subscription or region to report on", hint="pass --subscription and --region")
    with connect(spec, emulator=emulator, cloud=cloud) as clients:
        infos = read_regions(clients, [(s, r.replace(" ", "").lower()) for s in subscriptions for r in regions])
    rows = quota_rows(infos, models=None if all_models else models, skus=sku)
    if output == "json":
        typer.echo(json.dumps({"format_version": "1", "rows": rows}, indent=2))
    else:
        render_quota(rows, Console())
    return ExitCode.OK


def quota_rows(infos: list[RegionInfo], *, models: list[str] | None, skus: list[str]) -> list[dict]:
    """One row per (subscription, region, model, version, SKU) that has a quota."""
    wanted_skus = {s.lower() for s in skus}
    rows = []
    for info in infos:
        for offer in info.models:
            if models is not None and offer.name not in models:
                continue
            for sku in offer.skus:
                if wanted_skus and sku.name.lower() not in wanted_skus:
                    continue
                usage = info.usages.get(sku.usage_name or "")
                if usage is None:
                    continue
                rows.append({"subscription": info.subscription, "region": info.region, "model": offer.name,
                             "version": offer.version, "sku": sku.name, "usage": usage.name,
                             "limit": usage.limit, "in_use": usage.current,
                             "available": max(usage.limit - usage.current, 0),
                             "minimum": sku.minimum, "step": sku.step})
    return sorted(rows, key=lambda r: (r["model"], r["version"], r["sku"], r["subscription"], r["region"]))
