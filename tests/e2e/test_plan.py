"""`provision plan` end to end: the CLI against the emulator, through the real Azure SDK clients.

Live state is set up and inspected with SDK clients on the same emulated Azure, never with mocks.
"""
from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from provisioner.cli.app import run
from provisioner.workspace import Workspace, load_spec
from provisioner.plan import planfile
from provisioner.plan.model import FORMAT_VERSION, Plan

REPO = Path(__file__).resolve().parents[2]
SUBSCRIPTION = "00000000-0000-0000-0000-0000000000e2"
GROUP = "rg-e2e"
ACCOUNT = "e2e-eus2"
CHAT = f"{ACCOUNT}/deployments/chat"
EMBEDDINGS = f"{ACCOUNT}/deployments/embeddings"
STRICT = f"{ACCOUNT}/raiPolicies/strict"
BANNED = f"{ACCOUNT}/raiBlocklists/banned"
RESOURCE_GROUP = f"rg:{SUBSCRIPTION}/{GROUP}"


def base_spec() -> dict[str, Any]:
    """One account in eastus2: `chat` (GlobalStandard, custom filter `strict` with a blocklist)
    and `embeddings` (regional Standard, built-in filter). A fresh copy on every call."""
    return copy.deepcopy({
        "version": 1,
        "name": "e2e",
        "defaults": {"subscription": SUBSCRIPTION, "resource_group": GROUP, "location": "eastus2",
                     "tags": {"team": "e2e"}},
        "content_filters": {
            "strict": {"mode": "blocking", "categories": {"hate": "low", "violence": "medium"},
                       "jailbreak": "block", "blocklists": ["banned"]},
        },
        "blocklists": {"banned": {"description": "never", "items": ["forbidden phrase", {"regex": "ba[rz]+"}]}},
        "accounts": [{
            "name": ACCOUNT,
            "deployments": [
                {"name": "chat", "model": "gpt-4o", "version": "2024-11-20", "capacity": 10,
                 "content_filter": "strict"},
                {"name": "embeddings", "model": "text-embedding-3-large", "version": "1", "scope": "regional",
                 "capacity": 5, "content_filter": "Microsoft.DefaultV2"},
            ],
        }],
    })


def deployment(spec: dict[str, Any], name: str, account: int = 0) -> dict[str, Any]:
    """The deployment `name` of a spec dict, to edit in place."""
    return next(d for d in spec["accounts"][account]["deployments"] if d["name"] == name)


@pytest.fixture
def base(project):
    """base_spec() written, nothing applied yet."""
    project.write(base_spec())
    return project


@pytest.fixture(scope="module")
def applied_state(empty_state, tmp_path_factory) -> Path:
    """An emulator state with base_spec() applied, made once and copied into each `applied` project."""
    root = tmp_path_factory.mktemp("e2e-applied")
    shutil.copytree(empty_state, root / empty_state.name)
    (root / "deployments.yaml").write_text(json.dumps(base_spec()))  # JSON is YAML
    assert run(["apply", str(root / "deployments.yaml"), "--emulator", "--auto-approve"]) == 0
    return root / empty_state.name


@pytest.fixture
def applied(workdir, applied_state):
    """base_spec() written and already applied to the emulated Azure beside it."""
    shutil.copytree(applied_state, workdir.root / applied_state.name)
    workdir.write(base_spec())
    return workdir


def summary(create=0, update=0, replace=0, delete=0) -> str:
    return f"Plan: {create} to create, {update} to update, {replace} to replace, {delete} to delete."


def headers(out: str) -> dict[str, str]:
    """The plan's change lines, address -> symbol ("+", "~", "-/+", "-")."""
    return {m.group(2): m.group(1) for m in re.finditer(r"^\s*(\+|~|-/\+|-) (\S+) \(", out, re.MULTILINE)}


