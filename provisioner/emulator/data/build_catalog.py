"""Build the emulator's model catalog (catalog.json) from the real westeurope catalog.

Run by hand when the recording changes; nothing imports this at runtime:

    python -m provisioner.emulator.data.build_catalog /path/to/catalog_westeurope.json [-o OUT]

SOURCE may be any of:
  * the azure-cli cassette test_cognitiveservices_list_models.yaml (the full, real
    `GET .../locations/westeurope/models` answer, 546 items);
  * a saved list-models JSON response (`{"value": [...]}`);
  * the condensed catalog_westeurope.json (one entry per item). It drops description,
    systemData, modelCatalogAssetId and finetuneCapabilities, so when the cassette sits
    next to it (same recording) the script reads the cassette instead.
The output is deterministic: same input, same bytes.

What is kept
------------
Items of kind OpenAI and AIServices whose model format is OpenAI, every field the real
API returns except `skus[].costs` (billing meters; large and unused). After dropping
costs the OpenAI and AIServices items are identical apart from `kind` (checked below),
so each model is stored once and the runtime emits it once per kind.

catalog.json structure
----------------------
{
  "about":  str,                          # provenance, "generated, do not edit"
  "asOf":   "2025-10-28T14:50:15Z",       # when the recording was made (Date header)
  "kinds":  ["OpenAI", "AIServices"],     # every model is listed once per kind
  "models": {"OpenAI.gpt-4o.2024-08-06": model, ...},
      # `model` is the real item's "model" object (costs dropped). Its `skus` are the
      # union over all regions; each region says which of them it offers.
  "regions": {
    "eastus": {"location": "EastUS",      # ARM display name used in ids and "location"
               "models": {"OpenAI.gpt-4o.2024-08-06": {"skus": ["GlobalStandard", ...],
                                                        <field>: <regional value>, ...}}},
    ...},                                 # a model absent from a region's map is not offered there
  "usageNames":   {usageName: localizedValue},   # every usage, incl. account counts
  "defaultQuota": {usageName: limit},            # default per-subscription, per-region limit
  "accountUsages": ["OpenAI.S0.AccountCount", "AccountCount"]  # usages counted in accounts
}
Items in a region keep the recorded order; fields other than "skus" in a regional
entry replace the model's own (used for isDefaultVersion and capabilities.area).

Per-region rules (applied to the real westeurope catalog)
---------------------------------------------------------
Only westeurope is real. The other regions follow this small, plausible table so that
tests can find something offered in one region and not in another:

  region         Data Zone  differences from westeurope
  westeurope     EU         none: the recording as is
  swedencentral  EU         + regional Standard for gpt-4o 2024-11-20, gpt-4o-mini 2024-07-18,
                              text-embedding-3-large 1, text-embedding-3-small 1
  eastus         US         + the same regional Standard SKUs as swedencentral;
                            - no regional ProvisionedManaged SKU (capacity sold out)
  eastus2        US         + the same regional Standard SKUs as swedencentral;
                            + regional ProvisionedManaged for gpt-4o 2024-08-06 (min/step 50),
                              gpt-4o-mini 2024-07-18 (25), gpt-4.1 2025-04-14 (50);
                            default gpt-4o version is 2024-11-20 (a newer default rolled out first)
  japaneast      none       - no DataZone* SKUs; + regional Standard for text-embedding-3-large/-small
  koreacentral   none       - no DataZone* SKUs, no regional ProvisionedManaged SKU,
                              no gpt-4o 2024-11-20 at all

Data Zones are EU/US only, so DataZone* SKUs exist only in the four EU/US regions. The
capability `area` ("EUR" in the recording) is set to the region's zone ("US" in the US)
and removed where there is no zone. Added SKUs are shaped after real entries: a regional
Standard copies the model's GlobalStandard entry (capacity, rateLimits, deprecationDate)
with usage `OpenAI.Standard.<model>`; a regional ProvisionedManaged copies the recorded
gpt-4o 2024-11-20 one (max 30000, min = step from Microsoft's PTU docs) with usage
`OpenAI.ProvisionedManaged.<model>-<version>`, like the recorded ones.

Usage names (localizedValue)
----------------------------
Recorded values are used verbatim (2023 westeurope usages, typo "text-curie-0011"
included); the three PTU pools use the names from Microsoft's docs. The rest are
INVENTED by these patterns (T = the usage's model part, each '-' word capitalized, "gpt"
spelled "GPT", o-series names like "o3" left alone):
  OpenAI.Standard.<m>                 Tokens Per Minute (thousands) - T      (recorded pattern)
  OpenAI.<Sku>.<m>  (GlobalStandard, DataZoneStandard, LowPriority)
                                      Tokens Per Minute (thousands) - T - <Sku>
  OpenAI.<Sku>.<m>  (GlobalBatch, DataZoneBatch)
                                      Enqueued Tokens (thousands) - T - <Sku>
  OpenAI.ProvisionedManaged.<m>       Provisioned Managed Throughput Unit - T
  OpenAI.Provisioned.<m>              Provisioned Throughput Unit - T        (legacy PTU)
  OpenAI.Dedicated.<m>                Dedicated Unit - <m>                   (recorded pattern)

Default quota (limits, per subscription and region; INVENTED but plausible)
---------------------------------------------------------------------------
  Standard 240 (gpt-35-turbo, gpt-4o, gpt-4o-mini: 300), LowPriority 240, GlobalStandard 450,
  DataZoneStandard 300 (K TPM); GlobalBatch/DataZoneBatch 5,000,000 (K enqueued tokens);
  Global/DataZone/regional ProvisionedManaged 100 PTU (so PTU deployments can be tested);
  legacy Provisioned* and Dedicated 0 (retired offers a fresh subscription cannot buy);
  OpenAI.S0.AccountCount 30, AccountCount 200.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
from pathlib import Path

OUT = Path(__file__).with_name("catalog.json")
CASSETTE_NAME = "test_cognitiveservices_list_models.yaml"
RECORDED_AT = "2025-10-28T14:50:15Z"  # Date header of the recorded answer; used if the source has none
KINDS = ("OpenAI", "AIServices")

# --- per-region rule table (see the module docstring) ---------------------------------

REGIONS = {
    # region: ARM location display name, Data Zone (None: no DataZone* SKUs), extra rules
    "eastus": {"location": "EastUS", "zone": "US", "drop_skus": {"ProvisionedManaged"}},
    "eastus2": {"location": "EastUS2", "zone": "US", "defaults": {("OpenAI", "gpt-4o"): "2024-11-20"}},
    "japaneast": {"location": "JapanEast", "zone": None},
    "koreacentral": {
        "location": "KoreaCentral",
        "zone": None,
        "drop_skus": {"ProvisionedManaged"},
        "drop_models": {("gpt-4o", "2024-11-20")},
    },
    "swedencentral": {"location": "SwedenCentral", "zone": "EUR"},
    "westeurope": {"location": "WestEurope", "zone": "EUR"},  # the recording
}

# Regional Standard SKUs added (model, version) -> regions.
ADD_STANDARD = {
    ("gpt-4o", "2024-11-20"): ["eastus", "eastus2", "swedencentral"],
    ("gpt-4o-mini", "2024-07-18"): ["eastus", "eastus2", "swedencentral"],
    ("text-embedding-3-large", "1"): ["eastus", "eastus2", "swedencentral", "japaneast"],
    ("text-embedding-3-small", "1"): ["eastus", "eastus2", "swedencentral", "japaneast"],
}

# Regional ProvisionedManaged SKUs added: (model, version) -> (minimum = step, regions).
ADD_PROVISIONED_MANAGED = {
    ("gpt-4o", "2024-08-06"): (50, ["eastus2"]),
    ("gpt-4o-mini", "2024-07-18"): (25, ["eastus2"]),
    ("gpt-4.1", "2025-04-14"): (50, ["eastus2"]),
}

# --- usage names and default quota --------------------------------------------------------

RECORDED_USAGE_NAMES = {  # test_cognitiveservices_list_usages.yaml (westeurope, 2023), verbatim
    "OpenAI.Standard.code-cushman-001": "Tokens Per Minute (thousands) - Code-Cushman-001",
    "OpenAI.Standard.code-cushman-fine-tune-002": "Tokens Per Minute (thousands) - code-cushman-fine-tune-002",
    "OpenAI.Standard.code-davinci-002": "Tokens Per Minute (thousands) - Code-Davinci-002",
    "OpenAI.Standard.code-davinci-fine-tune-002": "Tokens Per Minute (thousands) - Code-Davinci-Fine-Tune-002",
    "OpenAI.Standard.code-search-ada-code-001": "Tokens Per Minute (thousands) - Code-Search-Ada-Code-001",
    "OpenAI.Standard.code-search-ada-text-001": "Tokens Per Minute (thousands) - Code-Search-Ada-Text-001",
    "OpenAI.Standard.code-search-babbage-code-001": "Tokens Per Minute (thousands) - Code-Search-Babbage-Code-001",
    "OpenAI.Standard.code-search-babbage-text-001": "Tokens Per Minute (thousands) - Code-Search-Babbage-Text-001",
    "OpenAI.Standard.gpt-35-turbo": "Tokens Per Minute (thousands) - GPT-35-Turbo",
    "OpenAI.Standard.text-ada-001": "Tokens Per Minute (thousands) - Text-Ada-001",
    "OpenAI.Standard.text-babbage-001": "Tokens Per Minute (thousands) - Text-Babbage-001",
    "OpenAI.Standard.text-curie-001": "Tokens Per Minute (thousands) - Text-Curie-001",
    "OpenAI.Standard.text-davinci-001": "Tokens Per Minute (thousands) - Text-Davinci-001",
    "OpenAI.Standard.text-davinci-002": "Tokens Per Minute (thousands) - Text-Davinci-002",
    "OpenAI.Standard.text-davinci-003": "Tokens Per Minute (thousands) - Text-Davinci-003",
    "OpenAI.Standard.text-davinci-fine-tune-002": "Tokens Per Minute (thousands) - Text-Davinci-Fine-Tune-002",
    "OpenAI.Standard.text-embedding-ada-002": "Tokens Per Minute (thousands) - Text-Embedding-Ada-002",
    "OpenAI.Standard.text-search-ada-doc-001": "Tokens Per Minute (thousands) - Text-Search-Ada-Doc-001",
    "OpenAI.Standard.text-search-ada-query-001": "Tokens Per Minute (thousands) - Text-Search-Ada-Query-001",
    "OpenAI.Standard.text-search-babbage-doc-001": "Tokens Per Minute (thousands) - Text-Search-Babbage-Doc-001",
    "OpenAI.Standard.text-search-babbage-query-001": "Tokens Per Minute (thousands) - Text-Search-Babbage-Query-001",
    "OpenAI.Standard.text-search-curie-doc-001": "Tokens Per Minute (thousands) - Text-Search-Curie-Doc-001",
    "OpenAI.Standard.text-search-curie-query-001": "Tokens Per Minute (thousands) - Text-Search-Curie-Query-001",
    "OpenAI.Standard.text-search-davinci-doc-001": "Tokens Per Minute (thousands) - Text-Search-Davinci-Doc-001",
    "OpenAI.Standard.text-search-davinci-query-001": "Tokens Per Minute (thousands) - Text-Search-Davinci-Query-001",
    "OpenAI.Standard.text-similarity-ada-001": "Tokens Per Minute (thousands) - Text-Similarity-Ada-001",
    "OpenAI.Standard.text-similarity-babbage-001": "Tokens Per Minute (thousands) - Text-Similarity-Babbage-001",
    "OpenAI.Standard.text-similarity-curie-001": "Tokens Per Minute (thousands) - Text-Similarity-Curie-001",
    "OpenAI.Standard.text-similarity-davinci-001": "Tokens Per Minute (thousands) - Text-Similarity-Davinci-001",
    "OpenAI.Dedicated.text-ada-001": "Dedicated Unit - text-ada-001",
    "OpenAI.Dedicated.text-babbage-001": "Dedicated Unit - text-babbage-001",
    "OpenAI.Dedicated.text-curie-001": "Dedicated Unit - text-curie-0011",
    "OpenAI.Dedicated.text-davinci-001": "Dedicated Unit - text-davinci-001",
    "OpenAI.Dedicated.text-davinci-002": "Dedicated Unit - text-davinci-002",
    "OpenAI.Dedicated.text-davinci-003": "Dedicated Unit - text-davinci-003",
    "OpenAI.Dedicated.text-similarity-davinci-001": "Dedicated Unit - text-similarity-davinci-001",
    "OpenAI.Dedicated.code-cushman-001": "Dedicated Unit - code-cushman-001",
    # Microsoft docs (provisioned throughput quota names):
    "OpenAI.GlobalProvisionedManaged": "Global Provisioned Managed Throughput Unit",
    "OpenAI.DataZoneProvisionedManaged": "Data Zone Provisioned Managed Throughput Unit",
    "OpenAI.ProvisionedManaged": "Provisioned Managed Throughput Unit",
}

ACCOUNT_USAGES = {  # recorded: name -> (localizedValue, default limit)
    "OpenAI.S0.AccountCount": ("Maximum resources for OpenAI S0 sku.", 30),
    "AccountCount": ("Maximum Resources per Region", 200),
}

DEFAULT_LIMIT_BY_SKU = {
    "Standard": 240,
    "LowPriority": 240,
    "GlobalStandard": 450,
    "DataZoneStandard": 300,
    "GlobalBatch": 5_000_000,
    "DataZoneBatch": 5_000_000,
    "GlobalProvisionedManaged": 100,
    "DataZoneProvisionedManaged": 100,
    "ProvisionedManaged": 100,
    "Provisioned": 0,
    "Dedicated": 0,
}
DEFAULT_LIMIT_OVERRIDES = {
    "OpenAI.Standard.gpt-35-turbo": 300,
    "OpenAI.Standard.gpt-4o": 300,
    "OpenAI.Standard.gpt-4o-mini": 300,
}


def title(part: str) -> str:
    """'gpt-4o-mini' -> 'GPT-4o-Mini', 'text-embedding-3-large' -> 'Text-Embedding-3-Large'."""
    words = []
    for word in part.split("-"):
        if word.lower().startswith("gpt"):
            word = "GPT" + word[3:]
        elif not re.fullmatch(r"o\d+", word):  # o1, o3, o4 stay lowercase
            word = word[:1].upper() + word[1:]
        words.append(word)
    return "-".join(words)


def localized_name(usage: str) -> str:
    if usage in RECORDED_USAGE_NAMES:
        return RECORDED_USAGE_NAMES[usage]
    if usage in ACCOUNT_USAGES:
        return ACCOUNT_USAGES[usage][0]
    _, sku, rest = usage.split(".", 2)  # OpenAI.<Sku>.<model part>
    if sku == "Standard":
        return f"Tokens Per Minute (thousands) - {title(rest)}"
    if sku in ("GlobalStandard", "DataZoneStandard", "LowPriority"):
        return f"Tokens Per Minute (thousands) - {title(rest)} - {sku}"
    if sku in ("GlobalBatch", "DataZoneBatch"):
        return f"Enqueued Tokens (thousands) - {title(rest)} - {sku}"
    if sku == "ProvisionedManaged":
        return f"Provisioned Managed Throughput Unit - {title(rest)}"
    if sku == "Provisioned":
        return f"Provisioned Throughput Unit - {title(rest)}"
    if sku == "Dedicated":
        return f"Dedicated Unit - {rest}"
    raise ValueError(f"no localized name rule for usage {usage!r}")


def default_limit(usage: str) -> int:
    if usage in ACCOUNT_USAGES:
        return ACCOUNT_USAGES[usage][1]
    if usage in DEFAULT_LIMIT_OVERRIDES:
        return DEFAULT_LIMIT_OVERRIDES[usage]
    return DEFAULT_LIMIT_BY_SKU[usage.split(".")[1]]


# --- reading the source ---------------------------------------------------------------------


def read_source(path: Path) -> tuple[list[dict], str]:
    """Return (items as the list API returns them, recording time)."""
    if path.suffix in (".yaml", ".yml"):
        return read_cassette(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):  # a saved list response
        return data["value"], RECORDED_AT
    sibling = path.with_name(CASSETTE_NAME)
    if sibling.exists():  # same recording, full item shape
        items, recorded_at = read_cassette(sibling)
        condensed = {(e["kind"], e["model"]["format"], e["model"]["name"], e["model"]["version"]) for e in data}
        full = {(i["kind"], i["model"]["format"], i["model"]["name"], i["model"]["version"]) for i in items}
        if condensed != full:
            raise SystemExit(f"{sibling} does not hold the same items as {path}")
        return items, recorded_at
    return [{"kind": e["kind"], "skuName": "S0", "model": e["model"]} for e in data], RECORDED_AT


def read_cassette(path: Path) -> tuple[list[dict], str]:
    from email.utils import parsedate_to_datetime

    import yaml  # only this hand-run script needs PyYAML

    cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
    for interaction in cassette["interactions"]:
        if "/models?" in interaction["request"]["uri"] and interaction["response"]["status"]["code"] == 200:
            body = json.loads(interaction["response"]["body"]["string"])
            date = interaction["response"]["headers"]["date"][0]
            return body["value"], parsedate_to_datetime(date).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise SystemExit(f"no list-models response in {path}")


# --- building -------------------------------------------------------------------------------


def model_key(model: dict) -> str:
    return f"{model['format']}.{model['name']}.{model['version']}"


def base_models(items: list[dict]) -> dict[str, dict]:
    """The westeurope OpenAI-format models, costs dropped, one per (format, name, version)."""
    by_kind: dict[str, dict[str, dict]] = {kind: {} for kind in KINDS}
    for item in items:
        if item["kind"] in KINDS and item["model"]["format"] == "OpenAI":
            model = copy.deepcopy(item["model"])
            for sku in model["skus"]:
                sku.pop("costs", None)
            by_kind[item["kind"]][model_key(model)] = model
    openai, aiservices = by_kind["OpenAI"], by_kind["AIServices"]
    if openai != aiservices:  # the runtime emits one model per kind, so they must agree
        raise SystemExit("OpenAI and AIServices items differ beyond kind; the catalog format can't hold that")
    return openai


def find_key(models: dict[str, dict], name: str, version: str) -> str:
    key = f"OpenAI.{name}.{version}"
    if key not in models:
        raise SystemExit(f"rule table names {key}, which the source does not have")
    return key


def sku_named(model: dict, name: str) -> dict:
    return next(s for s in model["skus"] if s["name"] == name)


def add_skus(models: dict[str, dict]) -> dict[str, dict[str, list[str]]]:
    """Add the invented SKUs to the pool; return key -> sku name -> regions offering it."""
    extra: dict[str, dict[str, list[str]]] = {}
    for (name, version), regions in ADD_STANDARD.items():
        key = find_key(models, name, version)
        model = models[key]
        sku = copy.deepcopy(sku_named(model, "GlobalStandard"))
        sku["name"] = "Standard"
        sku["usageName"] = "OpenAI.Standard." + sku["usageName"].split(".", 2)[2]
        model["skus"].append(sku)
        extra.setdefault(key, {})["Standard"] = regions
    for (name, version), (unit, regions) in ADD_PROVISIONED_MANAGED.items():
        key = find_key(models, name, version)
        model = models[key]
        sku = {
            "name": "ProvisionedManaged",
            "usageName": f"OpenAI.ProvisionedManaged.{name}-{version}",
            "capacity": {"minimum": unit, "maximum": 30000, "step": unit},
        }
        if "deprecationDate" in sku_named(model, "GlobalProvisionedManaged"):
            sku["deprecationDate"] = sku_named(model, "GlobalProvisionedManaged")["deprecationDate"]
        model["skus"].append(sku)
        extra.setdefault(key, {})["ProvisionedManaged"] = regions
    return extra


def region_entries(region: str, rules: dict, models: dict[str, dict], extra: dict) -> dict[str, dict]:
    drop_models = {find_key(models, n, v) for n, v in rules.get("drop_models", ())}
    defaults = rules.get("defaults", {})
    entries = {}
    for key, model in models.items():
        if key in drop_models:
            continue
        skus = []
        for sku in model["skus"]:
            name = sku["name"]
            added_in = extra.get(key, {}).get(name)
            if added_in is not None and region not in added_in:
                continue
            if added_in is None and name in rules.get("drop_skus", ()):
                continue
            if name.startswith("DataZone") and rules["zone"] is None:
                continue
            skus.append(name)
        entry: dict = {"skus": skus}
        default = defaults.get((model["format"], model["name"]))
        if default is not None and model["isDefaultVersion"] != (model["version"] == default):
            entry["isDefaultVersion"] = model["version"] == default
        area = model["capabilities"].get("area")
        if area is not None and area != rules["zone"]:
            capabilities = dict(model["capabilities"])
            if rules["zone"] is None:
                del capabilities["area"]
            else:
                capabilities["area"] = rules["zone"]
            entry["capabilities"] = capabilities
        entries[key] = entry
    for (fmt, name), version in defaults.items():
        find_key(models, name, version)  # the rule must name a real model
    return entries


def build(items: list[dict], recorded_at: str) -> dict:
    models = base_models(items)
    recorded = {key: [s["name"] for s in m["skus"]] for key, m in models.items()}
    extra = add_skus(models)
    regions = {
        region: {"location": rules["location"], "models": region_entries(region, rules, models, extra)}
        for region, rules in REGIONS.items()
    }
    # westeurope must stay exactly the recording.
    we = regions["westeurope"]["models"]
    assert {k: e["skus"] for k, e in we.items()} == recorded and all(len(e) == 1 for e in we.values())

    usages = sorted({s["usageName"] for m in models.values() for s in m["skus"]})
    usage_names = {u: localized_name(u) for u in usages}
    default_quota = {u: default_limit(u) for u in usages}
    for usage, (localized, limit) in ACCOUNT_USAGES.items():
        usage_names[usage] = localized
        default_quota[usage] = limit
    return {
        "about": "Generated by provisioner/emulator/data/build_catalog.py from the azure-cli recording "
        "test_cognitiveservices_list_models.yaml (westeurope, api 2025-09-01); only westeurope is real, "
        "see the script for the per-region rules. Do not edit by hand.",
        "asOf": recorded_at,
        "kinds": list(KINDS),
        "models": models,
        "regions": regions,
        "usageNames": usage_names,
        "defaultQuota": default_quota,
        "accountUsages": list(ACCOUNT_USAGES),
    }


# Pretty enough to diff, small enough to ship: one model or region entry per line.
EXPANDED = {(), ("models",), ("regions",), ("regions", "*"), ("regions", "*", "models"), ("usageNames",), ("defaultQuota",)}


def dump(value, path: tuple = (), indent: int = 0) -> str:
    generic = tuple("*" if i == 1 and path[0] == "regions" else p for i, p in enumerate(path))
    if not isinstance(value, dict) or generic not in EXPANDED:
        return json.dumps(value, ensure_ascii=False)
    pad = " " * (indent + 1)
    body = ",\n".join(f"{pad}{json.dumps(k)}: {dump(v, path + (k,), indent + 1)}" for k, v in value.items())
    return "{\n" + body + "\n" + " " * indent + "}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="catalog_westeurope.json, the list-models cassette, or a saved response")
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    args = parser.parse_args(argv)
    items, recorded_at = read_source(args.source)
    text = dump(build(items, recorded_at)) + "\n"
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text.encode()) // 1024} KB)")


if __name__ == "__main__":
    main()
