"""provisioner.azure.prices.refreshed: API items -> price table, by each price's named meter.

Pure: hand-written items shaped like the Retail Prices API's (fields as in its documentation)."""
from __future__ import annotations

from provisioner.azure.prices import query_url, refreshed
from provisioner.plan.cost import HourlyPrice, Meter, PriceTable, TokenPrice

AO = "Azure OpenAI"
TEMPLATE = PriceTable(
    currency="USD", as_of="2000-01-01", source="template", region=None,
    provisioned={"global": HourlyPrice(9.9, Meter(AO, "Provisioned Managed Global Unit")),
                 "regional": HourlyPrice(9.9, None)},
    models={"gpt-4o": {"2024-11-20": {
        "global": TokenPrice(9.9, 9.9, Meter(AO, "gpt 4o 1120 Inp glbl Tokens"), Meter(AO, "gpt 4o 1120 Outp glbl Tokens")),
        "datazone": TokenPrice(9.9, 9.9, Meter(AO, "gpt 4o 1120 Inp Data Zone Tokens"),
                               Meter(AO, "gpt 4o 1120 Outp Data Zone Tokens"))}},
        "text-embedding-3-large": {"1": {"global": TokenPrice(9.9, None, Meter(AO, "text-embedding-3-large-glbl Tokens"))}},
        "gpt-5": {"2025-08-07": {"global": TokenPrice(9.9, 9.9, Meter("Azure OpenAI GPT5", "GPT 5 Inpt Glbl 1M Tokens"),
                                                      Meter("Azure OpenAI GPT5", "GPT 5 outpt Glbl 1M Tokens"))}}},
)


def item(product, meter, price, unit="1K", **extra):
    return {"productName": product, "meterName": meter, "retailPrice": price, "unitOfMeasure": unit,
            "type": "Consumption", "tierMinimumUnits": 0.0, "effectiveStartDate": "2025-01-01T00:00:00Z", **extra}


ITEMS = [
    item(AO, "Provisioned Managed Global Unit", 1.0, "1/Hour"),
    item("Azure Deepseek Models", "Provisioned Managed Global Unit", 7.0, "1/Hour"),  # same meter, other product
    item("Azure AI Foundry Provisioned Throughput Reservation", "Provisioned Managed Global Unit", 260.0, "1/Hour",
         type="Reservation"),
    item(AO, "gpt 4o 1120 Inp glbl Tokens", 0.002, effectiveStartDate="2024-01-01T00:00:00Z"),  # older price
    item(AO, "gpt 4o 1120 Inp glbl Tokens", 0.0025),
    item(AO, "gpt 4o 1120 Outp glbl Tokens", 0.01),
    item(AO, "gpt 4o 1120 Outp glbl Tokens", 0.001, tierMinimumUnits=1000.0),  # a volume tier, not the list price
    item(AO, "gpt 4o 1120 Inp Data Zone Tokens", 0.00275),
    item(AO, "gpt 4o 1120 Outp Data Zone Tokens", 11.0, "1 Second"),  # a unit we do not understand
    item(AO, "text-embedding-3-large-glbl Tokens", 0.00013),
    item("Azure OpenAI GPT5", "GPT 5 Inpt Glbl 1M Tokens", 1.25, "1M"),
    item("Azure OpenAI GPT5", "GPT 5 outpt Glbl 1M Tokens", 10.0, "1M"),
]


def test_prices_come_from_their_own_meter_only():
    table, missing = refreshed(TEMPLATE, ITEMS, region="eastus2", currency="USD", source="api", today="2030-05-01")
    assert table.provisioned["global"].per_hour == 1.0  # not Deepseek's 7.0, not the reservation
    price = table.token_price("gpt-4o", "2024-11-20", "global")
    assert (price.input, price.output) == (2.5, 10.0)  # latest effective date; first tier; per 1K -> per 1M
    assert table.token_price("gpt-5", "2025-08-07", "global").output == 10.0  # already per 1M
    assert table.token_price("text-embedding-3-large", "1", "global").output is None
    assert (table.as_of, table.region, table.currency, table.source) == ("2030-05-01", "eastus2", "USD", "api")


def test_what_is_not_found_is_left_out_and_listed():
    table, missing = refreshed(TEMPLATE, ITEMS, region="eastus2", currency="USD", source="api", today="2030-05-01")
    datazone = table.token_price("gpt-4o", "2024-11-20", "datazone")
    assert (datazone.input, datazone.output) == (2.75, None)
    assert table.provisioned["regional"].per_hour is None  # no meter named: never keeps the old 9.9
    assert len(missing) == 2
    assert any("datazone output" in line and "'1 Second'" in line for line in missing)
    assert any("provisioned regional (no meter named" in line for line in missing)


def test_the_query_asks_one_region_of_consumption_meters():
    url = query_url("swedencentral", "EUR")
    assert url.startswith("/api/retail/prices?currencyCode=%27EUR%27&%24filter=")
    assert "armRegionName+eq+%27swedencentral%27" in url and "type+eq+%27Consumption%27" in url
