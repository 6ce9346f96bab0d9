"""Refreshing the price table from the Azure Retail Prices API.

The API (https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices)
is public and unauthenticated. One query reads every consumption meter of the Foundry
Models service in one region (`$filter=serviceName eq 'Foundry Models' and armRegionName eq
'REGION' and type eq 'Consumption'`, `currencyCode='USD'`), following `NextPageLink` page by
page. Global meters are listed per region too, so one region gives every price we use.

Which meter is which price is not guessed from meter names (their spelling differs between
model families and releases: "gpt 4o 1120 Inp glbl", "gpt-4o-0806-Inp-glbl", "GPT 5 Inpt Glbl
1M"): each price in the table names its meter (product and meter name), and `refreshed` looks
exactly those up. A meter the API does not list leaves its price out.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Mapping
from urllib.parse import urlencode

from azure.core import PipelineClient
from azure.core.rest import HttpRequest

from provisioner.azure import retry
from provisioner.errors import ProvisionerError
from provisioner.plan.cost import HourlyPrice, Meter, PriceTable, TokenPrice

SERVICE = "Foundry Models"  # serviceName of Azure OpenAI's meters (formerly "Cognitive Services")
PATH = "/api/retail/prices"
MAX_PAGES = 200  # a guard against a NextPageLink loop; one region is a few pages
PER_MILLION = {"1K": 1000.0, "1K Tokens": 1000.0, "1M": 1.0, "1M Tokens": 1.0}  # unitOfMeasure -> factor
PER_HOUR = {"1 Hour": 1.0, "1/Hour": 1.0}


def query_url(region: str, currency: str) -> str:
    flt = f"serviceName eq '{SERVICE}' and armRegionName eq '{region}' and type eq 'Consumption'"
    params = {"currencyCode": f"'{currency}'", "$filter": flt}
    return f"{PATH}?{urlencode(params)}"


def fetch_items(client: PipelineClient, *, region: str, currency: str,
                policy: retry.RetryPolicy = retry.RetryPolicy(deadline=120.0)) -> list[dict[str, Any]]:
    """Every item of the query, all pages."""
    url: str | None = client.format_url(query_url(region, currency))
    items: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        page = retry.call(lambda: _get(client, url), policy)
        items.extend(page.get("Items") or [])
        url = page.get("NextPageLink")
        if not url:
            return items
    raise ProvisionerError(f"the Retail Prices API kept returning a next page after {MAX_PAGES} pages")


def _get(client: PipelineClient, url: str) -> Mapping[str, Any]:
    response = client.send_request(HttpRequest("GET", url))
    response.raise_for_status()
    try:
        page = response.json()
    except ValueError:
        raise ProvisionerError(f"the Retail Prices API answered {url} with something other than JSON") from None
    if not isinstance(page, Mapping):
        raise ProvisionerError(f"the Retail Prices API answered {url} with an unexpected document")
    return page


def refreshed(template: PriceTable, items: Iterable[Mapping[str, Any]], *, region: str, currency: str,
              source: str, today: str) -> tuple[PriceTable, list[str]]:
    """`template` with every price read from its meter in `items`; also the prices not found."""
    index = _index(items)
    missing: list[str] = []

    def tokens(label: str, price: TokenPrice) -> TokenPrice:
        return replace(price, input=_lookup(index, price.input_meter, PER_MILLION, f"{label} input", missing),
                       output=_lookup(index, price.output_meter, PER_MILLION, f"{label} output", missing)
                       if price.output_meter else None)

    models = {model: {version: {family: tokens(f"{model} {version} {family}", price)
                                for family, price in families.items()}
                      for version, families in versions.items()}
              for model, versions in template.models.items()}
    provisioned = {family: HourlyPrice(_lookup(index, price.meter, PER_HOUR, f"provisioned {family}", missing),
                                       price.meter)
                   for family, price in template.provisioned.items()}
    table = PriceTable(currency=currency, as_of=today, source=source, region=region, provisioned=provisioned,
                       models=models,
                       notes=(f"Read by `provision prices update` from the Azure Retail Prices API for {region}; "
                              "a price whose meter the API did not list is left out (null).",))
    return table, missing


def _index(items: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(productName, meterName) -> the item: consumption, first tier, latest effective date."""
    index: dict[tuple[str, str], Mapping[str, Any]] = {}
    for item in items:
        if item.get("type", "Consumption") != "Consumption" or float(item.get("tierMinimumUnits") or 0) != 0:
            continue
        key = (str(item.get("productName")), str(item.get("meterName")))
        if key not in index or str(item.get("effectiveStartDate", "")) > str(index[key].get("effectiveStartDate", "")):
            index[key] = item
    return index


def _lookup(index: Mapping[tuple[str, str], Mapping[str, Any]], meter: Meter | None, units: Mapping[str, float],
            label: str, missing: list[str]) -> float | None:
    if meter is None:
        missing.append(f"{label} (no meter named in the table)")
        return None
    item = index.get((meter.product, meter.name))
    factor = units.get(str(item.get("unitOfMeasure"))) if item else None
    price = item.get("retailPrice") if item else None
    if item is None or factor is None or not isinstance(price, (int, float)):
        reason = "not listed" if item is None else f"unit {item.get('unitOfMeasure')!r} or price not understood"
        missing.append(f"{label} ({meter.product} / {meter.name}: {reason})")
        return None
    return round(float(price) * factor, 6)
