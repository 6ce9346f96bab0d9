"""`provision test` end to end: the CLI, the real `openai` Azure client and the emulator's data plane."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from apply_helpers import EAST, azure, base_spec, deployment_of  # noqa: F401
from provisioner.azure.inference import explain, filter_check
from provisioner.workspace import Workspace, load_spec

REPO = Path(__file__).resolve().parents[2]


def rows_of(result) -> dict[str, dict]:
    return {row["address"]: row for row in json.loads(result.out)["deployments"]}


def example(project, cli, edit=None) -> None:
    shutil.copy(REPO / "deployments.yaml", project.spec)
    if edit is not None:
        project.spec.write_text(edit(project.spec.read_text()))
    applied = cli("apply", "deployments.yaml", "--emulator", "--auto-approve")
    assert applied.code == 0, applied.err


def test_the_example_spec_serves_after_apply_with_entra_id(project, cli):
    example(project, cli)
    result = cli("test", "deployments.yaml", "--emulator", "--output", "json")
    assert result.code == 0, result.out + result.err
    rows = rows_of(result)
    deployments = {r.address for r in load_spec(Path("deployments.yaml")).desired.resources
                   if r.kind.value == "deployment"}
    assert set(rows) == deployments
    assert {row["status"] for row in rows.values()} == {"ok"}
    assert all(row["notes"] == [] for row in rows.values())  # capacities as asked (chat-mini: 10 to 30)
    chat = rows["aoai-prod-eus2/deployments/chat"]
    assert chat["kind"] == "chat" and chat["answered_model"].startswith("gpt-4o")
    assert chat["remaining_requests"] is not None and chat["remaining_tokens"] is not None
    assert chat["limits"]["token"]["count"] == 1000 * chat["capacity"]
    assert chat["content_filter"] == {
        "policy": "strict", "matches": True, "detail": "content filter strict answered", "blocklists": ["banned-terms"],
        "answered": ["hate", "indirect_attack", "jailbreak", "self_harm", "sexual", "violence"]}
    ptu = rows["aoai-prod-eus2/deployments/chat-ptu"]  # provisioned: utilisation, not remaining tokens
    assert 0 < ptu["utilization"] < 100 and ptu["remaining_tokens"] is None
    embeddings = rows["aoai-prod-eus2/deployments/embeddings"]
    assert embeddings["kind"] == "embedding" and embeddings["answered_model"] == "text-embedding-ada-002"
    assert embeddings["content_filter"] is None  # embeddings are not filtered

    table = cli("test", "deployments.yaml", "--emulator", "--target", "aoai-prod-swc")
    assert table.code == 0, table.out
    assert "aoai-prod-swc/deployments/chat-mini" in table.out and "aoai-prod-eus2" not in table.out
    assert "0 failed" in table.out
    assert "strict: as configured" in table.out or "Microsoft.DefaultV2: as configured" in table.out


def test_key_auth_works_and_never_shows_the_key(project, cli):
    example(project, cli)
    result = cli("test", "deployments.yaml", "--emulator", "--key", "--target", "aoai-prod-eus2/chat")
    assert result.code == 0, result.out
    with Workspace.open("deployments.yaml", emulator=True) as workspace:
        cognitive = workspace.clients.cognitive(workspace.spec.desired.resources[0].scope.subscription)
        keys = cognitive.accounts.list_keys("rg-aoai-prod", "aoai-prod-eus2")
    for key in (keys.key1, keys.key2):
        assert key not in result.out + result.err


def test_key_auth_refused_when_local_auth_is_off(project, cli):
    def local_auth_off(text: str) -> str:
        spec = yaml.safe_load(text)
        spec["accounts"][0]["local_auth"] = False
        return yaml.safe_dump(spec, sort_keys=False)

    example(project, cli, local_auth_off)
    result = cli("test", "deployments.yaml", "--emulator", "--key", "--target", "aoai-prod-eus2/chat")
    assert result.code == 1
    assert "key authentication is off" in result.out and "local_auth: false" in result.out
    entra = cli("test", "deployments.yaml", "--emulator", "--target", "aoai-prod-eus2/chat")
    assert entra.code == 0, entra.out  # Entra ID still works


def test_a_deployment_at_its_limit_fails_as_rate_limited(azure):
    """A running emulator (its rate limits live as long as it does): gpt-4o 2024-11-20 at capacity 1
    allows one request in 10 s, so a second test within 10 s is answered 429."""
    spec = base_spec(EAST)
    deployment_of(spec, EAST, "chat")["capacity"] = 1
    assert azure.apply(spec).code == 0
    target = ("--key", "--target", f"{EAST}/chat", "--output", "json")
    assert azure.run("test", azure.write_spec(spec), *target).code == 0
    again = azure.run("test", azure.write_spec(spec), *target)
    assert again.code == 1
    row = rows_of(again)[f"{EAST}/deployments/chat"]
    assert row["status"] == "failed" and row["http_status"] == 429
    assert row["reason"].startswith("429 rate limited") and 0 < row["retry_after_ms"] <= 10000
    assert row["limits"]["request"] == {"count": 1, "per_seconds": 10}


def test_an_unknown_target_is_a_clear_error(project, cli):
    example(project, cli)
    result = cli("test", "deployments.yaml", "--emulator", "--target", "nope")
    assert result.code == 1
    assert "names no deployment" in result.err


def test_apply_test_runs_the_test_after_a_successful_apply(project, cli):
    shutil.copy(REPO / "deployments.yaml", project.spec)
    result = cli("apply", "deployments.yaml", "--emulator", "--auto-approve", "--test",
                 "--target", "aoai-prod-swc/chat-mini")
    assert result.code == 0, result.out + result.err
    assert "Test after apply" in result.out
    assert "aoai-prod-swc/deployments/chat-mini" in result.out and "0 failed" in result.out
    assert "aoai-prod-eus2/deployments" not in result.out.split("Test after apply")[1]


def test_apply_test_exits_1_when_a_deployment_does_not_serve(azure):
    """An emulator reached through PROVISION_EMULATOR_* with a token file: that token is for Resource
    Manager only, so the apply succeeds and its Entra ID test is refused with an explained 401."""
    spec = base_spec(EAST)
    result = azure.apply(spec, "--test", "--target", f"{EAST}/chat")
    assert result.code == 1
    assert f"Failed: {EAST}/deployments/chat: 401 the token was refused: wrong audience" in result.out
    assert azure.deployments(EAST)["chat"].properties.provisioning_state == "Succeeded"


def test_a_live_capacity_other_than_the_specs_is_noted(project, cli):
    example(project, cli)
    project.spec.write_text(project.spec.read_text().replace("capacity: 50", "capacity: 60", 1))
    result = cli("test", "deployments.yaml", "--emulator", "--target", "aoai-prod-eus2/chat")
    assert result.code == 0, result.out
    assert "Note: aoai-prod-eus2/deployments/chat: live capacity is 50, the spec asks for 60: run `provision " \
           "plan`" in result.out


def test_public_access_disabled_is_explained(project, cli):
    def private(text: str) -> str:
        spec = yaml.safe_load(text)
        spec["accounts"][0]["public_network_access"] = "disabled"
        return yaml.safe_dump(spec, sort_keys=False)

    example(project, cli, private)
    result = cli("test", "deployments.yaml", "--emulator", "--target", "aoai-prod-eus2/chat", "--output", "json")
    assert result.code == 1
    row = rows_of(result)["aoai-prod-eus2/deployments/chat"]
    assert row["http_status"] == 403 and row["reason"].startswith("403 public network access is disabled")


# Azure's answers as reported from the service (see provisioner.azure.inference.RECOGNISED)
@pytest.mark.parametrize(("status", "body", "explained"), [
    (403, {"code": "403", "message": "Access denied due to Virtual Network/Firewall rules."},
     "your IP is not allowed by the account's network rules: call through a private endpoint or add an IP rule"),
    (403, {"code": "403", "message": "Traffic is not from an approved private endpoint."},
     "public network access is disabled: this account only answers through its private endpoints"),
    (401, {"code": "PermissionDenied", "message": "The principal `1111` lacks the required data action "
           "`Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action` to perform "
           "`POST /openai/deployments/{deployment-id}/chat/completions` operation."},
     "the caller lacks a data-plane role on the account: assign 'Cognitive Services OpenAI User'"),
    (403, {"code": "AuthenticationTypeDisabled", "message": "Key based authentication is disabled for this resource."},
     "key authentication is off on this account (local_auth: false)"),
    (403, {"code": "Other", "message": "something new"}, "refused: key authentication is off"),
    (404, {"code": "DeploymentNotFound", "message": "..."}, "deployment not found: not ready yet"),
])
def test_azures_refusals_are_explained(status, body, explained):
    assert explain(status, body).startswith(explained)


def test_a_policy_that_did_not_answer_is_reported():
    policy = {"name": "strict", "filters": ["hate", "jailbreak"], "blocklists": ["banned"]}
    answered = {"hate": {"filtered": False, "severity": "safe"}}
    check = filter_check(policy, answered)
    assert check["matches"] is False
    assert check["detail"] == "content filter strict did not answer for: jailbreak, blocklist banned"
    assert filter_check(policy, {})["detail"].startswith("no content filter results")
    complete = {**answered, "jailbreak": {"filtered": False, "detected": False},
                "custom_blocklists": {"filtered": False, "details": [{"filtered": False, "id": "banned"}]}}
    assert filter_check(policy, complete)["matches"] is True


# --load: a bounded load against what the capacity promises
@pytest.mark.slow  # 20 s of load: the length of the run is the point
def test_load_reaches_a_standard_deployments_token_limit(azure):
    """gpt-4o 2024-11-20 GlobalStandard at capacity 50: 50,000 tokens and 300 requests a minute. Over
    20 s the achieved tokens per minute, measured once the 10 s window's burst is spent, come within
    10 % of the limit."""
    spec = base_spec(EAST)
    deployment_of(spec, EAST, "chat")["capacity"] = 50
    assert azure.apply(spec).code == 0
    result = azure.run("test", azure.write_spec(spec), "--key", "--target", f"{EAST}/chat", "--load", "20",
                       "--output", "json")
    assert result.code == 0, result
    row = json.loads(result.out)["load"][0]
    assert row["status"] == "ok" and row["errors"] == {}
    assert (row["limit_tokens_per_minute"], row["limit_requests_per_minute"]) == (50000, 300)
    assert abs(row["tokens_per_minute"] - 50000) <= 5000, row
    assert 0 < row["measured_from_s"] < 5  # the burst (10 s of the limit, 8,333 tokens) goes in the first seconds
    assert row["tokens_per_minute_whole_run"] > 50000 * 1.2  # ... and shows in the whole run's rate
    assert row["requests_per_minute"] < 300  # requests sized so that tokens are the limit reached
    assert row["throttled"] > 0 and row["retry_after_ms_total"] > 0
    assert 0 < row["latency_p50_ms"] <= row["latency_p95_ms"]
    assert "up to about" in result.err


def test_load_sizes_requests_from_the_capacity_and_reports_a_table(project, cli):
    example(project, cli)
    result = cli("test", "deployments.yaml", "--emulator", "--target", "aoai-prod-eus2/chat", "--target",
                 "aoai-prod-eus2/chat-ptu", "--load", "1", "--output", "json")
    assert result.code == 0, result.out + result.err
    row, provisioned = json.loads(result.out)["load"]
    assert provisioned["utilization_max"] > 0  # limited by utilisation: no rates to compare with
    assert provisioned["limit_tokens_per_minute"] is None and provisioned["tokens_per_minute"] > 0
    # gpt-4o GlobalStandard at 50: 50,000 tokens and 300 requests a minute -> requests of twice 166 tokens,
    # 2.5 a second at the token limit -> two seconds' worth in flight
    assert (row["request_tokens"], row["workers"]) == (333, 5)
    assert row["requests"] > 0 and row["tokens_per_minute"] > 0
    assert "Loading 2 deployment(s) for 1 s each" in result.err
    assert "load aoai-prod-eus2/deployments/chat: 0%" in result.err  # plain progress lines off a terminal
    table = cli("test", "deployments.yaml", "--emulator", "--target", "aoai-prod-eus2/embeddings", "--load", "1")
    assert table.code == 0, table.out + table.err
    assert "Load against capacity" in table.out and "aoai-prod-eus2/deployments/embeddings" in table.out


def test_yes_goes_only_with_load(project, cli):
    example(project, cli)
    result = cli("test", "deployments.yaml", "--emulator", "--yes")
    assert result.code == 1 and "only goes with --load" in result.err
