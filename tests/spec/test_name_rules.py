"""Every name in a spec follows Azure's rules: each bad one is an error at its line, through
`provisioner.spec.load_from_text` and through `provision validate`."""
import json

import pytest
from typer.testing import CliRunner

from provisioner.cli.app import app
from provisioner.errors import SpecError
from provisioner.spec import load_from_text

runner = CliRunner()

# One placeholder per kind of name; line numbers are fixed by this template.
TEMPLATE = """\
version: 1
name: {spec_name}
defaults:
  subscription: {subscription}
  resource_group: {resource_group}
  location: {location}
key_vault:
  name: {key_vault}
  endpoint_secret: {endpoint_secret}
content_filters:
  {rai_policy}:
    blocklists: [banned]
blocklists:
  {blocklist}:
    items: [{blocklist_item}]
accounts:
  - name: {account}
    custom_subdomain: {custom_subdomain}
    deployments:
      - name: {deployment}
        model: gpt-4o
        capacity: 1
        content_filter: {content_filter}
      - {{name: other, model: gpt-4o, capacity: 1, content_filter: strict}}
"""
GOOD = {
    "spec_name": "aoai-prod", "subscription": "00000000-0000-0000-0000-0000000000c1", "resource_group": "rg-1",
    "location": "eastus2", "key_vault": "kv-aoai-prod", "endpoint_secret": '"{account}-endpoint"',
    "rai_policy": "strict", "blocklist": "banned", "blocklist_item": "forbidden phrase", "account": "acct-1",
    "custom_subdomain": "acct-1", "deployment": "chat", "content_filter": "Microsoft.DefaultV2",
}
# kind -> (line, field path, what the message names, how a value is written there)
WHERE = {
    "spec_name": (2, "name", "as a spec name", str),
    "subscription": (4, "defaults.subscription", "as a subscription id", str),
    "resource_group": (5, "defaults.resource_group", "as a resource group name", str),
    "location": (6, "defaults.location", "as a location", str),
    "key_vault": (8, "key_vault.name", "as a Key Vault name", str),
    "endpoint_secret": (9, "key_vault.endpoint_secret", "gives the secret name", lambda v: "{account}" + v),
    "rai_policy": (11, "content_filters.", "as a content filter (RAI policy) name", str),
    "blocklist": (14, "blocklists.", "as a blocklist name", str),
    "account": (17, "accounts[0].name", "as an account name", str),
    "custom_subdomain": (18, "accounts[0].custom_subdomain", "as a custom subdomain", str),
    "deployment": (20, "accounts[0].deployments[0].name", "as a deployment name", str),
    "content_filter": (23, "accounts[0].deployments[0].content_filter", "as a content filter (RAI policy) name",
                       lambda v: "Microsoft." + v),
}
ITEM = (15, "blocklists.banned.items[0]", "as a blocklist item", str)  # body content, tested on its own
HOSTILE = {
    "dot-dot": "..",
    "slash": "/",
    "dot-dot-slash": "../other",
    "encoded-slash": "%2F",
    "backslash": "a\\b",
    "question-mark": "a?b",
    "hash": "a#b",
    "newline": "a\nb",
    "nul": "a\x00b",
    "leading-space": " ab",
    "10000-characters": "a" * 10000,
}
# The spec's name is a tag value, not part of any URL: only these are wrong for it.
SPEC_NAME_HOSTILE = ("newline", "nul", "leading-space", "10000-characters")
# Keys with control characters are refused when the file is read, at the key; a key of 10,000
# characters is not even YAML (an implicit key has at most 1024), see the explicit-key test below.
KEYS = ("rai_policy", "blocklist")


def quoted(value: str) -> str:
    return json.dumps(value)  # a JSON string is a YAML double-quoted scalar


def spec_with(kind: str, value: str) -> str:
    fields = {name: quoted(text) if not text.startswith('"') else text for name, text in GOOD.items()}
    fields[kind] = quoted({**WHERE, "blocklist_item": ITEM}[kind][3](value))
    if kind == "rai_policy":  # keep the deployments pointing at the filter
        fields["content_filter"] = fields[kind]
    return TEMPLATE.format(**fields)


