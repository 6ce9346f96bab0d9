"""`provision output`: what applications need (endpoints, deployments, identities, secret URIs; never keys)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer

from provisioner.cli.options import CLOUD_OPTION, EMULATOR_OPTION, ENV_OPTION, SPEC_ARGUMENT, workspace
from provisioner.errors import ExitCode, ProvisionerError
from provisioner.render import outputs as views

FORMATS = ("text", "json", "dotenv", "azd")


def register(app: typer.Typer) -> None:
    app.command("output")(output)


def output(
    spec: Path = SPEC_ARGUMENT,
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
    format: str = typer.Option("text", "--format", help="text, json, dotenv (KEY=\"value\" lines), or azd (set "
                                                         "the values in the current azd environment)."),
    azd_env: Optional[str] = typer.Option(None, "--azd-env", metavar="NAME",
                                          help="With --format azd: the azd environment (default: AZURE_ENV_NAME, "
                                               "else azd's default environment)."),
    emulator: bool = EMULATOR_OPTION,
    cloud: str = CLOUD_OPTION,
    env: Optional[str] = ENV_OPTION,
) -> int:
    """Print each account's endpoint, deployments (model, version), identity and Key Vault secret URIs."""
    format = "json" if as_json else format
    if format not in FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")
    if azd_env is not None and format != "azd":
        raise typer.BadParameter("--azd-env needs --format azd", param_hint="--azd-env")
    env_file = _azd_env_file(azd_env) if format == "azd" else None  # before reading Azure: fail fast
    with workspace(spec, emulator=emulator, cloud=cloud, env=env) as ws:
        found = ws.outputs()
    if format == "json":
        typer.echo(json.dumps({"accounts": found}, indent=2))
    elif format == "dotenv":
        typer.echo(views.dotenv(views.variables(found)), nl=False)
    elif format == "azd":
        values = views.variables(found)
        existing = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
        text = views.merged_azd_env(existing, str(env_file), values)
        temporary = env_file.with_name(f".env.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(env_file)  # whole or not at all
        typer.echo(f"set {', '.join(sorted(values))} in {env_file}")
    else:
        typer.echo("\n".join(views.text_lines(found)), nl=False)
    return ExitCode.OK


def _azd_env_file(name: str | None) -> Path:
    """`.azure/<env>/.env` of the azd project around the working directory, as azd finds them: the
    nearest folder upwards holding azure.yaml; the environment named, or AZURE_ENV_NAME (azd sets it for
    hooks), or `defaultEnvironment` in `.azure/config.json` (Azure/azure-dev pkg/environment/azdcontext)."""
    here = Path.cwd().resolve()
    project = next((d for d in (here, *here.parents) if (d / "azure.yaml").is_file()), None)
    if project is None:
        raise ProvisionerError(f"no azd project here: no azure.yaml in {here} or above",
                               hint="run it in the azd project (or use --format dotenv)")
    name = name or os.environ.get("AZURE_ENV_NAME") or _default_environment(project / ".azure" / "config.json")
    if not name:
        raise ProvisionerError("no azd environment is selected", hint="pass --azd-env NAME, or run `azd env select`")
    folder = project / ".azure" / name
    if not folder.is_dir() or name in (".", "..") or "/" in name or "\\" in name:
        raise ProvisionerError(f"azd environment {name!r} does not exist ({folder})",
                               hint=f"create it with `azd env new {name}`")
    return folder / ".env"


def _default_environment(config: Path) -> str | None:
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("defaultEnvironment") or None
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError):
        raise ProvisionerError(f"{config}: not azd's config file (it should be JSON with defaultEnvironment)") from None
