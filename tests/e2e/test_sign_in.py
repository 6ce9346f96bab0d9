"""provision's own production path to Azure, end to end: DefaultAzureCredential with only the
standard azure-identity environment gets its tokens from the emulator's Entra endpoints, and
ARM checks them. No emulator credential code is on this path."""
from __future__ import annotations

import pytest
import yaml
from apply_helpers import EAST, base_spec

from provisioner.cli.app import run
from provisioner.emulator import Emulator

GITHUB = "https://token.actions.githubusercontent.com"
SUBJECT = "repo:contoso/deployments:ref:refs/heads/main"
AZURE_VARIABLES = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST",
                   "AZURE_FEDERATED_TOKEN_FILE", "REQUESTS_CA_BUNDLE", "PROVISION_EMULATOR_URL",
                   "PROVISION_EMULATOR_CA", "PROVISION_EMULATOR_TOKEN_FILE")


@pytest.fixture
def azure(tmp_path, monkeypatch):
    for name in AZURE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    spec = base_spec(EAST)
    spec.pop("key_vault")
    (tmp_path / "deployments.yaml").write_text(yaml.safe_dump(spec))
    with Emulator() as emulator:
        yield emulator


def _provision(capsys, *argv: str):
    capsys.readouterr()
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_apply_with_a_service_principal_from_the_environment(azure, monkeypatch, capsys):
    principal = azure.control.add_service_principal(display_name="ci")
    for name, value in azure.environment(principal).items():
        monkeypatch.setenv(name, value)
    assert "PROVISION_EMULATOR_TOKEN_FILE" not in azure.environment(principal)

    code, text = _provision(capsys, "apply", "deployments.yaml", "--auto-approve")

    assert code == 0, text
    assert principal["client_secret"] not in text
    counts = azure.control.requests()["counts"]
    assert any("oauth2/v2.0/token" in route for route in counts), counts  # a token was asked for, and used
    code, text = _provision(capsys, "plan", "deployments.yaml", "--detailed-exitcode")
    assert code == 0, text


def test_cloud_given_by_its_resource_manager_url_is_discovered(azure, monkeypatch, capsys):
    principal = azure.control.add_service_principal()
    monkeypatch.setenv("AZURE_CLIENT_ID", principal["client_id"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", principal["client_secret"])
    monkeypatch.setenv("AZURE_TENANT_ID", azure.tenant_id)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", azure.ca_path)  # how requests-based clients trust a private CA

    code, text = _provision(capsys, "plan", "deployments.yaml", "--cloud", azure.base_url)

    assert code == 0, text
    assert "+ e2e-eus2 (account)" in text
    assert azure.control.requests()["counts"].get("GET /metadata/endpoints") == 1


def test_workload_identity_federation_from_a_token_file(azure, monkeypatch, capsys, tmp_path):
    principal = azure.control.add_service_principal()
    azure.control.add_federated_credential(principal["client_id"], issuer=GITHUB, subject=SUBJECT)
    token_file = tmp_path / "federated-token"
    token_file.write_text(azure.control.federated_token(GITHUB, SUBJECT))
    environment = azure.environment(principal)
    environment.pop("AZURE_CLIENT_SECRET")
    environment["AZURE_FEDERATED_TOKEN_FILE"] = str(token_file)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    code, text = _provision(capsys, "plan", "deployments.yaml")

    assert code == 0, text
    assert "+ e2e-eus2 (account)" in text


def test_a_wrong_secret_is_one_clear_error_and_no_request_to_arm(azure, monkeypatch, capsys):
    principal = azure.control.add_service_principal()
    environment = azure.environment(principal)
    environment["AZURE_CLIENT_SECRET"] = "not-the-secret"
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    code, text = _provision(capsys, "plan", "deployments.yaml")

    assert code == 1
    assert text.startswith("Error: could not get an Azure access token:")
    assert "AADSTS7000215" in text  # Entra's code for an invalid client secret
    assert "not-the-secret" not in text and "Traceback" not in text
    arm = [route for route in azure.control.requests()["counts"] if "/subscriptions/" in route]
    assert arm == []


def test_load_against_azure_refuses_without_yes_and_says_what_it_would_use(azure, monkeypatch, capsys):
    """Reached as Azure is (a cloud given by its URL, DefaultAzureCredential): not the emulator, so
    `test --load` costs money there, and does nothing without --yes but say roughly how much."""
    principal = azure.control.add_service_principal()
    for name, value in azure.environment(principal).items():
        monkeypatch.setenv(name, value)
    assert _provision(capsys, "apply", "deployments.yaml", "--auto-approve")[0] == 0
    for name in ("PROVISION_EMULATOR_URL", "PROVISION_EMULATOR_CA", "PROVISION_EMULATOR_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", azure.ca_path)
    azure.control.clear_requests()

    code, text = _provision(capsys, "test", "deployments.yaml", "--cloud", azure.base_url, "--target",
                            f"{EAST}/chat", "--load", "30")

    assert code == 1, text
    # gpt-4o GlobalStandard at capacity 10: 10,000 tokens a minute, over 30 s plus one 10 s burst window
    assert "--load sends real traffic to Azure: up to about 6,667 tokens over 1 deployment(s), 30 s each" in text
    assert "--yes" in text
    assert not any("/openai/deployments/" in route for route in azure.control.requests()["counts"])