def expected(kind: str, case: str) -> tuple[int, str, str]:
    line, path, named, _ = WHERE[kind]
    if kind in KEYS and case == "10000-characters":
        return line, "", "invalid YAML"
    if kind in KEYS and case in ("newline", "nul"):
        return line, path.rstrip("."), "the key"
    return line, path, named


CASES = [
    (kind, case)
    for kind in WHERE
    for case in HOSTILE
    if kind != "spec_name" or case in SPEC_NAME_HOSTILE
]


def test_the_template_is_valid():
    spec, _ = load_from_text(TEMPLATE.format(**{k: quoted(v) if not v.startswith('"') else v
                                                for k, v in GOOD.items()}), "spec.yaml")
    assert spec.accounts[0].deployments[0].name == "chat"


@pytest.mark.parametrize("kind, case", CASES, ids=[f"{k}-{c}" for k, c in CASES])
def test_a_bad_name_is_an_error_at_its_line(kind, case):
    with pytest.raises(SpecError) as caught:
        load_from_text(spec_with(kind, HOSTILE[case]), "spec.yaml")
    line, path, named = expected(kind, case)
    matching = [d for d in caught.value.diagnostics
                if d.severity == "error" and d.line == line and d.path.startswith(path) and named in d.message]
    assert matching, [str(d) for d in caught.value.diagnostics]
    assert all("\n" not in str(d) for d in caught.value.diagnostics)  # each problem stays on one line


@pytest.mark.parametrize("kind, case", CASES, ids=[f"{k}-{c}" for k, c in CASES])
def test_provision_validate_reports_a_bad_name_and_exits_1(tmp_path, kind, case):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_with(kind, HOSTILE[case]), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 1
    assert result.stdout == ""
    line, path, named = expected(kind, case)
    assert any(
        error.startswith(f"{spec}:{line}:") and f" {path}" in error and named in error
        for error in result.stderr.splitlines()
    ), result.stderr


def test_names_are_checked_after_variables_are_expanded(monkeypatch):
    monkeypatch.setenv("DEPLOYMENT_NAME", "../../accounts/other")
    text = spec_with("deployment", "chat").replace('"chat"', "${DEPLOYMENT_NAME}")
    with pytest.raises(SpecError) as caught:
        load_from_text(text, "spec.yaml")
    (error,) = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert (error.line, error.path) == (20, "accounts[0].deployments[0].name")
    assert error.message.startswith("'../../accounts/other' is not valid as a deployment name: use 2-64 letters")


def test_a_spec_without_a_name_is_named_after_its_file_which_must_fit_a_tag_value():
    text = spec_with("spec_name", "x").replace('name: "x"\n', "", 1)
    _, desired = load_from_text(text, "team-a.yaml")
    assert desired.spec_name == "team-a"
    with pytest.raises(SpecError) as caught:
        load_from_text(text, "t" * 300 + ".yaml")
    (error,) = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert (error.line, error.path) == (1, "")
    assert error.message == (f"the spec sets no name, so its file's stem is used: '{'t' * 40}…' is not valid as a"
                             " spec name: it has 300 characters, Azure allows at most 256; set `name:`")


def test_an_account_name_that_is_too_long_for_a_subdomain():
    """Without custom_subdomain the account name is the subdomain, a DNS label of at most 63 characters."""
    name = "a" * 64
    text = spec_with("account", name).replace('    custom_subdomain: "acct-1"\n', "")
    with pytest.raises(SpecError) as caught:
        load_from_text(text, "spec.yaml")
    messages = [(d.line, d.path, d.message) for d in caught.value.diagnostics if d.severity == "error"]
    assert (17, "accounts[0].name", f"'{'a' * 40}…' is not valid as a custom subdomain: it has 64 characters,"
            " Azure allows at most 63 (the name is the custom subdomain: set custom_subdomain)") in messages
    load_from_text(spec_with("account", name), "spec.yaml")  # with a custom subdomain it is fine


def test_blocklist_items_may_hold_slashes_but_not_more_than_1000_characters():
    load_from_text(spec_with("blocklist_item", "../a/b?c#%2F"), "spec.yaml")
    with pytest.raises(SpecError) as caught:
        load_from_text(spec_with("blocklist_item", "x" * 1001), "spec.yaml")
    (error,) = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert (error.line, error.path) == (15, "blocklists.banned.items[0]")
    assert "it has 1001 characters, Azure allows at most 1000" in error.message