def plan_json(cli, *args) -> dict:
    result = cli("plan", "deployments.yaml", "--emulator", "--output", "json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def changes_by_address(document: dict) -> dict[str, dict]:
    return {c["address"]: c for c in document["changes"]}


def unmanaged_deployment(client, name: str = "manual") -> None:
    """A deployment made by someone else on our account: no ownership tags."""
    client.deployments.begin_create_or_update(
        GROUP, ACCOUNT, name,
        {"sku": {"name": "GlobalStandard", "capacity": 1},
         "properties": {"model": {"format": "OpenAI", "name": "gpt-4o-mini", "version": "2024-07-18"}}},
    ).result()


def set_capacity(client, name: str, capacity: int) -> None:
    """Someone changes a deployment's capacity behind our back (tags kept: it stays ours)."""
    live = client.deployments.get(GROUP, ACCOUNT, name)
    live.sku.capacity = capacity
    client.deployments.begin_create_or_update(GROUP, ACCOUNT, name, live).result()


def assert_no_changes(cli) -> None:
    result = cli("plan", "deployments.yaml", "--emulator", "--detailed-exitcode")
    assert result.code == 0, result.out + result.err
    assert "No changes." in result.out
    assert summary() in result.out


# 1. from empty

def test_plan_from_empty_lists_every_create(base, cli):
    result = cli("plan", "deployments.yaml", "--emulator")
    assert result.code == 0, result.err
    assert result.err == ""
    assert headers(result.out) == {RESOURCE_GROUP: "+", ACCOUNT: "+", BANNED: "+", STRICT: "+", CHAT: "+",
                                   EMBEDDINGS: "+"}
    # dependencies first: group, account, blocklist, policy, deployments
    assert list(headers(result.out)) == [RESOURCE_GROUP, ACCOUNT, BANNED, STRICT, CHAT, EMBEDDINGS]
    assert "        sku: GlobalStandard\n" in result.out  # type/scope resolved to the Azure SKU
    assert "        tags.managed-by: provision\n" in result.out
    assert result.out.rstrip().endswith(summary(create=6))

    detailed = cli("plan", "deployments.yaml", "--emulator", "--detailed-exitcode")
    assert detailed.code == 2
    assert detailed.out == result.out


def test_the_example_spec_plans_applies_and_converges(project, cli):
    """The repository's deployments.yaml: two accounts, a provisioned deployment with spillover, a key vault."""
    shutil.copy(REPO / "deployments.yaml", project.spec)
    loaded = load_spec(Path("deployments.yaml"))
    deployments = [r.address for r in loaded.desired.resources if r.kind.value == "deployment"]

    first = cli("plan", "deployments.yaml", "--emulator", "--detailed-exitcode")
    assert first.code == 2, first.err
    assert all(headers(first.out).get(address) == "+" for address in deployments)
    assert set(headers(first.out).values()) == {"+"}
    assert summary(create=len(loaded.desired.resources)) in first.out

    assert cli("apply", "deployments.yaml", "--emulator", "--auto-approve").code == 0
    assert_no_changes(cli)


# 2. no-op after apply

def test_plan_after_apply_is_a_no_op(applied, cli):
    result = cli("plan", "deployments.yaml", "--emulator", "--detailed-exitcode")
    assert result.code == 0, result.out + result.err
    assert "No changes. Azure matches the spec." in result.out
    assert headers(result.out) == {}
    assert result.out.rstrip().endswith(summary())

    document = plan_json(cli)
    assert document["summary"] == {"create": 0, "update": 0, "replace": 0, "delete": 0, "adopt": 0}
    assert {c["action"] for c in document["changes"]} == {"no-op"}


# 3. in-place updates

def _capacity(spec):
    deployment(spec, "chat")["capacity"] = 20


def _version(spec):
    deployment(spec, "chat")["version"] = "2024-08-06"  # eastus2 offers gpt-4o 2024-08-06 as GlobalStandard


def _to_custom_filter(spec):
    deployment(spec, "embeddings")["content_filter"] = "strict"


def _upgrade(spec):
    deployment(spec, "chat")["upgrade"] = "never"


@pytest.mark.parametrize("edit, address, path, before, after", [
    (_capacity, CHAT, "capacity", 10, 20),
    (_version, CHAT, "version", "2024-11-20", "2024-08-06"),
    (_to_custom_filter, EMBEDDINGS, "content_filter", "Microsoft.DefaultV2", "strict"),
    (_upgrade, CHAT, "upgrade", "on-new-default", "never"),
], ids=["capacity", "version", "content-filter", "upgrade-policy"])
def test_in_place_update(applied, cli, edit, address, path, before, after):
    spec = base_spec()
    edit(spec)
    applied.write(spec)

    result = cli("plan", "deployments.yaml", "--emulator", "--detailed-exitcode")
    assert result.code == 2, result.out + result.err
    assert headers(result.out) == {address: "~"}
    assert f"        {path}: {before} → {after}\n" in result.out
    assert "forces replacement" not in result.out
    assert summary(update=1) in result.out

    change = changes_by_address(plan_json(cli))[address]
    assert change["action"] == "update"
    assert change["fields"] == [{"path": path, "before": before, "after": after, "forces_replace": False}]

    # what the plan promised is what apply does: afterwards Azure matches
    assert cli("apply", "deployments.yaml", "--emulator", "--auto-approve").code == 0
    assert_no_changes(cli)


def test_switching_to_the_built_in_filter_removes_the_unused_custom_one(applied, cli):
    spec = base_spec()
    deployment(spec, "chat")["content_filter"] = "Microsoft.DefaultV2"
    applied.write(spec)

    result = cli("plan", "deployments.yaml", "--emulator", "--detailed-exitcode")
    assert result.code == 2, result.out + result.err
    assert headers(result.out) == {CHAT: "~", STRICT: "-", BANNED: "-"}
    assert "        content_filter: strict → Microsoft.DefaultV2\n" in result.out
    assert summary(update=1, delete=2) in result.out
    assert "content filter 'strict' is used by no deployment" in result.err

    # the policy goes only after the deployment stopped using it
    applied_result = cli("apply", "deployments.yaml", "--emulator", "--auto-approve")
    assert applied_result.code == 0, applied_result.out + applied_result.err
    assert_no_changes(cli)


# 4. replacement

def _scope(spec):
    deployment(spec, "chat")["scope"] = "datazone"


def _type(spec):
    chat = deployment(spec, "chat")
    chat.update(type="provisioned", capacity=15)


@pytest.mark.parametrize("edit, before, after", [
    (_scope, "GlobalStandard", "DataZoneStandard"),
    (_type, "GlobalStandard", "GlobalProvisionedManaged"),
], ids=["scope", "type"])
def test_sku_change_is_a_replace(applied, cli, edit, before, after):
    spec = base_spec()
    edit(spec)
    applied.write(spec)

    result = cli("plan", "deployments.yaml", "--emulator", "--detailed-exitcode")
    assert result.code == 2, result.out + result.err
    assert headers(result.out) == {CHAT: "-/+"}
    assert f"-/+ {CHAT} (deployment) — sku cannot be changed in place" in result.out
    assert f"        sku: {before} → {after}  # forces replacement\n" in result.out
    assert (f"Warning: {CHAT} is deleted and created again: requests to it fail until the new deployment is "
            "ready") in result.out
    assert summary(replace=1) in result.out

    change = changes_by_address(plan_json(cli))[CHAT]
    assert change["action"] == "replace"
    assert {"path": "sku", "before": before, "after": after, "forces_replace": True} in change["fields"]

    assert cli("apply", "deployments.yaml", "--emulator", "--auto-approve").code == 0
    assert_no_changes(cli)


def test_replace_of_a_prevent_destroy_deployment_is_refused(applied, cli):
    spec = base_spec()
    deployment(spec, "chat").update(scope="datazone", prevent_destroy=True)
    applied.write(spec)

    result = cli("plan", "deployments.yaml", "--emulator", "--detailed-exitcode")
    assert result.code == 1
    assert f"{CHAT}: has prevent_destroy: true, but this plan would replace it" in result.err


# 5. unmanaged and removed deployments

def test_unmanaged_deployment_is_left_alone_and_a_removed_one_is_deleted(applied, cli):
    with applied.live(SUBSCRIPTION) as client:
        unmanaged_deployment(client)
    spec = base_spec()
    spec["accounts"][0]["deployments"] = [deployment(spec, "chat")]  # `embeddings` removed
    applied.write(spec)

    result = cli("plan", "deployments.yaml", "--emulator", "--detailed-exitcode")
    assert result.code == 2, result.out + result.err
    assert headers(result.out) == {EMBEDDINGS: "-"}
    assert f"  - {EMBEDDINGS} (deployment) — managed by this spec but no longer in it" in result.out
    assert "Not managed by this spec (left alone):\n" in result.out
    assert f"    {ACCOUNT}/deployments/manual (deployment)\n" in result.out
    assert summary(delete=1) in result.out

    document = plan_json(cli)
    assert [u["address"] for u in document["unmanaged"]] == [f"{ACCOUNT}/deployments/manual"]
    assert f"{ACCOUNT}/deployments/manual" not in changes_by_address(document)

    assert cli("apply", "deployments.yaml", "--emulator", "--auto-approve").code == 0
    with applied.live(SUBSCRIPTION) as client:
        assert sorted(d.name for d in client.deployments.list(GROUP, ACCOUNT)) == ["chat", "manual"]
    assert_no_changes(cli)


def test_deployment_of_another_spec_is_not_ours(applied, cli):
    """Our owner tag but another spec's name: not deleted by this spec."""
    with applied.live(SUBSCRIPTION) as client:
        client.deployments.begin_create_or_update(
            GROUP, ACCOUNT, "theirs",
            {"sku": {"name": "GlobalStandard", "capacity": 1},
             "tags": {"managed-by": "provision", "provision-spec": "another"},
             "properties": {"model": {"format": "OpenAI", "name": "gpt-4o-mini", "version": "2024-07-18"}}},
        ).result()
    result = cli("plan", "deployments.yaml", "--emulator", "--detailed-exitcode")
    assert result.code == 0, result.out + result.err
    assert f"    {ACCOUNT}/deployments/theirs (deployment)\n" in result.out


# 6. JSON

def test_json_output_round_trips(applied, cli):
    spec = base_spec()
    deployment(spec, "chat")["capacity"] = 30
    deployment(spec, "chat")["scope"] = "datazone"
    spec["accounts"][0]["deployments"].append(
        {"name": "mini", "model": "gpt-4o-mini", "version": "2024-07-18", "capacity": 2})
    applied.write(spec)
    with applied.live(SUBSCRIPTION) as client:
        unmanaged_deployment(client)

    result = cli("plan", "deployments.yaml", "--emulator", "--output", "json", "--detailed-exitcode")
    assert result.code == 2, result.err
    document = json.loads(result.out)

    assert document["format_version"] == FORMAT_VERSION
    assert document["spec"]["file"] == "deployments.yaml"
    assert document["spec"]["name"] == "e2e"
    assert document["summary"] == {"create": 1, "update": 0, "replace": 1, "delete": 0, "adopt": 0}
    changes = changes_by_address(document)
    assert changes[f"{ACCOUNT}/deployments/mini"]["action"] == "create"
    assert changes[CHAT]["fields"] == [
        {"path": "sku", "before": "GlobalStandard", "after": "DataZoneStandard", "forces_replace": True},
        {"path": "capacity", "before": 10, "after": 30, "forces_replace": False},
    ]
    assert changes[EMBEDDINGS]["action"] == "no-op"
    assert document["unmanaged"][0]["scope"] == {"subscription": SUBSCRIPTION, "resource_group": GROUP,
                                                 "account": ACCOUNT}

    # the document is the plan: reading it back gives the same value
    assert Plan.from_dict(document).to_dict() == document
    with Workspace.open("deployments.yaml", emulator=True) as workspace:
        made = workspace.plan()
    assert Plan.from_dict(document) == made
    assert made.to_dict() == document


# 7. bad specs never reach Azure

HEAD = "version: 1\ndefaults: {subscription: 00000000-0000-0000-0000-0000000000e2, resource_group: rg, location: eastus2}\n"
ONE = HEAD + "accounts:\n  - name: acct\n    deployments:\n"

BAD_SPECS = {
    "yaml-syntax": ("version: 1\naccounts:\n  - name: acct\n   location: eastus2\n",
                    "4:4: invalid YAML: expected <block end>, but found '<block mapping start>'"),
    "unclosed-flow": (ONE + "      - {name: chat, model: gpt-4o\n",
                      "7:1: invalid YAML: expected ',' or '}'"),
    "unknown-key": (ONE + "      - name: chat\n        model: gpt-4o\n        capacty: 10\n",
                    "8:9: accounts[0].deployments[0].capacty: unknown field 'capacty'; did you mean 'capacity'?"),
    "wrong-enum": (ONE + "      - name: chat\n        model: gpt-4o\n        type: standrd\n        capacity: 1\n",
                   "8:15: accounts[0].deployments[0].type: expected 'standard', 'provisioned', 'batch' or "
                   "'developer', found 'standrd'; did you mean 'standard'?"),
    "duplicate-deployment": (ONE + "      - {name: chat, model: gpt-4o, capacity: 1}\n"
                                   "      - {name: chat, model: gpt-4o-mini, capacity: 1}\n",
                             "7:16: accounts[0].deployments[1].name: duplicate deployment name 'chat' in account "
                             "'acct' (first at line 6)"),
    "undefined-content-filter": (HEAD + "content_filters:\n  strict: {mode: blocking}\n"
                                        "accounts:\n  - name: acct\n    deployments:\n"
                                        "      - name: chat\n        model: gpt-4o\n        capacity: 1\n"
                                        "        content_filter: strikt\n",
                                 "11:25: accounts[0].deployments[0].content_filter: content filter 'strikt' is not "
                                 "defined"),
    "spillover-to-itself": (ONE + "      - name: ptu\n        model: gpt-4o\n        type: provisioned\n"
                                  "        capacity: 15\n        spillover: ptu\n",
                            "10:20: accounts[0].deployments[0].spillover: a deployment cannot spill over to itself"),
    "spillover-to-other-account": (ONE + "      - {name: ptu, model: gpt-4o, type: provisioned, capacity: 15, "
                                         "spillover: chat}\n"
                                         "  - name: acct2\n    deployments:\n"
                                         "      - {name: chat, model: gpt-4o, capacity: 1}\n",
                                   "6:80: accounts[0].deployments[0].spillover: spillover must name a deployment on "
                                   "the same account; account 'acct' has no 'chat' ('chat' is on account 'acct2')"),
    "regional-batch": (ONE + "      - name: chat\n        model: gpt-4o\n        type: batch\n"
                             "        scope: regional\n        capacity: 1\n",
                       "9:16: accounts[0].deployments[0].scope: batch deployments cannot have scope regional; "
                       "use global or datazone"),
    "unset-variable": (ONE + "      - name: chat\n        model: gpt-4o\n        capacity: ${E2E_UNSET_CAPACITY}\n",
                       "8:19: accounts[0].deployments[0].capacity: environment variable E2E_UNSET_CAPACITY is not "
                       "set"),
    "zero-capacity": (ONE + "      - name: chat\n        model: gpt-4o\n        capacity: 0\n",
                      "8:19: accounts[0].deployments[0].capacity: expected a number greater than 0, found 0"),
    "text-capacity": (ONE + "      - name: chat\n        model: gpt-4o\n        capacity: lots\n",
                      "8:19: accounts[0].deployments[0].capacity: expected a positive whole number or "
                      "{min: N, max: N}, found 'lots'"),
    "capacity-range": (ONE + "      - name: chat\n        model: gpt-4o\n        capacity: {min: 20, max: 10}\n",
                       "8:19: accounts[0].deployments[0].capacity: capacity min (20) is greater than max (10)"),
    "missing-model": (ONE + "      - name: chat\n        capacity: 1\n",
                      "6:9: accounts[0].deployments[0].model: required field 'model' is missing"),
    "duplicate-key": (HEAD + "accounts:\n  - name: acct\n    name: other\n",
                      "5:5: accounts[0].name: duplicate key 'name' (first at line 4)"),
    "spec-version": ("version: 2\naccounts: []\n",
                     "1:10: version: this provision reads spec version 1 only, found version 2"),
    "reserved-tag": (HEAD.replace("eastus2}", "eastus2, tags: {managed-by: me}}") + "accounts: []\n",
                     "2:110: defaults.tags.managed-by: tag 'managed-by' is set by provision itself"),
    "no-location": ("version: 1\ndefaults: {subscription: 00000000-0000-0000-0000-0000000000e2, resource_group: rg}\naccounts:\n  - name: acct\n",
                    "4:5: accounts[0]: account 'acct' has no location"),
    "empty-file": ("", " the file is empty; a spec starts with `version: 1`"),
    "only-comments": ("# nothing here yet\n", " the file is empty; a spec starts with `version: 1`"),
}


@pytest.mark.parametrize("text, expected", list(BAD_SPECS.values()), ids=list(BAD_SPECS))
def test_bad_spec_exits_1_before_any_request(workdir, cli, monkeypatch, text, expected):
    monkeypatch.delenv("E2E_UNSET_CAPACITY", raising=False)
    workdir.write(text)
    result = cli("plan", "deployments.yaml", "--emulator", "--detailed-exitcode")
    assert result.code == 1
    assert result.out == ""
    errors = [line for line in result.err.splitlines() if "warning:" not in line]
    assert any(line.startswith(f"deployments.yaml:{expected}") for line in errors), result.err
    # the emulator was never even started: no state beside the spec
    assert not (workdir.root / ".provision").exists()


def test_bad_spec_sends_no_request_to_an_external_emulator(workdir, cli, external_emulator):
    workdir.write(BAD_SPECS["unknown-key"][0])
    external_emulator.control.clear_requests()
    for command in (["plan", "deployments.yaml"], ["plan", "deployments.yaml", "--output", "json"],
                    ["apply", "deployments.yaml", "--auto-approve"],
                    ["destroy", "deployments.yaml", "--auto-approve"]):
        result = cli(*command)
        assert result.code == 1
        assert "capacty: unknown field 'capacty'; did you mean 'capacity'?" in result.err
    assert external_emulator.control.requests()["total"] == 0


def test_warnings_in_a_bad_spec_are_marked_as_warnings(workdir, cli):
    workdir.write(BAD_SPECS["undefined-content-filter"][0])
    result = cli("plan", "deployments.yaml")
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0] == ("deployments.yaml:4:3: content_filters.strict: warning: content filter 'strict' is used by "
                        "no deployment, so it is not created")
    assert lines[1].startswith("deployments.yaml:11:25: accounts[0].deployments[0].content_filter: content filter "
                               "'strikt' is not defined")


