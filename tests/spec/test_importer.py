"""The import writer's YAML scalars: whatever a live value holds, the spec reads it back unchanged
(YAML reads the text; the spec loader then turns `$${` into a literal `${`)."""
from __future__ import annotations

import pytest
import yaml

from provisioner.spec.importer import _flow, _scalar
from provisioner.spec.loader import load_text

HOSTILE = ["plain", "yes", "no", "null", "~", "1.0", "007", "2024-11-20", "a: b", "a #b", "#x", "- x", "[x]",
           "{x}", "a,b", "ba[rz]+", "'quoted'", '"dq"', "", " padded ", "multi\nline", "tab\there", "*ref", "&anchor",
           "!tag", "%x", "@x", "`x", "|", ">", "?", "ünïcode", "${VAR}"]


@pytest.mark.parametrize("value", HOSTILE)
def test_block_and_flow_scalars_read_back_as_written(value):
    text = value.replace("${", "$${")
    assert yaml.safe_load(f"k: {_scalar(value)}") == {"k": text}
    assert yaml.safe_load(f"k: {_flow([value, {'regex': value}])}") == {"k": [text, {"regex": text}]}


def test_a_literal_dollar_brace_survives_the_spec_loader():
    spec = load_text(f"version: 1\nblocklists: {{b: {{description: {_flow('costs ${5}')}}}}}\naccounts: []\n")
    assert spec.blocklists["b"].description == "costs ${5}"
