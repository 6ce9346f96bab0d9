"""libyaml and PyYAML's own parser give the same result for every input: the same values, the
same positions, the same diagnostics. And the linear scanner finds the same tokens as PyYAML's."""
import random
from pathlib import Path

import pytest
import yaml
from yaml.reader import Reader
from yaml.scanner import Scanner

from provisioner.errors import SpecError
from provisioner.spec import load_from_text, loader

COMPARES_PARSERS = True  # see conftest.py: these tests switch parsers themselves, so they run once
REPO = Path(__file__).resolve().parents[2]
GUID = "00000000-0000-0000-0000-0000000000c1"
HEAD = f"version: 1\ndefaults: {{subscription: {GUID}, resource_group: rg, location: eastus2}}\n"

SNIPPETS = {
    "example": (REPO / "deployments.yaml").read_text(),
    "flow-and-block": HEAD + "accounts:\n  - {name: acct-1, deployments: [{name: chat, model: gpt-4o, capacity: 1}]}\n",
    "merge-keys": HEAD + "accounts:\n  - name: acct-1\n    deployments:\n      - &d {name: a1, model: m, capacity: 1}\n"
                         "      - <<: *d\n        name: a2\n",
    "merge-list": HEAD + "x: &x {model: m}\ny: &y {capacity: 2}\naccounts:\n  - name: a\n    deployments:\n"
                         "      - <<: [*x, *y]\n        name: d1\n",
    "block-scalars": HEAD + "blocklists:\n  b:\n    description: |\n      two\n      lines\n    items: [>\n      folded]\n"
                            "accounts: []\n",
    "quoting": HEAD + "name: 'single ''quoted'''\nblocklists:\n  \"b\": {description: \"tab\\there\"}\naccounts: []\n",
    "yaml-1.1-words": HEAD + "accounts:\n  - name: a\n    local_auth: off\n    prevent_destroy: yes\n"
                             "    deployments: [{name: d, model: m, capacity: 017, version: 2024-11-20}]\n",
    "numbers": "a: 0o17\nb: 0x1F\nc: 1_000\nd: .inf\ne: ~\nf: null\ng: -5\nh: 1.5e3\ni: 190:20:30\n",
    "explicit-keys": "? complex\n: value\n? [a, b]\n: c\n",
    "collection-keys": "[a, b]: c\n{d: e}: f\n",
    "deep-flow": "x: [[[[[[a]]]]]]\ny: {[a]: b, c: [d, {e: f}]}\n",
    "directives": "%YAML 1.1\n---\nversion: 1\n...\n",
    "two-documents": "--- a\n--- b\n",
    "tab-indent": "a: b\n\tc: d\n",
    "bad-indent": "a: b\n  c: d\n",
    "mapping-in-value": "a: b: c\n",
    "list-then-key": "- a\nb: c\n",
    "unclosed-flow": "key: [a, b\n",
    "unclosed-quote": "a: 'unterminated\n",
    "undefined-alias": "a: *unknown\n",
    "duplicate-anchor": "a: &x 1\nb: &x 2\n",
    "duplicate-key": HEAD + "accounts: []\naccounts: []\n",
    "tags": "!!str 5: !!int '7'\n",
    "unknown-tag": "a: !custom x\n",
    "bad-int-tag": "a: !!int x\n",
    "bom": "\ufeffversion: 1\naccounts: []\n",
    "crlf": "version: 1\r\naccounts: []\r\n",
    "non-printable": "a: \x07\n",
    "nul": "a: b\x00\n",
    "unicode": HEAD + "blocklists:\n  é: {description: \"😀 ü\"}\naccounts: []\n",
    "variables": HEAD + "accounts:\n  - name: ${PARSER_TEST_NAME:-a1}\n    deployments: []\n",
    "unset-variable": HEAD + "accounts:\n  - name: ${PARSER_TEST_UNSET}\n",
    "empty": "",
    "comment-only": "# nothing\n",
    "scalar-document": "just text\n",
    "anchored-scalar-key": "&k key: value\n*k : again\n",
    "long-key": "? " + "k" * 2000 + "\n: v\n",
    "long-implicit-key": "k" * 2000 + ": v\n",
    "alias-loop": "a: &a [*a]\n",
    # Read differently by libyaml and PyYAML: PyYAML's reading wins.
    "tab-in-plain-text": "b: ~\t[\n",
    "question-mark-in-flow": "a: [x ? y]\n",
    "odd-tag": "!~!!str |\n  z\n",
    "empty-flow-value": HEAD + "accounts: [{name: , deployments: []}]\n",
    "loop-after-a-difference": "&n [x ? y, *n]\n",
    "two-byte-order-marks": "\ufeff\ufeffa: b\n",
    "byte-order-mark-at-the-end": "a: b\n\ufeff",
    "line-separators": "a: b\u2028c: d\ne: x\x85y\n",
    "aliases": "a: &a [1, 2]\nb: [*a, *a]\nc: {x: *a}\n",
}


