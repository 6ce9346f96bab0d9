"""Resources in one vocabulary for both sides of the diff.

The spec (desired) and live Azure (observed) are both turned into `Resource`
values whose `properties` use the same keys, so the differ compares like with
like. Keys follow the spec's own words (capacity, version, content_filter),
which is also what the plan shows the user.

Properties per kind (every key optional on the observed side):

resource_group  {"location": str, "tags": {str: str}}
account         {"location": str (lowercase), "kind": "OpenAI"|"AIServices", "sku": "S0",
                 "custom_subdomain": str, "public_network_access": "Enabled"|"Disabled",
                 "local_auth": bool, "tags": {str: str}}
blocklist       {"description": str,
                 "items": [{"pattern": str, "regex": bool}, ...] sorted by (pattern, regex),
                 "tags": {str: str}}
rai_policy      {"base": str, "mode": "Default"|"Blocking"|"Asynchronous_filter",
                 "filters": {filter_key: {"prompt"?: threshold, "completion"?: threshold}},
                 "blocklists": [str, ...] sorted, "tags": {str: str}}
                 filter_key is one of hate, sexual, violence, self_harm (threshold low|medium|high|off)
                 or jailbreak, indirect_attack, protected_material_text, protected_material_code
                 (threshold block|annotate|off; jailbreak/indirect_attack apply to the prompt,
                 protected material to the completion)
deployment      {"model": str, "format": str, "version": str|None, "sku": str, "capacity": int,
                 "content_filter": str|None, "upgrade": "on-new-default"|"on-expiry"|"never",
                 "spillover": str|None, "tags": {str: str}}

Tags always include the ownership tags (`OWNER_TAG`, `SPEC_TAG`) on desired resources.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

OWNER_TAG = "managed-by"
OWNER_VALUE = "provision"
SPEC_TAG = "provision-spec"


class Kind(str, Enum):
    RESOURCE_GROUP = "resource_group"
    ACCOUNT = "account"
    BLOCKLIST = "blocklist"
    RAI_POLICY = "rai_policy"
    DEPLOYMENT = "deployment"


# Child kinds live under an account; their address is "<account>/<segment>/<name>".
ADDRESS_SEGMENT = {
    Kind.BLOCKLIST: "raiBlocklists",
    Kind.RAI_POLICY: "raiPolicies",
    Kind.DEPLOYMENT: "deployments",
}


@dataclass(frozen=True)
class Scope:
    """Where a resource lives in Azure."""

    subscription: str
    resource_group: str
    account: str | None = None  # set for account children


@dataclass(frozen=True)
class SourceLocation:
    file: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class Resource:
    kind: Kind
    name: str
    scope: Scope
    properties: Mapping[str, Any] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()  # addresses that must exist before this one
    prevent_destroy: bool = False
    source: SourceLocation | None = None  # where the spec declares it (desired only)
    # desired only: the spec uses this resource but another spec (or nobody) owns it (`existing: true`
    # accounts): it must exist, is read, and is never written or deleted
    reference: bool = False

    @property
    def address(self) -> str:
        return address_of(self.kind, self.name, self.scope)


def address_of(kind: Kind, name: str, scope: Scope) -> str:
    """A short, unique, human-readable address for plan output and --target.

    resource_group: "rg:<subscription>/<group>"; account: "<account>";
    children: "<account>/deployments/<name>".
    """
    if kind is Kind.RESOURCE_GROUP:
        return f"rg:{scope.subscription}/{name}"
    if kind is Kind.ACCOUNT:
        return name
    return f"{scope.account}/{ADDRESS_SEGMENT[kind]}/{name}"


def is_managed(tags: Mapping[str, str] | None) -> bool:
    """Does a live resource carry our ownership tag?"""
    return bool(tags) and tags.get(OWNER_TAG) == OWNER_VALUE


def owner_of(tags: Mapping[str, str] | None) -> str | None:
    """The spec that manages a live resource according to its tags; None when no spec does."""
    return (tags or {}).get(SPEC_TAG) if is_managed(tags) else None


def ownership_tags(spec_name: str) -> dict[str, str]:
    return {OWNER_TAG: OWNER_VALUE, SPEC_TAG: spec_name}


@dataclass(frozen=True)
class KeyVaultTarget:
    """Where endpoints and keys are published after apply."""

    name: str
    scope: Scope  # subscription + resource group of the vault
    endpoint_secret: str = "{account}-endpoint"  # templates; {account} is replaced
    key_secret: str = "{account}-key"
    create: bool = False  # create the vault when it does not exist
    location: str = ""  # where a created vault goes
    adopt_existing: bool = False  # take over same-named secrets that carry no ownership tags


@dataclass(frozen=True)
class DesiredState:
    """Everything the spec asks for, resolved (defaults merged, ${VAR}s expanded)."""

    spec_name: str  # recorded in the SPEC_TAG of everything we create
    resources: tuple[Resource, ...]
    on_soft_deleted: Mapping[str, str] = field(default_factory=dict)  # account -> restore|purge|fail
    key_vault: KeyVaultTarget | None = None
    adopt: bool = True  # declared resources without ownership tags are adopted (False: a plan error)
    environment: str | None = None  # the spec's environment, when it has environments (spec_name is NAME@ENV)

    def by_address(self) -> dict[str, Resource]:
        return {r.address: r for r in self.resources}
