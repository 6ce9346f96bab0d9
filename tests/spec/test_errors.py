"""Bad specs: every problem is reported with its line, field path and a plain message."""
from textwrap import dedent

import pytest

from provisioner.errors import SpecError
from provisioner.spec import load_from_text

VALID = """\
version: 1
defaults:
  subscription: 00000000-0000-0000-0000-0000000000c1
  resource_group: rg-1
  location: eastus2
accounts:
  - name: acct-1
    deployments:
      - name: chat
        model: gpt-4o
        capacity: 10
"""


def errors_in(text):
    with pytest.raises(SpecError) as caught:
        load_from_text(dedent(text), "spec.yaml")
    return [d for d in caught.value.diagnostics if d.severity == "error"]


def only_error_in(text):
    errors = errors_in(text)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def with_deployment_lines(*lines):
    return VALID + "".join(f"        {line}\n" for line in lines)


CASES = {
    "yaml syntax error": (
        "version: 1\ndefaults:\n  subscription: a: b\n",
        (3, "", "invalid YAML: mapping values are not allowed here"),
    ),
    "version 2": (VALID.replace("version: 1", "version: 2"), (1, "version", "reads spec version 1 only, found version 2")),
    "missing version": (VALID.replace("version: 1\n", ""), (1, "version", "required field 'version' is missing")),
    "unknown key with suggestion": (
        VALID.replace("capacity: 10", "capacty: 10"),
        (11, "accounts[0].deployments[0].capacty", "unknown field 'capacty'; did you mean 'capacity'?"),
    ),
    "unknown top-level key": (
        VALID.replace("accounts:", "acounts:"),
        (6, "acounts", "did you mean 'accounts'?"),
    ),
    "wrong enum with suggestion": (
        with_deployment_lines("type: standrd"),
        (12, "accounts[0].deployments[0].type", "expected 'standard', 'provisioned', 'batch' or 'developer', found 'standrd'; did you mean 'standard'?"),
    ),
    "negative capacity": (
        VALID.replace("capacity: 10", "capacity: -5"),
        (11, "accounts[0].deployments[0].capacity", "expected a number greater than 0, found -5"),
    ),
    "string capacity": (
        VALID.replace("capacity: 10", 'capacity: "100"'),
        (11, "accounts[0].deployments[0].capacity", "expected a positive whole number or {min: N, max: N}, found '100'"),
    ),
    "flexible capacity min above max": (
        VALID.replace("capacity: 10", "capacity: {min: 300, max: 50}"),
        (11, "accounts[0].deployments[0].capacity", "capacity min (300) is greater than max (50)"),
    ),
    "bool where a bool is expected": (
        VALID.replace("  - name: acct-1\n", "  - name: acct-1\n    local_auth: maybe\n"),
        (8, "accounts[0].local_auth", "expected true or false, found 'maybe'"),
    ),
    "missing model": (
        VALID.replace("        model: gpt-4o\n", ""),
        (9, "accounts[0].deployments[0].model", "required field 'model' is missing"),
    ),
    "duplicate account": (
        VALID + "  - name: ACCT-1\n",
        (12, "accounts[1].name", "duplicate account name 'ACCT-1' (first at line 7)"),
    ),
    "duplicate deployment": (
        VALID + "      - {name: chat, model: gpt-4o-mini, capacity: 5}\n",
        (12, "accounts[0].deployments[1].name", "duplicate deployment name 'chat' in account 'acct-1' (first at line 9)"),
    ),
    "duplicate yaml key": (
        with_deployment_lines("model: gpt-4o-mini"),
        (12, "accounts[0].deployments[0].model", "duplicate key 'model' (first at line 10)"),
    ),
    "undefined content filter": (
        with_deployment_lines("content_filter: strct") + "content_filters:\n  strict: {jailbreak: block}\n",
        (12, "accounts[0].deployments[0].content_filter", "content filter 'strct' is not defined"),
    ),
    "undefined blocklist": (
        with_deployment_lines("content_filter: strict") + "content_filters:\n  strict:\n    blocklists: [bad-words]\n",
        (15, "content_filters.strict.blocklists[0]", "blocklist 'bad-words' is not defined under blocklists"),
    ),
    # Azure names ignore case: two of these would be one RAI policy or blocklist, written in turn
    "content filters named alike but for case": (
        with_deployment_lines("content_filter: strict")
        + "      - {name: other, model: gpt-4o, capacity: 5, content_filter: STRICT}\n"
        + "content_filters:\n  strict: {}\n  STRICT: {mode: default}\n",
        (16, "content_filters.STRICT", "content filter 'STRICT' and 'strict' (at line 15) are one Azure resource on account 'acct-1'"),
    ),
    "blocklists named alike but for case": (
        with_deployment_lines("content_filter: strict")
        + "content_filters:\n  strict: {blocklists: [banned, BANNED]}\n"
        + "blocklists:\n  banned: {items: [a]}\n  BANNED: {items: [b]}\n",
        (17, "blocklists.BANNED", "blocklist 'BANNED' and 'banned' (at line 16) are one Azure resource on account 'acct-1'"),
    ),
    "empty model": (
        VALID.replace("model: gpt-4o", 'model: ""'),
        (10, "accounts[0].deployments[0].model", "expected at least 1 character"),
    ),
    "empty version": (
        with_deployment_lines('version: ""'),
        (12, "accounts[0].deployments[0].version", "expected at least 1 character"),
    ),
    "filter named like a built-in": (
        with_deployment_lines("content_filter: Microsoft.Mine") + "content_filters:\n  Microsoft.Mine: {}\n",
        (14, "content_filters.Microsoft.Mine", "kept for built-in policies"),
    ),
    "bad category threshold": (
        with_deployment_lines("content_filter: strict") + "content_filters:\n  strict:\n    categories: {violence: extreme}\n",
        (15, "content_filters.strict.categories.violence", "expected 'low', 'medium', 'high' or 'off', found 'extreme'"),
    ),
    "spillover to itself": (
        with_deployment_lines("spillover: chat"),
        (12, "accounts[0].deployments[0].spillover", "a deployment cannot spill over to itself"),
    ),
    "spillover to a missing deployment": (
        with_deployment_lines("spillover: backup"),
        (12, "accounts[0].deployments[0].spillover", "spillover must name a deployment on the same account; account 'acct-1' has no 'backup'"),
    ),
    "spillover to another account": (
        with_deployment_lines("spillover: backup") + "  - name: acct-2\n    deployments:\n      - {name: backup, model: gpt-4o, capacity: 5}\n",
        (12, "accounts[0].deployments[0].spillover", "spillover must name a deployment on the same account; account 'acct-1' has no 'backup' ('backup' is on account 'acct-2')"),
    ),
    "regional batch": (
        with_deployment_lines("type: batch", "scope: regional"),
        (13, "accounts[0].deployments[0].scope", "batch deployments cannot have scope regional; use global or datazone"),
    ),
    "developer in a data zone": (
        with_deployment_lines("type: developer", "scope: datazone"),
        (13, "accounts[0].deployments[0].scope", "developer deployments cannot have scope datazone; use global"),
    ),
    "sku together with type": (
        with_deployment_lines("sku: GlobalStandard", "type: standard"),
        (12, "accounts[0].deployments[0].sku", "give either sku or type/scope, not both"),
    ),
    "missing subscription": (
        VALID.replace("  subscription: 00000000-0000-0000-0000-0000000000c1\n", ""),
        (6, "accounts[0]", "account 'acct-1' has no subscription: set defaults.subscription or accounts[0].subscription"),
    ),
    "unset environment variable": (
        VALID.replace("00000000-0000-0000-0000-0000000000c1", "${PROVISION_TEST_UNSET}"),
        (3, "defaults.subscription", "environment variable PROVISION_TEST_UNSET is not set"),
    ),
    "malformed reference": (
        VALID.replace("00000000-0000-0000-0000-0000000000c1", "${1SUB}"),
        (3, "defaults.subscription", "'${1SUB}' is not a valid reference"),
    ),
    "bad account name": (
        VALID.replace("acct-1", "acct_1"),
        (7, "accounts[0].name", "'acct_1' is not valid as an account name: use 2-64 letters, digits and hyphens"),
    ),
    "reserved tag": (
        VALID.replace("  location: eastus2\n", "  location: eastus2\n  tags: {managed-by: me}\n"),
        (6, "defaults.tags.managed-by", "tag 'managed-by' is set by provision itself"),
    ),
    "bad key vault secret template": (
        VALID + "key_vault: {name: kv-1, key_secret: '{account}_key'}\n",
        (12, "key_vault.key_secret", "'{account}_key' gives the secret name 'acct-1_key' for account 'acct-1'"),
    ),
}