# 8. request count does not grow with deployments

def _wide_spec(per_account: int) -> dict:
    spec = base_spec()
    spec["accounts"] = [
        {"name": name, "location": location,
         "deployments": [{"name": f"d{i}", "model": "gpt-4o-mini", "version": "2024-07-18", "capacity": 1,
                          "content_filter": "strict" if i % 2 else "Microsoft.DefaultV2"}
                         for i in range(per_account)]}
        for name, location in (("e2e-one", "eastus2"), ("e2e-two", "swedencentral"))
    ]
    return spec


def test_plan_requests_do_not_grow_with_deployments(workdir, cli, external_emulator):
    def plan_requests(per_account: int) -> dict:
        workdir.write(_wide_spec(per_account))
        assert cli("apply", "deployments.yaml", "--auto-approve").code == 0
        external_emulator.control.clear_requests()
        result = cli("plan", "deployments.yaml", "--detailed-exitcode")
        assert result.code == 0, result.out + result.err
        return external_emulator.control.requests()

    small = plan_requests(2)
    large = plan_requests(8)
    assert large == small
    # one list of the group's accounts; per account one list each of deployments, policies and
    # blocklists (no grants or diagnostics, so none of those lists) and the items of the blocklist we
    # manage there; per region one list of models and one of usages
    assert small["total"] == 1 + 2 * (3 + 1) + 2 * 2, small


