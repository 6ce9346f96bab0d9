"""`provision validate` and `provision schema`."""
import json
from pathlib import Path

from typer.testing import CliRunner

from provisioner.cli.app import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_validate_accepts_the_example(monkeypatch):
    monkeypatch.chdir(REPO)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "✓ deployments.yaml is valid: 2 accounts, 5 deployments\n"


def test_validate_prints_every_error_and_exits_1(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("version: 2\naccounts:\n  - name: acct-1\n    kind: openai\n")
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{spec}:1:10: version: this provision reads spec version 1 only, found version 2",
        f"{spec}:4:11: accounts[0].kind: expected 'OpenAI' or 'AIServices', found 'openai'; did you mean 'OpenAI'?",
    ]


def test_validate_prints_warnings_but_passes(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "version: 1\n"
        "defaults: {subscription: 00000000-0000-0000-0000-0000000000c1, resource_group: rg, location: eastus2}\n"
        "blocklists:\n  spare: {}\n"
        "accounts: []\n"
    )
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 0
    assert result.stderr == (
        f"{spec}:4:3: blocklists.spare: warning: blocklist 'spare' is used by no content filter, so it is not created\n"
    )
    assert result.stdout == f"✓ {spec} is valid: 0 accounts, 0 deployments\n"


def test_schema_prints_json_schema():
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["properties"]["version"]["const"] == 1
    assert "capacity" in schema["$defs"]["Deployment"]["required"]


def test_committed_schema_is_up_to_date():
    result = runner.invoke(app, ["schema"])
    committed = (REPO / "deployments.schema.json").read_text()
    assert result.stdout == committed, "regenerate it: provision schema > deployments.schema.json"
