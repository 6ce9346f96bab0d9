"""`provision import`: write a deployments.yaml from accounts that already exist."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from provisioner.cli.options import CLOUD_OPTION, EMULATOR_OPTION
from provisioner.errors import ExitCode, ProvisionerError
from provisioner.workspace import connect, import_spec


def register(app: typer.Typer) -> None:
    app.command("import")(import_)


def import_(
    resource_group: list[str] = typer.Option([], "--resource-group", "-g", help="Import every account in this "
                                                                                "resource group (repeatable)."),
    account: list[str] = typer.Option([], "--account", help="Import this account, by ARM id (repeatable)."),
    subscription: Optional[str] = typer.Option(None, "--subscription", help="Subscription of --resource-group; "
                                                                            "default: AZURE_SUBSCRIPTION_ID."),
    name: Optional[str] = typer.Option(None, "--name", help="The spec's name (in ownership tags); default: the "
                                                            "first resource group's or account's name."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the spec here (default: print it)."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
) -> int:
    """Describe existing accounts, their deployments, content filters, blocklists and security as a spec.

    Security: network rules, identity, outbound restriction, private endpoints, grants and diagnostics.
    Planning the written spec shows only adoptions and grants that are there already."""
    if not resource_group and not account:
        raise typer.BadParameter("pass --resource-group RG or --account ID", param_hint="--resource-group")
    subscription = subscription or os.environ.get("AZURE_SUBSCRIPTION_ID")
    if resource_group and not subscription:
        raise typer.BadParameter("--resource-group needs --subscription (or AZURE_SUBSCRIPTION_ID)",
                                 param_hint="--subscription")
    if out is not None and out.exists() and not force:
        raise ProvisionerError(f"{out} exists; nothing was written", hint="pass --force to overwrite it")
    if out is not None and not out.parent.is_dir():
        raise ProvisionerError(f"cannot write {out}: the folder {out.parent} does not exist")
    spec_name = name or (resource_group[0] if resource_group else account[0].rstrip("/").rsplit("/", 1)[-1])
    where = out if out is not None else Path.cwd() / "deployments.yaml"  # the emulator's state lives beside it
    with connect(where, emulator=emulator, cloud=cloud) as clients:
        text = import_spec(clients, resource_groups=[(subscription, g) for g in resource_group],
                           account_ids=account, name=spec_name, filename=str(where.name))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}; review it, then `provision plan {out}` shows the adoptions", err=True)
    return ExitCode.OK
