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


@dataclass(frozen=True)
class SoftDeletedAccount:
    name: str
    subscription: str
    resource_group: str
    location: str
    deletion_date: str | None = None
    scheduled_purge_date: str | None = None


@dataclass(frozen=True)
class ObservedState:
    resources: Mapping[str, ObservedResource] = field(default_factory=dict)  # by address
    soft_deleted: Mapping[str, SoftDeletedAccount] = field(default_factory=dict)  # by account name
    # region default model versions: "subscription|region|format|model" -> version
    default_versions: Mapping[str, str] = field(default_factory=dict)

    def get(self, address: str) -> ObservedResource | None:
        return self.resources.get(address)

    def fingerprint(self) -> str:
        """Changes whenever anything we read changes: every etag (or properties, where Azure gives no
        etag), and which resources and soft-deleted accounts exist."""
        items = sorted(
            (address, observed.etag or json.dumps(dict(observed.resource.properties), sort_keys=True, default=str))
            for address, observed in self.resources.items())
        deleted = sorted(self.soft_deleted)
        digest = hashlib.sha256(json.dumps([items, deleted]).encode())
        return "sha256:" + digest.hexdigest()


def default_version_key(subscription: str, region: str, model_format: str, model: str) -> str:
    return f"{subscription.lower()}|{region.lower()}|{model_format}|{model}"
