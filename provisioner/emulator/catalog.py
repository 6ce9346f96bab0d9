"""The emulator's Azure OpenAI model catalog: which models, versions and SKUs each
region offers, their usage (quota) names and default limits, and the checks a
deployment PUT goes through.

Pure: stdlib only, no I/O beyond reading the packaged data/catalog.json (built by
data/build_catalog.py, whose docstring describes the file and the per-region rules).

Matching rules (as Azure does): SKU names compare case-insensitively; model format,
name and version compare exactly (case-sensitive). Region names are normalized to
lowercase without spaces ("West Europe" -> "westeurope").

Time: the catalog is a snapshot recorded on 2025-10-28. Judged against a later date
most of its models (gpt-4o, gpt-4o-mini, gpt-4.1, text-embedding-ada-002, ...) would be
past retirement and the emulator could deploy almost nothing, so `Catalog.load(today)`
moves every lifecycle date (deprecation, SKU deprecation, auto-upgrade start) forward
by the days between the recording and `today` (default: the real date). The catalog
then looks as it did on its recording day, seen from today; `as_of` is that today.
Deprecation checks default to `as_of`; pass `now` to check against another instant.

All methods return fresh copies; callers may mutate them.
"""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
MODEL_TYPE = "Microsoft.CognitiveServices/locations/models"
ACCOUNT_SKU = "S0"

# Used when a catalog SKU has no rateLimits: per unit of capacity,
# 1 request per 10 s and 1000 tokens per 60 s (the recorded Standard values).
DEFAULT_RATE_LIMITS = (
    {"key": "request", "renewalPeriod": 10, "count": 1},
    {"key": "token", "renewalPeriod": 60, "count": 1000},
)


def normalize_region(region: str) -> str:
    return region.replace(" ", "").lower()


