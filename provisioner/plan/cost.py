"""What a plan costs: list prices and the monthly effect of each deployment change.

Pure: a `PriceTable` value (read from JSON by `pricefile`) and `estimate(plan, table)`,
which turns the plan's deployment changes into `CostLine`s. The estimate is data
carried inside the plan (`Plan.cost`) and rendered from the plan document.

What the figures mean
---------------------
* Provisioned deployments (`*ProvisionedManaged`) are billed per PTU and hour whether
  or not they serve a request: monthly = hourly list price x PTU x 730 hours, per SKU
  family (global, data zone, regional).
* Pay-as-you-go deployments (`*Standard`) are billed per token. Their capacity is a
  rate limit (1 unit = 1,000 tokens per minute), so the monthly figure is a ceiling:
  the cost if the deployment ran at its full TPM for 730 hours with `INPUT_SHARE` of
  the tokens being input (3 input tokens per output token). Models priced for input
  only (embeddings) count every token as input.
* Batch, developer-tier and anything the table has no price for get "no price" and a
  note saying why, never a guess. A missing price never blocks a plan.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from provisioner.model.resources import Kind

if TYPE_CHECKING:  # plan.model imports this module for Plan.cost
    from provisioner.plan.model import Change, Plan

HOURS_PER_MONTH = 730
INPUT_SHARE = 0.75  # full-TPM assumption for pay-as-you-go: 3 input tokens per output token
TOKENS_PER_MINUTE_PER_UNIT = 1000  # a Standard capacity unit is 1K tokens per minute
PRICE_TABLE_VERSION = "1"
FAMILIES = ("global", "datazone", "regional")
PROVISIONED, PAY_AS_YOU_GO, BATCH, OTHER = "provisioned", "pay-as-you-go", "batch", "other"

# Azure deployment SKU -> (how it is billed, SKU family)
SKU_BILLING: dict[str, tuple[str, str]] = {
    "GlobalProvisionedManaged": (PROVISIONED, "global"),
    "DataZoneProvisionedManaged": (PROVISIONED, "datazone"),
    "ProvisionedManaged": (PROVISIONED, "regional"),
    "GlobalStandard": (PAY_AS_YOU_GO, "global"),
    "DataZoneStandard": (PAY_AS_YOU_GO, "datazone"),
    "Standard": (PAY_AS_YOU_GO, "regional"),
    "GlobalBatch": (BATCH, "global"),
    "DataZoneBatch": (BATCH, "datazone"),
}
# Deployment fields whose change can change the price.
PRICED_FIELDS = {"model", "format", "version", "sku", "capacity"}


class PriceTableError(ValueError):
    """A price table document is malformed; `path` locates the offending field."""

    def __init__(self, path: tuple[str | int, ...], message: str):
        self.path = path
        self.message = message
        super().__init__(f"{'.'.join(str(p) for p in path) or '(top level)'}: {message}")


# --- the price table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Meter:
    """Where `provision prices update` finds a price in the Azure Retail Prices API."""

    product: str  # productName, e.g. "Azure OpenAI"
    name: str  # meterName, e.g. "gpt 4o 1120 Inp glbl Tokens"


@dataclass(frozen=True)
class TokenPrice:
    """Pay-as-you-go list prices per 1M tokens; None: not priced."""

    input: float | None
    output: float | None
    input_meter: Meter | None = None
    output_meter: Meter | None = None


@dataclass(frozen=True)
class HourlyPrice:
    """Provisioned list price per PTU and hour; None: not priced."""

    per_hour: float | None
    meter: Meter | None = None


@dataclass(frozen=True)
class PriceTable:
    currency: str
    as_of: str  # ISO date the prices were read
    source: str  # where they come from (a citation, or the API query)
    region: str | None  # the region whose data zone and regional prices these are
    provisioned: Mapping[str, HourlyPrice]  # SKU family -> price
    models: Mapping[str, Mapping[str, Mapping[str, TokenPrice]]]  # model -> version -> family -> price
    notes: tuple[str, ...] = ()

    def token_price(self, model: str, version: str | None, family: str) -> TokenPrice | None:
        return self.models.get(model, {}).get(version or "", {}).get(family)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": PRICE_TABLE_VERSION,
            "currency": self.currency, "as_of": self.as_of, "source": self.source, "region": self.region,
            "notes": list(self.notes),
            "provisioned": {family: _hourly_to_dict(price) for family, price in self.provisioned.items()},
            "models": {model: {version: {family: _tokens_to_dict(price) for family, price in families.items()}
                               for version, families in versions.items()}
                       for model, versions in self.models.items()},
        }

    @classmethod
    def from_dict(cls, data: Any) -> "PriceTable":
        """Validate and read a price table document; PriceTableError names the field."""
        top = _mapping(data, ())
        version = str(top.get("format_version", ""))
        if version != PRICE_TABLE_VERSION:
            raise PriceTableError(("format_version",), f"expected {PRICE_TABLE_VERSION!r}, found {version!r}")
        provisioned = _mapping(top.get("provisioned", {}), ("provisioned",))
        models = _mapping(top.get("models", {}), ("models",))
        return cls(
            currency=_text(top.get("currency"), ("currency",)),
            as_of=_text(top.get("as_of"), ("as_of",)),
            source=_text(top.get("source"), ("source",)),
            region=_optional_text(top.get("region"), ("region",)),
            notes=tuple(_text(n, ("notes", i)) for i, n in enumerate(_list(top.get("notes", []), ("notes",)))),
            provisioned={_family(f, ("provisioned", f)): _hourly(p, ("provisioned", f))
                         for f, p in provisioned.items()},
            models={model: {version: {_family(f, ("models", model, version, f)):
                                      _tokens(p, ("models", model, version, f))
                                      for f, p in _mapping(families, ("models", model, version)).items()}
                            for version, families in _mapping(versions, ("models", model)).items()}
                    for model, versions in models.items()},
        )


def _hourly_to_dict(price: HourlyPrice) -> dict[str, Any]:
    return {"per_hour": price.per_hour, "meter": _meter_to_dict(price.meter)}


def _tokens_to_dict(price: TokenPrice) -> dict[str, Any]:
    return {"input": price.input, "output": price.output, "input_meter": _meter_to_dict(price.input_meter),
            "output_meter": _meter_to_dict(price.output_meter)}


def _meter_to_dict(meter: Meter | None) -> dict[str, str] | None:
    return {"product": meter.product, "name": meter.name} if meter else None


def _mapping(value: Any, path: tuple) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PriceTableError(path, f"expected an object, found {_kind(value)}")
    return value


def _list(value: Any, path: tuple) -> list:
    if not isinstance(value, list):
        raise PriceTableError(path, f"expected a list, found {_kind(value)}")
    return value


def _text(value: Any, path: tuple) -> str:
    if not isinstance(value, str) or not value:
        raise PriceTableError(path, f"expected text, found {_kind(value)}")
    return value


def _optional_text(value: Any, path: tuple) -> str | None:
    return None if value is None else _text(value, path)


def _price(value: Any, path: tuple) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise PriceTableError(path, f"expected a price (a number >= 0, or null), found {value!r}")
    return float(value)


def _family(value: str, path: tuple) -> str:
    if value not in FAMILIES:
        raise PriceTableError(path, f"unknown SKU family {value!r}; expected one of {', '.join(FAMILIES)}")
    return value


def _meter(value: Any, path: tuple) -> Meter | None:
    if value is None:
        return None
    meter = _mapping(value, path)
    return Meter(_text(meter.get("product"), path + ("product",)), _text(meter.get("name"), path + ("name",)))


def _hourly(value: Any, path: tuple) -> HourlyPrice:
    price = _mapping(value, path)
    return HourlyPrice(_price(price.get("per_hour"), path + ("per_hour",)), _meter(price.get("meter"), path + ("meter",)))


def _tokens(value: Any, path: tuple) -> TokenPrice:
    price = _mapping(value, path)
    return TokenPrice(_price(price.get("input"), path + ("input",)), _price(price.get("output"), path + ("output",)),
                      _meter(price.get("input_meter"), path + ("input_meter",)),
                      _meter(price.get("output_meter"), path + ("output_meter",)))


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), f"{type(value).__name__} {value!r}")


# --- the estimate -------------------------------------------------------------------------


@dataclass(frozen=True)
class CostSide:
    """One side (before or after) of a deployment change, priced."""

    sku: str
    capacity: int | None
    model: str | None
    version: str | None
    billing: str  # provisioned | pay-as-you-go | batch | other
    family: str | None  # global | datazone | regional
    monthly: float | None  # provisioned: list price; pay-as-you-go: at full TPM; None: no price
    per_ptu_hour: float | None = None
    input_per_million: float | None = None
    output_per_million: float | None = None
    note: str = ""  # why there is no price, or what else the figure assumes

    def to_dict(self) -> dict[str, Any]:
        return {"sku": self.sku, "capacity": self.capacity, "model": self.model, "version": self.version,
                "billing": self.billing, "family": self.family, "monthly": self.monthly,
                "per_ptu_hour": self.per_ptu_hour, "input_per_million": self.input_per_million,
                "output_per_million": self.output_per_million, "note": self.note}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "CostSide | None":
        if data is None:
            return None
        return cls(sku=data["sku"], capacity=data.get("capacity"), model=data.get("model"),
                   version=data.get("version"), billing=data["billing"], family=data.get("family"),
                   monthly=data.get("monthly"), per_ptu_hour=data.get("per_ptu_hour"),
                   input_per_million=data.get("input_per_million"),
                   output_per_million=data.get("output_per_million"), note=data.get("note", ""))


@dataclass(frozen=True)
class CostLine:
    """The cost effect of one deployment change."""

    address: str
    action: str
    before: CostSide | None  # None when creating
    after: CostSide | None  # None when deleting
    notes: tuple[str, ...] = ()

    @property
    def priced(self) -> bool:
        return all(side.monthly is not None for side in (self.before, self.after) if side is not None)

    @property
    def delta(self) -> float | None:
        """Monthly after minus before, when both sides are priced and billed alike."""
        if not self.priced or (self.before and self.after and self.before.billing != self.after.billing):
            return None
        return _money((self.after.monthly if self.after else 0.0) - (self.before.monthly if self.before else 0.0))

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "action": self.action,
                "before": self.before.to_dict() if self.before else None,
                "after": self.after.to_dict() if self.after else None,
                "delta": self.delta, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CostLine":
        return cls(address=data["address"], action=data["action"], before=CostSide.from_dict(data.get("before")),
                   after=CostSide.from_dict(data.get("after")), notes=tuple(data.get("notes", ())))


@dataclass(frozen=True)
class CostEstimate:
    currency: str
    prices_as_of: str
    prices_source: str
    prices_region: str | None
    lines: tuple[CostLine, ...]
    hours_per_month: int = HOURS_PER_MONTH
    input_share: float = INPUT_SHARE
    notes: tuple[str, ...] = ()

    def total(self, billing: str) -> dict[str, float]:
        """Before, after and delta per month over the changed deployments billed this way (priced parts)."""
        before = sum(line.before.monthly for line in self.lines
                     if line.before and line.before.billing == billing and line.before.monthly is not None)
        after = sum(line.after.monthly for line in self.lines
                    if line.after and line.after.billing == billing and line.after.monthly is not None)
        return {"before": _money(before), "after": _money(after), "delta": _money(after - before)}

    @property
    def unpriced(self) -> int:
        return sum(1 for line in self.lines if not line.priced)

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "prices": {"as_of": self.prices_as_of, "source": self.prices_source, "region": self.prices_region},
            "assumptions": {"hours_per_month": self.hours_per_month, "input_share": self.input_share,
                            "tokens_per_minute_per_unit": TOKENS_PER_MINUTE_PER_UNIT},
            "totals": {"provisioned": self.total(PROVISIONED),
                       "pay_as_you_go_full_tpm": self.total(PAY_AS_YOU_GO), "unpriced": self.unpriced},
            "lines": [line.to_dict() for line in self.lines],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "CostEstimate | None":
        if data is None:
            return None
        prices, assumptions = data["prices"], data.get("assumptions", {})
        return cls(currency=data["currency"], prices_as_of=prices["as_of"], prices_source=prices["source"],
                   prices_region=prices.get("region"),
                   lines=tuple(CostLine.from_dict(line) for line in data["lines"]),
                   hours_per_month=assumptions.get("hours_per_month", HOURS_PER_MONTH),
                   input_share=assumptions.get("input_share", INPUT_SHARE), notes=tuple(data.get("notes", ())))


def estimate(plan: "Plan", table: PriceTable) -> CostEstimate:
    """The cost effect of every deployment change in `plan`."""
    regions = _account_regions(plan.changes)
    lines = []
    for change in plan.changes:
        if change.kind is not Kind.DEPLOYMENT or not _costs_something(change):
            continue
        region = regions.get(change.scope.account or "")
        before = _side(change.before, table) if change.before is not None and change.action.value != "create" else None
        after = _side(change.after, table) if change.after is not None and change.action.value != "delete" else None
        lines.append(CostLine(change.address, change.action.value, before, after,
                              _region_notes(table, region, before, after)))
    notes = (f"list prices in {table.currency} as of {table.as_of} ({table.source})",
             f"provisioned: hourly price x PTU x {HOURS_PER_MONTH} h; pay-as-you-go: the cost at full TPM for "
             f"{HOURS_PER_MONTH} h with {INPUT_SHARE:.0%} input tokens, a ceiling rather than a forecast")
    return CostEstimate(currency=table.currency, prices_as_of=table.as_of, prices_source=table.source,
                        prices_region=table.region, lines=tuple(lines), notes=notes + table.notes)


def with_cost(plan: "Plan", table: PriceTable) -> "Plan":
    """The plan with its cost estimate attached."""
    return replace(plan, cost=estimate(plan, table))


def _costs_something(change: "Change") -> bool:
    action = change.action.value
    if action in ("create", "delete", "replace"):
        return True
    return action in ("update", "adopt") and any(f.path.split(".")[0] in PRICED_FIELDS for f in change.fields)


def _account_regions(changes: Iterable["Change"]) -> dict[str, str]:
    """Account name -> region, from the plan's account changes (no-ops included)."""
    regions = {}
    for change in changes:
        if change.kind is Kind.ACCOUNT:
            location = (change.after or change.before or {}).get("location")
            if location:
                regions[change.name] = str(location).replace(" ", "").lower()
    return regions


