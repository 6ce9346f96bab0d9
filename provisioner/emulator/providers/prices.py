"""The Azure Retail Prices API (`GET /api/retail/prices`), as prices.azure.com serves it.

Public and unauthenticated like the real one (the route is registered `public`: no token,
no api-version). Shape from the API's documentation
(https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices):
`{"BillingCurrency", "CustomerEntityId", "CustomerEntityType", "Items", "NextPageLink", "Count"}`,
pages of `retail_prices_page_size` items (1,000 by default) linked by `NextPageLink`
(`...&$skip=N`), `currencyCode='EUR'` for prices in another currency, and an OData `$filter`
of `field eq 'value'` terms joined by `and`/`or`, with parentheses. Filter values are
case-sensitive (as documented from api-version 2023-01-01-preview); `priceType` filters the
items' `type`. Anything else in a filter is a 400 (its wording is UNVERIFIED).

The data (data/retail_prices.json) says where each figure comes from.
"""
from __future__ import annotations

import json
import re
import uuid
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from provisioner.emulator.arm import Call, Reply, Router
from provisioner.emulator.errors import ArmError

DATA = Path(__file__).resolve().parent.parent / "data" / "retail_prices.json"
PATH = "/api/retail/prices"
FIELD_ALIASES = {"priceType": "type"}
_TOKEN = re.compile(r"\s*(?:(\()|(\))|'((?:[^']|'')*)'|([A-Za-z]+))")


def register(router: Router) -> None:
    router.add("GET", PATH, public=True)(list_prices)


def list_prices(call: Call) -> Reply:
    currency = call.query.get("currencyCode", "USD").strip("'\"") or "USD"
    rates = _data()["currencies"]
    if currency not in rates:
        raise ArmError(400, "BadRequest", f"Currency code '{currency}' is not supported.")  # wording UNVERIFIED
    condition = _parse(call.query.get("$filter", ""))
    items = [_in_currency(item, currency, rates[currency]) for item in _items() if condition(item)]
    size = max(1, int(call.config.retail_prices_page_size))
    skip = _skip(call.query.get("$skip", "0"))
    page = items[skip:skip + size]
    next_link = None
    if skip + size < len(items):
        query = {k: v for k, v in call.query.items() if k != "$skip"}
        next_link = f"{call.base_url}{PATH}?{urlencode({**query, '$skip': skip + size})}"
    return Reply(200, {"BillingCurrency": currency, "CustomerEntityId": "Default", "CustomerEntityType": "Retail",
                       "Items": page, "NextPageLink": next_link, "Count": len(page)})


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _items() -> tuple[dict, ...]:
    """Every meter in every region, as the API's items, in a stable order (by meterId, as the API)."""
    data = _data()
    items = []
    for meter in data["meters"]:
        for region, location in data["regions"].items():
            items.append(_item(data, meter, region, location))
    return tuple(sorted(items, key=lambda item: item["meterId"]))


def _item(data: dict, meter: dict, region: str, location: str) -> dict:
    price = meter.get("regionPrices", {}).get(region, meter["price"])
    meter_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{meter['productName']}|{meter['meterName']}|{region}|"
                                                  f"{meter.get('reservationTerm', '')}"))
    product_id = data["productIds"].get(meter["productName"]) or "DZH3" + meter_id[:8].upper()
    item = {"currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price, "unitPrice": price,
            "armRegionName": region, "location": location, "effectiveStartDate": meter["effectiveStartDate"],
            "meterId": meter_id, "meterName": meter["meterName"], "productId": product_id,
            "skuId": f"{product_id}/{meter_id[-4:].upper()}", "productName": meter["productName"],
            "skuName": meter["skuName"], **data["service"], "unitOfMeasure": meter["unitOfMeasure"],
            "type": meter.get("type", "Consumption"), "isPrimaryMeterRegion": True, "armSkuName": meter["skuName"]}
    if "reservationTerm" in meter:
        item["reservationTerm"] = meter["reservationTerm"]
    return item


def _in_currency(item: dict, currency: str, rate: float) -> dict:
    if currency == "USD":
        return item
    return {**item, "currencyCode": currency, "retailPrice": round(item["retailPrice"] * rate, 6),
            "unitPrice": round(item["unitPrice"] * rate, 6)}


def _skip(value: str) -> int:
    try:
        return max(0, int(value))
    except ValueError:
        raise ArmError(400, "BadRequest", f"Invalid $skip value '{value}'.") from None  # wording UNVERIFIED


# --- $filter: field eq 'value', and, or, parentheses ---------------------------------------


def _parse(expression: str):
    """A predicate over items for the filter expression (everything matches an empty one)."""
    tokens = _tokens(expression)
    if not tokens:
        return lambda item: True
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def take():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def disjunction():
        terms = [conjunction()]
        while peek() == ("word", "or"):
            take()
            terms.append(conjunction())
        return lambda item: any(term(item) for term in terms)

    def conjunction():
        factors = [factor()]
        while peek() == ("word", "and"):
            take()
            factors.append(factor())
        return lambda item: all(f(item) for f in factors)

    def factor():
        token = take() if peek() else None
        if token == ("open", "("):
            inner = disjunction()
            closing = take() if peek() else None
            if closing != ("close", ")"):
                _bad(expression)
            return inner
        if token is None or token[0] != "word" or peek() != ("word", "eq"):
            _bad(expression)
        take()
        value = take() if peek() else None
        if value is None or value[0] != "text":
            _bad(expression)
        field, wanted = FIELD_ALIASES.get(token[1], token[1]), value[1]
        return lambda item: str(item.get(field, "")) == wanted

    predicate = disjunction()
    if position != len(tokens):
        _bad(expression)
    return predicate


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(expression.rstrip()):
        found = _TOKEN.match(expression, position)
        if not found:
            _bad(expression)
        opening, closing, text, word = found.groups()
        if opening:
            tokens.append(("open", "("))
        elif closing:
            tokens.append(("close", ")"))
        elif text is not None:
            tokens.append(("text", text.replace("''", "'")))
        else:
            tokens.append(("word", word))
        position = found.end()
    return tokens


def _bad(expression: str):
    # The real API's answer to an unsupported filter is UNVERIFIED.
    raise ArmError(400, "BadRequest", f"Invalid $filter: '{expression}'. Supported: field eq 'value' joined by "
                                      "and/or, with parentheses.")
