"""Guardrail findings in `provision plan`: warnings that never block, unless --strict."""
from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECURE = (FIXTURES / "guardrails" / "secure.yaml").read_text()
OPEN = SECURE.replace("local_auth: false ", "local_auth: true ") + "waivers:\n  - {rule: PRV004, reason: later}\n"


def test_findings_are_plan_warnings_and_do_not_block(workdir, cli, external_emulator):
    workdir.write(OPEN)
    result = cli("plan", "--output", "json")
    assert result.code == 0, result.err
    warnings = json.loads(result.out)["warnings"]
    guardrails = [w for w in warnings if " PRV0" in w]
    assert [w.split(" ")[1] for w in guardrails] == ["PRV003", "PRV002"]  # in file order; PRV004 is waived
    assert guardrails[1] == ("deployments.yaml:20:17: PRV002 warning: account 'aoai-secure-eus2' keeps key "
                             "authentication on (local_auth: true) (fix: set local_auth: false and grant "
                             "identities the Cognitive Services OpenAI User role)")
    human = cli("plan")
    assert human.code == 0
    assert f"Warning: {guardrails[1]}" in " ".join(human.out.split())  # wrapped at COLUMNS=200


def test_strict_plan_fails_before_reading_azure(workdir, cli, external_emulator):
    workdir.write(OPEN)
    result = cli("plan", "--strict")
    assert result.code == 1
    assert "Error: 2 guardrail finding(s) fail the check:" in result.err
    assert "PRV002 warning: account 'aoai-secure-eus2' keeps key authentication on" in result.err
    assert external_emulator.control.requests()["total"] == 0  # not even a read


def test_strict_plan_goes_ahead_when_everything_is_fixed_or_waived(workdir, cli, external_emulator):
    workdir.write(SECURE + "waivers:\n  - {rule: PRV003, reason: Azure Policy}\n  - {rule: PRV004, reason: later}\n")
    result = cli("plan", "--strict", "--output", "json")
    assert result.code == 0, result.err
    assert not [w for w in json.loads(result.out)["warnings"] if " PRV0" in w]
    assert json.loads(result.out)["summary"]["create"] > 0


def test_a_destroy_plan_carries_no_guardrail_warnings(workdir, cli, external_emulator):
    workdir.write(OPEN)
    result = cli("plan", "--destroy", "--strict", "--output", "json")
    assert result.code == 0, result.err
    assert not [w for w in json.loads(result.out)["warnings"] if " PRV0" in w]
