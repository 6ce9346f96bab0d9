"""`provision export`: the desired state as ARM templates or Bicep, one per resource group."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from provisioner.cli.options import CLOUD_OPTION, EMULATOR_OPTION, ENV_OPTION, workspace
from provisioner.errors import ExitCode


def register(app: typer.Typer) -> None:
    app.command("export")(export)


def export(
    spec: Path = typer.Argument(Path("deployments.yaml"), help="The spec file."),
    format: str = typer.Option("arm", "--format", help="arm (JSON template) or bicep."),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="Write one file per resource group here "
                                                                   "(default: print, if there is one group)."),
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
    env: Optional[str] = ENV_OPTION,
) -> int:
    """Write the spec as ARM templates (az deployment group create, deployment stacks) or Bicep.

    Live state is read to fill in what the spec leaves open, exactly as `plan` does: default model
    versions and flexible capacities. Ownership tags are included; Key Vault secrets are not."""
    if format not in ("arm", "bicep"):
        raise typer.BadParameter("must be arm or bicep", param_hint="--format")
    with workspace(spec, emulator=emulator, cloud=cloud, env=env) as ws:
        texts = ws.export(format)
    if out_dir is None:
        if len(texts) > 1:
            raise typer.BadParameter(f"the spec spans {len(texts)} resource groups: pass --out-dir",
                                     param_hint="--out-dir")
        typer.echo(next(iter(texts.values())), nl=False)
        return ExitCode.OK
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (out_dir / name).write_text(text)
        typer.echo(f"wrote {out_dir / name}")
    return ExitCode.OK
