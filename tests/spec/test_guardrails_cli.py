"""`provision validate --rules`, `--strict` and `--output sarif`: exit codes, text and SARIF 2.1.0."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from provisioner.cli.app import run
from provisioner.spec.rules import RULES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECURE = (FIXTURES / "guardrails" / "secure.yaml").read_text()
SARIF_SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture
def spec(tmp_path, monkeypatch):
    """Write a spec as deployments.yaml in the working folder (as in a repository's root in CI)."""
    monkeypatch.chdir(tmp_path)

    def write(text: str) -> str:
        (tmp_path / "deployments.yaml").write_text(text)
        return "deployments.yaml"

    return write


def invoke(capsys, *argv: str):
    capsys.readouterr()
    code = run(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_rules_list_findings_with_fixes_and_pass_without_errors(spec, capsys):
    code, out, _ = invoke(capsys, "validate", "--rules", spec(SECURE))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ("deployments.yaml:18:5: PRV003 warning: account 'aoai-secure-eus2' has no diagnostics "
                        "configured: its audit and request logs are kept nowhere")
    assert lines[1] == "    fix: add diagnostics: {workspace: <Log Analytics workspace id>, logs: all} to the account"
    assert "Guardrails: 0 error(s), 1 warning(s), 1 note(s), 0 waived." in lines
    assert lines[-1].startswith("✓ deployments.yaml is valid (1 accounts, 2 deployments) and passes")


def test_an_error_finding_fails(spec, capsys):
    code, out, _ = invoke(capsys, "validate", "--rules", spec(SECURE.replace("hate: low,", "hate: off,")))
    assert code == 1
    assert "PRV008 error: content filter 'strict' switches the hate filter off" in out
    assert out.splitlines()[-1] == "✗ deployments.yaml is valid (1 accounts, 2 deployments) and 1 finding(s) fail " \
                                   "the check"


def test_strict_makes_warnings_fail_until_they_are_waived(spec, capsys):
    assert invoke(capsys, "validate", "--strict", spec(SECURE))[0] == 1
    waived = SECURE + "waivers:\n  - {rule: PRV003, reason: diagnostic settings come from Azure Policy}\n"
    code, out, _ = invoke(capsys, "validate", "--strict", spec(waived))
    assert code == 0, out
    assert "PRV003 warning: account 'aoai-secure-eus2' has no diagnostics configured: its audit and request logs " \
           "are kept nowhere (waived: diagnostic settings come from Azure Policy)" in out


def test_without_rules_validate_is_unchanged(spec, capsys):
    code, out, _ = invoke(capsys, "validate", spec(SECURE.replace("hate: low,", "hate: off,")))
    assert (code, out) == (0, "✓ deployments.yaml is valid: 1 accounts, 2 deployments\n")


def test_unknown_output_is_a_usage_error(spec, capsys):
    assert invoke(capsys, "validate", "--output", "xml", spec(SECURE))[0] == 1


def sarif_of(capsys, text: str, spec) -> tuple[int, dict]:
    code, out, _ = invoke(capsys, "validate", "--output", "sarif", spec(text))
    return code, json.loads(out)


def test_sarif_validates_against_the_sarif_2_1_0_schema(spec, capsys):
    text = (SECURE.replace("hate: low,", "hate: off,").replace("jailbreak: block", "jailbreak: off")
            + "waivers:\n  - {rule: PRV003, reason: from Azure Policy}\n")
    code, log = sarif_of(capsys, text, spec)
    assert code == 1  # the error still fails; the upload step runs `if: always()`
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    [run_] = log["runs"]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == [r.id for r in RULES]
    by_rule = {r["ruleId"]: r for r in run_["results"]}
    assert set(by_rule) == {"PRV003", "PRV004", "PRV008", "PRV009"}
    hate = by_rule["PRV008"]
    assert hate["level"] == "error"
    assert hate["locations"] == [{"physicalLocation": {"artifactLocation": {"uri": "deployments.yaml"},
                                                       "region": {"startLine": 12, "startColumn": 24}}}]
    assert text.splitlines()[11][23:].startswith("off,")  # the offending value itself
    assert run_["tool"]["driver"]["rules"][hate["ruleIndex"]]["id"] == "PRV008"
    assert hate["message"]["text"].startswith("content filter 'strict' switches the hate filter off")
    assert by_rule["PRV003"]["suppressions"] == [{"kind": "inSource", "justification": "from Azure Policy"}]
    assert "suppressions" not in hate


def test_sarif_schema_check_is_not_toothless():
    """The vendored schema rejects a log that breaks SARIF (so the test above can fail)."""
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "provision"}},
                                         "results": [{"ruleId": "PRV001", "level": "warn", "message": {"text": "x"}}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(bad)


def test_sarif_of_a_clean_spec_still_declares_every_rule(spec, capsys):
    waived = SECURE + "waivers:\n  - {rule: PRV003, reason: policy}\n  - {rule: PRV004, reason: policy}\n"
    code, log = sarif_of(capsys, waived, spec)
    assert code == 0
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == len(RULES)
    assert all("suppressions" in r for r in log["runs"][0]["results"])


def test_validate_with_rules_loads_no_azure_sdk(tmp_path):
    (tmp_path / "deployments.yaml").write_text(SECURE)
    script = ("import sys; from provisioner.cli.app import run; "
              "code = run(['validate', '--output', 'sarif', 'deployments.yaml']); "
              "loaded = sorted(m for m in sys.modules if m == 'azure' or m.startswith('azure.')); "
              "print('AZURE', loaded, file=sys.stderr); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "AZURE []" in done.stderr