def _side(props: Mapping[str, Any], table: PriceTable) -> CostSide:
    sku = str(props.get("sku") or "")
    billing, family = SKU_BILLING.get(sku, (OTHER, None))
    capacity = props.get("capacity")
    capacity = capacity if isinstance(capacity, int) and not isinstance(capacity, bool) else None
    model, version = props.get("model"), props.get("version")
    side = CostSide(sku=sku, capacity=capacity, model=model, version=version, billing=billing, family=family,
                    monthly=None)
    if billing == BATCH:
        return replace(side, note="batch is billed per token of each job: no monthly figure")
    if billing == OTHER or family is None:
        return replace(side, note=f"no price for SKU {sku or '(none)'}")
    if capacity is None:
        return replace(side, note="capacity unknown")
    if billing == PROVISIONED:
        return _provisioned(side, table.provisioned.get(family))
    if (props.get("format") or "OpenAI") != "OpenAI":
        return replace(side, note=f"no price for model format {props.get('format')}")
    return _pay_as_you_go(side, table.token_price(str(model), version, family))


def _provisioned(side: CostSide, price: HourlyPrice | None) -> CostSide:
    if price is None or price.per_hour is None:
        return replace(side, note=f"no {side.family} provisioned price in the price table")
    return replace(side, per_ptu_hour=price.per_hour,
                   monthly=_money(price.per_hour * (side.capacity or 0) * HOURS_PER_MONTH))


