"""The README's install commands install this project: a path to it, or its own name on the package
index (the name `provisioner` belongs to someone else's project there)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_install_command_in_the_readme_installs_this_project():
    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    assert name == "aoai-provision"
    commands = re.findall(r"pip install ([^\n`#&|]+)", (ROOT / "README.md").read_text())
    assert commands, "the README names no install command"
    for command in commands:
        targets = [t.strip("'\"") for t in command.split() if not t.startswith("-") or t == "-e"]
        targets = [t for t in targets if t != "-e"]
        assert targets, command
        for target in targets:
            assert target.startswith(".") or target == name, f"`pip install {command.strip()}` installs {target}"
