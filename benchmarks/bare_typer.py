"""The reference for start-up times: a bare Typer app with provision's command names that does no work.

    python benchmarks/bare_typer.py --help
"""
import typer

app = typer.Typer(name="provision", no_args_is_help=True, add_completion=False,
                  help="Azure OpenAI model deployments as code: validate, plan, apply, destroy.")

for _name in ("validate", "schema", "plan", "apply", "destroy", "quota", "export", "emulator", "prices"):
    app.command(_name, help=f"The {_name} command.")(lambda: None)

if __name__ == "__main__":
    app()