def _pay_as_you_go(side: CostSide, price: TokenPrice | None) -> CostSide:
    if price is None or price.input is None:
        return replace(side, note=f"no {side.family} price for {side.model} {side.version} in the price table")
    tokens = (side.capacity or 0) * TOKENS_PER_MINUTE_PER_UNIT * 60 * HOURS_PER_MONTH
    if price.output is None:  # priced for input only (embeddings)
        monthly, note = tokens * price.input / 1e6, "at full TPM, every token input"
    else:
        monthly = tokens * (INPUT_SHARE * price.input + (1 - INPUT_SHARE) * price.output) / 1e6
        note = f"at full TPM, {INPUT_SHARE:.0%} input tokens"
    return replace(side, input_per_million=price.input, output_per_million=price.output, monthly=_money(monthly),
                   note=note)


def _region_notes(table: PriceTable, region: str | None, *sides: CostSide | None) -> tuple[str, ...]:
    """Global prices are the same everywhere; data zone and regional ones differ by region."""
    local = {side.family for side in sides if side is not None and side.family in ("datazone", "regional")
             and side.monthly is not None}
    if not local or table.region is None or region == table.region:
        return ()
    where = region or "this account's region (not in the plan)"
    return (f"{'/'.join(sorted(local))} prices are those of {table.region}; {where} may differ "
            f"(`provision prices update --region {region or 'REGION'}`)",)


def _money(amount: float) -> float:
    return round(amount, 2) + 0.0  # + 0.0: never -0.0
