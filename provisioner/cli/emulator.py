"""`provision emulator serve`: run the local emulator of Azure Resource Manager in the foreground."""
from __future__ import annotations

import signal
from pathlib import Path
from typing import Optional

import typer

emulator_app = typer.Typer(
    name="emulator",
    help="A local emulator of Azure Resource Manager for Azure OpenAI (HTTPS, for the real SDK clients).",
    no_args_is_help=True,
)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(app: typer.Typer) -> None:
    app.add_typer(emulator_app, name="emulator")


@emulator_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8443, help="Port to listen on; 0 picks a free one (the printed URL has it)."),
    state: Optional[Path] = typer.Option(
        None, "--state", dir_okay=False, metavar="FILE",
        help="SQLite file to keep the emulated Azure in (shared with other processes); default: in memory."),
    instant: bool = typer.Option(False, "--instant", help="Complete every operation at once, never throttle."),
) -> None:
    """Serve the emulator until interrupted; prints the endpoint, the CA file and the client environment.

    The token is never printed: clients read it from the token file named in the environment.
    """
    # Imported here: the server stack (uvicorn, trustme) is only needed by this command.
    from provisioner.emulator import serve as serve_emulator
    from provisioner.emulator.server import test_config

    if host not in LOOPBACK:
        # The /_emulator/ control surface has no authentication.
        typer.echo(f"warning: listening on {host}: anyone who can reach it can reset or reconfigure it", err=True)
    # Stop cleanly on SIGTERM as on Ctrl+C, so an in-memory emulator's certificates and token file are removed.
    signal.signal(signal.SIGTERM, _interrupt)
    serve_emulator(host=host, port=port, state=state, config=test_config() if instant else None)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
