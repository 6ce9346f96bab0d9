"""`provision apply` and `provision destroy`: show the plan, confirm, carry it out, report."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from provisioner.cli.options import (
    AUTO_APPROVE,
    CLOUD_OPTION,
    DELETE_UNOWNED,
    EMULATOR_OPTION,
    ENV_OPTION,
    NO_ADOPT,
    PARALLELISM,
    RETIREMENT_OPTION,
    TARGET_OPTION,
    console,
    workspace,
)
from provisioner.cli.plan import planned
from provisioner.errors import ExitCode, ProvisionerError
from provisioner.workspace import ApplyResult, Plan, load_plan
from provisioner.render.human import render_plan
from provisioner.render.progress import progress_for, render_outcomes


def register(app: typer.Typer) -> None:
    app.command("apply")(apply)
    app.command("destroy")(destroy)


def apply(
    source: Path = typer.Argument(Path("deployments.yaml"), help="The spec file, or a plan saved with "
                                                                "`plan -out FILE` (planned again and carried "
                                                                "out only if it is still the same plan)."),
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
    env: Optional[str] = ENV_OPTION,
    target: list[str] = TARGET_OPTION,
    auto_approve: bool = AUTO_APPROVE,
    parallelism: int = PARALLELISM,
    retirement_warning_days: int = RETIREMENT_OPTION,
    no_adopt: bool = NO_ADOPT,
    engine: str = typer.Option("sdk", "--engine", help="sdk: provision issues each write; arm: Azure runs an "
                                                       "exported template per resource group."),
) -> int:
    """Make Azure match the spec (or carry out a saved plan, if it still holds)."""
    if engine not in ("sdk", "arm"):
        raise typer.BadParameter("must be sdk or arm", param_hint="--engine")
    saved = load_plan(source) if source.suffix.lower() == ".json" else None
    if saved is not None and target:
        raise typer.BadParameter("a saved plan already has its targets; plan again with --target",
                                 param_hint="--target")
    _need_confirmation_channel(auto_approve or saved is not None)
    spec = Path(saved.spec_file) if saved is not None else source
    env = saved.environment if saved is not None else env  # a saved plan names its environment
    with workspace(spec, emulator=emulator, cloud=cloud, env=env) as ws:
        plan = ws.verified(saved) if saved is not None else planned(
            ws, targets=target, retirement_warning_days=retirement_warning_days, adopt=not no_adopt)
        return _carry_out(ws, plan, auto_approve=auto_approve or saved is not None, parallelism=parallelism,
                          engine=engine)


def destroy(
    spec: Path = typer.Argument(Path("deployments.yaml"), help="The spec file."),
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
    env: Optional[str] = ENV_OPTION,
    target: list[str] = TARGET_OPTION,
    include_accounts: bool = typer.Option(False, "--include-accounts", help="Delete the accounts too (only "
                                                                            "those whose contents are all ours)."),
    purge: bool = typer.Option(False, "--purge", help="With --include-accounts: purge the deleted accounts "
                                                      "so their names can be used again at once."),
    delete_unowned: bool = DELETE_UNOWNED,
    auto_approve: bool = AUTO_APPROVE,
    parallelism: int = PARALLELISM,
) -> int:
    """Remove what the spec manages: deployments, content filters, blocklists (accounts on request)."""
    if purge and not include_accounts:
        raise typer.BadParameter("--purge needs --include-accounts", param_hint="--purge")
    if delete_unowned and not include_accounts:
        raise typer.BadParameter("--delete-unowned needs --include-accounts", param_hint="--delete-unowned")
    _need_confirmation_channel(auto_approve)
    with workspace(spec, emulator=emulator, cloud=cloud, env=env) as ws:
        plan = planned(ws, targets=target, destroy=True, include_accounts=include_accounts, purge=purge,
                       delete_unowned=delete_unowned)
        return _carry_out(ws, plan, auto_approve=auto_approve, parallelism=parallelism, engine="sdk")


def _need_confirmation_channel(approved: bool) -> None:
    if not approved and not sys.stdin.isatty():
        raise ProvisionerError("refusing to change Azure without confirmation: there is no terminal to ask on",
                               hint="review `provision plan` and run again with --auto-approve (as CI does)")


def _carry_out(ws, plan: Plan, *, auto_approve: bool, parallelism: int, engine: str) -> int:
    view = console()
    render_plan(plan.to_dict(), view)
    if plan.has_changes and not auto_approve and not _confirm(plan.destroy):
        view.print("Nothing changed.")
        return ExitCode.ERROR
    with progress_for(view, len(plan.pending)) as progress:
        result = ws.apply(plan, engine=engine, parallelism=parallelism, events=progress)
    return _report(result, view)


def _report(result: ApplyResult, view: Console) -> int:
    if result.outcomes:
        render_outcomes(result.outcomes, view)
    if result.interrupted:
        view.print("[yellow]Interrupted:[/yellow] changes in flight were finished and reported; "
                   "run apply again to converge.")
        return 130
    return ExitCode.ERROR if result.failed else ExitCode.OK


def _confirm(destroy: bool) -> bool:
    verb = "destroy these resources" if destroy else "apply these changes"
    answer = typer.prompt(f"Do you want to {verb}? Only 'yes' will be accepted", default="", show_default=False)
    return answer.strip() == "yes"
