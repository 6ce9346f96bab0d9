"""`provision plan`: the diff between the spec and live Azure."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from provisioner.azure.clients import Clients
from provisioner.azure.observe import offering_regions, read_observed
from provisioner.cli.session import LoadedSpec, connect, load_spec
from provisioner.errors import ExitCode, PlanError
from provisioner.model.observed import ObservedState
from provisioner.plan import cost, differ, planfile, pricefile
from provisioner.plan.capacity import CapacityError
from provisioner.plan.cost import PriceTable
from provisioner.plan.model import Plan
from provisioner.render.capacity import render_findings
from provisioner.render.human import render_plan
from provisioner.render.markdown import render_markdown

SPEC_ARGUMENT = typer.Argument(Path("deployments.yaml"), help="The spec file.")
EMULATOR_OPTION = typer.Option(False, "--emulator", help="Use the embedded emulator (state in .provision/ "
                                                         "beside the spec) instead of Azure.")
CLOUD_OPTION = typer.Option("public", "--cloud", help="Azure cloud: public, china or usgov.")
TARGET_OPTION = typer.Option([], "--target", help="Limit to ACCOUNT or ACCOUNT/DEPLOYMENT (repeatable).")
RETIREMENT_OPTION = typer.Option(90, "--retirement-warning-days", min=0,
                                 help="Warn about pinned model versions retiring within this many days.")


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)


def plan(
    spec: Path = SPEC_ARGUMENT,
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
    target: list[str] = TARGET_OPTION,
    output: str = typer.Option("text", "--output", "-o", help="text, json or markdown (a pull-request comment)."),
    out: Optional[Path] = typer.Option(None, "-out", "--out", help="Save the plan to this file for `apply`."),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode",
                                           help="Exit 0 for no changes, 2 for changes, 1 for errors."),
    destroy: bool = typer.Option(False, "--destroy", help="Plan what `destroy` would remove."),
    include_accounts: bool = typer.Option(False, "--include-accounts", help="With --destroy: accounts too."),
    retirement_warning_days: int = RETIREMENT_OPTION,
    prices: Optional[Path] = typer.Option(None, "--prices", metavar="FILE", dir_okay=False, help="Price table for the cost estimate (e.g. "
                                                                 "negotiated prices); default: .provision/prices.json "
                                                                 "beside the spec, else the shipped list prices."),
) -> int:
    """Show what apply would change, without changing anything."""
    if output not in ("text", "json", "markdown"):
        raise typer.BadParameter("must be text, json or markdown", param_hint="--output")
    loaded = load_spec(spec)
    table = pricefile.resolve(spec, prices)  # a bad price file fails before Azure is read
    with connect(spec, emulator=emulator, cloud=cloud) as clients:
        result = make(loaded, clients, targets=target, destroy=destroy, include_accounts=include_accounts,
                      retirement_warning_days=retirement_warning_days, prices=table)
    if out is not None:
        planfile.save(result, out)
    document = result.to_dict()
    if output == "json":
        typer.echo(json.dumps(document, indent=2))
    elif output == "markdown":
        typer.echo(render_markdown(document))
    else:
        console = Console()
        render_plan(document, console)
        if out is not None:
            console.print(f"Saved the plan to {out}. Apply exactly this plan with `provision apply {out}`.")
    if detailed_exitcode and result.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


def make(loaded: LoadedSpec, clients: Clients, *, targets=(), destroy: bool = False, include_accounts: bool = False,
         purge: bool = False, retirement_warning_days: int = 90, observed: ObservedState | None = None,
         prices: PriceTable | None = None) -> Plan:
    """Read live state and plan, with the plan's cost at `prices` (default: pricefile.resolve). A plan that
    would fail in Azure for quota or availability prints why (with the regions that do offer what is
    missing) and raises."""
    observed = observed or read_observed(clients, loaded.desired)
    try:
        result = differ.make_plan(loaded.desired, observed, spec_file=str(loaded.path), spec_digest=loaded.digest,
                                  destroy=destroy, include_accounts=include_accounts, purge=purge, targets=targets,
                                  retirement_warning_days=retirement_warning_days)
    except CapacityError as exc:
        wanted = {(u.subscription, u.model_format, u.model, u.version) for u in exc.findings.unavailable}
        offered = {(fmt, model, version): offering_regions(clients, subscription, fmt, model, version)
                   for subscription, fmt, model, version in sorted(wanted)}
        render_findings(exc.findings, offered, Console(stderr=True))
        raise PlanError("the plan would fail in Azure (see above); nothing was changed",
                        hint="`provision quota` shows limits and available capacity per region") from None
    return cost.with_cost(result, prices or pricefile.resolve(loaded.path))
