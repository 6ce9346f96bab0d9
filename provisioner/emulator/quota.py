"""Quota arithmetic: the one place that says how much of a quota is used and what its limit is.

Azure OpenAI quota is per (subscription, region, usage name) (ARM-FACTS §5): every
deployment of every account of the subscription in that region counts its sku.capacity
against the usage name its model version and SKU have in the catalog. Deployments
check it (InsufficientQuota); usages and modelCapacities report it.
"""
from __future__ import annotations

from provisioner.emulator.arm import normalize_location
from provisioner.emulator.catalog import Catalog
from provisioner.emulator.errors import ArmError
from provisioner.emulator.store import Store, key_of

ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"
OPENAI_ACCOUNT_COUNT = "OpenAI.S0.AccountCount"
ACCOUNT_COUNT = "AccountCount"


def deployment_usage(catalog: Catalog, region: str, doc: dict) -> str | None:
    """The usage name a deployment counts against (None: the catalog does not know it)."""
    model = doc["properties"].get("model") or {}
    return catalog.usage_name(region, model.get("format", ""), model.get("name", ""), model.get("version", ""),
                              (doc.get("sku") or {}).get("name", ""))


def in_use(store: Store, catalog: Catalog, subscription: str, region: str, *,
           account_id: str | None = None) -> dict[str, int]:
    """usage name -> sum of sku.capacity of the deployments of the subscription in `region`
    (only those of `account_id` if given). Every stored deployment counts, whatever its
    provisioningState, until it is gone. Read from the store's aggregates (one row per account and
    model, updated on every deployment write), so its cost does not grow with the deployments."""
    region = normalize_location(region)
    account = key_of(account_id) if account_id is not None else None
    totals: dict[str, int] = {}
    for row in store.capacity_in_use(subscription, region):
        if account is not None and row["account"] != account:
            continue
        model_format, name, version, sku = row["model"].split("/", 3)
        usage = catalog.usage_name(region, model_format, name, version, sku)
        if usage is not None:
            totals[usage] = totals.get(usage, 0) + int(row["used"])
    return totals


def limit(store: Store, catalog: Catalog, subscription: str, region: str, usage_name: str) -> int:
    """The subscription's limit: set through the control surface, else the catalog's default."""
    configured = store.quota_limit(subscription, normalize_location(region), usage_name)
    return configured if configured is not None else catalog.default_limit(usage_name)


def account_counts(store: Store, subscription: str, region: str) -> dict[str, int]:
    """The two account-count usages: OpenAI S0 accounts, and accounts of any kind, in `region`."""
    region = normalize_location(region)
    accounts = [a for a in store.under(f"/subscriptions/{subscription}", ACCOUNT_TYPE)
                if normalize_location(a.get("location", "")) == region]
    openai = [a for a in accounts
              if a.get("kind") == "OpenAI" and (a.get("sku") or {}).get("name", "").upper() == "S0"]
    return {OPENAI_ACCOUNT_COUNT: len(openai), ACCOUNT_COUNT: len(accounts)}


def check(store: Store, catalog: Catalog, subscription: str, region: str, usage_name: str, requested: int) -> None:
    """Raise Azure's InsufficientQuota unless `requested` more capacity fits (for an update of a
    deployment, `requested` is its increase: its current capacity already counts as used)."""
    used = in_use(store, catalog, subscription, region).get(usage_name, 0)
    quota_limit = limit(store, catalog, subscription, region, usage_name)
    if requested <= 0 or used + requested <= quota_limit:
        return
    name = catalog.localized_name(usage_name)
    # Azure's wording, "require" typo included (ARM-FACTS §3).
    raise ArmError(400, "InsufficientQuota",
                   f"This operation require {requested} new capacity in quota {name}, which is bigger than the "
                   f"current available capacity {max(0, quota_limit - used)}. The current quota usage is {used} "
                   f"and the quota limit is {quota_limit} for quota {name}.")