def parse_time(value: str) -> datetime:
    """Parse the catalog's ISO-8601 UTC timestamps ("2026-03-31T00:00:00Z")."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Catalog:
    def __init__(self, data: dict):
        self._data = data
        self.as_of: datetime = parse_time(data["asOf"])
        self._kinds: list[str] = data["kinds"]
        self._locations: dict[str, str] = {}
        # region -> {(format, name, version): model dict as offered in that region}
        self._models: dict[str, dict[tuple[str, str, str], dict]] = {}
        for region, spec in data["regions"].items():
            region = normalize_region(region)
            self._locations[region] = spec["location"]
            offered = {}
            for key, entry in spec["models"].items():
                # Shallow copy: regions share the parsed data; public methods hand out deep copies.
                model = dict(data["models"][key])
                wanted = set(entry["skus"])
                model["skus"] = [s for s in model["skus"] if s["name"] in wanted]
                model.update({k: v for k, v in entry.items() if k != "skus"})
                offered[(model["format"], model["name"], model["version"])] = model
            self._models[region] = offered

    @classmethod
    def load(cls, today: str | None = None) -> "Catalog":
        """The packaged catalog as seen on `today` (ISO date; default the real date), parsed once per day."""
        return _packaged(today or datetime.now(timezone.utc).date().isoformat())

    # --- regions and listing ---------------------------------------------------------

    def regions(self) -> list[str]:
        return sorted(self._models)

    def has_region(self, region: str) -> bool:
        return normalize_region(region) in self._models

    def location(self, region: str) -> str | None:
        """ARM display name used in ids and `location` ("WestEurope")."""
        return self._locations.get(normalize_region(region))

    def models(self, region: str, subscription: str = DEFAULT_SUBSCRIPTION, kind: str | None = None) -> list[dict]:
        """Items as `GET /subscriptions/{s}/providers/Microsoft.CognitiveServices/locations/{loc}/models`
        returns them (all OpenAI-kind items, then all AIServices ones, like the real answer);
        `kind` keeps only one account kind. Unknown region: []."""
        region = normalize_region(region)
        location = self._locations.get(region)
        items = []
        for item_kind in self._kinds:
            if kind is not None and item_kind.lower() != kind.lower():
                continue
            for (fmt, name, version), model in self._models.get(region, {}).items():
                item_name = f"{fmt}.{name}.{version}"
                items.append(
                    {
                        "id": f"/subscriptions/{subscription}/providers/Microsoft.CognitiveServices"
                        f"/locations/{location}/models/{item_name}",
                        "type": MODEL_TYPE,
                        "name": item_name,
                        "location": location,
                        "kind": item_kind,
                        "skuName": ACCOUNT_SKU,
                        "model": copy.deepcopy(model),
                    }
                )
        return items

    # --- lookups ---------------------------------------------------------------------

    def _model(self, region: str, format: str, name: str, version: str) -> dict | None:
        return self._models.get(normalize_region(region), {}).get((format, name, version))

    def find(self, region: str, format: str, name: str, version: str) -> dict | None:
        """One catalog item's `model` dict, or None when the region doesn't list it."""
        model = self._model(region, format, name, version)
        return copy.deepcopy(model) if model is not None else None

    def versions(self, region: str, format: str, name: str) -> list[str]:
        return [v for (f, n, v) in self._models.get(normalize_region(region), {}) if (f, n) == (format, name)]

    def default_version(self, region: str, format: str, name: str) -> str | None:
        for (f, n, v), model in self._models.get(normalize_region(region), {}).items():
            if (f, n) == (format, name) and model.get("isDefaultVersion"):
                return v
        return None

    def _sku(self, region: str, format: str, name: str, version: str, sku_name: str) -> dict | None:
        model = self._model(region, format, name, version)
        if model is None or not sku_name:
            return None
        return next((s for s in model["skus"] if s["name"].lower() == sku_name.lower()), None)

    def sku(self, region: str, format: str, name: str, version: str, sku_name: str) -> dict | None:
        """The model's SKU entry in that region (name compared case-insensitively)."""
        sku = self._sku(region, format, name, version, sku_name)
        return copy.deepcopy(sku) if sku is not None else None

    def usage_name(self, region: str, format: str, name: str, version: str, sku_name: str) -> str | None:
        sku = self._sku(region, format, name, version, sku_name)
        return sku["usageName"] if sku is not None else None

    # --- quota -----------------------------------------------------------------------

    def usage_names(self, region: str) -> dict[str, str]:
        """usageName -> localizedValue for every usage in that region: those of the SKUs
        offered there (catalog order), then the account-count usages."""
        names: dict[str, str] = {}
        for model in self._models.get(normalize_region(region), {}).values():
            for sku in model["skus"]:
                names.setdefault(sku["usageName"], self.localized_name(sku["usageName"]))
        if self.has_region(region):
            for usage in self._data["accountUsages"]:
                names[usage] = self.localized_name(usage)
        return names

    def localized_name(self, usage_name: str) -> str:
        return self._data["usageNames"].get(usage_name, usage_name)

    def default_limit(self, usage_name: str) -> int:
        """Default quota limit of a usage per subscription and region; 0 if unknown."""
        return self._data["defaultQuota"].get(usage_name, 0)

    def account_usages(self) -> list[str]:
        """Usages that count accounts rather than deployment capacity."""
        return list(self._data["accountUsages"])

    def offering_regions(self, format: str, name: str, version: str) -> dict[str, list[str]]:
        """region -> SKU names offered, for every region listing that model version
        (a listed model may offer no SKU, e.g. text-embedding-ada-002 version 1)."""
        return {
            region: [s["name"] for s in models[(format, name, version)]["skus"]]
            for region, models in sorted(self._models.items())
            if (format, name, version) in models
        }


@lru_cache(maxsize=4)
def _packaged(today: str) -> Catalog:
    text = resources.files(__package__).joinpath("data/catalog.json").read_text(encoding="utf-8")
    return Catalog(_moved_to(json.loads(text), today))


def _moved_to(data: dict, today: str) -> dict:
    """The catalog with its lifecycle dates moved forward from its recording day to `today`."""
    recorded = parse_time(data["asOf"])
    shift = datetime.fromisoformat(today).replace(tzinfo=timezone.utc).date() - recorded.date()

    def moved(value: str) -> str:
        return (parse_time(value) + shift).strftime("%Y-%m-%dT%H:%M:%SZ")

    for model in data["models"].values():
        for key in ("inference", "fineTune"):  # deprecationStatus ("Planned") is no date
            if (model.get("deprecation") or {}).get(key):
                model["deprecation"][key] = moved(model["deprecation"][key])
        for sku in model.get("skus") or []:
            if sku.get("deprecationDate"):
                sku["deprecationDate"] = moved(sku["deprecationDate"])
        replacement = model.get("replacementConfig") or {}
        if replacement.get("autoUpgradeStartDate"):
            replacement["autoUpgradeStartDate"] = moved(replacement["autoUpgradeStartDate"])
    data["asOf"] = moved(data["asOf"])
    return data


