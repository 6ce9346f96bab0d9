"""What several commands share: their options, opening a workspace, and the console."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import typer

if TYPE_CHECKING:
    from rich.console import Console

from provisioner.workspace import Workspace, connect, load_spec

UNWRAPPED = 100_000  # columns for output that is not on a terminal: wide enough never to wrap

SPEC_ARGUMENT = typer.Argument(Path("deployments.yaml"), help="The spec file.")
EMULATOR_OPTION = typer.Option(False, "--emulator", help="Use the embedded emulator (state in .provision/ "
                                                         "beside the spec) instead of Azure.")
CLOUD_OPTION = typer.Option("public", "--cloud", help="Azure cloud: public, china, usgov, or the https:// URL "
                                                      "of a Resource Manager (its endpoints are discovered).")
TARGET_OPTION = typer.Option([], "--target", help="Limit to ACCOUNT or ACCOUNT/DEPLOYMENT (repeatable).")
RETIREMENT_OPTION = typer.Option(90, "--retirement-warning-days", min=0,
                                 help="Warn about pinned model versions retiring within this many days.")
AUTO_APPROVE = typer.Option(False, "--auto-approve", help="Do not ask for confirmation.")
PARALLELISM = typer.Option(10, "--parallelism", min=1, help="Accounts worked on at once (writes within "
                                                            "one account are always one at a time).")
ENV_OPTION = typer.Option(None, "--env", envvar="PROVISION_ENV", metavar="NAME",
                          help="The environment of a spec with `environments` (default: PROVISION_ENV).")
NO_ADOPT = typer.Option(False, "--no-adopt", help="Fail instead of adopting declared resources that exist "
                                                   "without ownership tags.")
DELETE_UNOWNED = typer.Option(False, "--delete-unowned", help="With --include-accounts: delete an account even "
                                                              "when it holds resources this spec does not manage.")


def console(*, stderr: bool = False) -> Console:
    """Rich's console without its highlighter: user values are printed as they are (and never scanned
    with regular expressions, which is slow on long values). Not on a terminal (CI logs) and without
    COLUMNS, lines are never wrapped: an identifier broken across lines cannot be searched for."""
    from rich.console import Console  # loaded by the commands that print with it, not by `validate`

    view = Console(stderr=stderr, highlight=False)
    if not view.is_terminal and not os.environ.get("COLUMNS"):
        view = Console(stderr=stderr, highlight=False, width=UNWRAPPED)
    return view


@contextmanager
def workspace(spec: Path, *, emulator: bool, cloud: str, env: str | None = None) -> Iterator[Workspace]:
    """Open the spec's workspace (as environment `env` sees it), printing the spec's warnings first."""
    loaded = load_spec(spec, env)
    for warning in loaded.warnings:
        typer.echo(str(warning), err=True)
    with connect(loaded.path, emulator=emulator, cloud=cloud) as clients:
        yield Workspace(loaded, clients)