def test_a_regex_item_is_checked_at_its_regex():
    text = spec_with("blocklist", "banned").replace('items: ["forbidden phrase"]', 'items:\n      - regex: ""')
    with pytest.raises(SpecError) as caught:
        load_from_text(text, "spec.yaml")
    (error,) = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert (error.line, error.path) == (16, "blocklists.banned.items[0].regex")


def test_a_blocklist_holds_at_most_10000_items():
    items = ", ".join(f"t{i}" for i in range(10001))
    text = spec_with("blocklist", "banned").replace('[\"forbidden phrase\"]', f"[{items}]")
    with pytest.raises(SpecError) as caught:
        load_from_text(text, "spec.yaml")
    (error,) = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert (error.line, error.path) == (15, "blocklists.banned.items")
    assert error.message == "10001 items; Azure allows at most 10000 in one blocklist"


def test_two_accounts_may_not_publish_to_one_secret():
    text = spec_with("endpoint_secret", "-key-x").replace(
        "  endpoint_secret:", '  key_secret: "{account}-key"\n  endpoint_secret:'
    ) + "  - {name: acct-1-key, custom_subdomain: acct-1-key}\n"
    text = text.replace('"{account}-key-x"', '"{account}-x"')
    # acct-1-key's key is "acct-1-key-key"; acct-1's endpoint is "acct-1-x": no clash yet.
    load_from_text(text, "spec.yaml")
    clash = text.replace('"{account}-x"', '"{account}-key-key"')  # acct-1's endpoint: acct-1-key-key
    with pytest.raises(SpecError) as caught:
        load_from_text(clash, "spec.yaml")
    (error,) = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert (error.line, error.path) == (9, "key_vault.key_secret")
    assert error.message == (
        "'{account}-key' gives the secret name 'acct-1-key-key' to the key of account 'acct-1-key',"
        " but the endpoint of account 'acct-1' already has it (Key Vault secret names ignore case)"
    )


# Tags

TAGGED = """\
version: 1
defaults:
  subscription: 00000000-0000-0000-0000-0000000000c1
  resource_group: rg-1
  location: eastus2
  tags: {defaults}
accounts:
  - name: acct-1
    tags: {account}
    deployments:
      - name: chat
        model: gpt-4o
        capacity: 1
        tags: {deployment}
"""


def tag_errors(defaults="{}", account="{}", deployment="{}"):
    try:
        load_from_text(TAGGED.format(defaults=defaults, account=account, deployment=deployment), "spec.yaml")
    except SpecError as error:
        return [(d.line, d.path, d.message) for d in error.diagnostics if d.severity == "error"]
    return []


def flow(tags: dict) -> str:
    return "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in tags.items()) + "}"


def test_46_tags_fit_and_47_do_not():
    assert tag_errors(defaults=flow({f"t{i}": "v" for i in range(46)})) == []
    assert tag_errors(defaults=flow({f"t{i}": "v" for i in range(47)})) == [
        (6, "defaults.tags", "47 tags on one resource; Azure allows 50 and provision adds up to 4 of its own,"
                             " so at most 46"),
    ]


def test_inherited_tags_count_where_a_resource_adds_its_own():
    defaults = flow({f"d{i}": "v" for i in range(40)})
    assert tag_errors(defaults=defaults, account=flow({f"a{i}": "v" for i in range(6)})) == []
    assert [e[:2] for e in tag_errors(defaults=defaults, account=flow({f"a{i}": "v" for i in range(7)}))] == [
        (9, "accounts[0].tags"),
    ]
    assert [e[:2] for e in tag_errors(defaults=defaults, deployment=flow({f"x{i}": "v" for i in range(7)}))] == [
        (14, "accounts[0].deployments[0].tags"),
    ]


