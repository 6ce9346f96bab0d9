"""`provision test`: one small real request per deployment, or a bounded load (`--load`); exit 1 if any fails."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from provisioner.cli.options import CLOUD_OPTION, EMULATOR_OPTION, SPEC_ARGUMENT, TARGET_OPTION, console, workspace
from provisioner.errors import ExitCode, ProvisionerError
from provisioner.render.serving import LoadProgress, render_load, render_test

MAX_LOAD_SECONDS = 600  # a test, not a benchmark


def register(app: typer.Typer) -> None:
    app.command("test")(test)


def test(
    spec: Path = SPEC_ARGUMENT,
    target: list[str] = TARGET_OPTION,
    key: bool = typer.Option(False, "--key", help="Authenticate with the account key (read with listKeys, never "
                                                  "shown) instead of Microsoft Entra ID."),
    load: float = typer.Option(None, "--load", metavar="SECONDS", min=1, max=MAX_LOAD_SECONDS,
                               help="Load each deployment for SECONDS and report achieved requests and tokens "
                                    "per minute, latency and 429s against its capacity."),
    yes: bool = typer.Option(False, "--yes", help="With --load against Azure: send the traffic (it costs money)."),
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
) -> int:
    """Does it serve? A chat completion or an embedding per deployment, as an application sends it.

    With --load SECONDS: how much of what its capacity promises it delivers."""
    if output not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--output")
    if yes and load is None:
        raise typer.BadParameter("only goes with --load", param_hint="--yes")
    with workspace(spec, emulator=emulator, cloud=cloud) as ws:
        if load is None:
            rows = ws.test(targets=target, use_key=key)
        else:
            plans = ws.load_plans(targets=target)
            tokens = ws.load_tokens(plans, load)
            if not ws.is_emulator and not yes:
                raise ProvisionerError(
                    f"--load sends real traffic to Azure: up to about {tokens:,} tokens over {len(plans)} "
                    f"deployment(s), {load:g} s each, billed as usual",
                    hint="add --yes to send it")
            notice = console(stderr=True)
            notice.print(f"Loading {len(plans)} deployment(s) for {load:g} s each, one after another: up to about "
                         f"{tokens:,} tokens.", highlight=False)
            with LoadProgress(notice, [p.address for p in plans]) as progress:
                rows = ws.load(plans, load, use_key=key, progress=progress.update)
    if output == "json":
        document = "deployments" if load is None else "load"
        typer.echo(json.dumps({"format_version": "1", document: rows}, indent=2))
    elif load is None:
        render_test(rows, console())
    else:
        render_load(rows, console())
    return ExitCode.ERROR if any(r["status"] == "failed" for r in rows) else ExitCode.OK
