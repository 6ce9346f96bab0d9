"""Environment overlays, checked without Azure: merging, {env}, dropped deployments, positions."""
from __future__ import annotations

import pytest

from provisioner.errors import SpecError
from provisioner.spec import load_from_text

SPEC = """\
version: 1
name: app
defaults:
  subscription: 00000000-0000-0000-0000-00000000000e
  resource_group: rg-{env}
  location: eastus2
  tags: {team: a}
accounts:
  - name: acct-{env}
    deployments:
      - {name: first, model: gpt-4o, version: "1", capacity: 1}
      - {name: second, model: gpt-4o, version: "1", sku: GlobalStandard, capacity: 1}
environments:
  dev:
    defaults: {tags: {stage: dev}}
    accounts:
      acct-{env}:
        deployments:
          first: {enabled: false}
          second: {type: standard, scope: regional}
  prod: {}
"""


def test_overlay_merges_tags_substitutes_env_and_switches_sku_for_type_and_scope():
    spec, desired = load_from_text(SPEC, env="dev")
    assert desired.spec_name == "app@dev" and desired.environment == "dev"
    assert spec.defaults.tags == {"team": "a", "stage": "dev"} and spec.defaults.resource_group == "rg-dev"
    (account,) = spec.accounts
    assert account.name == "acct-dev" and [d.name for d in account.deployments] == ["second"]
    assert account.deployments[0].sku is None and account.deployments[0].azure_sku() == "Standard"
    prod, _ = load_from_text(SPEC, env="prod")
    assert [d.name for d in prod.accounts[0].deployments] == ["first", "second"]


def test_after_a_dropped_deployment_errors_still_name_the_right_line():
    text = SPEC.replace('{name: second, model: gpt-4o, version: "1", sku: GlobalStandard, capacity: 1}',
                        '{name: second, model: gpt-4o, version: "1", sku: GlobalStandard, capacity: 0}')
    text = text.replace("second: {type: standard, scope: regional}", "second: {tags: {x: y}}")
    with pytest.raises(SpecError) as raised:
        load_from_text(text, env="dev")
    assert any(d.line == 12 and "capacity" in d.path for d in raised.value.diagnostics), raised.value.diagnostics


@pytest.mark.parametrize("env, text, message", [
    (None, SPEC, "choose one with --env NAME or PROVISION_ENV"),
    ("dev", SPEC.split("environments:")[0], "the spec defines no environments"),
    ("qa", SPEC, "no environment 'qa' (the spec has: dev, prod)"),
])
def test_selection_errors(env, text, message):
    with pytest.raises(SpecError) as raised:
        load_from_text(text, env=env)
    assert message in str(raised.value.diagnostics)


SECURE_ENVS = """\
version: 1
name: app
defaults:
  subscription: 00000000-0000-0000-0000-00000000000e
  resource_group: rg-{env}
  location: eastus2
  diagnostics:
    workspace: "GROUPS/rg-{env}/WORKSPACES/log-{env}"
accounts:
  - name: acct-{env}
    network: {public_access: disabled}
    access:
      - {principal: 11111111-1111-1111-1111-111111111111, type: group, role: Cognitive Services OpenAI User}
environments:
  dev:
    accounts:
      acct-{env}:
        network: {public_access: enabled, ip_rules: [198.51.100.7]}
        access:
          - {principal: 22222222-2222-2222-2222-222222222222, type: user, role: Cognitive Services OpenAI Contributor}
  prod:
    defaults:
      diagnostics:
        workspace: "GROUPS/rg-central/WORKSPACES/log-{env}"
        logs: [Audit]
""".replace("GROUPS", "/subscriptions/00000000-0000-0000-0000-00000000000e/resourceGroups").replace(
    "WORKSPACES", "providers/Microsoft.OperationalInsights/workspaces")


def test_an_environment_replaces_security_settings_and_fills_in_env():
    from provisioner.model.resources import Kind

    dev, desired = load_from_text(SECURE_ENVS, env="dev")
    account = desired.by_address()["acct-dev"]
    assert account.properties["public_network_access"] == "Enabled"
    assert account.properties["network"]["ip_rules"] == ["198.51.100.7"]
    [grant] = [r for r in desired.resources if r.kind is Kind.ROLE_ASSIGNMENT]
    assert grant.properties["principal"] == "22222222-2222-2222-2222-222222222222"
    [setting] = [r for r in desired.resources if r.kind is Kind.DIAGNOSTIC_SETTING]
    assert setting.properties["workspace"].endswith("/resourcegroups/rg-dev/providers/"
                                                    "microsoft.operationalinsights/workspaces/log-dev")
    prod, desired = load_from_text(SECURE_ENVS, env="prod")
    assert desired.by_address()["acct-prod"].properties["public_network_access"] == "Disabled"
    [setting] = [r for r in desired.resources if r.kind is Kind.DIAGNOSTIC_SETTING]
    assert (setting.properties["workspace"].split("/")[4], setting.properties["logs"]) == ("rg-central", ["Audit"])


def test_every_environment_comes_from_one_read_of_the_file(tmp_path, monkeypatch):
    from provisioner.spec import load_every_environment, loader

    path = tmp_path / "app.yaml"
    path.write_text(SPEC)
    reads = []
    real = loader.load_text
    monkeypatch.setattr(loader, "load_text", lambda *args: reads.append(args) or real(*args))
    every = load_every_environment(path)
    assert [desired.environment for _, desired in every] == ["dev", "prod"]
    assert len(reads) == 1  # parsing a large spec is most of `validate`: never twice
    for (_, desired), env in zip(every, ("dev", "prod")):  # the same as loading each environment alone
        assert desired == load_from_text(SPEC, str(path), env)[1]