def test_plan_reads_the_model_list_once_per_region(workdir, cli, external_emulator):
    """Deployments without a version take the region's default: one model list per region, not per deployment."""
    spec = base_spec()
    for item in spec["accounts"][0]["deployments"]:
        item.pop("version")
    spec["accounts"][0]["deployments"].append({"name": "chat2", "model": "gpt-4o", "capacity": 1})
    workdir.write(spec)
    first = cli("plan", "deployments.yaml", "--output", "json")
    assert first.code == 0, first.err
    versions = {c["address"]: (c["after"] or {}).get("version") for c in json.loads(first.out)["changes"]}
    assert versions[CHAT] == versions[f"{ACCOUNT}/deployments/chat2"] == "2024-11-20"
    counts = external_emulator.control.requests()["counts"]
    models = {route: n for route, n in counts.items() if route.endswith("/models")}
    assert list(models.values()) == [1], counts


# 9. --target

def test_target_limits_the_plan_to_a_deployment_and_what_it_needs(base, cli):
    result = cli("plan", "deployments.yaml", "--emulator", "--target", f"{ACCOUNT}/embeddings")
    assert result.code == 0, result.err
    assert headers(result.out) == {RESOURCE_GROUP: "+", ACCOUNT: "+", EMBEDDINGS: "+"}
    assert f"(targets: {ACCOUNT}/embeddings)" in result.out
    assert summary(create=3) in result.out

    chat = cli("plan", "deployments.yaml", "--emulator", "--target", f"{ACCOUNT}/chat", "--output", "json")
    document = json.loads(chat.out)
    assert document["targets"] == [f"{ACCOUNT}/chat"]
    assert set(changes_by_address(document)) == {RESOURCE_GROUP, ACCOUNT, BANNED, STRICT, CHAT}


