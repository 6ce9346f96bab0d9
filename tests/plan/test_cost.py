"""provisioner.plan.cost: the price table value and the monthly cost effect of deployment changes.

Every figure is computed from tests/fixtures/prices/fixture-prices.json (round, made-up prices),
never from the shipped table, so a price update cannot change these tests.
PTU: global 2.00, data zone 3.00, regional 5.00 per hour. gpt-4o 2024-11-20 global 4.00 in /
12.00 out per 1M tokens, data zone 8.00 / 16.00. text-embedding-3-large 1 regional 1.00 in.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provisioner.model.resources import Kind, Scope
from provisioner.plan import cost, planfile
from provisioner.plan.cost import PriceTable, PriceTableError
from provisioner.plan.model import Action, Change, FieldChange, Plan

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "prices" / "fixture-prices.json"
SCOPE = Scope("sub", "rg", "acct")


@pytest.fixture
def table() -> PriceTable:
    return PriceTable.from_dict(json.loads(FIXTURE.read_text()))


def deployment(sku: str, capacity: Any, model: str = "gpt-4o", version: str = "2024-11-20") -> dict:
    return {"model": model, "format": "OpenAI", "version": version, "sku": sku, "capacity": capacity,
            "tags": {"team": "x"}}


def change(action: Action, before: dict | None, after: dict | None, fields=(), name="d") -> Change:
    return Change(kind=Kind.DEPLOYMENT, name=name, scope=SCOPE, action=action, before=before, after=after,
                  fields=tuple(fields))


def account(location: str) -> Change:
    props = {"location": location, "kind": "OpenAI"}
    return Change(kind=Kind.ACCOUNT, name="acct", scope=Scope("sub", "rg"), action=Action.NOOP, before=props,
                  after=props)


def plan_of(*changes: Change) -> Plan:
    return Plan(spec_file="deployments.yaml", spec_digest="sha256:d", spec_name="s", observed_fingerprint="sha256:o",
                changes=tuple(changes))


def only_line(plan: Plan, table: PriceTable) -> cost.CostLine:
    (line,) = cost.estimate(plan, table).lines
    return line


# --- provisioned: hourly price x PTU x 730 ----------------------------------------------------


def test_ptu_create_costs_hourly_price_times_ptu_times_730(table):
    line = only_line(plan_of(change(Action.CREATE, None, deployment("GlobalProvisionedManaged", 50))), table)
    assert line.before is None
    assert line.after.billing == "provisioned" and line.after.family == "global"
    assert line.after.per_ptu_hour == 2.0
    assert line.after.monthly == 73_000.00  # 2.00 x 50 x 730
    assert line.delta == 73_000.00


@pytest.mark.parametrize("before, after, delta", [(100, 150, 109_500.00), (150, 100, -109_500.00)],
                         ids=["increase", "decrease"])
def test_capacity_change_costs_the_difference(table, before, after, delta):
    line = only_line(plan_of(change(Action.UPDATE, deployment("DataZoneProvisionedManaged", before),
                                    deployment("DataZoneProvisionedManaged", after),
                                    [FieldChange("capacity", before, after)])), table)
    assert line.before.monthly == 3.0 * before * 730
    assert line.after.monthly == 3.0 * after * 730
    assert line.delta == delta


def test_delete_frees_the_whole_monthly_cost(table):
    line = only_line(plan_of(change(Action.DELETE, deployment("ProvisionedManaged", 200), None)), table)
    assert line.after is None
    assert line.before.monthly == 730_000.00  # 5.00 x 200 x 730
    assert line.delta == -730_000.00


def test_replace_between_families_prices_both_sides(table):
    line = only_line(plan_of(change(Action.REPLACE, deployment("GlobalProvisionedManaged", 100),
                                    deployment("DataZoneProvisionedManaged", 100),
                                    [FieldChange("sku", "GlobalProvisionedManaged", "DataZoneProvisionedManaged",
                                                 True)])), table)
    assert (line.before.monthly, line.after.monthly, line.delta) == (146_000.00, 219_000.00, 73_000.00)


def test_totals_add_up_the_provisioned_lines(table):
    estimate = cost.estimate(plan_of(
        change(Action.CREATE, None, deployment("GlobalProvisionedManaged", 50), name="new"),
        change(Action.DELETE, deployment("ProvisionedManaged", 10), None, name="old"),
        change(Action.CREATE, None, deployment("GlobalBatch", 10), name="batch"),
    ), table)
    assert estimate.total("provisioned") == {"before": 36_500.00, "after": 73_000.00, "delta": 36_500.00}
    assert estimate.unpriced == 1
    assert estimate.to_dict()["totals"]["unpriced"] == 1


# --- pay-as-you-go: list prices and the cost at full TPM -----------------------------------


def test_standard_deployment_costs_its_full_tpm_at_three_input_tokens_per_output_token(table):
    line = only_line(plan_of(change(Action.CREATE, None, deployment("GlobalStandard", 10))), table)
    after = line.after
    assert after.billing == "pay-as-you-go"
    assert (after.input_per_million, after.output_per_million) == (4.0, 12.0)
    # 10K TPM x 60 x 730 = 438M tokens; 75% at 4.00 and 25% at 12.00 per 1M = 6.00 per 1M
    assert after.monthly == 2_628.00
    assert "75% input" in after.note


def test_input_only_models_count_every_token_as_input(table):
    line = only_line(plan_of(change(Action.CREATE, None,
                                    deployment("Standard", 5, model="text-embedding-3-large", version="1"))), table)
    assert line.after.monthly == 219.00  # 5K TPM x 60 x 730 = 219M tokens at 1.00 per 1M
    assert line.after.output_per_million is None


def test_switching_provisioned_to_standard_has_no_delta(table):
    line = only_line(plan_of(change(Action.REPLACE, deployment("GlobalProvisionedManaged", 50),
                                    deployment("GlobalStandard", 50), [FieldChange("sku", "a", "b", True)])), table)
    assert line.before.monthly == 73_000.00 and line.after.monthly == 13_140.00
    assert line.delta is None  # a bill and a ceiling do not subtract


# --- no price rather than a guess ----------------------------------------------------------


@pytest.mark.parametrize("props, note", [
    (deployment("GlobalBatch", 100), "batch"),
    (deployment("DeveloperTier", 10), "no price for SKU DeveloperTier"),
    (deployment("GlobalStandard", 10, model="gpt-4o-mini", version="2024-07-18"), "no global price for gpt-4o-mini"),
    (deployment("GlobalStandard", 10, version="2099-01-01"), "no global price for gpt-4o 2099-01-01"),
    (deployment("Standard", 10), "no regional price for gpt-4o"),
    ({**deployment("GlobalStandard", 10), "format": "Mistral"}, "model format Mistral"),
], ids=["batch", "developer", "unknown-model", "unknown-version", "family-missing", "other-format"])
def test_unknown_prices_are_notes_not_guesses(table, props, note):
    line = only_line(plan_of(change(Action.CREATE, None, props)), table)
    assert line.after.monthly is None
    assert note in line.after.note
    assert line.delta is None and not line.priced


def test_a_table_without_provisioned_prices_says_so(table):
    empty = PriceTable(currency="USD", as_of="2030-01-01", source="s", region=None, provisioned={}, models={})
    line = only_line(plan_of(change(Action.CREATE, None, deployment("GlobalProvisionedManaged", 50))), empty)
    assert line.after.monthly is None and "no global provisioned price" in line.after.note


# --- which changes get a line ----------------------------------------------------------------


def test_changes_that_do_not_touch_the_price_get_no_line(table):
    tags = change(Action.UPDATE, deployment("GlobalStandard", 10), {**deployment("GlobalStandard", 10), "tags": {}},
                  [FieldChange("tags.team", "x", None)])
    noop = change(Action.NOOP, deployment("GlobalStandard", 10), deployment("GlobalStandard", 10), name="same")
    policy = Change(kind=Kind.RAI_POLICY, name="p", scope=SCOPE, action=Action.CREATE, before=None, after={})
    assert cost.estimate(plan_of(tags, noop, policy), table).lines == ()


# --- regions: data zone and regional prices are the table region's ---------------------------


def test_data_zone_price_in_another_region_carries_a_note(table):
    plan = plan_of(account("westeurope"), change(Action.CREATE, None, deployment("DataZoneStandard", 10)))
    (line,) = cost.estimate(plan, table).lines
    assert line.after.monthly is not None
    assert line.notes and "eastus2" in line.notes[0] and "westeurope" in line.notes[0]


@pytest.mark.parametrize("location, sku", [("eastus2", "DataZoneStandard"), ("westeurope", "GlobalStandard")])
def test_no_region_note_when_the_price_applies_there(table, location, sku):
    (line,) = cost.estimate(plan_of(account(location), change(Action.CREATE, None, deployment(sku, 10))),
                            table).lines
    assert line.notes == ()


# --- the estimate is plan data ---------------------------------------------------------------


def test_plan_with_cost_round_trips_through_its_document(table):
    plan = cost.with_cost(plan_of(
        account("westeurope"),
        change(Action.CREATE, None, deployment("GlobalProvisionedManaged", 50), name="a"),
        change(Action.REPLACE, deployment("GlobalProvisionedManaged", 50), deployment("GlobalStandard", 50),
               [FieldChange("sku", "a", "b", True)], name="b"),
        change(Action.DELETE, deployment("GlobalBatch", 5), None, name="c"),
    ), table)
    document = json.loads(json.dumps(plan.to_dict()))
    # a's new 50 PTU and b's freed 50 PTU cancel out
    assert document["cost"]["totals"]["provisioned"] == {"before": 73_000.00, "after": 73_000.00, "delta": 0.0}
    assert Plan.from_dict(document) == plan
    assert Plan.from_dict(document).to_dict() == document


def test_plan_documents_without_cost_still_load(tmp_path):
    document = plan_of(change(Action.CREATE, None, deployment("GlobalStandard", 1))).to_dict()
    del document["cost"]  # as written before plans carried costs
    loaded = Plan.from_dict(document)
    assert loaded.cost is None
    assert loaded.changes[0].name == "d"
    saved = tmp_path / "old-plan.json"
    saved.write_text(json.dumps(document))
    assert planfile.load(saved) == loaded


# --- the price table value -------------------------------------------------------------------


def test_price_table_round_trips(table):
    assert PriceTable.from_dict(json.loads(json.dumps(table.to_dict()))) == table


@pytest.mark.parametrize("edit, path, message", [
    (lambda d: d.update(format_version="9"), ("format_version",), "expected '1'"),
    (lambda d: d["provisioned"].update(hourly={"per_hour": 1}), ("provisioned", "hourly"), "unknown SKU family"),
    (lambda d: d["provisioned"]["global"].update(per_hour=-1), ("provisioned", "global", "per_hour"), "price"),
    (lambda d: d["provisioned"]["global"].update(per_hour="1.0"), ("provisioned", "global", "per_hour"), "price"),
    (lambda d: d["models"]["gpt-4o"]["2024-11-20"]["global"].update(input=True),
     ("models", "gpt-4o", "2024-11-20", "global", "input"), "price"),
    (lambda d: d.update(currency=""), ("currency",), "expected text"),
    (lambda d: d["models"].update({"x": []}), ("models", "x"), "expected an object"),
    (lambda d: d["provisioned"]["global"].update(meter={"product": "p"}),
     ("provisioned", "global", "meter", "name"), "expected text"),
], ids=["version", "family", "negative", "string", "bool", "currency", "model-shape", "meter"])
def test_malformed_tables_name_the_field(edit, path, message):
    data = json.loads(FIXTURE.read_text())
    edit(data)
    with pytest.raises(PriceTableError) as caught:
        PriceTable.from_dict(data)
    assert caught.value.path == path
    assert message in caught.value.message
