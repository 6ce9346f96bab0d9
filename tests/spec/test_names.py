"""provisioner.model.names: Azure's naming and tag rules as pure functions."""
import posixpath
import random
import urllib.parse

import pytest

from provisioner.model import names
from provisioner.model.names import RULES, problem, shown

# Names that would address another resource, or that no Azure rule allows.
HOSTILE = {
    "dot-dot": "..",
    "dot": ".",
    "slash": "/",
    "inner-slash": "a/b",
    "backslash": "a\\b",
    "encoded-slash": "%2F",
    "inner-encoded-slash": "a%2Fb",
    "query": "a?b",
    "fragment": "a#b",
    "newline": "a\nb",
    "carriage-return": "a\rb",
    "nul": "a\x00b",
    "tab": "a\tb",
    "bidi-override": "a\u202eb",
    "leading-space": " ab",
    "trailing-space": "ab ",
    "10000-characters": "a" * 10000,
    "empty": "",
    "dot-dot-slash": "../accounts",
    "trailing-period": "ab.",
}
IN_PATH = [kind for kind, rule in RULES.items() if rule.in_path]

VALID = {
    "account": ["aoai-prod-eus2", "A1", "a" * 64],
    "custom_subdomain": ["aoai-prod-eus2", "a" * 63],
    "resource_group": ["rg-aoai-prod", "rg_(prod).v1", "Ressourcen-Gruppe-über", "r", "a" * 90],
    "deployment": ["chat", "gpt-4.1", "gpt_4o-mini", "a" * 64],
    "rai_policy": ["strict", "Microsoft.DefaultV2", "a" * 64],
    "blocklist": ["banned-terms", "list_1.v2", "a" * 64],
    "blocklist_item": ["forbidden phrase", "ba[rz]+", "../etc/passwd", "a/b?c#d%2F", "a" * 1000],
    "key_vault": ["kv-aoai-prod", "kv1", "a" * 24],
    "secret": ["aoai-prod-eus2-endpoint", "a" * 127],
    "subscription": ["00000000-0000-0000-0000-000000000000", "ABCDEF01-2345-6789-abcd-ef0123456789"],
    "location": ["eastus2", "East US 2", "swedencentral"],
    "spec_name": ["aoai-prod", "Team A / prod", "a" * 256],
    "private_endpoint": ["pe-aoai-prod", "pe_1.v2_", "a" * 64],
    "diagnostic_setting": ["provision-aoai-prod", "to_log.analytics", "a" * 260],
}

TOO_LONG = {
    "account": "a" * 65, "custom_subdomain": "a" * 64, "resource_group": "a" * 91, "deployment": "a" * 65,
    "rai_policy": "a" * 65, "blocklist": "a" * 65, "blocklist_item": "a" * 1001, "key_vault": "a" * 25,
    "secret": "a" * 128, "location": "a" * 65, "spec_name": "a" * 257, "private_endpoint": "a" * 65,
    "diagnostic_setting": "a" * 261,
}


def test_every_kind_has_valid_examples_and_a_length_limit():
    assert set(VALID) == set(RULES)
    assert set(TOO_LONG) == set(RULES) - {"subscription"}  # a GUID has one length


@pytest.mark.parametrize("kind", RULES)
def test_valid_names_pass(kind):
    for name in VALID[kind]:
        assert problem(kind, name) is None, (kind, name)


@pytest.mark.parametrize("kind", IN_PATH)
@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_names_fail_for_every_name_in_a_url(kind, name):
    message = problem(kind, name)
    assert message is not None
    assert RULES[kind].what in message
    assert "\n" not in message and len(message) < 300  # one readable line, even for 10,000 characters


@pytest.mark.parametrize("kind", RULES)
def test_one_character_too_many_fails_and_says_how_many_are_allowed(kind):
    if kind == "subscription":
        assert problem(kind, "0" * 37) is not None
        return
    name = TOO_LONG[kind]
    assert problem(kind, name[:-1]) is None
    assert problem(kind, name) == (
        f"{shown(name)} is not valid as {RULES[kind].what}: it has {len(name)} characters,"
        f" Azure allows at most {len(name) - 1}"
    )


@pytest.mark.parametrize("kind, name, rule", [
    ("account", "acct_1", "use 2-64 letters, digits and hyphens, starting and ending with a letter or digit"),
    ("account", "acct-", "use 2-64 letters, digits and hyphens, starting and ending with a letter or digit"),
    ("account", "a", "use 2-64 letters, digits and hyphens, starting and ending with a letter or digit"),
    ("custom_subdomain", "ai_foundry-resource", "use 2-63 letters, digits and hyphens"),
    ("resource_group", "rg.", "not ending with a period"),
    ("deployment", "chat.", "not ending with a period"),
    ("deployment", "c", "use 2-64 letters"),
    ("deployment", "-chat", "starting with a letter or digit"),
    ("rai_policy", "strict~", "use 1-64 letters, digits, hyphens, underscores and periods"),
    ("key_vault", "kv--aoai", "letters, digits and single hyphens"),
    ("key_vault", "1kv", "starting with a letter"),
    ("key_vault", "kv", "use 3-24"),
    ("secret", "acct_1-key", "use 1-127 letters, digits and hyphens"),
    ("subscription", "sub-1", "use a GUID such as 00000000-0000-0000-0000-000000000000"),
    ("location", "east  us", "words separated by single spaces"),
    ("spec_name", " prod", "without leading or trailing spaces"),
    ("spec_name", "pr\nod", "printable characters"),
    ("blocklist_item", "", "use 1-1000 characters"),
])
def test_each_problem_states_the_rule(kind, name, rule):
    message = problem(kind, name)
    assert message is not None and message.startswith(f"{shown(name)} is not valid as {RULES[kind].what}: ")
    assert rule in message


