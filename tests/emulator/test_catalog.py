"""The emulator's model catalog: packaged data, lookups, deployment validation."""
from datetime import datetime, timezone

import pytest

from provisioner.emulator.catalog import Catalog, rate_limits, validate_deployment

REGIONS = ["eastus", "eastus2", "japaneast", "koreacentral", "swedencentral", "westeurope"]
SUB = "11111111-2222-3333-4444-555555555555"


RECORDED = "2025-10-28"  # the catalog's recording day: dates are as recorded


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(RECORDED)


def test_load_is_cached(catalog):
    assert Catalog.load(RECORDED) is catalog


def test_lifecycle_dates_move_with_today():
    later = Catalog.load("2026-11-22")  # 390 days after the recording
    model = later.find("westeurope", "OpenAI", "gpt-4o", "2024-08-06")
    assert model["deprecation"]["inference"] == "2027-04-25T00:00:00Z"
    assert later.as_of.date().isoformat() == "2026-11-22"
    # so what was deployable on the recording day still is, judged from the new today
    assert validate_deployment(later, "westeurope", GPT4O, {"name": "GlobalStandard", "capacity": 1}) is None


def test_six_regions(catalog):
    assert catalog.regions() == REGIONS
    assert catalog.location("West Europe") == "WestEurope"
    assert catalog.location("EASTUS2") == "EastUS2"
    assert not catalog.has_region("mars")
    assert catalog.models("mars") == []


def test_models_look_like_the_list_api(catalog):
    items = catalog.models("westeurope", SUB)
    # 158 OpenAI-format models, listed once per kind, OpenAI kind first
    assert len(items) == 316
    assert {i["kind"] for i in items[:158]} == {"OpenAI"}
    assert {i["kind"] for i in items[158:]} == {"AIServices"}
    item = next(i for i in items if i["name"] == "OpenAI.gpt-4o.2024-08-06")
    assert item["id"] == (
        f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/locations/WestEurope/models/OpenAI.gpt-4o.2024-08-06"
    )
    assert item["type"] == "Microsoft.CognitiveServices/locations/models"
    assert item["location"] == "WestEurope"
    assert item["skuName"] == "S0"
    model = item["model"]
    for key in ("format", "name", "version", "description", "isDefaultVersion", "skus", "maxCapacity",
                "capabilities", "deprecation", "lifecycleStatus", "systemData", "modelCatalogAssetId"):
        assert key in model
    assert model["capabilities"]["area"] == "EUR"
    assert all("costs" not in s for s in model["skus"])
    assert [i["kind"] for i in catalog.models("eastus", SUB, kind="aiservices")] == ["AIServices"] * 158


def test_returned_dicts_are_copies(catalog):
    catalog.find("westeurope", "OpenAI", "gpt-4o", "2024-08-06")["skus"].clear()
    catalog.models("westeurope")[0]["model"]["name"] = "changed"
    assert catalog.find("westeurope", "OpenAI", "gpt-4o", "2024-08-06")["skus"]
    assert catalog.models("westeurope")[0]["model"]["name"] == "dall-e-3"


def test_required_models_with_real_data(catalog):
    gpt4o = catalog.find("westeurope", "OpenAI", "gpt-4o", "2024-08-06")
    assert gpt4o["isDefaultVersion"] is True
    assert gpt4o["deprecation"]["inference"] == "2026-03-31T00:00:00Z"
    assert gpt4o["replacementConfig"]["targetModelName"] == "gpt-4.1"
    gs = catalog.sku("westeurope", "OpenAI", "gpt-4o", "2024-08-06", "GlobalStandard")
    assert gs["usageName"] == "OpenAI.GlobalStandard.gpt-4o"
    assert gs["capacity"] == {"maximum": 1000000, "default": 10}
    assert gs["rateLimits"] == [
        {"key": "request", "renewalPeriod": 60, "count": 10},
        {"key": "token", "renewalPeriod": 60, "count": 1000},
    ]
    gpm = catalog.sku("westeurope", "OpenAI", "gpt-4o", "2024-08-06", "GlobalProvisionedManaged")
    assert gpm["capacity"] == {"minimum": 15, "maximum": 100000, "step": 5}
    assert gpm["usageName"] == "OpenAI.GlobalProvisionedManaged"

    pm = catalog.sku("westeurope", "OpenAI", "gpt-4o", "2024-11-20", "ProvisionedManaged")
    assert pm["usageName"] == "OpenAI.ProvisionedManaged.gpt-4o-2024-11-20"
    assert pm["capacity"] == {"minimum": 50, "maximum": 30000, "step": 50}

    assert catalog.find("westeurope", "OpenAI", "gpt-4o-mini", "2024-07-18") is not None
    ada = catalog.sku("westeurope", "OpenAI", "text-embedding-ada-002", "2", "Standard")
    assert ada["usageName"] == "OpenAI.Standard.text-embedding-ada-002"
    assert ada["capacity"] == {"maximum": 1000000, "default": 120}
    assert catalog.find("westeurope", "OpenAI", "text-embedding-3-large", "1") is not None
    assert catalog.find("westeurope", "OpenAI", "gpt-4.1", "2025-04-14") is not None