@pytest.mark.parametrize("name, message", [
    ("a/b", "tag name 'a/b' contains /; Azure tag names cannot contain < > % & \\ ? /"),
    ("%2F", "tag name '%2F' contains %; Azure tag names cannot contain < > % & \\ ? /"),
    (" team", "tag name ' team' must be printable text without leading or trailing spaces"),
    ("", "a tag name cannot be empty"),
])
def test_bad_tag_names(name, message):
    assert tag_errors(account=flow({name: "v"})) == [(9, f"accounts[0].tags.{name}", message)]


def test_keys_with_line_breaks_or_more_than_512_characters_are_refused_when_read():
    assert tag_errors(account=flow({"a" * 512: "v"})) == []
    assert tag_errors(account=flow({"a" * 513: "v"})) == [
        (9, "accounts[0].tags", f"the key '{'a' * 40}…' has 513 characters; keys have at most 512 (Azure's"
                                " limit for tag names, the longest)"),
    ]
    ((line, path, message),) = tag_errors(account=flow({"a\nb": "v"}))
    assert (line, path, message) == (9, "accounts[0].tags",
                                     "the key 'a\\nb' contains a control character or line break; keys are printable text")
    # An explicit key (`? key`) may be longer than the 1024 characters YAML allows an implicit one.
    text = TAGGED.format(defaults="{}", account="{}", deployment="{}") + (
        "content_filters:\n"
        f"  ? {'a' * 10000}\n"
        "  : {}\n"
    )
    with pytest.raises(SpecError) as caught:
        load_from_text(text, "spec.yaml")
    (error,) = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert (error.line, error.column, error.path) == (16, 5, "content_filters")
    assert error.message == (f"the key '{'a' * 40}…' has 10000 characters; keys have at most 512 (Azure's limit"
                             " for tag names, the longest)")


def test_a_tag_value_of_257_characters():
    assert tag_errors(deployment=flow({"note": "v" * 257})) == [
        (14, "accounts[0].deployments[0].tags.note",
         "the value of tag 'note' has 257 characters; Azure allows at most 256"),
    ]


def test_provisions_own_tags_are_reserved_in_any_case():
    assert tag_errors(defaults=flow({"Managed-By": "me"})) == [
        (6, "defaults.tags.Managed-By", "tag 'Managed-By' is set by provision itself"),
    ]
    assert tag_errors(account=flow({"PROVISION-SPEC": "x"})) == [
        (9, "accounts[0].tags.PROVISION-SPEC", "tag 'PROVISION-SPEC' is set by provision itself"),
    ]
    # the marks saying provision made grants or diagnostic settings on an account
    assert tag_errors(account=flow({"provision-access": "managed", "Provision-Diagnostics": "x"})) == [
        (9, "accounts[0].tags.provision-access", "tag 'provision-access' is set by provision itself"),
        (9, "accounts[0].tags.Provision-Diagnostics", "tag 'Provision-Diagnostics' is set by provision itself"),
    ]


def test_tag_names_that_differ_only_in_case():
    assert tag_errors(account=flow({"Team": "a", "team": "b"})) == [
        (9, "accounts[0].tags.team", "tag 'team' is also written 'Team' here; Azure tag names ignore case"),
    ]
    assert tag_errors(defaults=flow({"Team": "a"}), deployment=flow({"team": "b"})) == [
        (14, "accounts[0].deployments[0].tags.team",
         "tag 'team' is written 'Team' in defaults.tags; Azure tag names ignore case, so spell it the same way"
         " to override it"),
    ]
    assert tag_errors(defaults=flow({"Team": "a"}), account=flow({"Team": "b"})) == []  # a plain override


@pytest.mark.parametrize("written, stem", [('name: "aoai@dev"\n', "team"), ("", "aoai@dev")])
def test_a_spec_name_with_an_at_sign_would_own_another_specs_environment(written, stem):
    """Environment `dev` of spec `aoai` owns its resources as `aoai@dev`: a spec named so would take them."""
    text = spec_with("spec_name", "x").replace('name: "x"\n', written, 1)
    with pytest.raises(SpecError) as caught:
        load_from_text(text, f"{stem}.yaml")
    (error,) = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert error.path == ("name" if written else "")
    assert "has an '@'; environments are owned as NAME@ENV" in error.message
    _, desired = load_from_text(text.replace("aoai@dev", "aoai-dev"), f"{stem.replace('@', '-')}.yaml")
    assert desired.spec_name == "aoai-dev"
