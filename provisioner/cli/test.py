"""`provision test`: one small real request per deployment; exit 1 if any fails."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from provisioner.cli.options import CLOUD_OPTION, EMULATOR_OPTION, SPEC_ARGUMENT, TARGET_OPTION, console, workspace
from provisioner.errors import ExitCode
from provisioner.render.serving import render_test


def register(app: typer.Typer) -> None:
    app.command("test")(test)


def test(
    spec: Path = SPEC_ARGUMENT,
    target: list[str] = TARGET_OPTION,
    key: bool = typer.Option(False, "--key", help="Authenticate with the account key (read with listKeys, never "
                                                  "shown) instead of Microsoft Entra ID."),
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
) -> int:
    """Does it serve? A chat completion or an embedding per deployment, as an application sends it."""
    if output not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--output")
    with workspace(spec, emulator=emulator, cloud=cloud) as ws:
        rows = ws.test(targets=target, use_key=key)
    if output == "json":
        typer.echo(json.dumps({"format_version": "1", "deployments": rows}, indent=2))
    else:
        render_test(rows, console())
    return ExitCode.ERROR if any(r["status"] == "failed" for r in rows) else ExitCode.OK