def test_lookups_are_case_insensitive_for_sku_only(catalog):
    assert catalog.sku("westeurope", "OpenAI", "gpt-4o", "2024-08-06", "globalstandard")["name"] == "GlobalStandard"
    assert catalog.usage_name("westeurope", "OpenAI", "gpt-4o", "2024-08-06", "GLOBALSTANDARD") == (
        "OpenAI.GlobalStandard.gpt-4o"
    )
    assert catalog.find("westeurope", "OpenAI", "GPT-4o", "2024-08-06") is None
    assert catalog.sku("westeurope", "OpenAI", "gpt-4o", "2024-08-06", "Standard") is None
    assert catalog.usage_name("westeurope", "OpenAI", "gpt-4o", "2024-08-06", "Standard") is None


def test_default_versions(catalog):
    assert catalog.default_version("westeurope", "OpenAI", "gpt-4o") == "2024-08-06"
    assert catalog.default_version("eastus", "OpenAI", "gpt-4o") == "2024-08-06"
    assert catalog.default_version("eastus2", "OpenAI", "gpt-4o") == "2024-11-20"  # newer default rolled out
    assert catalog.find("eastus2", "OpenAI", "gpt-4o", "2024-08-06")["isDefaultVersion"] is False
    assert catalog.default_version("westeurope", "OpenAI", "gpt-4o-mini") == "2024-07-18"
    assert catalog.default_version("westeurope", "OpenAI", "text-embedding-ada-002") == "2"
    assert catalog.default_version("westeurope", "OpenAI", "no-such-model") is None
    assert "2024-11-20" in catalog.versions("westeurope", "OpenAI", "gpt-4o")


def test_availability_differs_between_regions(catalog):
    everywhere_but_korea = catalog.offering_regions("OpenAI", "gpt-4o", "2024-11-20")
    assert "koreacentral" not in everywhere_but_korea
    assert "ProvisionedManaged" in everywhere_but_korea["westeurope"]
    assert "ProvisionedManaged" not in everywhere_but_korea["eastus"]

    gpt4o = catalog.offering_regions("OpenAI", "gpt-4o", "2024-08-06")
    assert set(gpt4o) == set(REGIONS)
    # Data Zones are EU/US only
    assert "DataZoneStandard" in gpt4o["eastus"] and "DataZoneStandard" in gpt4o["westeurope"]
    assert "DataZoneStandard" not in gpt4o["japaneast"] and "DataZoneStandard" not in gpt4o["koreacentral"]
    assert "GlobalStandard" in gpt4o["japaneast"]
    # regional PTU added in eastus2 only
    assert "ProvisionedManaged" in gpt4o["eastus2"] and "ProvisionedManaged" not in gpt4o["westeurope"]

    mini = catalog.offering_regions("OpenAI", "gpt-4o-mini", "2024-07-18")
    assert "Standard" in mini["eastus"] and "Standard" not in mini["westeurope"]
    standard = catalog.sku("eastus", "OpenAI", "gpt-4o-mini", "2024-07-18", "Standard")
    assert standard["usageName"] == "OpenAI.Standard.gpt-4o-mini"

    # the capability `area` follows the region's data zone
    assert catalog.find("eastus", "OpenAI", "gpt-4o", "2024-08-06")["capabilities"]["area"] == "US"
    assert "area" not in catalog.find("japaneast", "OpenAI", "gpt-4o", "2024-08-06")["capabilities"]


def test_every_sku_has_a_localized_usage_and_a_default_limit(catalog):
    for region in REGIONS:
        names = catalog.usage_names(region)
        for item in catalog.models(region, kind="OpenAI"):
            for sku in item["model"]["skus"]:
                assert names[sku["usageName"]], (region, sku)
                assert isinstance(catalog.default_limit(sku["usageName"]), int)
        assert names["AccountCount"] == "Maximum Resources per Region"
        assert names["OpenAI.S0.AccountCount"] == "Maximum resources for OpenAI S0 sku."
    names = catalog.usage_names("westeurope")
    assert names["OpenAI.Standard.gpt-35-turbo"] == "Tokens Per Minute (thousands) - GPT-35-Turbo"
    assert names["OpenAI.GlobalStandard.gpt-4o"] == "Tokens Per Minute (thousands) - GPT-4o - GlobalStandard"
    assert names["OpenAI.GlobalProvisionedManaged"] == "Global Provisioned Managed Throughput Unit"
    assert "OpenAI.DataZoneStandard.gpt-4o" not in catalog.usage_names("japaneast")
    assert "OpenAI.Standard.gpt-4o" in catalog.usage_names("eastus")
    assert catalog.usage_names("mars") == {}


