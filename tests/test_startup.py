"""Start-up: `--help`, `schema` and `validate` import no Azure SDK, and no command module they do not run
(`schema` and `validate` not even planning or Rich).
Each check runs in a fresh interpreter (this one has imported everything already)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.cli.app import COMMANDS, LazyCommands, app

REPO = Path(__file__).resolve().parents[1]


def imported_after(argv: list[str]) -> tuple[int, set[str]]:
    """(exit code, modules imported) after running `provision ARGV` in a fresh interpreter."""
    code = ("import json, sys, io, contextlib\n"
            "from provisioner.cli.app import run\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    code = run({argv!r})\n"
            "print(json.dumps([code, sorted(sys.modules)]))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    exit_code, modules = json.loads(done.stdout.strip().splitlines()[-1])
    return exit_code, set(modules)


def test_help_imports_no_azure_and_no_command_module():
    code, modules = imported_after(["--help"])
    assert code == 0
    assert not {m for m in modules if m == "azure" or m.startswith("azure.")}
    assert not {m for m in modules if m.startswith("provisioner.cli.") and m != "provisioner.cli.app"}
    assert "click" not in modules  # typer vendors it; importing the real one would double the cost


@pytest.mark.parametrize("argv", [["validate", "deployments.yaml"], ["schema"]])
def test_commands_that_never_touch_azure_do_not_import_it(argv):
    code, modules = imported_after(argv)
    assert code == 0
    assert not {m for m in modules if m == "azure" or m.startswith("azure.")}
    assert "provisioner.cli.plan" not in modules and "provisioner.cli.apply" not in modules
    assert not {m for m in modules if m.startswith(("provisioner.plan", "rich"))}  # planning and Rich: not needed


def test_the_command_list_says_what_each_command_says_of_itself():
    group = LazyCommands(name="provision")
    for name, (module, short_help) in COMMANDS.items():
        command = group.load(name)
        assert command.name == name
        own = (command.help or "").strip().splitlines()[0]
        assert own == short_help, f"{name}: COMMANDS says {short_help!r}, {module} says {own!r}"


def test_an_unknown_command_is_a_usage_error(capsys):
    from provisioner.cli.app import run

    assert run(["plna"]) == 1
    assert "No such command" in capsys.readouterr().err
    assert app.info.name == "provision"