# --- deployment checks ---------------------------------------------------------------------


def validate_deployment(
    catalog: Catalog, region: str, model: dict, sku: dict | None, now: datetime | None = None
) -> tuple[int, str, str] | None:
    """Check a deployment PUT's model and sku against the region's catalog.

    Returns None when valid, else (http status, error code, message). Codes and messages
    are Azure's (ARM-FACTS §3). InvalidCapacity for a capacity out of range is worded as Azure
    words it ("The specified capacity ' ' of account deployment should be greater than 0 and no
    more than 3.", Azure/business-process-automation#259); "greater than" the minimum less one
    generalises that 0 (UNVERIFIED for other minima), and the step's message is the emulator's own.

    A missing version means the region's default version (Azure deploys the default);
    the caller should store `catalog.default_version(...)` in that case. `now` defaults
    to catalog.as_of (see the module docstring). Retirement is checked only here, on
    create/update; deployments that already exist are not this function's business.
    """
    now = now or catalog.as_of
    fmt = model.get("format") or ""
    name = model.get("name") or ""
    version = model.get("version") or catalog.default_version(region, fmt, name) or ""
    entry = catalog.find(region, fmt, name, version)
    if entry is None:
        described = (
            f"Publisher: {model.get('publisher') or ''}, Format: {fmt}, Name: {name}, Version: {version}, "
            f"Source: {model.get('source') or ''}, SourceAccount: {model.get('sourceAccount') or ''}"
        )
        return 400, "DeploymentModelNotSupported", f"The model '{described}' of account deployment is not supported."

    retires = (entry.get("deprecation") or {}).get("inference")
    if retires and parse_time(retires) <= now:
        return (
            400,
            "DeploymentModelNotSupported",
            f"Creating account deployment is not supported by the model '{name}'. "
            "This is usually because there are better models available for similar functionality.",
        )

    sku = sku or {}
    sku_name = sku.get("name") or ""
    offered = catalog.sku(region, fmt, name, version, sku_name)
    # A SKU past its own deprecationDate can no longer be chosen for new deployments.
    if offered is not None and offered.get("deprecationDate") and parse_time(offered["deprecationDate"]) <= now:
        offered = None
    if offered is None:
        return (
            400,
            "InvalidResourceProperties",
            f"The specified SKU '{sku_name}' of account deployment is not supported by the model "
            f"'{name}' version: '{version}'.",
        )

    limits = offered.get("capacity") or {}
    minimum, maximum, step = limits.get("minimum", 1), limits.get("maximum"), limits.get("step", 1)
    capacity = sku.get("capacity")
    rule = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
    rule += f" and a multiple of {step}" if step != 1 else ""
    where = f"SKU '{offered['name']}' of model '{name}' version '{version}'"
    if maximum is not None and (capacity is None or (isinstance(capacity, int) and not isinstance(capacity, bool)
                                                     and not minimum <= capacity <= maximum)):
        return 400, "InvalidCapacity", (f"The specified capacity '{' ' if capacity is None else capacity}' of account "
                                        f"deployment should be greater than {minimum - 1} and no more than {maximum}.")
    if capacity is None:
        return 400, "InvalidCapacity", f"The capacity of account deployment is required for {where}; it must be {rule}."
    if (
        not isinstance(capacity, int)
        or isinstance(capacity, bool)
        or capacity < minimum
        or (maximum is not None and capacity > maximum)
        or capacity % step
    ):
        return 400, "InvalidCapacity", f"The capacity '{capacity}' of account deployment is not valid for {where}: it must be {rule}."
    return None


def rate_limits(sku_entry: dict | None, capacity: int) -> list[dict]:
    """A deployment's `rateLimits`: the catalog SKU's per-unit limits times capacity
    (capacity 1 of Standard gpt-35-turbo -> 1 request/10 s, 1000 tokens/60 s, as recorded).
    SKUs without rateLimits (PTU, batch, ...) get DEFAULT_RATE_LIMITS times capacity."""
    per_unit = (sku_entry or {}).get("rateLimits") or DEFAULT_RATE_LIMITS
    return [{"key": r["key"], "renewalPeriod": r["renewalPeriod"], "count": r["count"] * capacity} for r in per_unit]