def test_default_limits(catalog):
    assert catalog.default_limit("OpenAI.GlobalStandard.gpt-4o") == 450
    assert catalog.default_limit("OpenAI.Standard.text-embedding-ada-002") == 240
    assert catalog.default_limit("OpenAI.GlobalProvisionedManaged") == 100
    assert catalog.default_limit("OpenAI.ProvisionedManaged.gpt-4o-2024-11-20") == 100
    assert catalog.default_limit("OpenAI.GlobalBatch.gpt-4o") >= 1_000_000
    assert catalog.default_limit("OpenAI.S0.AccountCount") == 30
    assert catalog.default_limit("AccountCount") == 200
    assert catalog.default_limit("no.such.usage") == 0
    assert catalog.account_usages() == ["OpenAI.S0.AccountCount", "AccountCount"]


# --- validate_deployment -------------------------------------------------------------------

GPT4O = {"format": "OpenAI", "name": "gpt-4o", "version": "2024-08-06"}


def test_valid_deployments(catalog):
    assert validate_deployment(catalog, "westeurope", GPT4O, {"name": "GlobalStandard", "capacity": 10}) is None
    assert validate_deployment(catalog, "westeurope", GPT4O, {"name": "globalstandard", "capacity": 1}) is None
    assert validate_deployment(catalog, "westeurope", GPT4O, {"name": "GlobalProvisionedManaged", "capacity": 15}) is None
    ada = {"format": "OpenAI", "name": "text-embedding-ada-002", "version": "2"}
    assert validate_deployment(catalog, "West Europe", ada, {"name": "Standard", "capacity": 120}) is None
    # no version: the region's default version is used
    no_version = {"format": "OpenAI", "name": "gpt-4o"}
    assert validate_deployment(catalog, "eastus2", no_version, {"name": "Standard", "capacity": 10}) is None
    assert validate_deployment(catalog, "westeurope", no_version, {"name": "Standard", "capacity": 10}) == (
        400,
        "InvalidResourceProperties",
        "The specified SKU 'Standard' of account deployment is not supported by the model 'gpt-4o' version: '2024-08-06'.",
    )


def test_unknown_model_or_version(catalog):
    model = {"format": "OpenAI", "name": "gpt-35-turbo", "version": "2024-05-13"}
    assert validate_deployment(catalog, "westeurope", model, {"name": "Standard", "capacity": 1}) == (
        400,
        "DeploymentModelNotSupported",
        "The model 'Publisher: , Format: OpenAI, Name: gpt-35-turbo, Version: 2024-05-13, Source: , SourceAccount: '"
        " of account deployment is not supported.",
    )
    # offered in westeurope, not in koreacentral; model names are case-sensitive
    model = {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}
    assert validate_deployment(catalog, "koreacentral", model, {"name": "GlobalStandard", "capacity": 1})[1] == (
        "DeploymentModelNotSupported"
    )
    assert validate_deployment(catalog, "westeurope", model, {"name": "GlobalStandard", "capacity": 1}) is None
    upper = {"format": "OpenAI", "name": "GPT-4o", "version": "2024-08-06"}
    assert validate_deployment(catalog, "westeurope", upper, {"name": "GlobalStandard", "capacity": 1})[1] == (
        "DeploymentModelNotSupported"
    )


def test_retired_model(catalog):
    model = {"format": "OpenAI", "name": "text-davinci-003", "version": "1"}
    assert validate_deployment(catalog, "westeurope", model, {"name": "Standard", "capacity": 1}) == (
        400,
        "DeploymentModelNotSupported",
        "Creating account deployment is not supported by the model 'text-davinci-003'. "
        "This is usually because there are better models available for similar functionality.",
    )
    # gpt-4o 2024-08-06 retires 2026-03-31: fine at the snapshot, refused afterwards
    after = datetime(2026, 4, 1, tzinfo=timezone.utc)
    status, code, message = validate_deployment(
        catalog, "westeurope", GPT4O, {"name": "GlobalStandard", "capacity": 1}, now=after
    )
    assert (status, code) == (400, "DeploymentModelNotSupported")
    assert "'gpt-4o'" in message


