"""One spec, two environments, one subscription: dev and prod applied side by side without collisions,
one destroyed leaving the other; selection by --env or PROVISION_ENV; validate checks every environment."""
from __future__ import annotations

import json

from apply_helpers import SUBSCRIPTION, azure  # noqa: F401 - azure is a fixture

SPEC = f"""\
version: 1
name: aoai
defaults:
  subscription: {SUBSCRIPTION}
  resource_group: rg-{{env}}
  location: eastus2
accounts:
  - name: e2e-{{env}}
    tags: {{stage: "{{env}}"}}
    deployments:
      - name: chat
        model: gpt-4o
        version: "2024-11-20"
        capacity: 10
      - name: embeddings
        model: text-embedding-ada-002
        version: "2"
        scope: regional
        capacity: 5
environments:
  dev:
    accounts:
      e2e-{{env}}:
        deployments:
          chat: {{capacity: 2}}
          embeddings: {{enabled: false}}
  prod:
    accounts:
      e2e-{{env}}:
        deployments:
          chat: {{capacity: 20, type: standard, scope: datazone}}
"""


def _deployments(azure, env: str) -> dict:
    return {d.name: d for d in azure.cognitive.deployments.list(f"rg-{env}", f"e2e-{env}")}


def test_dev_and_prod_side_by_side_then_one_destroyed(azure, monkeypatch):
    path = azure.directory / "deployments.yaml"
    path.write_text(SPEC)
    validated = azure.run("validate", path)
    assert validated.code == 0, validated
    assert "(environment dev): 1 accounts, 1 deployments" in validated.out
    assert "(environment prod): 1 accounts, 2 deployments" in validated.out

    unselected = azure.run("plan", path)
    assert unselected.code == 1 and "choose one with --env NAME or PROVISION_ENV" in unselected.err
    assert "dev, prod" in unselected.err

    dev = azure.run("apply", path, "--env", "dev", "--auto-approve")
    assert dev.code == 0, dev
    assert "deployments.yaml (environment dev)" in dev.out
    monkeypatch.setenv("PROVISION_ENV", "prod")
    prod = azure.run("apply", path, "--auto-approve")
    assert prod.code == 0, prod

    dev_live, prod_live = _deployments(azure, "dev"), _deployments(azure, "prod")
    assert set(dev_live) == {"chat"} and dev_live["chat"].sku.capacity == 2
    assert prod_live["chat"].sku.capacity == 20 and prod_live["chat"].sku.name == "DataZoneStandard"
    assert set(prod_live) == {"chat", "embeddings"}
    assert dev_live["chat"].tags["provision-spec"] == "aoai@dev"
    assert prod_live["chat"].tags["provision-spec"] == "aoai@prod"
    assert azure.cognitive.accounts.get("rg-prod", "e2e-prod").tags["stage"] == "prod"
    for env in ("dev", "prod"):
        again = azure.run("plan", path, "--env", env, "--detailed-exitcode")
        assert again.code == 0, again

    output = json.loads(azure.run("output", path, "--json").out)  # PROVISION_ENV=prod
    assert [a["name"] for a in output["accounts"]] == ["e2e-prod"]

    gone = azure.run("destroy", path, "--env", "dev", "--include-accounts", "--auto-approve")
    assert gone.code == 0, gone
    assert [a.name for a in azure.cognitive.accounts.list()] == ["e2e-prod"]
    assert azure.run("plan", path, "--detailed-exitcode").code == 0  # prod untouched


def test_environments_sharing_names_never_take_over_each_other(azure):
    path = azure.directory / "deployments.yaml"
    path.write_text(SPEC.replace("rg-{env}", "rg-shared").replace("e2e-{env}", "e2e-shared"))
    assert azure.run("apply", path, "--env", "dev", "--auto-approve").code == 0
    prod = azure.run("plan", path, "--env", "prod")
    assert prod.code == 1
    assert "is managed by spec 'aoai@dev', not by 'aoai@prod'" in prod.err


def test_an_overlay_naming_what_the_spec_lacks_is_reported_at_its_line(azure):
    path = azure.directory / "deployments.yaml"
    path.write_text(SPEC.replace("embeddings: {enabled: false}", "embedings: {enabled: false}"))
    result = azure.run("validate", path)
    assert result.code == 1
    line = SPEC.splitlines().index("          embeddings: {enabled: false}") + 1
    assert f"deployments.yaml:{line}:11: environments.dev.accounts.e2e-{{env}}.deployments.embedings: no " \
           "deployment 'embedings' on account 'e2e-{env}'" in result.err
    unknown = azure.run("plan", path, "--env", "staging")
    assert unknown.code == 1 and "no environment 'staging' (the spec has: dev, prod)" in unknown.err


def test_a_bad_value_in_one_environment_names_the_overlay_line(azure):
    path = azure.directory / "deployments.yaml"
    path.write_text(SPEC.replace("chat: {capacity: 2}", "chat: {capacity: 0}"))
    result = azure.run("validate", path)
    assert result.code == 1, result
    line = SPEC.splitlines().index("          chat: {capacity: 2}") + 1
    assert f"deployments.yaml:{line}:" in result.err


def test_quota_reads_the_selected_environment(azure):
    path = azure.directory / "deployments.yaml"
    path.write_text(SPEC.replace("location: eastus2", "location: swedencentral"))
    result = azure.run("quota", path, "--env", "prod", "--output", "json")
    assert result.code == 0, result
    rows = json.loads(result.out)["rows"]
    assert {r["region"] for r in rows} == {"swedencentral"} and {r["model"] for r in rows} == {
        "gpt-4o", "text-embedding-ada-002"}
    assert azure.run("quota", path).code == 1  # which environment?
