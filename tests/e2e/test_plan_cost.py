"""Cost in plans and `provision prices update`, end to end: the CLI against the emulator.

Cost figures come from the fixture price table (tests/fixtures/prices/fixture-prices.json:
global PTU 2.00/h, gpt-4o 2024-11-20 global 4.00 in / 12.00 out per 1M tokens), passed with
--prices, so they do not move when the shipped table is updated. `prices update` talks to the
emulator's Retail Prices endpoint over HTTPS through the CLI, like it would to prices.azure.com.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from provisioner.plan.model import Plan

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "prices" / "fixture-prices.json"
EMULATOR_PRICES = Path(__file__).resolve().parents[2] / "provisioner" / "emulator" / "data" / "retail_prices.json"
SUBSCRIPTION = "00000000-0000-0000-0000-0000000000c0"
ACCOUNT = "cost-eus2"


def spec() -> dict:
    """One eastus2 account: a 10K TPM GlobalStandard gpt-4o and a 15 PTU GlobalProvisionedManaged gpt-4o."""
    return {
        "version": 1, "name": "cost",
        "defaults": {"subscription": SUBSCRIPTION, "resource_group": "rg-cost", "location": "eastus2"},
        "accounts": [{"name": ACCOUNT, "deployments": [
            {"name": "chat", "model": "gpt-4o", "version": "2024-11-20", "capacity": 10},
            {"name": "ptu", "model": "gpt-4o", "version": "2024-11-20", "type": "provisioned", "capacity": 15},
        ]}],
    }


def cost_lines(document: dict) -> dict[str, dict]:
    return {line["address"]: line for line in document["cost"]["lines"]}


def plan_json(cli, *args) -> dict:
    result = cli("plan", "deployments.yaml", "--emulator", "--output", "json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


# --- cost in the plan --------------------------------------------------------------------------


def test_plan_json_carries_the_cost_of_creates(project, cli):
    project.write(spec())
    document = plan_json(cli, "--prices", FIXTURE)
    lines = cost_lines(document)
    ptu = lines[f"{ACCOUNT}/deployments/ptu"]
    assert ptu["after"]["monthly"] == 21_900.00  # 15 PTU x 2.00 x 730
    assert ptu["delta"] == 21_900.00
    chat = lines[f"{ACCOUNT}/deployments/chat"]
    assert (chat["after"]["input_per_million"], chat["after"]["output_per_million"]) == (4.0, 12.0)
    assert chat["after"]["monthly"] == 2_628.00  # 438M tokens at 6.00 per 1M (3:1 input:output)
    assert document["cost"]["prices"] == {"as_of": "2030-01-31", "region": "eastus2",
                                          "source": "test fixture: round numbers, not Azure's prices"}
    assert document["cost"]["assumptions"]["input_share"] == 0.75
    assert Plan.from_dict(document).to_dict() == document


def test_capacity_change_and_delete_are_costed_after_apply(project, cli):
    project.write(spec())
    assert cli("apply", "deployments.yaml", "--emulator", "--auto-approve").code == 0
    changed = spec()
    deployments = changed["accounts"][0]["deployments"]
    deployments[1]["capacity"] = 25
    del deployments[0]
    project.write(changed)

    lines = cost_lines(plan_json(cli, "--prices", FIXTURE))
    ptu = lines[f"{ACCOUNT}/deployments/ptu"]
    assert ptu["action"] == "update"
    assert (ptu["before"]["monthly"], ptu["after"]["monthly"], ptu["delta"]) == (21_900.00, 36_500.00, 14_600.00)
    chat = lines[f"{ACCOUNT}/deployments/chat"]
    assert chat["action"] == "delete" and chat["after"] is None and chat["delta"] == -2_628.00


def test_human_and_markdown_plans_show_the_cost(project, cli):
    project.write(spec())
    human = cli("plan", "deployments.yaml", "--emulator", "--prices", FIXTURE)
    assert human.code == 0, human.err
    assert "Cost (list prices in USD as of 2030-01-31" in human.out
    assert f"+ {ACCOUNT}/deployments/ptu: GlobalProvisionedManaged 15 PTU × $2.00/h = $21,900.00/month" in human.out
    assert "Provisioned: $0.00 → $21,900.00 per month (+$21,900.00)" in human.out

    markdown = cli("plan", "deployments.yaml", "--emulator", "--prices", FIXTURE, "--output", "markdown")
    assert markdown.code == 0, markdown.err
    assert markdown.out.startswith("<!-- provision plan deployments.yaml -->\n")
    assert "**Plan: 4 to create, 0 to update, 0 to replace, 0 to delete.** Provisioned: \\+\\$21,900.00/month." \
        in markdown.out
    assert "| + | ptu | deployment |" in markdown.out


def test_plan_uses_the_updated_table_beside_the_spec_by_default(project, cli):
    project.write(spec())
    default = plan_json(cli)
    assert default["cost"]["prices"]["as_of"] == "2025-08-01"  # the shipped table
    (project.root / ".provision" / "prices.json").write_text(FIXTURE.read_text())
    assert plan_json(cli)["cost"]["prices"]["as_of"] == "2030-01-31"


def test_missing_prices_are_notes_and_never_block_the_plan(project, cli):
    changed = spec()
    changed["accounts"][0]["deployments"].append(
        {"name": "batch", "model": "gpt-4o", "version": "2024-11-20", "type": "batch", "capacity": 100})
    project.write(changed)
    document = plan_json(cli, "--prices", FIXTURE)
    batch = cost_lines(document)[f"{ACCOUNT}/deployments/batch"]
    assert batch["after"]["monthly"] is None and "batch" in batch["after"]["note"]
    assert document["cost"]["totals"]["unpriced"] == 1


def test_a_bad_price_file_fails_before_azure_is_asked(workdir, cli, external_emulator):
    workdir.write(spec())
    bad = workdir.root / "negotiated.json"
    bad.write_text(FIXTURE.read_text().replace('"currency": "USD"', '"currency": 978'))
    external_emulator.control.clear_requests()
    result = cli("plan", "deployments.yaml", "--prices", bad)
    assert result.code == 1
    assert f"Error: {bad}:3:14: " in result.err and "currency: expected text, found int 978" in result.err
    assert external_emulator.control.requests()["total"] == 0


# --- prices update -------------------------------------------------------------------------------


def emulator_price(meter: str, region: str) -> float:
    data = json.loads(EMULATOR_PRICES.read_text())
    row = next(m for m in data["meters"] if m["meterName"] == meter and m["productName"] == "Azure OpenAI")
    return row.get("regionPrices", {}).get(region, row["price"])


def test_prices_update_reads_every_page_of_the_emulators_api(workdir, cli, external_emulator):
    external_emulator.control.configure(retail_prices_page_size=7)
    external_emulator.control.clear_requests()
    result = cli("prices", "update", "--region", "swedencentral")
    assert result.code == 0, result.err
    assert "Wrote .provision/prices.json:" in result.out

    pages = external_emulator.control.requests()["counts"]["GET /api/retail/prices"]
    consumption_meters = sum(1 for m in json.loads(EMULATOR_PRICES.read_text())["meters"]
                             if m.get("type", "Consumption") == "Consumption")
    assert pages == -(-consumption_meters // 7)  # every page, once
    table = json.loads((workdir.root / ".provision" / "prices.json").read_text())
    assert table["region"] == "swedencentral" and table["currency"] == "USD"
    assert "Retail Prices API" in table["source"]
    regional = table["models"]["gpt-4o"]["2024-11-20"]["regional"]
    assert regional["input"] == round(emulator_price("gpt 4o 1120 Inp regnl Tokens", "swedencentral") * 1000, 6)
    assert table["models"]["gpt-5"]["2025-08-07"]["global"]["output"] == 10.0  # a per-1M meter: no scaling
    # the Deepseek meter of the same name and the reservations do not leak in
    assert table["provisioned"]["global"]["per_hour"] == 1.0


def test_prices_update_in_another_currency(workdir, cli, external_emulator):
    out = workdir.root / "eur.json"
    result = cli("prices", "update", "--currency", "EUR", "--out", out)
    assert result.code == 0, result.err
    table = json.loads(out.read_text())
    rate = json.loads(EMULATOR_PRICES.read_text())["currencies"]["EUR"]
    assert table["currency"] == "EUR"
    assert table["provisioned"]["regional"]["per_hour"] == round(2.0 * rate, 6)


def test_prices_update_retries_a_failing_page(workdir, cli, external_emulator):
    external_emulator.control.configure(retail_prices_page_size=20)
    external_emulator.control.inject_fault("status", method="GET", path="/api/retail/prices", status=503,
                                           retry_after=0, times=1)
    external_emulator.control.clear_requests()
    result = cli("prices", "update")
    assert result.code == 0, result.err
    assert (workdir.root / ".provision" / "prices.json").exists()
    assert external_emulator.control.requests()["counts"]["GET /api/retail/prices"] == 4 + 1  # 69 meters / 20


def test_then_plans_use_the_updated_table(project, cli, external_emulator):
    project.write(spec())
    assert cli("prices", "update", "--region", "eastus2").code == 0
    result = cli("plan", "deployments.yaml", "--emulator", "--output", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert "Retail Prices API" in document["cost"]["prices"]["source"]
    assert cost_lines(document)[f"{ACCOUNT}/deployments/ptu"]["after"]["per_ptu_hour"] == 1.0


def test_prices_update_with_the_embedded_emulator(workdir, cli):
    result = cli("prices", "update", "--emulator", "--out", "p.json")
    assert result.code == 0, result.err
    assert json.loads((workdir.root / "p.json").read_text())["region"] == "eastus2"


def test_a_region_without_our_meters_writes_nothing(workdir, cli, external_emulator):
    result = cli("prices", "update", "--region", "antarcticanorth")
    assert result.code == 1
    assert "listed none of our meters for antarcticanorth" in result.err
    assert not (workdir.root / ".provision" / "prices.json").exists()


@pytest.mark.parametrize("argv", [["--region", "east us'2"], ["--currency", "usd"]])
def test_prices_update_rejects_bad_arguments_without_a_request(workdir, cli, external_emulator, argv):
    external_emulator.control.clear_requests()
    assert cli("prices", "update", *argv).code == 1
    assert external_emulator.control.requests()["total"] == 0


def test_updated_tables_are_valid_price_files(workdir, cli, external_emulator):
    assert cli("prices", "update", "--out", "t.json").code == 0
    workdir.write(spec())
    written = yaml.safe_load((workdir.root / "t.json").read_text())  # JSON is YAML
    assert written["format_version"] == "1"
    assert cli("plan", "deployments.yaml", "--prices", "t.json", "--output", "json").code == 0
