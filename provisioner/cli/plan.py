"""`provision plan`: the diff between the spec and live Azure."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from provisioner.cli.options import (
    CLOUD_OPTION,
    DELETE_UNOWNED,
    EMULATOR_OPTION,
    ENV_OPTION,
    NO_ADOPT,
    RETIREMENT_OPTION,
    SPEC_ARGUMENT,
    TARGET_OPTION,
    console,
    workspace,
)
from provisioner.errors import ExitCode, PlanError
from provisioner.workspace import CapacityError, check_destination, save_plan
from provisioner.render.capacity import render_findings
from provisioner.render.drift import render_drift
from provisioner.render.human import render_plan
from provisioner.render.markdown import render_markdown


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)


def plan(
    spec: Path = SPEC_ARGUMENT,
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
    env: Optional[str] = ENV_OPTION,
    target: list[str] = TARGET_OPTION,
    output: str = typer.Option("text", "--output", "-o", help="text, json or markdown (a pull-request comment)."),
    out: Optional[Path] = typer.Option(None, "-out", "--out", help="Save the plan to this file for `apply`."),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode",
                                           help="Exit 0 for no changes, 2 for changes, 1 for errors."),
    destroy: bool = typer.Option(False, "--destroy", help="Plan what `destroy` would remove."),
    include_accounts: bool = typer.Option(False, "--include-accounts", help="With --destroy: accounts too."),
    purge: bool = typer.Option(False, "--purge", help="With --destroy --include-accounts: purge them too."),
    delete_unowned: bool = DELETE_UNOWNED,
    retirement_warning_days: int = RETIREMENT_OPTION,
    no_adopt: bool = NO_ADOPT,
    drift: bool = typer.Option(False, "--drift", help="Report only what changed in Azure since the spec was "
                                                      "applied; exit 2 on drift."),
    prices: Optional[Path] = typer.Option(None, "--prices", metavar="FILE", dir_okay=False,
                                          help="Price table for the cost estimate (e.g. negotiated prices); "
                                               "default: .provision/prices.json beside the spec, else the "
                                               "shipped list prices."),
    strict: bool = typer.Option(False, "--strict", help="Fail (before reading Azure) when guardrail errors or "
                                                        "warnings are not waived; without it they are warnings."),
) -> int:
    """Show what apply would change, without changing anything."""
    if output not in ("text", "json", "markdown"):
        raise typer.BadParameter("must be text, json or markdown", param_hint="--output")
    if (include_accounts or purge or delete_unowned) and not destroy:
        raise typer.BadParameter("--include-accounts, --purge and --delete-unowned need --destroy",
                                 param_hint="--destroy")
    if drift:
        return _drift(spec, emulator=emulator, cloud=cloud, env=env, targets=target, output=output,
                      retirement_warning_days=retirement_warning_days,
                      conflicting=[name for name, used in (("--destroy", destroy), ("-out", out is not None),
                                                           ("--no-adopt", no_adopt), ("--prices", prices is not None),
                                                           ("--detailed-exitcode", detailed_exitcode)) if used])
    if out is not None:
        check_destination(out, spec=spec)  # before reading Azure: a bad path fails fast
    with workspace(spec, emulator=emulator, cloud=cloud, env=env) as ws:
        result = planned(ws, targets=target, destroy=destroy, include_accounts=include_accounts, purge=purge,
                         delete_unowned=delete_unowned, retirement_warning_days=retirement_warning_days,
                         prices=prices, adopt=not no_adopt, strict=strict)
    if out is not None:
        save_plan(result, out, spec=spec)
    document = result.to_dict()
    if output == "json":
        typer.echo(json.dumps(document, indent=2))
    elif output == "markdown":
        typer.echo(render_markdown(document))
    else:
        view = console()
        render_plan(document, view)
        if out is not None:
            view.print(f"Saved the plan to {out}. Apply exactly this plan with `provision apply {out}`.")
    if detailed_exitcode and result.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


def _drift(spec: Path, *, emulator: bool, cloud: str, env: str | None, targets: list[str], output: str,
           retirement_warning_days: int, conflicting: list[str]) -> int:
    if conflicting:
        raise typer.BadParameter(f"--drift does not take {', '.join(conflicting)}", param_hint="--drift")
    if output == "markdown":
        raise typer.BadParameter("--drift prints text or json", param_hint="--output")
    with workspace(spec, emulator=emulator, cloud=cloud, env=env) as ws:
        try:
            report = ws.drift(targets=targets, retirement_warning_days=retirement_warning_days)
        except CapacityError as exc:
            render_findings(exc.findings, exc.offered, console(stderr=True))
            raise PlanError("the spec cannot be planned against Azure as it is (see above)") from None
    document = report.to_dict()
    if output == "json":
        typer.echo(json.dumps(document, indent=2))
    else:
        render_drift(document, console())
    return ExitCode.CHANGES if report.drifted else ExitCode.OK


def planned(ws, **options):
    """ws.plan(**options); a plan that would fail in Azure for quota or availability is explained
    (with the regions that do offer what is missing) before the error."""
    try:
        return ws.plan(**options)
    except CapacityError as exc:
        render_findings(exc.findings, exc.offered, console(stderr=True))
        raise PlanError("the plan would fail in Azure (see above); nothing was changed",
                        hint="`provision quota` shows limits and available capacity per region") from None