def test_sku_not_offered(catalog):
    model = {"format": "OpenAI", "name": "gpt-35-turbo", "version": "0613"}
    before_retirement = datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert validate_deployment(
        catalog, "westeurope", model, {"name": "Standard", "capacity": 1}, now=before_retirement
    ) == (
        400,
        "InvalidResourceProperties",
        "The specified SKU 'Standard' of account deployment is not supported by the model 'gpt-35-turbo' version: '0613'.",
    )
    # DataZone SKUs don't exist in japaneast
    status, code, _ = validate_deployment(catalog, "japaneast", GPT4O, {"name": "DataZoneStandard", "capacity": 1})
    assert (status, code) == (400, "InvalidResourceProperties")
    assert validate_deployment(catalog, "eastus", GPT4O, {"name": "DataZoneStandard", "capacity": 1}) is None
    # a SKU past its own deprecationDate: GlobalBatch of gpt-35-turbo 0125 (2025-04-30)
    turbo = {"format": "OpenAI", "name": "gpt-35-turbo", "version": "0125"}
    assert validate_deployment(catalog, "westeurope", turbo, {"name": "GlobalBatch", "capacity": 10})[1] == (
        "InvalidResourceProperties"
    )
    assert validate_deployment(catalog, "westeurope", turbo, {"name": "Standard", "capacity": 10}) is None


@pytest.mark.parametrize(
    "sku",
    [
        {"name": "GlobalProvisionedManaged"},  # missing capacity
        {"name": "GlobalProvisionedManaged", "capacity": 10},  # below minimum 15
        {"name": "GlobalProvisionedManaged", "capacity": 17},  # off the step of 5
        {"name": "GlobalProvisionedManaged", "capacity": 100005},  # above maximum 100000
        {"name": "GlobalProvisionedManaged", "capacity": "20"},  # not an integer
        {"name": "GlobalStandard", "capacity": 0},  # below the implicit minimum 1
        {"name": "GlobalStandard", "capacity": 1000001},
    ],
)
def test_invalid_capacity(catalog, sku):
    status, code, message = validate_deployment(catalog, "westeurope", GPT4O, sku)
    assert (status, code) == (400, "InvalidCapacity")
    capacity = sku.get("capacity", " ")
    if capacity in ("20", 17):  # not an integer, off the step: the emulator's own words, naming the SKU
        assert sku["name"] in message
    else:  # out of range: Azure's words (Azure/business-process-automation#259)
        assert message.startswith(f"The specified capacity '{capacity}' of account deployment should be greater than ")


def test_out_of_range_capacity_is_worded_as_azure_words_it(catalog):
    sku = {"name": "GlobalProvisionedManaged", "capacity": 10}
    _, _, message = validate_deployment(catalog, "westeurope", GPT4O, sku)
    assert message == ("The specified capacity '10' of account deployment should be greater than 14 and no more "
                       "than 100000.")


def test_ptu_capacity_message_names_the_limits(catalog):
    model = {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}
    _, code, message = validate_deployment(catalog, "westeurope", model, {"name": "ProvisionedManaged", "capacity": 75})
    assert code == "InvalidCapacity"
    assert "between 50 and 30000" in message and "multiple of 50" in message
    assert validate_deployment(catalog, "westeurope", model, {"name": "ProvisionedManaged", "capacity": 100}) is None


# --- rate_limits ---------------------------------------------------------------------------


def test_rate_limits_scale_with_capacity(catalog):
    standard = catalog.sku("westeurope", "OpenAI", "gpt-35-turbo", "0125", "Standard")
    # the recorded deployment: capacity 1 -> 1 request / 10 s, 1000 tokens / 60 s
    assert rate_limits(standard, 1) == [
        {"key": "request", "renewalPeriod": 10, "count": 1},
        {"key": "token", "renewalPeriod": 60, "count": 1000},
    ]
    gs = catalog.sku("westeurope", "OpenAI", "gpt-4o", "2024-08-06", "GlobalStandard")
    assert rate_limits(gs, 30) == [
        {"key": "request", "renewalPeriod": 60, "count": 300},
        {"key": "token", "renewalPeriod": 60, "count": 30000},
    ]


def test_rate_limits_defaults_without_catalog_limits(catalog):
    ptu = catalog.sku("westeurope", "OpenAI", "gpt-4o", "2024-08-06", "GlobalProvisionedManaged")
    assert "rateLimits" not in ptu
    assert rate_limits(ptu, 15) == [
        {"key": "request", "renewalPeriod": 10, "count": 15},
        {"key": "token", "renewalPeriod": 60, "count": 15000},
    ]
    assert rate_limits(None, 2) == rate_limits({"rateLimits": []}, 2)
