"""`provision apply` and `provision destroy`: show the plan, confirm, carry it out, report."""
from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from provisioner.apply.arm_engine import ArmEngine
from provisioner.apply.executor import Executor
from provisioner.azure import publish
from provisioner.azure.observe import read_observed
from provisioner.azure.templates import AzureTemplateDeployer
from provisioner.azure.writers import AzureWriter
from provisioner.cli.plan import (
    CLOUD_OPTION,
    EMULATOR_OPTION,
    RETIREMENT_OPTION,
    TARGET_OPTION,
    make,
)
from provisioner.cli.session import LoadedSpec, connect, load_spec
from provisioner.errors import ExitCode, ProvisionerError
from provisioner.export import arm
from provisioner.model.resources import Kind
from provisioner.plan import differ, planfile
from provisioner.plan.model import Plan
from provisioner.plan.result import SUCCEEDED, ApplyResult
from provisioner.render.human import render_plan
from provisioner.render.progress import progress_for, render_outcomes

AUTO_APPROVE = typer.Option(False, "--auto-approve", help="Do not ask for confirmation.")
PARALLELISM = typer.Option(10, "--parallelism", min=1, help="Accounts worked on at once (writes within "
                                                            "one account are always one at a time).")


def register(app: typer.Typer) -> None:
    app.command("apply")(apply)
    app.command("destroy")(destroy)


def apply(
    source: Path = typer.Argument(Path("deployments.yaml"), help="The spec file, or a plan saved with "
                                                                "`plan -out FILE`."),
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
    target: list[str] = TARGET_OPTION,
    auto_approve: bool = AUTO_APPROVE,
    parallelism: int = PARALLELISM,
    retirement_warning_days: int = RETIREMENT_OPTION,
    engine: str = typer.Option("sdk", "--engine", help="sdk: provision issues each write; arm: Azure runs an "
                                                       "exported template per resource group."),
) -> int:
    """Make Azure match the spec (or carry out exactly a saved plan)."""
    if engine not in ("sdk", "arm"):
        raise typer.BadParameter("must be sdk or arm", param_hint="--engine")
    saved = _saved_plan(source)
    if saved is not None:
        if target:
            raise typer.BadParameter("a saved plan already has its targets; plan again with --target",
                                     param_hint="--target")
        loaded = load_spec(Path(saved.spec_file))
        return _run(loaded, emulator=emulator, cloud=cloud, auto_approve=True, parallelism=parallelism,
                    saved=saved, engine=engine)
    loaded = load_spec(source)
    return _run(loaded, emulator=emulator, cloud=cloud, auto_approve=auto_approve, parallelism=parallelism,
                targets=target, retirement_warning_days=retirement_warning_days, engine=engine)


def destroy(
    spec: Path = typer.Argument(Path("deployments.yaml"), help="The spec file."),
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
    target: list[str] = TARGET_OPTION,
    include_accounts: bool = typer.Option(False, "--include-accounts", help="Delete the accounts too."),
    purge: bool = typer.Option(False, "--purge", help="With --include-accounts: purge the deleted accounts "
                                                      "so their names can be used again at once."),
    auto_approve: bool = AUTO_APPROVE,
    parallelism: int = PARALLELISM,
) -> int:
    """Remove what the spec manages: deployments, content filters, blocklists (accounts on request)."""
    if purge and not include_accounts:
        raise typer.BadParameter("--purge needs --include-accounts", param_hint="--purge")
    loaded = load_spec(spec)
    return _run(loaded, emulator=emulator, cloud=cloud, auto_approve=auto_approve, parallelism=parallelism,
                targets=target, destroy=True, include_accounts=include_accounts, purge=purge)


def _saved_plan(source: Path) -> Plan | None:
    if source.suffix.lower() != ".json":
        return None
    return planfile.load(source)


def _run(loaded: LoadedSpec, *, emulator: bool, cloud: str, auto_approve: bool, parallelism: int,
         targets: list[str] | tuple[str, ...] = (), destroy: bool = False, include_accounts: bool = False,
         purge: bool = False, saved: Plan | None = None, retirement_warning_days: int = 90,
         engine: str = "sdk") -> int:
    console = Console()
    if not auto_approve and not sys.stdin.isatty():
        raise ProvisionerError("refusing to change Azure without confirmation: there is no terminal to ask on",
                               hint="review `provision plan` and run again with --auto-approve (as CI does)")
    with connect(loaded.path, emulator=emulator, cloud=cloud) as clients:
        observed = read_observed(clients, loaded.desired)
        if saved is not None:
            planfile.check_fresh(saved, spec_digest=loaded.digest, observed_fingerprint=observed.fingerprint())
            plan = saved
        else:
            plan = make(loaded, clients, targets=targets, destroy=destroy, include_accounts=include_accounts,
                        purge=purge, retirement_warning_days=retirement_warning_days, observed=observed)
        render_plan(plan.to_dict(), console)
        if plan.has_changes and not auto_approve and not _confirm(console, destroy):
            console.print("Nothing changed.")
            return ExitCode.ERROR
        with progress_for(console, len(plan.pending)) as progress:
            if engine == "arm" and not plan.destroy:
                resolved = differ.resolve(loaded.desired, observed)

                def templates_for(addresses: set[str]) -> list[tuple[str, str, dict]]:
                    groups = arm.group_templates([r for r in resolved if r.address in addresses],
                                                 loaded.desired.spec_name)
                    return [(g.subscription, g.resource_group, g.template) for g in groups]

                template_engine = ArmEngine(AzureWriter(clients), AzureTemplateDeployer(clients), parallelism=parallelism,
                                    events=progress)
                result = template_engine.run(plan, templates_for)
            else:
                result = Executor(AzureWriter(clients), parallelism=parallelism, events=progress).run(plan)
            if not result.interrupted:
                result = _publish(clients, loaded, plan, result)
    if result.outcomes:
        render_outcomes(result.outcomes, console)
    if result.interrupted:
        console.print("[yellow]Interrupted:[/yellow] changes in flight were finished and reported; "
                      "run apply again to converge.")
        return 130
    return ExitCode.ERROR if result.failed else ExitCode.OK


def _publish(clients, loaded: LoadedSpec, plan: Plan, result: ApplyResult) -> ApplyResult:
    """Key Vault: publish endpoints and keys after apply; remove them on destroy."""
    if loaded.desired.key_vault is None:
        return result
    unhealthy = {o.address for o in result.outcomes if o.status != SUCCEEDED}
    accounts = [r.name for r in loaded.desired.resources if r.kind is Kind.ACCOUNT
                and r.address not in unhealthy and _targeted(r.name, plan.targets)]
    if plan.destroy:
        extra = publish.unpublish(clients, loaded.desired, accounts)
    else:
        extra = publish.publish(clients, loaded.desired, accounts)
    return ApplyResult(result.outcomes + tuple(extra), result.interrupted)


def _targeted(account: str, targets: tuple[str, ...]) -> bool:
    return not targets or any(t.partition("/")[0] == account for t in targets)


def _confirm(console: Console, destroy: bool) -> bool:
    verb = "destroy these resources" if destroy else "apply these changes"
    answer = typer.prompt(f"Do you want to {verb}? Only 'yes' will be accepted", default="", show_default=False)
    return answer.strip() == "yes"