def outcome(text: str, parser: str, monkeypatch) -> tuple:
    monkeypatch.setattr(loader, "PARSER", parser)
    try:
        spec, desired = load_from_text(text, "spec.yaml")
    except SpecError as error:
        return ("error", [str(d) for d in error.diagnostics])
    source = spec.source
    return ("ok", spec.model_dump(), dict(source.values), dict(source.keys), spec.warnings, desired)


needs_libyaml = pytest.mark.skipif("libyaml" not in loader.PARSERS, reason="PyYAML was built without libyaml")


@needs_libyaml
@pytest.mark.parametrize("text", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_both_parsers_agree(text, monkeypatch):
    monkeypatch.delenv("PARSER_TEST_UNSET", raising=False)
    monkeypatch.delenv("PARSER_TEST_NAME", raising=False)
    assert outcome(text, "libyaml", monkeypatch) == outcome(text, "python", monkeypatch)


@needs_libyaml
def test_both_parsers_agree_on_random_documents(monkeypatch):
    chooser = random.Random(20261202)
    pieces = ["a", "b: ", "- ", "[", "]", "{", "}", ", ", ": ", "\n", "  ", "'x'", '"y"', "&n ", "*n", "? ",
              "#c", "|\n  z", "<<: ", "1", "true", "~", "\t", "version: 1\n", "!", "!!str ", " ?", "{a: }",
              "\r\n", "é", "---\n", ":", "-", "\ufeff", "\u2028", "\x85"]
    disagreements = []
    for _ in range(2000):
        text = "".join(chooser.choice(pieces) for _ in range(chooser.randint(1, 25)))
        if outcome(text, "libyaml", monkeypatch) != outcome(text, "python", monkeypatch):
            disagreements.append(text)
    assert disagreements == []


def test_libyaml_is_used_when_pyyaml_has_it():
    assert ("libyaml" in loader.PARSERS) == yaml.__with_libyaml__
    expected = "libyaml" if yaml.__with_libyaml__ else "python"
    assert loader.PARSERS.get(expected) is not None


class _StockScanner(Reader, Scanner):
    def __init__(self, text):
        Reader.__init__(self, text)
        Scanner.__init__(self)


class _LinearScanner(Reader, loader._LinearScanner):
    def __init__(self, text):
        Reader.__init__(self, text)
        loader._LinearScanner.__init__(self)


def tokens(scanner_class, text: str) -> list:
    found = []
    try:
        scanner = scanner_class(text)
        while scanner.check_token():
            token = scanner.get_token()
            found.append((type(token).__name__, getattr(token, "value", None), token.start_mark.index,
                          token.end_mark.index))
    except yaml.YAMLError as error:
        found.append(("error", str(error)))
    return found


def test_the_linear_scanner_finds_the_same_tokens():
    chooser = random.Random(7)
    pieces = ["[", "]", "{", "}", ",", ":", " ", "\n", "a", "? ", "- ", "'q'", "k: ", "#c\n", "  "]
    texts = list(SNIPPETS.values()) + ["[" * 1100, "[" * 1100 + "]" * 1100, "{a: " * 300 + "}" * 300]
    texts += ["".join(chooser.choice(pieces) for _ in range(chooser.randint(1, 60))) for _ in range(2000)]
    texts += ["[" * 300 + "a" * 900 + ": b" + "]" * 300]  # a possible key that goes stale by length
    for text in texts:
        assert tokens(_LinearScanner, text) == tokens(_StockScanner, text), text[:80]
