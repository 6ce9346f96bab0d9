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
