"""`provision validate` and `provision schema`: spec checks that never touch Azure."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from provisioner.cli.options import ENV_OPTION
from provisioner.errors import ExitCode, SpecError
from provisioner.render.guardrails import sarif_log, text_lines
from provisioner.workspace import RULES, failing, load_every_environment, load_spec, spec_json_schema

DEFAULT_SPEC = Path("deployments.yaml")


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("schema")(schema)


def validate(
    spec: Path = typer.Argument(DEFAULT_SPEC, help="The spec file.", show_default=True),
    env: Optional[str] = ENV_OPTION,
    rules: bool = typer.Option(False, "--rules", help="Also check the spec against the security guidance "
                                                      "(guardrails); errors fail."),
    output: str = typer.Option("text", "--output", "-o", help="text, or sarif (SARIF 2.1.0 of the guardrail "
                                                              "findings, for GitHub code scanning; implies --rules)."),
    strict: bool = typer.Option(False, "--strict", help="Guardrail warnings fail too (implies --rules)."),
) -> int:
    """Check a spec file without touching Azure: syntax, schema and cross-references.

    Every environment is checked unless --env names one; --rules adds the guardrails."""
    if output not in ("text", "sarif"):
        raise typer.BadParameter("must be text or sarif", param_hint="--output")
    try:
        every = [load_spec(spec, env)] if env else load_every_environment(spec)
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            typer.echo(str(diagnostic), err=True)
        raise typer.Exit(ExitCode.ERROR) from None
    checked = rules or strict or output == "sarif"
    findings, code = [], ExitCode.OK
    for loaded in every:
        for warning in loaded.warnings:
            typer.echo(str(warning), err=True)
        where = f" (environment {loaded.desired.environment})" if loaded.desired.environment else ""
        summary = f"{len(loaded.spec.accounts)} accounts, {loaded.spec.deployment_count()} deployments"
        if not checked:
            typer.echo(f"✓ {spec} is valid{where}: {summary}")
            continue
        found = loaded.guardrails()
        findings += found
        failed = failing(found, strict=strict)
        code = ExitCode.ERROR if failed else code
        if output == "text":
            for line in text_lines(found):
                typer.echo(line)
            mark = "✗" if failed else "✓"
            verdict = f"{len(failed)} finding(s) fail the check" if failed else "passes the guardrails"
            typer.echo(f"{mark} {spec} is valid{where} ({summary}) and {verdict}"
                       + (" (--strict: warnings count)" if strict else ""))
    if output == "sarif":
        from provisioner.version import VERSION

        typer.echo(json.dumps(sarif_log(findings, RULES, version=VERSION), indent=2))
    return code


def schema() -> None:
    """Print the JSON Schema of the spec (for editors: deployments.schema.json)."""
    typer.echo(json.dumps(spec_json_schema(), indent=2))
