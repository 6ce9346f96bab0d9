"""The layering rules in pyproject.toml ([tool.importlinter]) hold:
the emulator imports nothing from the rest, only provisioner.azure imports the
Azure SDK, and the layers only import downwards."""
import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept(capsys):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exit_code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    finally:
        os.chdir(cwd)
    output = capsys.readouterr().out
    assert exit_code == 0, output
    assert "0 broken" in output