@pytest.mark.parametrize("text, expected", CASES.values(), ids=CASES.keys())
def test_each_problem_is_located_and_explained(text, expected, monkeypatch):
    monkeypatch.delenv("PROVISION_TEST_UNSET", raising=False)
    line, path, message_part = expected
    error = only_error_in(text)
    assert (error.file, error.line, error.path) == ("spec.yaml", line, path), str(error)
    assert message_part in error.message


def test_a_spillover_loop_is_reported_on_each_deployment_in_it():
    text = with_deployment_lines("spillover: other") + "      - {name: other, model: gpt-4o, capacity: 5, spillover: chat}\n"
    assert [(e.line, e.message) for e in errors_in(text)] == [
        (12, "spillover loop: chat -> other -> chat"),
        (13, "spillover loop: other -> chat -> other"),
    ]


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_an_empty_file_is_an_error(text):
    error = only_error_in(text)
    assert error.line is None
    assert "the file is empty" in error.message


def test_a_list_at_the_top_is_an_error():
    error = only_error_in("- version: 1\n")
    assert (error.line, error.path) == (1, "")
    assert error.message == "expected a mapping (key: value), found a list"


def test_every_schema_error_is_reported_at_once():
    text = VALID.replace("version: 1", "version: 3").replace("capacity: 10", "capacity: 0\n        upgrade: sometimes")
    errors = errors_in(text)
    assert [(e.line, e.path) for e in errors] == [
        (1, "version"),
        (11, "accounts[0].deployments[0].capacity"),
        (12, "accounts[0].deployments[0].upgrade"),
    ]


