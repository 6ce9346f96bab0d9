"""`provision output` end to end: what applications need, read from the emulated Azure after an
apply, in every format; never a key."""
from __future__ import annotations

import json

import pytest
from apply_helpers import (  # noqa: F401 - azure is a fixture
    EAST,
    GROUP,
    SWEDEN,
    azure,
    base_spec,
)

from provisioner.render.outputs import dotenv, merged_azd_env, parse_dotenv


@pytest.fixture
def applied(azure):
    spec = azure.write_spec(base_spec())
    result = azure.apply(spec)
    assert result.code == 0, result
    return spec


def _no_keys(azure) -> None:
    for account in (EAST, SWEDEN):
        for key in azure.keys(account):
            assert key not in "".join(azure.transcript)


def test_json_lists_endpoints_deployments_and_secret_uris(azure, applied):
    result = azure.run("output", applied, "--json")
    assert result.code == 0, result
    accounts = {a["name"]: a for a in json.loads(result.out)["accounts"]}
    east = accounts[EAST]
    assert east["endpoint"] == azure.account(EAST).properties.endpoint
    assert [(d["name"], d["model"], d["version"]) for d in east["deployments"]] == [
        ("chat", "gpt-4o", "2024-11-20"), ("embeddings", "text-embedding-ada-002", "2")]
    assert east["secrets"]["endpoint"] == f"https://kv-e2e.vault.azure.net/secrets/{EAST}-endpoint"
    assert east["secrets"]["key"] == f"https://kv-e2e.vault.azure.net/secrets/{EAST}-key"
    assert east["principal_id"] is None
    _no_keys(azure)


def test_a_managed_identity_and_only_the_specs_deployments_are_output(azure):
    azure.resources.resource_groups.create_or_update(GROUP, {"location": "eastus2"})
    azure.cognitive.accounts.begin_create(GROUP, EAST, {  # made elsewhere with an identity, then adopted
        "location": "eastus2", "kind": "OpenAI", "sku": {"name": "S0"}, "identity": {"type": "SystemAssigned"},
        "properties": {"customSubDomainName": EAST}}).result()
    applied = azure.write_spec(base_spec(EAST))
    assert azure.apply(applied).code == 0
    azure.cognitive.deployments.begin_create_or_update(GROUP, EAST, "manual", {
        "sku": {"name": "Standard", "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": "text-embedding-ada-002", "version": "2"}}}).result()
    accounts = {a["name"]: a for a in json.loads(azure.run("output", applied, "--json").out)["accounts"]}
    assert accounts[EAST]["principal_id"] == azure.account(EAST).identity.principal_id
    assert "manual" not in {d["name"] for d in accounts[EAST]["deployments"]}
    text = azure.run("output", applied)
    assert f"principal id: {azure.account(EAST).identity.principal_id}" in text.out


def test_text_and_dotenv(azure, applied):
    text = azure.run("output", applied)
    assert text.code == 0, text
    assert f"    deployment chat: gpt-4o 2024-11-20 (GlobalStandard, capacity 10)" in text.out
    env = azure.run("output", applied, "--format", "dotenv")
    assert env.code == 0, env
    values = parse_dotenv(env.out, "stdout")
    endpoint = azure.account(EAST).properties.endpoint
    assert values["AZURE_OPENAI_ENDPOINT"] == endpoint
    assert values["AZURE_OPENAI_DEPLOYMENT"] == "chat"
    assert values["AZURE_OPENAI_ENDPOINT_E2E_SWC"] == azure.account(SWEDEN).properties.endpoint
    assert values["AZURE_OPENAI_DEPLOYMENT_E2E_EUS2_CHAT_VERSION"] == "2024-11-20"
    assert f'AZURE_OPENAI_ENDPOINT="{endpoint}"' in env.out.splitlines()
    assert env.out.splitlines() == sorted(env.out.splitlines())
    _no_keys(azure)


def test_azd_sets_values_in_the_selected_environment_and_keeps_the_rest(azure, applied):
    (azure.directory / "azure.yaml").write_text("name: app\n")
    folder = azure.directory / ".azure" / "dev"
    folder.mkdir(parents=True)
    (azure.directory / ".azure" / "config.json").write_text('{"version":1,"defaultEnvironment":"dev"}')
    # as azd wrote it: sorted, quoted and escaped, integers bare
    (folder / ".env").write_text('AZURE_ENV_NAME="dev"\nAZURE_LOCATION="eastus2"\nCOUNT=3\n'
                                 'NOTE="say \\"hi\\" for \\$5\\nbye"\n')
    result = azure.run("output", applied, "--format", "azd")
    assert result.code == 0, result
    written = (folder / ".env").read_text()
    values = parse_dotenv(written, ".env")
    assert values["AZURE_OPENAI_ENDPOINT"] == azure.account(EAST).properties.endpoint
    assert values["AZURE_OPENAI_DEPLOYMENT"] == "chat"
    assert values["NOTE"] == 'say "hi" for $5\nbye' and values["COUNT"] == "3"
    assert 'COUNT=3\n' in written and 'NOTE="say \\"hi\\" for \\$5\\nbye"\n' in written
    assert written == dotenv(values)  # exactly the file azd itself would write for these values
    _no_keys(azure)


def test_azd_environment_from_azure_env_name_and_errors(azure, applied, monkeypatch):
    no_project = azure.run("output", applied, "--format", "azd")
    assert no_project.code == 1 and "no azd project here" in no_project.err
    (azure.directory / "azure.yaml").write_text("name: app\n")
    (azure.directory / ".azure" / "prod").mkdir(parents=True)
    none_selected = azure.run("output", applied, "--format", "azd")
    assert none_selected.code == 1 and "no azd environment is selected" in none_selected.err
    monkeypatch.setenv("AZURE_ENV_NAME", "missing")
    assert "azd environment 'missing' does not exist" in azure.run("output", applied, "--format", "azd").err
    monkeypatch.setenv("AZURE_ENV_NAME", "prod")
    assert azure.run("output", applied, "--format", "azd").code == 0
    assert "AZURE_OPENAI_ENDPOINT=" in (azure.directory / ".azure" / "prod" / ".env").read_text()
    (azure.directory / ".azure" / "prod" / ".env").write_text("AZURE_ENV_NAME=\"prod\"\nbroken line\n")
    bad = azure.run("output", applied, "--format", "azd")
    assert bad.code == 1 and ".env:2: not a KEY=VALUE line" in bad.err


def test_output_before_apply_names_the_missing_accounts(azure):
    result = azure.run("output", azure.write_spec(base_spec(EAST)))
    assert result.code == 1
    assert f"account(s) {EAST} of the spec do not exist" in result.err


@pytest.mark.parametrize("values, line", [
    ({"N": "007"}, 'N="007"'), ({"N": "-12"}, "N=-12"), ({"N": "+5"}, 'N="+5"'),
    ({"N": "99999999999999999999"}, 'N="99999999999999999999"'), ({"S": "a`b!c\\d\re"}, 'S="a\\`b\\!c\\\\d\\re"'),
])
def test_dotenv_quotes_as_godotenv_and_azd_do(values, line):
    assert dotenv(values) == line + "\n"
    assert parse_dotenv(dotenv(values), "x") == values


def test_merging_keeps_hand_written_lines_values():
    merged = merged_azd_env("# mine\nexport A=plain # note\nB='single'\n", ".env", {"C": "new"})
    assert parse_dotenv(merged, ".env") == {"A": "plain", "B": "single", "C": "new"}
