"""`provision import` end to end: accounts, deployments, content filters and blocklists made with the SDK
only (no tags, as the portal leaves them) are written as a spec that validates, is readable, plans to
nothing but adoptions, and converges after one apply."""
from __future__ import annotations

import json

import yaml
from apply_helpers import (  # noqa: F401 - azure is a fixture
    EAST,
    GROUP,
    SUBSCRIPTION,
    SWEDEN,
    azure,
)

POLICY = {"properties": {"basePolicyName": "Microsoft.DefaultV2", "mode": "Blocking", "contentFilters": [
    {"name": "Hate", "source": "Prompt", "enabled": True, "blocking": True, "severityThreshold": "Low"},
    {"name": "Hate", "source": "Completion", "enabled": True, "blocking": True, "severityThreshold": "Low"},
    {"name": "Violence", "source": "Prompt", "enabled": True, "blocking": True, "severityThreshold": "Medium"},
    {"name": "Violence", "source": "Completion", "enabled": True, "blocking": True, "severityThreshold": "High"},
    {"name": "Jailbreak", "source": "Prompt", "enabled": True, "blocking": True}],
    "customBlocklists": [{"blocklistName": "banned", "blocking": True, "source": "Prompt"},
                         {"blocklistName": "banned", "blocking": True, "source": "Completion"}]}}


def _by_hand(azure, account: str, location: str, *, policy: dict = POLICY) -> None:
    cognitive = azure.cognitive
    azure.resources.resource_groups.create_or_update(GROUP, {"location": "eastus2"})
    cognitive.accounts.begin_create(GROUP, account, {
        "location": location, "kind": "OpenAI", "sku": {"name": "S0"},
        "properties": {"customSubDomainName": account}}).result()
    cognitive.rai_blocklists.create_or_update(GROUP, account, "banned", {"properties": {"description": "never"}})
    for item, (pattern, regex) in {"one": ("forbidden phrase", False), "two": ("ba[rz]+", True)}.items():
        cognitive.rai_blocklist_items.create_or_update(GROUP, account, "banned", item,
                                                       {"properties": {"pattern": pattern, "isRegex": regex}})
    cognitive.rai_policies.create_or_update(GROUP, account, "strict", policy)
    cognitive.deployments.begin_create_or_update(GROUP, account, "chat", {
        "sku": {"name": "GlobalStandard", "capacity": 7},
        "properties": {"model": {"format": "OpenAI", "name": "gpt-4o-mini", "version": "2024-07-18"},
                       "raiPolicyName": "strict"}}).result()


def _import(azure, *extra) -> str:
    result = azure.run("import", "--resource-group", GROUP, "--subscription", SUBSCRIPTION, *extra)
    assert result.code == 0, result
    return result.out


def test_imported_spec_validates_plans_only_adoptions_and_converges(azure):
    _by_hand(azure, EAST, "eastus2")
    _by_hand(azure, SWEDEN, "swedencentral")
    azure.cognitive.deployments.begin_create_or_update(GROUP, EAST, "embeddings", {
        "sku": {"name": "Standard", "capacity": 3},
        "properties": {"model": {"format": "OpenAI", "name": "text-embedding-ada-002", "version": "2"},
                       "versionUpgradeOption": "NoAutoUpgrade"}}).result()
    written = azure.run("import", "--resource-group", GROUP, "--subscription", SUBSCRIPTION,
                        "--name", "imported", "--out", "deployments.yaml")
    assert written.code == 0, written
    path = azure.directory / "deployments.yaml"
    assert azure.run("validate", path).code == 0

    planned = azure.run("plan", path, "--output", "json")
    assert planned.code == 0, planned
    document = json.loads(planned.out)
    pending = {c["address"]: c["action"] for c in document["changes"] if c["action"] != "no-op"}
    assert set(pending.values()) == {"adopt"}
    assert set(pending) == {EAST, SWEDEN, *(f"{a}/{kind}/{n}" for a in (EAST, SWEDEN) for kind, n in
                                            (("raiBlocklists", "banned"), ("raiPolicies", "strict"),
                                             ("deployments", "chat"))), f"{EAST}/deployments/embeddings"}
    for change in document["changes"]:  # only our tags are written: nothing else differs
        assert {f["path"] for f in change["fields"]} <= {"tags.managed-by", "tags.provision-spec"}, change

    assert azure.apply(path).code == 0
    again = azure.run("plan", path, "--detailed-exitcode")
    assert again.code == 0, again
    assert "No changes." in again.out
    assert azure.deployments(EAST)["chat"].tags["provision-spec"] == "imported"


def test_the_spec_is_readable_defaults_omitted_filters_once_comments_where_resolved(azure):
    _by_hand(azure, EAST, "eastus2")
    _by_hand(azure, SWEDEN, "swedencentral")
    text = _import(azure)
    spec = yaml.safe_load(text)
    assert spec["name"] == GROUP and spec["defaults"] == {"subscription": SUBSCRIPTION, "resource_group": GROUP,
                                                          "location": "eastus2"}
    assert spec["content_filters"] == {"strict": {
        "mode": "blocking", "categories": {"hate": "low", "violence": {"prompt": "medium", "completion": "high"}},
        "jailbreak": "block", "blocklists": ["banned"]}}
    assert spec["blocklists"] == {"banned": {"description": "never", "items": [{"regex": "ba[rz]+"},
                                                                               "forbidden phrase"]}}
    east, sweden = spec["accounts"]
    assert east == {"name": EAST, "deployments": [{"name": "chat", "model": "gpt-4o-mini", "version": "2024-07-18",
                                                   "capacity": 7, "content_filter": "strict"}]}
    assert sweden["location"] == "swedencentral"
    assert "version: 2024-07-18  # pinned to the deployed version" in text or \
        "version: \"2024-07-18\"  # pinned to the deployed version" in text
    assert text.count("strict:") == 1


