"""Quota and lifecycle at plan time, end to end: the CLI against the emulator through the real SDK clients.

Every test runs against `external_emulator` (in memory, instant operations), which counts the requests
it serves: a plan that fails for quota, availability or lifecycle must have sent no write at all.
Live state is set up with the CLI itself or with SDK clients on the same emulated Azure, never mocks.

Retirement: the client judges it against the real clock, while the emulator moves the recorded
catalog's lifecycle dates forward to its `catalog_date` (see provisioner/emulator/catalog.py). Setting
`catalog_date` to today minus N days therefore makes a model look N days closer to retirement
than it did on the recording day; `catalog_date_for` computes N from catalog.json.
"""
from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from typing import Any

import pytest
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000a5"
GROUP = "rg-quota"
ACCOUNT = "quota-eus2"
CHAT = f"{ACCOUNT}/deployments/chat"
CHAT2 = f"{ACCOUNT}/deployments/chat2"
GPT4O_GLOBAL = "OpenAI.GlobalStandard.gpt-4o"  # default limit 450 (build_catalog.py)
READS_ONLY = "GET "


# --- helpers ------------------------------------------------------------------------------------------


def chat(name: str = "chat", capacity: Any = 100, version: str = "2024-11-20", **extra) -> dict[str, Any]:
    """A gpt-4o GlobalStandard deployment (usage OpenAI.GlobalStandard.gpt-4o)."""
    return {"name": name, "model": "gpt-4o", "version": version, "capacity": capacity, **extra}


