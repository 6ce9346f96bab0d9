"""The `provision` command: a Typer root that wires the layers together.

Exit codes: 0 success (or no changes), 1 any error (usage errors included, so
they never look like "changes present"), 2 changes present with
`plan --detailed-exitcode`.
"""
from __future__ import annotations

import logging
import sys
import traceback

import click
import typer
import typer.core

from provisioner.errors import ExitCode, ProvisionerError, SpecError

app = typer.Typer(
    name="provision",
    help="Azure OpenAI model deployments as code: validate, plan, apply, destroy.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold keys and tokens
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
)


def _version(value: bool) -> None:
    if value:
        from provisioner.version import DISTRIBUTION, VERSION

        typer.echo(f"provision {VERSION} ({DISTRIBUTION})")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")) -> None:
    """Azure OpenAI model deployments as code: validate, plan, apply, destroy."""


def _flags_without_type(option_class: type) -> None:
    """Typer's help shows `<bool>` after every flag, though a flag takes no value: show nothing there."""
    shown = getattr(option_class, "display_type_rich", None)
    if shown is None:
        return

    def display_type_rich(self, ctx):
        return None if getattr(self, "is_flag", False) else shown(self, ctx)

    option_class.display_type_rich = display_type_rich


_flags_without_type(typer.core.TyperOption)


def _register_commands() -> None:
    # Each command module adds its commands to `app` (one module per concern).
    from provisioner.cli import apply, emulator, export, plan, prices, quota, test, validate

    validate.register(app)
    plan.register(app)
    apply.register(app)
    quota.register(app)
    test.register(app)
    export.register(app)
    emulator.register(app)
    prices.register(app)


_register_commands()


def run(argv: list[str]) -> int:
    """Run the CLI and return its exit code (tests call this; `main` exits with it)."""
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    # The SDK logs every failed credential and retry; our errors say what matters. Never DEBUG:
    # request logs could carry keys.
    logging.getLogger("azure").setLevel(logging.WARNING if debug else logging.ERROR)
    try:
        result = app(args=argv, prog_name="provision", standalone_mode=False)
        return int(result or 0)
    except (click.exceptions.Exit, typer.Exit) as exc:
        return int(exc.exit_code)
    except (click.exceptions.Abort, typer.Abort):
        typer.echo("Aborted.", err=True)
        return int(ExitCode.ERROR)
    # usage errors: 1, never 2. Newer typer vendors click (typer._click): its usage errors are
    # TyperExceptions, not click.ClickExceptions.
    except (click.ClickException, typer.TyperException) as exc:
        exc.show()
        return int(ExitCode.ERROR)
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            typer.echo(str(diagnostic), err=True)
        return int(ExitCode.ERROR)
    except ProvisionerError as exc:
        if debug:
            traceback.print_exc()
        typer.echo(f"Error: {exc}", err=True)
        if exc.hint:
            typer.echo(f"Hint: {exc.hint}", err=True)
        return int(ExitCode.ERROR)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # a bug: one line, the traceback on request
        if debug:
            traceback.print_exc()
        typer.echo(f"Error: unexpected {type(exc).__name__}: {exc}", err=True)
        if not debug:
            typer.echo("Hint: run again with --debug for the traceback, and please report it", err=True)
        return int(ExitCode.ERROR)


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
