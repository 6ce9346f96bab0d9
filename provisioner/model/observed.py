"""What live Azure looks like, in the same vocabulary as the desired state.

Readers in provisioner.azure produce an ObservedState; the differ only reads it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Mapping

from provisioner.model.resources import Resource


@dataclass(frozen=True)
class ObservedResource:
    resource: Resource  # properties normalised to the vocabulary in resources.py
    azure_id: str
    etag: str | None = None
    managed: bool = False  # carries our ownership tag
    provisioning_state: str | None = None
    created_at: str | None = None  # systemData (ISO 8601), when Azure reports it: for drift
    modified_at: str | None = None
    account_owner: str | None = None  # what attaches to an account: the spec owning the account (its tags)


@dataclass(frozen=True)
class SoftDeletedAccount:
    name: str
    subscription: str
    resource_group: str
    location: str
    deletion_date: str | None = None
    scheduled_purge_date: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)  # as the account had them when it was deleted


@dataclass(frozen=True)
class SkuOffer:
    """A deployment SKU a model version is offered with in a region (capacity in that SKU's units)."""

    name: str
    usage_name: str | None
    minimum: int = 1
    maximum: int | None = None
    step: int = 1


@dataclass(frozen=True)
class ModelOffer:
    format: str
    name: str
    version: str
    is_default: bool = False
    retires: str | None = None  # inference retirement date (ISO 8601)
    replacement: str | None = None  # "gpt-4.1 2025-04-14", as the catalog suggests
    skus: tuple[SkuOffer, ...] = ()

    def sku(self, name: str) -> SkuOffer | None:
        return next((s for s in self.skus if s.name.lower() == name.lower()), None)


@dataclass(frozen=True)
class Usage:
    name: str
    localized: str
    limit: int
    current: int


@dataclass(frozen=True)
class RegionInfo:
    """A region's model catalog and quota usage for one subscription, read once per command."""

    subscription: str
    region: str
    models: tuple[ModelOffer, ...] = ()
    usages: Mapping[str, Usage] = field(default_factory=dict)

    def offer(self, model_format: str, name: str, version: str | None) -> ModelOffer | None:
        return next((m for m in self.models
                     if m.format == model_format and m.name == name and m.version == version), None)

    def default_version(self, model_format: str, name: str) -> str | None:
        return next((m.version for m in self.models
                     if m.format == model_format and m.name == name and m.is_default), None)


@dataclass(frozen=True)
class ObservedState:
    resources: Mapping[str, ObservedResource] = field(default_factory=dict)  # by address
    soft_deleted: Mapping[str, SoftDeletedAccount] = field(default_factory=dict)  # by account name
    regions: Mapping[str, RegionInfo] = field(default_factory=dict)  # by region_key(subscription, region)

    def get(self, address: str) -> ObservedResource | None:
        return self.resources.get(address)

    def region(self, subscription: str, region: str) -> RegionInfo | None:
        return self.regions.get(region_key(subscription, region))

    def fingerprint(self) -> str:
        """Changes whenever anything we read changes: every etag (or properties, where Azure gives no
        etag), and which resources and soft-deleted accounts exist."""
        items = sorted(
            (address, observed.etag or json.dumps(dict(observed.resource.properties), sort_keys=True, default=str))
            for address, observed in self.resources.items())
        deleted = sorted(self.soft_deleted)
        digest = hashlib.sha256(json.dumps([items, deleted]).encode())
        return "sha256:" + digest.hexdigest()


def region_key(subscription: str, region: str) -> str:
    return f"{subscription.lower()}|{region.replace(' ', '').lower()}"