def test_blocklist_items_and_spec_names_are_not_path_segments():
    """Both travel in request bodies, so slashes and dots are plain content there."""
    for text in ("..", "/", "a/b", "%2F", "a?b#c"):
        assert problem("blocklist_item", text) is None
        assert problem("spec_name", text) is None
    assert problem("blocklist_item", "line one\nline two") is None  # a term may span lines
    assert problem("spec_name", "line one\nline two") is not None  # a tag value compared exactly


def _addresses_only_itself(name: str) -> bool:
    """`name` as one segment of a URL path names that segment and nothing else."""
    path = f"/accounts/{name}/deployments"
    return (
        posixpath.normpath(path) == path  # no dot segments to remove
        and urllib.parse.unquote(name) == name  # nothing to decode
        and urllib.parse.urlsplit(f"https://h{path}").path == path  # no ? or # to cut it short
        and "\\" not in name  # some servers read it as /
        and not name.endswith(".")  # some servers drop a trailing period
        and name == name.strip() and name.isprintable()
    )


@pytest.mark.parametrize("kind", IN_PATH)
def test_no_name_that_passes_can_address_another_resource(kind):
    """Random names over an alphabet of troublemakers, and valid names with troublemakers put in:
    every one that passes addresses only itself."""
    alphabet = "aZ09-_.()/\\?#%&:+ \t\n\x00\u202e~é"
    chooser = random.Random(f"names-{kind}")
    passed = 0
    for _ in range(10000):
        random_name = "".join(chooser.choice(alphabet) for _ in range(chooser.randint(1, 8)))
        changed = list(chooser.choice(VALID[kind]))
        changed[chooser.randrange(len(changed))] = chooser.choice(alphabet)
        for name in (random_name, "".join(changed)):
            if problem(kind, name) is not None:
                continue
            passed += 1
            assert _addresses_only_itself(name), (kind, name)
    assert passed > 0  # the alphabet does produce valid names: the assertion above was exercised


@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_path_segment_problem_refuses_every_hostile_name(name):
    if name in ("a" * 10000,):
        assert names.path_segment_problem(name) is None  # long but harmless: only safety is checked here
    else:
        assert names.path_segment_problem(name) is not None


def test_path_segment_problem_accepts_names_azure_may_hold():
    for name in ("a", "gpt-4.1", "Über_(1)", "x" * 300, "~tilde"):
        assert names.path_segment_problem(name) is None
        assert _addresses_only_itself(name)
    assert names.path_segment_problem("..") == "'..' is not a name: it would address the resource above (dot" \
                                               " segments are removed)"
    assert names.path_segment_problem("a%2Fb") == "'a%2Fb' contains '%', which would change the address of the request"
    assert names.path_segment_problem("a.") == "'a.' ends with a period, which some servers drop from a URL"


def test_problem_never_raises_on_non_text():
    assert problem("account", 42) == "an account name must be text"


# Tags


def test_tag_names():
    assert names.tag_name_problem("cost-center") is None
    assert names.tag_name_problem("a" * 512) is None
    assert names.tag_name_problem("..") is None  # tag names are not path segments of provision's requests
    assert names.tag_name_problem("a" * 513) == f"tag name {shown('a' * 513)} has 513 characters; Azure allows at most 512"
    assert names.tag_name_problem("") == "a tag name cannot be empty"
    for character in "<>%&\\?/":
        message = names.tag_name_problem(f"a{character}b")
        assert message is not None and f"contains {character};" in message
    assert "printable" in names.tag_name_problem("a\nb")
    assert "printable" in names.tag_name_problem(" team")


def test_tag_values():
    assert names.tag_value_problem("team", "v" * 256) is None
    assert names.tag_value_problem("team", "") is None
    assert names.tag_value_problem("team", "v" * 257) == (
        "the value of tag 'team' has 257 characters; Azure allows at most 256"
    )


def test_tag_count_leaves_room_for_provisions_own_tags():
    assert names.MAX_USER_TAGS == 50 - 4
    assert names.tag_count_problem({f"t{i}": "" for i in range(46)}) is None
    assert names.tag_count_problem({f"t{i}": "" for i in range(47)}) == (
        "47 tags on one resource; Azure allows 50 and provision adds up to 4 of its own, so at most 46"
    )
    # Tag names ignore case: Team and team are one tag.
    assert names.tag_count_problem({**{f"t{i}": "" for i in range(46)}, "T0": ""}) is None


def test_shown_keeps_messages_on_one_line():
    assert shown("plain") == "'plain'"
    assert shown("a\nb\tc\x00\u202e") == "'a\\nb\\tc\\x00\\u202e'"
    assert shown("x" * 100) == "'" + "x" * 40 + "…'"
