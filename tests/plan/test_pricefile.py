"""provisioner.plan.pricefile: which price table a plan uses, and errors that point at the line."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from provisioner.errors import ProvisionerError
from provisioner.plan import pricefile

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "prices" / "fixture-prices.json"


def test_shipped_table_is_dated_cited_and_complete():
    table = pricefile.shipped()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table.as_of)
    assert "prices.azure.com/api/retail/prices" in table.source
    assert table.currency == "USD" and table.region == "eastus2"
    assert {family for family, price in table.provisioned.items() if price.per_hour} == {
        "global", "datazone", "regional"}
    assert table.token_price("gpt-4o", "2024-11-20", "global").input == 2.5
    # every price names the meter `prices update` refreshes it from
    for versions in table.models.values():
        for families in versions.values():
            for price in families.values():
                assert price.input_meter is not None
                assert (price.output is None) or price.output_meter is not None
    assert all(price.meter is not None for price in table.provisioned.values())


def test_order_is_override_then_updated_table_then_shipped(tmp_path):
    spec = tmp_path / "deployments.yaml"
    spec.write_text("version: 1\n")
    assert pricefile.resolve(spec) == pricefile.shipped()
    updated = tmp_path / ".provision" / "prices.json"
    updated.parent.mkdir()
    data = json.loads(FIXTURE.read_text())
    updated.write_text(json.dumps({**data, "as_of": "2031-01-01"}))
    assert pricefile.resolve(spec).as_of == "2031-01-01"
    assert pricefile.resolve(spec, FIXTURE).as_of == "2030-01-31"


def test_saved_table_reads_back(tmp_path):
    table = pricefile.load(FIXTURE)
    pricefile.save(table, tmp_path / "deep" / "prices.json")
    assert pricefile.load(tmp_path / "deep" / "prices.json") == table


def test_a_bad_field_is_reported_with_file_line_and_column(tmp_path):
    text = FIXTURE.read_text().replace('"per_hour": 3.0', '"per_hour": -3.0')
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "-3.0" in row)
    path = tmp_path / "negotiated.json"
    path.write_text(text)
    with pytest.raises(ProvisionerError) as caught:
        pricefile.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}:")
    assert "provisioned.datazone.per_hour" in message and "-3.0" in message


def test_invalid_json_is_reported_with_its_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n "currency": "USD",\n "as_of": \n}\n')
    with pytest.raises(ProvisionerError, match=rf"^{re.escape(str(path))}:4:1: invalid JSON"):
        pricefile.load(path)


def test_a_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ProvisionerError) as caught:
        pricefile.load(tmp_path / "nope.json")
    assert "no such price file" in str(caught.value) and "prices update" in caught.value.hint