def make_spec(*deployments: dict[str, Any], location: str = "eastus2", account: str = ACCOUNT,
              accounts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return copy.deepcopy({
        "version": 1,
        "name": "quota",
        "defaults": {"subscription": SUBSCRIPTION, "resource_group": GROUP, "location": location},
        "accounts": accounts if accounts is not None else [{"name": account, "deployments": list(deployments)}],
    })


@pytest.fixture
def azure(workdir, external_emulator):
    """The emulated Azure the CLI talks to; `workdir` is the working directory holding deployments.yaml."""
    return external_emulator


@pytest.fixture
def sdk(azure):
    client = CognitiveServicesManagementClient(azure.credential, SUBSCRIPTION, base_url=azure.base_url,
                                               connection_verify=azure.ca_path, retry_total=0, polling_interval=0)
    yield client
    client.close()


def apply_ok(cli, workdir, spec: dict[str, Any]):
    workdir.write(spec)
    result = cli("apply", "deployments.yaml", "--auto-approve")
    assert result.code == 0, result.out + result.err
    return result


def writes(emulator) -> dict[str, int]:
    """Requests other than reads since the last clear."""
    return {route: n for route, n in emulator.control.requests()["counts"].items()
            if not route.startswith(READS_ONLY)}


def route_count(emulator, suffix: str) -> int:
    return sum(n for route, n in emulator.control.requests()["counts"].items()
               if route.startswith(READS_ONLY) and route.endswith(suffix))


def table_rows(text: str) -> list[list[str]]:
    """The cells of each body line of a Rich table (box characters │, first line of each row)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("│"):
            rows.append([cell.strip() for cell in line.strip("│").split("│")])
    return rows


def flat(text: str) -> str:
    """Text with Rich's line wrapping undone (any run of whitespace as one space)."""
    return re.sub(r"\s+", " ", text)


def live_capacities(sdk, account: str = ACCOUNT) -> dict[str, int]:
    return {d.name: d.sku.capacity for d in sdk.deployments.list(GROUP, account)}


def usage(sdk, region: str, name: str):
    return next(u for u in sdk.usages.list(region) if u.name.value == name)


# --- 1. over quota: the table, exit 1, no writes -------------------------------------------------------


@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"]], ids=["plan", "apply"])
def test_a_plan_over_quota_fails_with_the_table_and_writes_nothing(workdir, cli, azure, command):
    apply_ok(cli, workdir, make_spec(chat(capacity=100)))
    azure.control.set_quota(SUBSCRIPTION, "eastus2", GPT4O_GLOBAL, 300)
    # 100 of 300 in use; chat grows by 50, chat2 asks 150 and a second account in the region (same
    # subscription, so the same quota) 50: 250 more, 50 too many. embeddings (another quota) fits.
    spec = make_spec(accounts=[
        {"name": ACCOUNT, "deployments": [
            chat(capacity=150), chat("chat2", capacity=150, version="2024-08-06"),
            {"name": "embeddings", "model": "text-embedding-3-large", "version": "1", "capacity": 5}]},
        {"name": "quota-eus2-b", "deployments": [chat("chat", capacity=50)]},
    ])
    workdir.write(spec)
    azure.control.clear_requests()

    result = cli(command[0], "deployments.yaml", *command[1:])

    assert result.code == 1, result.out + result.err
    assert "Quota this plan would exceed" in result.err
    rows = table_rows(result.err)
    body = [r for r in rows if r[0] == "eastus2"]
    assert len(body) == 1, result.err
    assert body[0][1:6] == [GPT4O_GLOBAL, "300", "100", "250", "50"]
    # every deployment asking for more of that quota, and only those
    asking_all = [r[6] for r in rows if r[6]]
    assert {a for a in asking_all if "/deployments/" in a} == {CHAT, CHAT2, "quota-eus2-b/deployments/chat"}
    assert "Tokens Per Minute (thousands) - GPT-4o - GlobalStandard" in result.err  # the localized name
    assert "nothing was changed" in result.err
    assert writes(azure) == {}, azure.control.requests()
    assert "Plan:" not in result.out  # not even the plan is shown, so nothing can be approved


def test_the_table_header_names_every_column(workdir, cli, azure):
    workdir.write(make_spec(chat(capacity=500)))
    result = cli("plan", "deployments.yaml", "--output", "json")
    assert result.code == 1
    assert result.out == ""  # no plan document for a plan that cannot be made
    header = next(r for r in table_rows(_header_as_body(result.err)) if r and r[0] == "region")
    assert header == ["region", "usage", "limit", "in use", "requested by this plan", "short by", "deployments"]
    body = next(r for r in table_rows(result.err) if r[0] == "eastus2")
    assert body[1:6] == [GPT4O_GLOBAL, "450", "0", "500", "50"]
    assert body[6] == CHAT
    assert writes(azure) == {}


def _header_as_body(text: str) -> str:
    """Rich draws the header row with ┃; make it parse like a body row."""
    return text.replace("┃", "│")


# --- 2. capacity freed in the same plan counts, and apply frees it first -------------------------------


def test_deleting_a_managed_deployment_frees_quota_for_a_new_one(workdir, cli, azure, sdk):
    apply_ok(cli, workdir, make_spec(chat(capacity=300)))
    # 300 in use of 450: another 300 fits only because chat goes
    workdir.write(make_spec(chat("chat", capacity=300), chat("chat2", capacity=300, version="2024-08-06")))
    over = cli("plan", "deployments.yaml")
    assert over.code == 1 and GPT4O_GLOBAL in over.err

    workdir.write(make_spec(chat("chat2", capacity=300, version="2024-08-06")))
    plan = cli("plan", "deployments.yaml", "--output", "json")
    assert plan.code == 0, plan.err
    actions = {c["address"]: c["action"] for c in json.loads(plan.out)["changes"]}
    assert actions[CHAT] == "delete" and actions[CHAT2] == "create"

    azure.control.clear_requests()
    result = cli("apply", "deployments.yaml", "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert live_capacities(sdk) == {"chat2": 300}
    assert usage(sdk, "eastus2", GPT4O_GLOBAL).current_value == 300


def test_decreasing_a_deployment_frees_quota_for_another(workdir, cli, azure, sdk):
    apply_ok(cli, workdir, make_spec(chat(capacity=300)))
    # chat 300 -> 100 and chat2 +300: 400 of 450; in the wrong order Azure would refuse chat2 (600)
    workdir.write(make_spec(chat(capacity=100), chat("chat2", capacity=300, version="2024-08-06")))
    result = cli("apply", "deployments.yaml", "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert live_capacities(sdk) == {"chat": 100, "chat2": 300}
    assert usage(sdk, "eastus2", GPT4O_GLOBAL).current_value == 400
    again = cli("plan", "deployments.yaml", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err


def test_a_decrease_is_not_listed_as_asking_for_quota(workdir, cli, azure):
    apply_ok(cli, workdir, make_spec(chat(capacity=300)))
    # net +200 (chat -100, chat2 +300): short by 50; only chat2 asks
    workdir.write(make_spec(chat(capacity=200), chat("chat2", capacity=300, version="2024-08-06")))
    azure.control.clear_requests()
    result = cli("plan", "deployments.yaml")
    assert result.code == 1
    body = next(r for r in table_rows(result.err) if r[0] == "eastus2")
    assert body[1:7] == [GPT4O_GLOBAL, "450", "300", "200", "50", CHAT2]
    assert writes(azure) == {}


def test_capacity_moved_between_accounts_in_one_region(workdir, cli, azure, sdk):
    """Quota is per subscription and region: a deletion in one account frees it for another account."""
    other = "quota-eus2-b"
    apply_ok(cli, workdir, make_spec(accounts=[
        {"name": ACCOUNT, "deployments": [chat(capacity=400)]},
        {"name": other, "deployments": [{"name": "mini", "model": "gpt-4o-mini", "version": "2024-07-18",
                                         "capacity": 1}]},
    ]))
    moved = make_spec(accounts=[
        {"name": ACCOUNT, "deployments": []},
        {"name": other, "deployments": [{"name": "mini", "model": "gpt-4o-mini", "version": "2024-07-18",
                                         "capacity": 1}, chat("chat", capacity=400)]},
    ])
    workdir.write(moved)
    assert cli("plan", "deployments.yaml").code == 0  # the plan counts the deletion in the other account
    # a deletion that takes a moment (as in Azure) holds its quota until it is gone: the creation in the
    # other account must wait for it
    azure.control.configure(lro_durations={"deployments.delete": 0.5})
    result = cli("apply", "deployments.yaml", "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert live_capacities(sdk, ACCOUNT) == {}
    assert live_capacities(sdk, other) == {"mini": 1, "chat": 400}


# --- 3. availability: steps, SKUs and regions ------------------------------------------------------------


def test_ptu_capacity_off_the_step_names_the_step_and_the_offering_regions(workdir, cli, azure):
    workdir.write(make_spec({"name": "ptu", "model": "gpt-4o", "version": "2024-11-20", "type": "provisioned",
                             "scope": "regional", "capacity": 75}))
    azure.control.set_quota(SUBSCRIPTION, "westeurope", "OpenAI.ProvisionedManaged.gpt-4o-2024-11-20", 40)
    azure.control.clear_requests()

    result = cli("plan", "deployments.yaml")

    assert result.code == 1
    assert (f"Not available: {ACCOUNT}/deployments/ptu: capacity 75 is not a multiple of 50 for "
            "ProvisionedManaged (nearest: 50 or 100)") in result.err
    # ProvisionedManaged for gpt-4o 2024-11-20: not in eastus (sold out) nor koreacentral (no such version)
    assert ("gpt-4o 2024-11-20 as ProvisionedManaged is offered in: eastus2 (100 available), japaneast "
            "(100 available), swedencentral (100 available), westeurope (40 available)") in result.err
    assert route_count(azure, "/modelcapacities") == 1
    assert writes(azure) == {}


def test_ptu_capacity_below_the_minimum_fails(workdir, cli, azure):
    workdir.write(make_spec({"name": "ptu", "model": "gpt-4o", "version": "2024-08-06", "type": "provisioned",
                             "scope": "global", "capacity": 10}))
    result = cli("plan", "deployments.yaml")
    assert result.code == 1
    assert "capacity 10 is outside 15..100000 for GlobalProvisionedManaged" in result.err
    assert "gpt-4o 2024-08-06 as GlobalProvisionedManaged is offered in: eastus (100 available)" in result.err
    assert writes(azure) == {}


@pytest.mark.parametrize("region", ["koreacentral", "japaneast"])
def test_a_sku_not_offered_in_the_region_names_the_regions_that_offer_it(workdir, cli, azure, region):
    workdir.write(make_spec(chat(version="2024-08-06", scope="datazone", capacity=10), location=region))
    azure.control.set_quota(SUBSCRIPTION, "swedencentral", "OpenAI.DataZoneStandard.gpt-4o", 120)
    azure.control.clear_requests()

    for command in (["plan"], ["apply", "--auto-approve"]) if region == "koreacentral" else (["plan"],):
        result = cli(command[0], "deployments.yaml", *command[1:])
        assert result.code == 1, result.out + result.err
        assert (f"Not available: {ACCOUNT}/deployments/chat: gpt-4o 2024-08-06 is not offered as DataZoneStandard "
                f"in {region} (it is offered as GlobalStandard, ") in result.err
        assert ("gpt-4o 2024-08-06 as DataZoneStandard is offered in: eastus (300 available), eastus2 (300 "
                "available), swedencentral (120 available), westeurope (300 available)") in result.err
    assert writes(azure) == {}


def test_a_version_not_offered_in_the_region_names_the_versions_and_regions(workdir, cli, azure):
    workdir.write(make_spec(chat(version="2024-11-20", capacity=10), location="koreacentral"))
    result = cli("plan", "deployments.yaml")
    assert result.code == 1
    assert f"{ACCOUNT}/deployments/chat: gpt-4o 2024-11-20 is not offered in koreacentral (it offers " in result.err
    assert "2024-08-06" in result.err.split("it offers", 1)[1].splitlines()[0]
    assert ("gpt-4o 2024-11-20 as GlobalStandard is offered in: eastus (450 available), eastus2 (450 available), "
            "japaneast (450 available), swedencentral (450 available), westeurope (450 available)") in result.err
    assert writes(azure) == {}


def test_an_sku_offered_nowhere_lists_what_is_offered_where(workdir, cli, azure):
    workdir.write(make_spec({"name": "dev", "model": "gpt-4o-mini", "version": "2024-07-18", "sku": "DeveloperTier",
                             "capacity": 5}))
    result = cli("plan", "deployments.yaml")
    assert result.code == 1
    err = flat(result.err)
    assert "gpt-4o-mini 2024-07-18 is not offered as DeveloperTier in eastus2" in err
    assert ("gpt-4o-mini 2024-07-18 is offered as: DataZoneBatch in eastus, eastus2, swedencentral, westeurope; "
            "DataZoneProvisionedManaged in eastus, eastus2, swedencentral, westeurope; ") in err
    assert "; ProvisionedManaged in eastus2; Standard in eastus, eastus2, swedencentral" in err


# --- 4. lifecycle: retirement against the real clock ---------------------------------------------------


def _recorded(model_key: str) -> tuple[date, datetime, str]:
    """(the catalog's recording day, the model's recorded inference retirement, its suggested replacement)."""
    text = resources.files("provisioner.emulator").joinpath("data/catalog.json").read_text(encoding="utf-8")
    data = json.loads(text)
    model = data["models"][model_key]
    retires = datetime.fromisoformat(model["deprecation"]["inference"].replace("Z", "+00:00"))
    replacement = model["replacementConfig"]
    recorded = datetime.fromisoformat(data["asOf"].replace("Z", "+00:00")).date()
    return recorded, retires, f"{replacement['targetModelName']} {replacement['targetModelVersion']}"


RECORDED, RECORDED_RETIREMENT, REPLACEMENT = _recorded("OpenAI.gpt-4o.2024-08-06")


def catalog_date_for(retires_in_days: int) -> tuple[str, date]:
    """The emulator's catalog_date that makes gpt-4o 2024-08-06 retire `retires_in_days` after today (UTC),
    and that retirement day. The emulator shifts by (catalog_date - recording day)."""
    today = datetime.now(timezone.utc).date()
    lead = (RECORDED_RETIREMENT.date() - RECORDED).days  # retirement's distance from the recording day
    catalog_date = today + timedelta(days=retires_in_days - lead)
    return catalog_date.isoformat(), today + timedelta(days=retires_in_days)


def test_catalog_date_moves_the_retirement_the_client_sees(azure, sdk):
    catalog_date, retirement = catalog_date_for(-30)
    azure.control.configure(catalog_date=catalog_date)
    listed = next(m.model for m in sdk.models.list("eastus2")
                  if m.model.name == "gpt-4o" and m.model.version == "2024-08-06")
    assert listed.deprecation.inference.startswith(retirement.isoformat())


def test_a_retired_version_is_an_error(workdir, cli, azure):
    catalog_date, retirement = catalog_date_for(-30)
    azure.control.configure(catalog_date=catalog_date)
    workdir.write(make_spec(chat(version="2024-08-06", capacity=10)))
    azure.control.clear_requests()
    for command in (["plan"], ["apply", "--auto-approve"]):
        result = cli(command[0], "deployments.yaml", *command[1:])
        assert result.code == 1, result.out + result.err
        assert (f"{CHAT}: gpt-4o 2024-08-06 was retired on {retirement.isoformat()}; the catalog suggests "
                f"{REPLACEMENT}") in result.err
    assert writes(azure) == {}


def test_a_version_near_retirement_warns_with_the_date_and_the_replacement(workdir, cli, azure, sdk):
    catalog_date, retirement = catalog_date_for(40)
    azure.control.configure(catalog_date=catalog_date)
    workdir.write(make_spec(chat(version="2024-08-06", capacity=10)))

    result = cli("plan", "deployments.yaml")
    assert result.code == 0, result.err
    found = re.search(rf"Warning: {re.escape(CHAT)}: gpt-4o 2024-08-06 retires on {retirement.isoformat()} "
                      rf"\(in (\d+) days\); the catalog suggests {re.escape(REPLACEMENT)}", result.out)
    assert found, result.out
    assert int(found.group(1)) in (39, 40)
    document = json.loads(cli("plan", "deployments.yaml", "--output", "json").out)
    assert any(w.startswith(f"{CHAT}: gpt-4o 2024-08-06 retires on {retirement.isoformat()}")
               for w in document["warnings"])
    # a warning does not stop apply
    applied = cli("apply", "deployments.yaml", "--auto-approve")
    assert applied.code == 0, applied.out + applied.err
    assert live_capacities(sdk) == {"chat": 10}


def test_retirement_warning_days_changes_the_window(workdir, cli, azure):
    catalog_date, retirement = catalog_date_for(120)
    azure.control.configure(catalog_date=catalog_date)
    workdir.write(make_spec(chat(version="2024-08-06", capacity=10)))
    warning = f"{CHAT}: gpt-4o 2024-08-06 retires on {retirement.isoformat()}"

    default = cli("plan", "deployments.yaml")
    assert default.code == 0 and warning not in default.out  # 120 days away: outside the default 90
    wide = cli("plan", "deployments.yaml", "--retirement-warning-days", "150")
    assert wide.code == 0 and warning in wide.out
    narrow = cli("plan", "deployments.yaml", "--retirement-warning-days", "0")
    assert narrow.code == 0 and "retires on" not in narrow.out
    applied = cli("apply", "deployments.yaml", "--auto-approve", "--retirement-warning-days", "150")
    assert applied.code == 0 and warning in applied.out


def test_upgrade_never_on_a_version_that_will_retire_is_flagged(workdir, cli, azure):
    catalog_date, retirement = catalog_date_for(300)  # far outside any warning window
    azure.control.configure(catalog_date=catalog_date)
    workdir.write(make_spec(chat(version="2024-08-06", capacity=10, upgrade="never"),
                            chat("other", version="2024-08-06", capacity=10, upgrade="on-expiry")))
    result = cli("plan", "deployments.yaml")
    assert result.code == 0, result.err
    assert (f"Warning: {CHAT}: gpt-4o 2024-08-06 has `upgrade: never` but retires on {retirement.isoformat()}: "
            f"it will stop serving then; the catalog suggests {REPLACEMENT}") in result.out
    assert "deployments/other: gpt-4o" not in result.out
    assert "retires on" not in result.out.replace("has `upgrade: never` but retires on", "")


def test_a_version_without_retirement_trouble_says_nothing(workdir, cli, azure):
    workdir.write(make_spec(chat(version="2024-08-06", capacity=10)))
    result = cli("plan", "deployments.yaml")
    assert result.code == 0, result.err
    warnings = [line for line in result.out.splitlines() if line.startswith("Warning")]
    assert warnings and all(" PRV0" in line for line in warnings)  # guardrail findings only, no retirement


# --- 5. flexible capacity ---------------------------------------------------------------------------------


def test_flexible_capacity_takes_what_the_quota_has_left(workdir, cli, azure, sdk):
    # someone else's deployment holds 30 of 120 on another account in the region
    apply_ok(cli, workdir, make_spec(chat("theirs", capacity=30), account="quota-other"))
    azure.control.set_quota(SUBSCRIPTION, "eastus2", GPT4O_GLOBAL, 120)
    workdir.write(make_spec(chat(capacity={"min": 10, "max": 200})))

    plan = cli("plan", "deployments.yaml", "--output", "json")
    assert plan.code == 0, plan.err
    change = next(c for c in json.loads(plan.out)["changes"] if c["address"] == CHAT)
    assert change["after"]["capacity"] == 90
    assert change["notes"] == [f"capacity 90 chosen from {{min: 10, max: 200}}: quota {GPT4O_GLOBAL} has 90 "
                               "available"]
    text = cli("plan", "deployments.yaml")
    assert "capacity: 90" in text.out and "note: capacity 90 chosen from {min: 10, max: 200}" in text.out

    applied = cli("apply", "deployments.yaml", "--auto-approve")
    assert applied.code == 0, applied.out + applied.err
    assert live_capacities(sdk) == {"chat": 90}
    again = cli("plan", "deployments.yaml", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
    assert "No changes." in again.out


def test_flexible_capacity_grows_when_quota_is_raised(workdir, cli, azure, sdk):
    azure.control.set_quota(SUBSCRIPTION, "eastus2", GPT4O_GLOBAL, 60)
    apply_ok(cli, workdir, make_spec(chat(capacity={"min": 10, "max": 100})))
    assert live_capacities(sdk) == {"chat": 60}
    azure.control.set_quota(SUBSCRIPTION, "eastus2", GPT4O_GLOBAL, 80)
    plan = json.loads(cli("plan", "deployments.yaml", "--output", "json").out)
    change = next(c for c in plan["changes"] if c["address"] == CHAT)
    assert (change["action"], change["after"]["capacity"]) == ("update", 80)


def test_flexible_ptu_capacity_keeps_to_the_step(workdir, cli, azure, sdk):
    azure.control.set_quota(SUBSCRIPTION, "eastus2", "OpenAI.GlobalProvisionedManaged", 52)
    workdir.write(make_spec({"name": "ptu", "model": "gpt-4o", "version": "2024-08-06", "type": "provisioned",
                             "capacity": {"min": 15, "max": 100}}))
    applied = cli("apply", "deployments.yaml", "--auto-approve")
    assert applied.code == 0, applied.out + applied.err
    assert live_capacities(sdk) == {"ptu": 50}


def test_flexible_capacity_fails_when_not_even_min_is_available(workdir, cli, azure):
    azure.control.set_quota(SUBSCRIPTION, "eastus2", GPT4O_GLOBAL, 40)
    workdir.write(make_spec(chat(capacity={"min": 50, "max": 200})))
    azure.control.clear_requests()
    for command in (["plan"], ["apply", "--auto-approve"]):
        result = cli(command[0], "deployments.yaml", *command[1:])
        assert result.code == 1, result.out + result.err
        assert (f"{CHAT}: flexible capacity {{min: 50, max: 200}} cannot be met: quota {GPT4O_GLOBAL} has 40 left "
                "in eastus2 (limit 40, in use 0)") in result.err
    assert writes(azure) == {}


# --- 6. provision quota ----------------------------------------------------------------------------------


def _quota_json(cli, *args) -> list[dict[str, Any]]:
    result = cli("quota", *args, "--output", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["format_version"] == "1"
    return document["rows"]


@pytest.fixture
def quota_world(workdir, cli, azure):
    """Two accounts (eastus2, swedencentral) with gpt-4o and gpt-4o-mini deployments applied, and a custom limit."""
    spec = make_spec(accounts=[
        {"name": ACCOUNT, "location": "eastus2", "deployments": [
            chat(capacity=70), {"name": "mini", "model": "gpt-4o-mini", "version": "2024-07-18", "capacity": 20,
                                "scope": "regional"}]},
        {"name": "quota-swc", "location": "swedencentral", "deployments": [chat(capacity=15)]},
    ])
    apply_ok(cli, workdir, spec)
    azure.control.set_quota(SUBSCRIPTION, "eastus2", GPT4O_GLOBAL, 200)
    return spec


def test_quota_json_matches_the_usages_azure_reports(quota_world, cli, sdk):
    rows = _quota_json(cli, "deployments.yaml")
    assert rows
    assert {r["region"] for r in rows} == {"eastus2", "swedencentral"}
    assert {r["model"] for r in rows} == {"gpt-4o", "gpt-4o-mini"}
    assert {r["subscription"] for r in rows} == {SUBSCRIPTION}
    for region in ("eastus2", "swedencentral"):
        reported = {u.name.value: u for u in sdk.usages.list(region)}
        for row in (r for r in rows if r["region"] == region):
            u = reported[row["usage"]]
            assert (row["limit"], row["in_use"]) == (int(u.limit), int(u.current_value)), row
            assert row["available"] == max(int(u.limit) - int(u.current_value), 0)
    by_key = {(r["region"], r["version"], r["sku"]): r for r in rows if r["model"] == "gpt-4o"}
    chat_row = by_key[("eastus2", "2024-11-20", "GlobalStandard")]
    assert (chat_row["usage"], chat_row["limit"], chat_row["in_use"], chat_row["available"]) == (
        GPT4O_GLOBAL, 200, 70, 130)  # the limit set through the control surface
    # every version on one usage shows the same numbers
    assert by_key[("eastus2", "2024-08-06", "GlobalStandard")]["in_use"] == 70
    sweden = by_key[("swedencentral", "2024-11-20", "GlobalStandard")]
    assert (sweden["limit"], sweden["in_use"], sweden["available"]) == (450, 15, 435)
    mini = next(r for r in rows if (r["region"], r["model"], r["sku"]) == ("eastus2", "gpt-4o-mini", "Standard"))
    assert (mini["usage"], mini["in_use"], mini["limit"]) == ("OpenAI.Standard.gpt-4o-mini", 20, 300)
    ptu = next(r for r in rows if (r["region"], r["version"], r["sku"]) == ("eastus2", "2024-08-06",
                                                                            "ProvisionedManaged"))
    assert (ptu["minimum"], ptu["step"]) == (50, 50)


def test_quota_text_shows_the_same_rows(quota_world, cli):
    rows = _quota_json(cli, "deployments.yaml", "--model", "gpt-4o", "--sku", "GlobalStandard")
    result = cli("quota", "deployments.yaml", "--model", "gpt-4o", "--sku", "GlobalStandard")
    assert result.code == 0, result.err
    assert "Azure OpenAI quota" in result.out
    shown = [r[1:] for r in table_rows(result.out) if len(r) == 9 and r[0].startswith(SUBSCRIPTION[:8])]
    expected = [[r["region"], r["model"], r["version"], r["sku"], r["usage"], str(r["limit"]), str(r["in_use"]),
                 str(r["available"])] for r in rows]
    assert shown == expected
    assert ["eastus2", "gpt-4o", "2024-11-20", "GlobalStandard", GPT4O_GLOBAL, "200", "70", "130"] in shown


def test_quota_filters(quota_world, cli):
    everything = _quota_json(cli, "deployments.yaml")

    mini = _quota_json(cli, "deployments.yaml", "--model", "gpt-4o-mini")
    assert mini and {r["model"] for r in mini} == {"gpt-4o-mini"}
    assert mini == [r for r in everything if r["model"] == "gpt-4o-mini"]

    skus = _quota_json(cli, "deployments.yaml", "--sku", "globalstandard", "--sku", "DataZoneStandard")
    assert {r["sku"] for r in skus} == {"GlobalStandard", "DataZoneStandard"}
    assert skus == [r for r in everything if r["sku"] in ("GlobalStandard", "DataZoneStandard")]

    sweden = _quota_json(cli, "deployments.yaml", "--region", "swedencentral")
    assert sweden and {r["region"] for r in sweden} == {"swedencentral"}
    assert sweden == [r for r in everything if r["region"] == "swedencentral"]

    combined = _quota_json(cli, "deployments.yaml", "--region", "eastus2", "--model", "gpt-4o-mini",
                           "--sku", "Standard")
    assert [(r["region"], r["model"], r["sku"], r["in_use"]) for r in combined] == [
        ("eastus2", "gpt-4o-mini", "Standard", 20)]


def test_quota_without_a_spec(workdir, cli, azure):
    """--subscription, --region and --model need no spec file."""
    rows = _quota_json(cli, "--subscription", SUBSCRIPTION, "--region", "japaneast", "--model", "gpt-4.1")
    assert rows and {(r["region"], r["model"]) for r in rows} == {("japaneast", "gpt-4.1")}
    assert not (workdir.root / "deployments.yaml").exists()
    every = _quota_json(cli, "--subscription", SUBSCRIPTION, "--region", "japaneast", "--all-models")
    assert {r["model"] for r in every} > {"gpt-4.1", "gpt-4o", "gpt-4o-mini"}


# --- 7. reads are batched per (subscription, region) ------------------------------------------------------


def test_a_plan_over_three_accounts_in_one_region_reads_models_and_usages_once(workdir, cli, azure):
    accounts = [{"name": f"quota-eus2-{i}", "deployments": [chat(capacity=10), chat("chat2", capacity=5),
                                                            {"name": "latest", "model": "gpt-4o", "capacity": 1}]}
                for i in range(3)]
    workdir.write(make_spec(accounts=accounts))
    azure.control.clear_requests()
    result = cli("plan", "deployments.yaml")
    assert result.code == 0, result.err
    assert route_count(azure, "/locations/{location}/models") == 1, azure.control.requests()
    assert route_count(azure, "/locations/{location}/usages") == 1, azure.control.requests()

    apply_ok(cli, workdir, make_spec(accounts=accounts))
    azure.control.clear_requests()
    again = cli("plan", "deployments.yaml", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
    counts = azure.control.requests()["counts"]
    assert route_count(azure, "/locations/{location}/models") == 1, counts
    assert route_count(azure, "/locations/{location}/usages") == 1, counts
    assert route_count(azure, "/modelcapacities") == 0, counts

    # a fourth account in another region: one more of each, not one per account
    accounts.append({"name": "quota-swc", "location": "swedencentral", "deployments": [chat(capacity=1)]})
    workdir.write(make_spec(accounts=accounts))
    azure.control.clear_requests()
    assert cli("plan", "deployments.yaml").code == 0
    assert route_count(azure, "/locations/{location}/models") == 2
    assert route_count(azure, "/locations/{location}/usages") == 2


def test_apply_reads_models_and_usages_once(workdir, cli, azure):
    accounts = [{"name": f"quota-eus2-{i}", "deployments": [chat(capacity=10)]} for i in range(3)]
    workdir.write(make_spec(accounts=accounts))
    azure.control.clear_requests()
    result = cli("apply", "deployments.yaml", "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert route_count(azure, "/locations/{location}/models") == 1
    assert route_count(azure, "/locations/{location}/usages") == 1