def test_one_account_by_id_and_adoption_refused_with_no_adopt(azure):
    _by_hand(azure, EAST, "eastus2")
    _by_hand(azure, SWEDEN, "swedencentral")
    account_id = azure.account(SWEDEN).id
    result = azure.run("import", "--account", account_id, "--out", "one.yaml")
    assert result.code == 0, result
    spec = yaml.safe_load((azure.directory / "one.yaml").read_text())
    assert [a["name"] for a in spec["accounts"]] == [SWEDEN] and spec["name"] == SWEDEN
    refused = azure.run("plan", azure.directory / "one.yaml", "--no-adopt")
    assert refused.code == 1
    assert f"{SWEDEN}, {SWEDEN}/raiBlocklists/banned" in refused.err and "already exist without ownership tags" \
        in refused.err


def test_same_named_filters_that_differ_are_an_error_and_nothing_is_written(azure):
    _by_hand(azure, EAST, "eastus2")
    other = json.loads(json.dumps(POLICY))
    other["properties"]["mode"] = "Default"
    _by_hand(azure, SWEDEN, "swedencentral", policy=other)
    result = azure.run("import", "--resource-group", GROUP, "--subscription", SUBSCRIPTION, "--out", "x.yaml")
    assert result.code == 1
    assert f"content filter strict differs between accounts {EAST} and {SWEDEN}" in result.err
    assert not (azure.directory / "x.yaml").exists()


def test_usage_and_missing_things(azure):
    assert azure.run("import").code == 1
    assert azure.run("import", "--resource-group", GROUP).code == 1  # no subscription
    missing = azure.run("import", "--resource-group", "rg-nope", "--subscription", SUBSCRIPTION)
    assert missing.code == 1 and "resource group rg-nope was not found" in missing.err
    bad = azure.run("import", "--account", "not-an-id")
    assert bad.code == 1 and "is not an account id" in bad.err
    _by_hand(azure, EAST, "eastus2")
    (azure.directory / "deployments.yaml").write_text("keep me\n")
    exists = azure.run("import", "--resource-group", GROUP, "--subscription", SUBSCRIPTION, "--out",
                       "deployments.yaml")
    assert exists.code == 1 and (azure.directory / "deployments.yaml").read_text() == "keep me\n"


def test_references_spelled_in_another_case_than_what_they_name_are_imported_as_named(azure):
    """ARM names ignore case, so a deployment may name its policy `STRICT` or its spillover `CHAT`,
    and a policy its blocklist `banned`, for the live `Strict`, `chat` and `Banned`. The imported spec
    spells each reference as what it names (a spec's references are exact), and converges."""
    cognitive = azure.cognitive
    azure.resources.resource_groups.create_or_update(GROUP, {"location": "eastus2"})
    cognitive.accounts.begin_create(GROUP, EAST, {"location": "eastus2", "kind": "OpenAI", "sku": {"name": "S0"},
                                                  "properties": {"customSubDomainName": EAST}}).result()
    cognitive.rai_blocklists.create_or_update(GROUP, EAST, "Banned", {"properties": {"description": "never"}})
    cognitive.rai_blocklist_items.create_or_update(GROUP, EAST, "Banned", "one",
                                                   {"properties": {"pattern": "ba[rz]+", "isRegex": True}})
    cognitive.rai_policies.create_or_update(GROUP, EAST, "Strict", POLICY)  # its blocklist: `banned`
    for name, sku, capacity, model, version, extra in (
            ("chat", "GlobalStandard", 7, "gpt-4o-mini", "2024-07-18", {"raiPolicyName": "strict"}),
            ("ptu", "GlobalProvisionedManaged", 15, "gpt-4o", "2024-11-20",
             {"raiPolicyName": "STRICT", "spilloverDeploymentName": "CHAT"})):
        cognitive.deployments.begin_create_or_update(GROUP, EAST, name, {
            "sku": {"name": sku, "capacity": capacity},
            "properties": {"model": {"format": "OpenAI", "name": model, "version": version}, **extra}}).result()

    written = azure.run("import", "--resource-group", GROUP, "--subscription", SUBSCRIPTION,
                        "--out", "deployments.yaml")

    assert written.code == 0, written
    spec = yaml.safe_load((azure.directory / "deployments.yaml").read_text())
    assert spec["content_filters"]["Strict"]["blocklists"] == ["Banned"] and set(spec["blocklists"]) == {"Banned"}
    chat, ptu = spec["accounts"][0]["deployments"]
    assert (chat["content_filter"], ptu["content_filter"], ptu["spillover"]) == ("Strict", "Strict", "chat")
    path = azure.directory / "deployments.yaml"
    planned = json.loads(azure.run("plan", path, "--output", "json").out)
    assert {c["action"] for c in planned["changes"]} - {"no-op"} == {"adopt"}
    assert azure.apply(path).code == 0
    again = azure.run("plan", path, "--detailed-exitcode")
    assert again.code == 0, again