def test_every_semantic_error_is_reported_at_once():
    text = with_deployment_lines("spillover: nowhere", "content_filter: nothing") + "  - name: acct-1\n"
    errors = errors_in(text)
    assert [(e.line, e.path) for e in errors] == [
        (12, "accounts[0].deployments[0].spillover"),
        (13, "accounts[0].deployments[0].content_filter"),
        (14, "accounts[1].name"),
    ]


def test_the_error_message_lists_every_error_with_its_location():
    error = pytest.raises(SpecError, load_from_text, VALID.replace("capacity: 10", "capacity: x"), "spec.yaml").value
    assert str(error) == (
        "1 error(s) in spec:\n"
        "spec.yaml:11:19: accounts[0].deployments[0].capacity:"
        " expected a positive whole number or {min: N, max: N}, found 'x'"
    )


def test_filters_named_alike_but_for_case_on_different_accounts_are_fine():
    """Each account holds only the filters its deployments use: `strict` on one and `Strict` on
    another are two resources (as `provision import` writes them for such accounts)."""
    text = (with_deployment_lines("content_filter: strict")
            + "  - name: acct-2\n    deployments:\n      - {name: chat, model: gpt-4o, capacity: 5, content_filter: Strict}\n"
            + "content_filters:\n  strict: {}\n  Strict: {mode: default}\n")
    load_from_text(dedent(text), "spec.yaml")
