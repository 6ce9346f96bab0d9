"""The cost section of a plan document (its "cost" key) in words, for the human and markdown views.

Plain text only: each view escapes it for its own medium.
"""
from __future__ import annotations

from typing import Any, Mapping

SYMBOL = {"adopt": ">", "create": "+", "update": "~", "replace": "-/+", "delete": "-"}


def money(amount: float, currency: str) -> str:
    text = f"{abs(amount):,.2f}"
    text = f"${text}" if currency == "USD" else f"{text} {currency}"
    return f"-{text}" if amount < 0 else text


def signed(amount: float, currency: str) -> str:
    return money(amount, currency) if amount < 0 else "+" + money(amount, currency)


def heading(cost: Mapping[str, Any]) -> str:
    prices = cost["prices"]
    region = f"; data zone and regional prices of {prices['region']}" if prices.get("region") else ""
    return f"list prices in {cost['currency']} as of {prices['as_of']}{region}"


def side(side: Mapping[str, Any] | None, currency: str) -> str:
    """One side of a change: what it is and what it costs per month."""
    if side is None:
        return "(none)"
    what = f"{side['sku']} {_capacity(side)}".strip()
    if side.get("monthly") is None:
        return f"{what}: no price ({side.get('note') or 'not in the price table'})"
    if side["billing"] == "provisioned":
        return f"{what} × {money(side['per_ptu_hour'], currency)}/h = {money(side['monthly'], currency)}/month"
    rates = f"{money(side['input_per_million'], currency)}"
    rates += (f" in, {money(side['output_per_million'], currency)} out" if side.get("output_per_million") is not None
              else " in")
    return f"{what} at {rates} per 1M tokens = {money(side['monthly'], currency)}/month at full TPM"


def effect(line: Mapping[str, Any], currency: str) -> str:
    """The monthly change of one line, or why there is none."""
    if line.get("delta") is not None:
        return f"{signed(line['delta'], currency)}/month"
    sides = [s for s in (line.get("before"), line.get("after")) if s]
    if any(s.get("monthly") is None for s in sides):
        return "no price"
    return "billing changes"  # provisioned <-> pay-as-you-go: the two figures do not subtract


def change_line(line: Mapping[str, Any], currency: str) -> str:
    action = line["action"]
    if action == "create":
        body = side(line["after"], currency)
    elif action == "delete":
        body = side(line["before"], currency)
    else:
        body = f"{side(line['before'], currency)} → {side(line['after'], currency)}"
    return f"{SYMBOL.get(action, '~')} {line['address']}: {body} ({effect(line, currency)})"


def totals(cost: Mapping[str, Any]) -> list[str]:
    currency, totals = cost["currency"], cost["totals"]
    lines = []
    for key, label, suffix in (("provisioned", "Provisioned", ""),
                               ("pay_as_you_go_full_tpm", "Pay-as-you-go at full TPM",
                                f" (a ceiling: {cost['assumptions']['input_share']:.0%} input tokens)")):
        total = totals[key]
        if total["before"] or total["after"]:
            lines.append(f"{label}: {money(total['before'], currency)} → {money(total['after'], currency)} per "
                         f"month ({signed(total['delta'], currency)}){suffix}")
    if totals["unpriced"]:
        lines.append(f"{totals['unpriced']} change(s) without a price are not in these totals.")
    return lines


def _capacity(side: Mapping[str, Any]) -> str:
    capacity = side.get("capacity")
    if capacity is None:
        return ""
    unit = {"provisioned": "PTU", "pay-as-you-go": "K TPM"}.get(side["billing"], "units")
    return f"{capacity:,}{unit}" if unit == "K TPM" else f"{capacity:,} {unit}"
