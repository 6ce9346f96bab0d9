"""The emulator's Azure Retail Prices API: public, OData $filter, currencyCode, NextPageLink paging.

Raw HTTPS requests (httpx), since no Azure SDK client exists for this API.
"""
from __future__ import annotations

import json
import ssl
from pathlib import Path

import httpx
import pytest

DATA = json.loads((Path(__file__).resolve().parents[2] / "provisioner" / "emulator" / "data" /
                   "retail_prices.json").read_text())
URL = "/api/retail/prices"


@pytest.fixture
def http(emulator):
    with httpx.Client(base_url=emulator.base_url, verify=ssl.create_default_context(cafile=emulator.ca_path)) as client:
        yield client


def all_pages(http, params) -> tuple[list[dict], int]:
    page = http.get(URL, params=params).json()
    items, pages = list(page["Items"]), 1
    while page["NextPageLink"]:
        page = http.get(page["NextPageLink"]).json()
        items += page["Items"]
        pages += 1
    return items, pages


def test_no_token_and_no_api_version_needed(http):
    response = http.get(URL, params={"$filter": "armRegionName eq 'eastus2'"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"BillingCurrency", "CustomerEntityId", "CustomerEntityType", "Items", "NextPageLink",
                         "Count"}
    assert body["Count"] == len(body["Items"]) == len(DATA["meters"])
    item = body["Items"][0]
    for field in ("currencyCode", "retailPrice", "unitPrice", "armRegionName", "location", "effectiveStartDate",
                  "meterId", "meterName", "productName", "skuName", "serviceName", "unitOfMeasure", "type"):
        assert field in item


def test_arm_routes_still_need_a_token(http):
    assert http.get("/subscriptions/x/resourcegroups", params={"api-version": "2021-04-01"}).status_code == 401


def test_filter_terms_and_or_parentheses(http):
    items, _ = all_pages(http, {"$filter": "armRegionName eq 'westeurope' and (productName eq 'Azure OpenAI GPT5' "
                                           "or priceType eq 'Reservation')"})
    assert len(items) == 12 + 2
    assert {i["armRegionName"] for i in items} == {"westeurope"}
    assert {i["type"] for i in items} == {"Consumption", "Reservation"}


def test_filter_values_are_case_sensitive(http):
    assert http.get(URL, params={"$filter": "armRegionName eq 'EastUS2'"}).json()["Count"] == 0


def test_quotes_inside_values_are_doubled(http):
    assert http.get(URL, params={"$filter": "meterName eq 'it''s not there'"}).json()["Count"] == 0


@pytest.mark.parametrize("expression", ["contains(meterName, 'glbl')", "armRegionName eq", "armRegionName ne 'x'",
                                        "(armRegionName eq 'x'", "armRegionName eq 'x' and"])
def test_unsupported_filters_are_400(http, expression):
    response = http.get(URL, params={"$filter": expression})
    assert response.status_code == 400
    assert "Invalid $filter" in response.json()["error"]["message"]


def test_pages_follow_next_page_link_with_the_filter_kept(http, emulator):
    emulator.control.configure(retail_prices_page_size=9)
    flt = {"$filter": "armRegionName eq 'eastus2' and type eq 'Consumption'", "currencyCode": "'EUR'"}
    first = http.get(URL, params=flt).json()
    assert first["Count"] == 9 and "%24skip=9" in first["NextPageLink"]
    items, pages = all_pages(http, flt)
    consumption = [m for m in DATA["meters"] if m.get("type", "Consumption") == "Consumption"]
    assert len(items) == len(consumption) and pages == -(-len(consumption) // 9)
    assert len({i["meterId"] for i in items}) == len(items)  # no item twice, none skipped
    assert {i["currencyCode"] for i in items} == {"EUR"}


def test_currency_conversion_and_unknown_currency(http):
    usd = http.get(URL, params={"$filter": "armRegionName eq 'eastus' and meterName eq "
                                           "'Provisioned Managed Regional Unit'"}).json()["Items"]
    eur = http.get(URL, params={"currencyCode": "'EUR'", "$filter": "armRegionName eq 'eastus' and meterName eq "
                                                                    "'Provisioned Managed Regional Unit'"}).json()
    assert eur["BillingCurrency"] == "EUR"
    assert eur["Items"][0]["retailPrice"] == round(usd[0]["retailPrice"] * DATA["currencies"]["EUR"], 6)
    assert http.get(URL, params={"currencyCode": "'XYZ'"}).status_code == 400


def test_regional_tiers_differ_by_region(http):
    def price(region: str) -> float:
        return http.get(URL, params={"$filter": f"armRegionName eq '{region}' and meterName eq "
                                                "'gpt 4o 1120 Inp regnl Tokens'"}).json()["Items"][0]["retailPrice"]
    assert price("eastus2") < price("swedencentral")
