"""The `provision` command: a Typer root that wires the layers together.

Exit codes: 0 success (or no changes), 1 any error (usage errors included, so
they never look like "changes present"), 2 changes present with
`plan --detailed-exitcode`.
"""
from __future__ import annotations

import importlib
import logging
import sys
import traceback
from typing import Any, Callable

import typer
import typer.core
from typer.core import TyperCommand, TyperGroup

from provisioner.errors import ExitCode, ProvisionerError, SpecError

# The one way to register a command: its name, the module whose `register(app)` adds it, and the
# one-line help `provision --help` shows. A module (and what it imports: the Azure SDK for the
# commands that talk to Azure) is imported only when one of its commands runs or shows its help.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("provisioner.cli.validate",
                 "Check a spec file without touching Azure: syntax, schema and cross-references."),
    "schema": ("provisioner.cli.validate", "Print the JSON Schema of the spec (for editors: deployments.schema.json)."),
    "plan": ("provisioner.cli.plan", "Show what apply would change, without changing anything."),
    "apply": ("provisioner.cli.apply", "Make Azure match the spec (or carry out a saved plan, if it still holds)."),
    "destroy": ("provisioner.cli.apply",
                "Remove what the spec manages: deployments, content filters, blocklists (accounts on request)."),
    "quota": ("provisioner.cli.quota",
              "Where is capacity? Quota limits, use and availability per region, model and SKU."),
    "export": ("provisioner.cli.export",
               "Write the spec as ARM templates (az deployment group create, deployment stacks) or Bicep."),
    "emulator": ("provisioner.cli.emulator",
                 "A local emulator of Azure Resource Manager for Azure OpenAI (HTTPS, for the real SDK clients)."),
    "output": ("provisioner.cli.output",
               "Print each account's endpoint, deployments (model, version), identity and Key Vault secret URIs."),
    "import": ("provisioner.cli.importing",
               "Describe existing accounts, their deployments, content filters, blocklists and security as a spec."),
    "test": ("provisioner.cli.test",
             "Does it serve? A chat completion or an embedding per deployment, as an application sends it."),
    "prices": ("provisioner.cli.prices", "The price table behind the cost estimate of plans."),
}


class _NotLoaded(TyperCommand):
    """A command whose module is not imported yet: its name and help for the command list; running it
    (or asking for its help) imports the module and hands over to the real command."""

    def __init__(self, name: str, help: str, load: Callable[[], Any]):
        super().__init__(name=name, help=help, short_help=help)
        self._load = load

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        return self._load().make_context(info_name, args, parent=parent, **extra)


class LazyCommands(TyperGroup):
    """The root group: lists COMMANDS without importing them; imports a command's module on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, name: str) -> Any:
        if name in self.commands or name not in COMMANDS:
            return self.commands.get(name)
        return _NotLoaded(name, COMMANDS[name][1], lambda: self.load(name))

    def load(self, name: str) -> Any:
        module = importlib.import_module(COMMANDS[name][0])
        commands = typer.Typer()
        commands.callback()(_no_options)  # a group, whatever the number of commands the module adds
        module.register(commands)
        self.commands.update(typer.main.get_command(commands).commands)
        return self.commands[name]


def _no_options() -> None:
    pass


app = typer.Typer(
    name="provision",
    cls=LazyCommands,
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


def run(argv: list[str]) -> int:
    """Run the CLI and return its exit code (tests call this; `main` exits with it)."""
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    # The SDK logs every failed credential and retry; our errors say what matters. Never DEBUG:
    # request logs could carry keys.
    logging.getLogger("azure").setLevel(logging.WARNING if debug else logging.ERROR)
    # Older typer is built on click; newer vendors it (typer._click) and never imports click, so
    # neither do we (importing it costs about as much as typer itself): its exceptions need it imported.
    click = sys.modules.get("click")
    exits = (typer.Exit, *((click.exceptions.Exit,) if click else ()))
    aborts = (typer.Abort, *((click.exceptions.Abort,) if click else ()))
    usage_errors = (typer.TyperException, *((click.ClickException,) if click else ()))
    try:
        result = app(args=argv, prog_name="provision", standalone_mode=False)
        return int(result or 0)
    except exits as exc:
        return int(exc.exit_code)
    except aborts:
        typer.echo("Aborted.", err=True)
        return int(ExitCode.ERROR)
    # usage errors: 1, never 2. Newer typer vendors click (typer._click): its usage errors are
    # TyperExceptions, not click.ClickExceptions.
    except usage_errors as exc:
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
