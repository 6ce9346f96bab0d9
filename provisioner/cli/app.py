"""The `provision` command: a Typer root that wires the layers together."""
from __future__ import annotations

import sys

import typer

from provisioner.errors import ExitCode, ProvisionerError

app = typer.Typer(
    name="provision",
    help="Azure OpenAI model deployments as code: validate, plan, apply, destroy.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold keys and tokens
    add_completion=False,
)


def _register_commands() -> None:
    # Each command module adds its commands to `app` (one module per concern).
    from provisioner.cli import validate

    validate.register(app)


_register_commands()


def main() -> None:
    try:
        app()
    except ProvisionerError as exc:  # raised outside a command's own handling
        typer.echo(f"Error: {exc}", err=True)
        if exc.hint:
            typer.echo(f"Hint: {exc.hint}", err=True)
        sys.exit(ExitCode.ERROR)
