"""`provision validate` and `provision schema`: spec checks that never touch Azure."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from provisioner.errors import ExitCode, SpecError
from provisioner.cli.options import ENV_OPTION
from provisioner.workspace import load_every_environment, load_spec, spec_json_schema

DEFAULT_SPEC = Path("deployments.yaml")


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("schema")(schema)


def validate(
    spec: Path = typer.Argument(DEFAULT_SPEC, help="The spec file.", show_default=True),
    env: Optional[str] = ENV_OPTION,
) -> None:
    """Check a spec file without touching Azure: syntax, schema and cross-references (of every
    environment, unless --env names one)."""
    try:
        every = [load_spec(spec, env)] if env else load_every_environment(spec)
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            typer.echo(str(diagnostic), err=True)
        raise typer.Exit(ExitCode.ERROR) from None
    for loaded in every:
        for warning in loaded.warnings:
            typer.echo(str(warning), err=True)
        where = f" (environment {loaded.desired.environment})" if loaded.desired.environment else ""
        typer.echo(f"✓ {spec} is valid{where}: {len(loaded.spec.accounts)} accounts, "
                   f"{loaded.spec.deployment_count()} deployments")


def schema() -> None:
    """Print the JSON Schema of the spec (for editors: deployments.schema.json)."""
    typer.echo(json.dumps(spec_json_schema(), indent=2))
