"""The CLI as a tool among tools: --version, clean help, and output that CI logs can search
(never an identifier broken across lines when there is no terminal)."""
from __future__ import annotations

import re

import pytest

from provisioner.version import DISTRIBUTION, VERSION

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000e3"
LONG_ACCOUNT = "aoai-platform-production-swedencentral-primary-account-0001"  # 58 characters
LONG_DEPLOYMENT = "chat-completions-for-the-customer-support-assistant-primary"
SPEC = f"""version: 1
name: output
defaults: {{subscription: "{SUBSCRIPTION}", resource_group: rg-output-with-a-rather-long-name, location: eastus2}}
accounts:
  - name: {LONG_ACCOUNT}
    deployments:
      - {{name: {LONG_DEPLOYMENT}, model: gpt-4o, version: "2024-11-20", scope: datazone, capacity: 10}}
"""


@pytest.fixture
def no_terminal(project, monkeypatch):
    """As in a CI log: stdout is not a terminal and nobody set COLUMNS."""
    monkeypatch.delenv("COLUMNS", raising=False)
    project.write(SPEC)
    return project


def _whole_on_one_line(text: str, identifier: str) -> bool:
    return any(identifier in line for line in text.splitlines())


def test_version_comes_from_the_package_metadata(cli):
    result = cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"provision {VERSION} ({DISTRIBUTION})"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", VERSION)


def test_help_shows_no_type_after_flags_and_offers_completion(cli):
    result = cli("plan", "--help")
    assert result.code == 0
    assert "<bool>" not in result.out
    assert "--detailed-exitcode" in result.out
    assert "--install-completion" in cli("--help").out


def test_plan_without_a_terminal_keeps_every_identifier_on_one_line(no_terminal, cli):
    result = cli("plan", "deployments.yaml", "--emulator")
    assert result.code == 0, result.err
    for identifier in (f"{LONG_ACCOUNT}/deployments/{LONG_DEPLOYMENT}",
                       f"rg:{SUBSCRIPTION}/rg-output-with-a-rather-long-name",
                       "DataZoneStandard"):
        assert _whole_on_one_line(result.out, identifier), identifier


def test_quota_and_apply_tables_without_a_terminal_keep_identifiers_whole(no_terminal, cli):
    quota = cli("quota", "deployments.yaml", "--emulator")
    assert quota.code == 0, quota.err
    for identifier in (SUBSCRIPTION, "OpenAI.DataZoneStandard.gpt-4o", "DataZoneProvisionedManaged"):
        assert _whole_on_one_line(quota.out, identifier), identifier

    applied = cli("apply", "deployments.yaml", "--emulator", "--auto-approve")
    assert applied.code == 0, applied.err
    assert _whole_on_one_line(applied.out, f"{LONG_ACCOUNT}/deployments/{LONG_DEPLOYMENT}")