def test_target_on_an_applied_spec_shows_only_that_change(applied, cli):
    spec = base_spec()
    deployment(spec, "chat")["capacity"] = 11
    deployment(spec, "embeddings")["capacity"] = 6
    applied.write(spec)
    result = cli("plan", "deployments.yaml", "--emulator", "--target", f"{ACCOUNT}/embeddings",
                 "--detailed-exitcode")
    assert result.code == 2
    assert headers(result.out) == {EMBEDDINGS: "~"}
    assert summary(update=1) in result.out


@pytest.mark.parametrize("target", [f"{ACCOUNT}/nope", "no-such-account", f"{ACCOUNT}/deployments/chat"])
def test_unknown_target_is_an_error(base, cli, target):
    result = cli("plan", "deployments.yaml", "--emulator", "--target", target, "--detailed-exitcode")
    assert result.code == 1
    assert f"--target {target}: matches nothing in the spec" in result.err
    assert result.out == ""


# 10. saved plans

def test_saved_plan_is_refused_when_live_state_changed(applied, cli):
    spec = base_spec()
    deployment(spec, "chat")["capacity"] = 20
    applied.write(spec)
    saved = cli("plan", "deployments.yaml", "--emulator", "-out", "plan.json")
    assert saved.code == 0
    assert "Saved the plan to plan.json" in saved.out
    assert Plan.from_dict(json.loads(Path("plan.json").read_text())) == planfile.load(Path("plan.json"))

    with applied.live(SUBSCRIPTION) as client:
        set_capacity(client, "embeddings", 7)
    stale = cli("apply", "plan.json", "--emulator")
    assert stale.code == 1
    assert "Saved plan is stale" in stale.err
    assert f"{EMBEDDINGS}: planning now would update it; the saved plan does not" in stale.err
    with applied.live(SUBSCRIPTION) as client:
        assert client.deployments.get(GROUP, ACCOUNT, "chat").sku.capacity == 10  # nothing was applied

    fresh = cli("plan", "deployments.yaml", "--emulator", "-out", "plan.json")
    assert headers(fresh.out) == {CHAT: "~", EMBEDDINGS: "~"}
    done = cli("apply", "plan.json", "--emulator")
    assert done.code == 0, done.out + done.err
    with applied.live(SUBSCRIPTION) as client:
        assert client.deployments.get(GROUP, ACCOUNT, "chat").sku.capacity == 20
        assert client.deployments.get(GROUP, ACCOUNT, "embeddings").sku.capacity == 5
    assert_no_changes(cli)


