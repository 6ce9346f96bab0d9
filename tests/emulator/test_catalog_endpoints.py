"""The catalog and quota views (models, usages, modelCapacities), driven through the real SDK client."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest

from tests.conftest import SUBSCRIPTION

TURBO = "OpenAI.Standard.gpt-35-turbo"


def deploy(cognitive, account, name, capacity, model="gpt-35-turbo", version="0125", sku="Standard"):
    return cognitive.deployments.begin_create_or_update("rg", account, name, {
        "sku": {"name": sku, "capacity": capacity},
        "properties": {"model": {"format": "OpenAI", "name": model, "version": version}}}).result()


def new_account(cognitive, name, location):
    return cognitive.accounts.begin_create("rg", name, {"kind": "OpenAI", "sku": {"name": "S0"},
                                                        "location": location}).result()


def raw_get(cognitive, path, **params):
    # The SDK's own way to send a request it has no operation for (the `Model` class drops id/location,
    # and the operations validate the modelCapacities parameters before sending).
    return cognitive._send_request(HttpRequest("GET", path, params={"api-version": "2025-09-01", **params}))


def usages(cognitive, location, **kwargs) -> dict:
    return {u.name.value: u for u in cognitive.usages.list(location, **kwargs)}


def capacities(cognitive, model="gpt-35-turbo", version="0125", location=None) -> dict:
    if location:
        items = cognitive.location_based_model_capacities.list(location, "OpenAI", model, version)
    else:
        items = cognitive.model_capacities.list("OpenAI", model, version)
    return {(c.location, c.name): c for c in items}


def test_location_models_list_the_regions_catalog(cognitive):
    items = list(cognitive.models.list("westeurope"))
    assert {m.kind for m in items} == {"OpenAI", "AIServices"}
    gpt4o = next(m for m in items if m.kind == "OpenAI" and m.model.name == "gpt-4o"
                 and m.model.version == "2024-08-06")
    assert gpt4o.sku_name == "S0"
    assert gpt4o.model.is_default_version is True
    standard = next(s for s in gpt4o.model.skus if s.name == "GlobalStandard")
    assert standard.usage_name == "OpenAI.GlobalStandard.gpt-4o"
    assert list(cognitive.models.list("atlantis")) == []


def test_location_models_fill_id_and_location(cognitive):
    response = raw_get(cognitive, f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.CognitiveServices"
                                  "/locations/westeurope/models")
    first = response.json()["value"][0]
    assert first["location"] == "WestEurope"
    assert first["id"] == (f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.CognitiveServices/locations/"
                           f"WestEurope/models/{first['name']}")
    assert first["type"] == "Microsoft.CognitiveServices/locations/models"


def test_account_models_have_the_model_fields_at_the_top(cognitive, account):
    models = list(cognitive.accounts.list_models("rg", "acct"))
    turbo = next(m for m in models if m.name == "gpt-35-turbo" and m.version == "0125")
    assert turbo.format == "OpenAI"
    assert any(s.name == "Standard" and s.usage_name == TURBO for s in turbo.skus)
    assert turbo.capabilities["chatCompletion"] == "true"


def test_usages_sum_capacity_across_accounts_of_a_region(cognitive, account):
    new_account(cognitive, "acct2", "eastus")
    new_account(cognitive, "acct3", "westeurope")
    deploy(cognitive, "acct", "a", 10)
    deploy(cognitive, "acct2", "b", 7)
    deploy(cognitive, "acct3", "c", 3)
    east = usages(cognitive, "eastus")
    assert east[TURBO].current_value == 17
    assert east[TURBO].limit == 300 and east[TURBO].unit == "Count"
    assert east[TURBO].name.localized_value == "Tokens Per Minute (thousands) - GPT-35-Turbo"
    assert east["OpenAI.S0.AccountCount"].current_value == 2
    assert east["AccountCount"].current_value == 2
    west = usages(cognitive, "westeurope")
    assert west[TURBO].current_value == 3
    assert west["AccountCount"].current_value == 1
    # the account's own usages count its own deployments only
    own = {u.name.value: u for u in cognitive.accounts.list_usages("rg", "acct2").value}
    assert own[TURBO].current_value == 7
    assert "AccountCount" not in own


def test_usages_follow_updates_deletes_and_the_quota_limit(emulator, cognitive, account):
    deploy(cognitive, "acct", "a", 10)
    deploy(cognitive, "acct", "a", 25)
    assert usages(cognitive, "eastus")[TURBO].current_value == 25
    emulator.control.set_quota(SUBSCRIPTION, "eastus", TURBO, 1000)
    assert usages(cognitive, "eastus")[TURBO].limit == 1000
    cognitive.deployments.begin_delete("rg", "acct", "a").result()
    assert usages(cognitive, "eastus")[TURBO].current_value == 0


def test_usages_filter_by_name(cognitive, account):
    deploy(cognitive, "acct", "a", 4)
    found = list(cognitive.usages.list("eastus", filter=f"name.value eq '{TURBO}'"))
    assert [(u.name.value, u.current_value) for u in found] == [(TURBO, 4)]
    found = cognitive.accounts.list_usages("rg", "acct", filter=f"name.value eq '{TURBO}'").value
    assert [(u.name.value, u.current_value) for u in found] == [(TURBO, 4)]


def test_model_capacities_drop_after_a_deployment(cognitive, account):
    before = capacities(cognitive)
    assert before[("EastUS", "Standard")].properties.available_capacity == 300
    item = before[("EastUS", "Standard")]
    assert item.type == "Microsoft.CognitiveServices/locations/models/skuCapacities"
    assert item.id == (f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.CognitiveServices/locations/EastUS"
                       "/models/OpenAI.gpt-35-turbo.0125/skuCapacities/Standard")
    assert item.properties.model.as_dict() == {"format": "OpenAI", "name": "gpt-35-turbo", "version": "0125"}
    assert item.properties.sku_name == "Standard"
    assert {location for location, _ in before} == {"EastUS", "EastUS2", "JapanEast", "KoreaCentral",
                                                    "SwedenCentral", "WestEurope"}
    deploy(cognitive, "acct", "a", 120)
    after = capacities(cognitive)
    assert after[("EastUS", "Standard")].properties.available_capacity == 180
    assert after[("WestEurope", "Standard")].properties.available_capacity == 300
    local = capacities(cognitive, location="eastus")
    assert {location for location, _ in local} == {"EastUS"}
    assert local[("EastUS", "Standard")].properties.available_capacity == 180


def test_model_capacities_never_go_below_zero(emulator, cognitive, account):
    deploy(cognitive, "acct", "a", 50)
    emulator.control.set_quota(SUBSCRIPTION, "eastus", TURBO, 20)  # lowered under what is in use
    assert capacities(cognitive, location="eastus")[("EastUS", "Standard")].properties.available_capacity == 0


def test_model_capacities_of_an_unknown_model_are_empty(cognitive):
    assert capacities(cognitive, model="no-such-model", version="1") == {}


@pytest.mark.parametrize("query", [{"modelFormat": "OpenAI", "modelName": "gpt-4o"},
                                   {"modelFormat": "OpenAI", "modelName": "gpt 4o", "modelVersion": "2024-08-06"}])
def test_model_capacities_require_valid_query_parameters(cognitive, query):
    response = raw_get(cognitive, f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.CognitiveServices"
                                  "/modelCapacities", **query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"


def test_usages_reject_an_unsupported_filter(cognitive):
    with pytest.raises(HttpResponseError) as excinfo:
        list(cognitive.usages.list("eastus", filter="currentValue gt 3"))
    assert excinfo.value.status_code == 400
