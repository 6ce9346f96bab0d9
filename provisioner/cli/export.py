"""`provision export`: the desired state as ARM templates or Bicep, one per resource group."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from provisioner.azure.observe import read_observed
from provisioner.cli.plan import CLOUD_OPTION, EMULATOR_OPTION
from provisioner.cli.session import connect, load_spec
from provisioner.errors import ExitCode
from provisioner.export import arm, bicep
from provisioner.plan import differ


def register(app: typer.Typer) -> None:
    app.command("export")(export)


def export(
    spec: Path = typer.Argument(Path("deployments.yaml"), help="The spec file."),
    format: str = typer.Option("arm", "--format", help="arm (JSON template) or bicep."),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="Write one file per resource group here "
                                                                   "(default: print, if there is one group)."),
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
) -> int:
    """Write the spec as ARM templates (az deployment group create, deployment stacks) or Bicep.

    Live state is read to fill in what the spec leaves open, exactly as `plan` does: default model
    versions and flexible capacities. Ownership tags are included; Key Vault secrets are not."""
    if format not in ("arm", "bicep"):
        raise typer.BadParameter("must be arm or bicep", param_hint="--format")
    loaded = load_spec(spec)
    with connect(spec, emulator=emulator, cloud=cloud) as clients:
        resources = differ.resolve(loaded.desired, read_observed(clients, loaded.desired))
    groups = arm.group_templates(resources, loaded.desired.spec_name)
    texts = {f"{g.subscription}-{g.resource_group}.{'json' if format == 'arm' else 'bicep'}":
             json.dumps(g.template, indent=2) + "\n" if format == "arm" else bicep.render(g.template)
             for g in groups}
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