def test_saved_plan_is_refused_when_the_spec_changed(applied, cli):
    spec = base_spec()
    deployment(spec, "chat")["capacity"] = 20
    applied.write(spec)
    assert cli("plan", "deployments.yaml", "--emulator", "-out", "plan.json").code == 0
    deployment(spec, "chat")["capacity"] = 25
    applied.write(spec)
    stale = cli("apply", "plan.json", "--emulator")
    assert stale.code == 1
    assert "Saved plan is stale" in stale.err
    assert f"{CHAT}: fields, properties differ between the saved plan and planning now" in stale.err


def test_saved_plan_from_empty_applies(base, cli):
    assert cli("plan", "deployments.yaml", "--emulator", "--out", "plan.json").code == 0
    done = cli("apply", "plan.json", "--emulator")
    assert done.code == 0, done.out + done.err
    assert_no_changes(cli)


# 11. usage errors are 1, never 2

@pytest.mark.parametrize("argv", [
    ["plan", "deployments.yaml", "--emulator", "--detailed-exitcode", "--output", "yaml"],
    ["plan", "deployments.yaml", "--emulator", "--detailed-exitcode", "--no-such-option"],
    ["plan", "deployments.yaml", "extra-argument", "--detailed-exitcode"],
    ["plan", "missing.yaml", "--emulator", "--detailed-exitcode"],
    ["plan", "deployments.yaml", "--emulator", "--detailed-exitcode", "--target"],
    ["no-such-command"],
    ["destroy", "deployments.yaml", "--emulator", "--purge"],
], ids=["output-yaml", "unknown-option", "extra-argument", "missing-spec", "option-without-value",
        "unknown-command", "purge-without-accounts"])
def test_usage_errors_exit_1(base, cli, argv):
    result = cli(*argv)
    assert result.code == 1
    assert result.err.strip()
    assert result.out == ""


def test_apply_of_a_saved_plan_rejects_target(base, cli):
    assert cli("plan", "deployments.yaml", "--emulator", "-out", "plan.json").code == 0
    result = cli("apply", "plan.json", "--emulator", "--target", ACCOUNT)
    assert result.code == 1
    assert "a saved plan already has its targets" in result.err


def test_apply_of_a_file_that_is_not_a_plan(base, cli):
    Path("plan.json").write_text('{"format_version": "99"}')
    result = cli("apply", "plan.json", "--emulator")
    assert result.code == 1
    assert "plan.json: not a provision plan file" in result.err


# 12. destroy plans

def test_destroy_plan_deletes_managed_things_only(applied, cli):
    with applied.live(SUBSCRIPTION) as client:
        unmanaged_deployment(client)

    result = cli("plan", "deployments.yaml", "--emulator", "--destroy", "--detailed-exitcode")
    assert result.code == 2, result.out + result.err
    assert result.out.startswith("Destroy plan for deployments.yaml")
    assert headers(result.out) == {BANNED: "-", STRICT: "-", CHAT: "-", EMBEDDINGS: "-"}
    assert "manual" not in result.out
    assert summary(delete=4) in result.out

    # the account holds `manual`, which is not ours: deleting the account would delete it too
    refused = cli("plan", "deployments.yaml", "--emulator", "--destroy", "--include-accounts")
    assert refused.code == 1
    assert (f"{ACCOUNT}: deleting the account would delete what this spec does not manage: deployments/manual "
            "(not managed by provision)") in refused.err
    document = plan_json(cli, "--destroy", "--include-accounts", "--delete-unowned")
    assert document["destroy"] is True
    assert {c["address"]: c["action"] for c in document["changes"]} == {
        ACCOUNT: "delete", BANNED: "delete", STRICT: "delete", CHAT: "delete", EMBEDDINGS: "delete"}
    account = next(c for c in document["changes"] if c["address"] == ACCOUNT)
    assert account["options"]["delete_unowned"] == ["deployments/manual"]
    assert set(account["depends_on"]) == {BANNED, STRICT, CHAT, EMBEDDINGS}

    assert cli("destroy", "deployments.yaml", "--emulator", "--auto-approve").code == 0
    with applied.live(SUBSCRIPTION) as client:
        assert [d.name for d in client.deployments.list(GROUP, ACCOUNT)] == ["manual"]
    after = cli("plan", "deployments.yaml", "--emulator", "--destroy", "--detailed-exitcode")
    assert after.code == 0
    assert "No changes." in after.out


def test_destroy_plan_skips_a_same_named_deployment_we_do_not_own(base, cli):
    """`chat` exists, but someone else made it: destroy must not touch it."""
    assert cli("apply", "deployments.yaml", "--emulator", "--auto-approve", "--target", f"{ACCOUNT}/embeddings"
               ).code == 0
    with base.live(SUBSCRIPTION) as client:
        unmanaged_deployment(client, "chat")
    result = cli("plan", "deployments.yaml", "--emulator", "--destroy", "--output", "json")
    assert result.code == 0, result.err
    assert {c["address"] for c in json.loads(result.out)["changes"]} == {EMBEDDINGS}


def test_destroy_plan_refuses_prevent_destroy(applied, cli):
    spec = base_spec()
    deployment(spec, "chat")["prevent_destroy"] = True
    applied.write(spec)
    result = cli("plan", "deployments.yaml", "--emulator", "--destroy", "--detailed-exitcode")
    assert result.code == 1
    assert f"{CHAT}: has prevent_destroy: true" in result.err
