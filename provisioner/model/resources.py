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

private_endpoint {"location": str (lowercase), "subnet": subnet id, "target": the account's id,
                 "group_id": "account", "dns_zone_ids": [private DNS zone id, ...] sorted,
                 "tags": {str: str}}
                 observed only: "connection_state": "Approved"|"Pending"|"Rejected"|"Disconnected",
                 "manual_connection": bool (it connects through manualPrivateLinkServiceConnections,
                 approved by the account's owner; provision writes privateLinkServiceConnections)
role_assignment  {"scope": id of the account or key vault it grants on, "principal": object id,
                 "principal_type": "User"|"Group"|"ServicePrincipal", "role": role definition GUID,
                 "role_name": built-in role name or None, "description": ownership marker}
diagnostic_setting {"workspace": Log Analytics workspace id, "logs": "all" | [category, ...] sorted
                 (Audit, RequestResponse, Trace, ...), "metrics": bool}
                 observed only: "other_destinations": [storageAccountId | eventHubAuthorizationRuleId |
                 marketplacePartnerId, ...] the setting also sends to (`provision import` leaves such out)

The security settings of an account are account properties (one PATCH updates them in place);
None means the spec leaves the setting as Azure has it (never compared, never sent):

account (continued)
                {"network": None | {"default_action": "Allow"|"Deny", "bypass": "AzureServices"|"None",
                                    "ip_rules": [IPv4 address or CIDR, ...] sorted,
                                    "virtual_network_rules": [subnet id, ...] sorted},
                 "identity": None | {"system_assigned": bool, "user_assigned": [identity id, ...] sorted},
                 "restrict_outbound": None | bool, "allowed_fqdns": None | [fqdn, ...] sorted}
                 observed only, inside "identity": "principal_id" (the system-assigned identity's),
                 "tenant_id", "user_assigned_principals" {identity id: principal id}

Values use Azure's spelling where Azure has an enumeration (Enabled, Deny, AzureServices, User).
ARM resource ids (subnet, target, dns_zone_ids, workspace, identity ids, role assignment scope)
and GUIDs (principal, role) are lowercase on both sides: ARM compares them without case and
answers in its own casing, so only lowercase ids compare reliably.

Where the new kinds live (`Scope`) and how they are addressed:
- private_endpoint: a Microsoft.Network/privateEndpoints resource in the account's subscription
  and resource group; scope.account is the account it connects to; address
  "<account>/privateEndpoints/<name>". Its private DNS zone group (named `DNS_ZONE_GROUP`) is
  part of it: written with it, read with it. Ownership: tags, as for every other kind.
- role_assignment: a Microsoft.Authorization/roleAssignments extension resource on the account
  (scope.account set) or on the key vault (scope.account None, scope.key_vault set); address
  "<account>/roleAssignments/<name>" or "key_vault:<vault>/roleAssignments/<name>". The name is
  `role_assignment_name(scope id, principal, role)`: the same grant always has the same name.
  Role assignments cannot carry tags: ownership is `assignment_description(spec)` in the
  description (see `assignment_owner`). They cannot change either: a new principal or role is a
  new name (delete the old one, create the new one); `principal_type` forces a replacement.
- diagnostic_setting: a Microsoft.Insights/diagnosticSettings extension resource on the account;
  address "<account>/diagnosticSettings/<name>". No tags, no description: ownership is the name.
  A setting is ours when the spec declares its name, and a setting named
  `diagnostic_setting_name(spec)` (the default name) is this spec's even after the spec stops
  declaring it, so only those are deleted; a custom-named setting is left in place when the
  spec drops it (`destroy` deletes it while the spec declares it: the change carries
  options {"declared_name": true}). Two spec names can give one default name (`a.b` and `a-b`,
  environment `b` of spec `a` and `a-b`, `A` and `a`): where the account's owner (`ObservedResource.account_owner`) is such another
  spec, the default-named setting is the owner's.

Request bodies and their inverses are in provisioner.model.rest: `account_body` (sends identity,
networkAcls, restrictOutboundNetworkAccess and allowedFqdnList when they are not None),
`private_endpoint_body` + `dns_zone_group_body`, `role_assignment_body` (roleDefinitionId built from
the scope's subscription: `role_definition_id`), `diagnostic_setting_body`. Templates write a role
assignment's name as the literal `Resource.name` (not a template guid() call), so every engine
creates the same assignment.

Tags always include the ownership tags (`OWNER_TAG`, `SPEC_TAG`) on desired resources. An account
whose spec grants roles on it or sends its logs somewhere also carries a mark per kind
(`ATTACHED_TAGS`): what attaches to an account from outside is listed only where the spec declares
it or a mark says provision once did, so a plan does not pay two reads per account for settings most
accounts never have, and still revokes a grant the spec drops. A mark is never removed.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

OWNER_TAG = "managed-by"
OWNER_VALUE = "provision"
SPEC_TAG = "provision-spec"
# marks on an account: provision has made role assignments / a diagnostic setting on it
ATTACHED_TAGS = {"access": "provision-access", "diagnostics": "provision-diagnostics"}
ATTACHED_VALUE = "managed"


class Kind(str, Enum):
    RESOURCE_GROUP = "resource_group"
    ACCOUNT = "account"
    BLOCKLIST = "blocklist"
    RAI_POLICY = "rai_policy"
    DEPLOYMENT = "deployment"
    PRIVATE_ENDPOINT = "private_endpoint"
    ROLE_ASSIGNMENT = "role_assignment"
    DIAGNOSTIC_SETTING = "diagnostic_setting"


# Properties naming another resource on the same account, and its kind (ARM matches them without case).
REFERENCES = {Kind.DEPLOYMENT: {"content_filter": Kind.RAI_POLICY, "spillover": Kind.DEPLOYMENT},
              Kind.RAI_POLICY: {"blocklists": Kind.BLOCKLIST}}


# Child kinds live under an account; their address is "<account>/<segment>/<name>".
ADDRESS_SEGMENT = {
    Kind.BLOCKLIST: "raiBlocklists",
    Kind.RAI_POLICY: "raiPolicies",
    Kind.DEPLOYMENT: "deployments",
    Kind.PRIVATE_ENDPOINT: "privateEndpoints",
    Kind.ROLE_ASSIGNMENT: "roleAssignments",
    Kind.DIAGNOSTIC_SETTING: "diagnosticSettings",
}
# The account's own children in Azure (deleted with it); the other kinds attach to it from outside.
ACCOUNT_CHILD_KINDS = (Kind.BLOCKLIST, Kind.RAI_POLICY, Kind.DEPLOYMENT)
# Kinds without tags, whose ownership is recorded elsewhere (description, name).
UNTAGGED_KINDS = (Kind.ROLE_ASSIGNMENT, Kind.DIAGNOSTIC_SETTING)
DNS_ZONE_GROUP = "default"  # the private DNS zone group written on each private endpoint
PRIVATE_LINK_GROUP = "account"  # the account's private link sub-resource (groupId)


@dataclass(frozen=True)
class Scope:
    """Where a resource lives in Azure."""

    subscription: str
    resource_group: str
    account: str | None = None  # set for account children and what attaches to an account
    key_vault: str | None = None  # set for role assignments on the key vault


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
    if scope.account is None and scope.key_vault is not None:
        return f"key_vault:{scope.key_vault}/{ADDRESS_SEGMENT[kind]}/{name}"
    return f"{scope.account}/{ADDRESS_SEGMENT[kind]}/{name}"


def is_managed(tags: Mapping[str, str] | None) -> bool:
    """Does a live resource carry our ownership tag?"""
    return bool(tags) and tags.get(OWNER_TAG) == OWNER_VALUE


def owner_of(tags: Mapping[str, str] | None) -> str | None:
    """The spec that manages a live resource according to its tags; None when no spec does."""
    return (tags or {}).get(SPEC_TAG) if is_managed(tags) else None


def ownership_tags(spec_name: str) -> dict[str, str]:
    return {OWNER_TAG: OWNER_VALUE, SPEC_TAG: spec_name}


def attached_tags(*kinds: str) -> dict[str, str]:
    """The marks for an account on which the spec declares these kinds ("access", "diagnostics")."""
    return {ATTACHED_TAGS[kind]: ATTACHED_VALUE for kind in kinds}


def marked(tags: Mapping[str, str] | None, kind: str) -> bool:
    """Does a live account say provision has made settings of this kind on it? (Tag names ignore case.)"""
    wanted = ATTACHED_TAGS[kind].lower()
    return any(name.lower() == wanted for name in (tags or {}))


# Role assignments: ownership in the description, as the tags would say it.
_DESCRIPTION_PREFIX = f"{OWNER_TAG}={OWNER_VALUE}; {SPEC_TAG}="
_DESCRIPTION = re.compile(re.escape(_DESCRIPTION_PREFIX) + r"(.+)")


def assignment_description(spec_name: str) -> str:
    return _DESCRIPTION_PREFIX + spec_name


def assignment_owner(description: str | None) -> str | None:
    """The spec that manages a role assignment according to its description; None when no spec does."""
    match = _DESCRIPTION.fullmatch(description or "")
    return match.group(1) if match else None


# Role assignment names: ARM's own guid() (a version 5 UUID of the arguments joined with "-" in a fixed
# namespace; learn.microsoft.com/azure/azure-resource-manager/bicep/bicep-functions-string#guid), over the
# lowercase scope id, principal and role, so the same grant always gets the same name, and a template that
# writes guid(toLower(scope.id), principal, role) (infra/) names it exactly as provision does.
ARM_GUID_NAMESPACE = uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830")


def role_assignment_name(scope_id: str, principal: str, role: str) -> str:
    """The assignment's name for granting `role` (a role definition GUID) to `principal` on `scope_id`."""
    return str(uuid.uuid5(ARM_GUID_NAMESPACE, "-".join(part.lower() for part in (scope_id, principal, role))))


def diagnostic_setting_name(spec_name: str) -> str:
    """The default name of the diagnostic setting a spec writes: the spec's, so it stays recognisable."""
    return ("provision-" + re.sub(r"[^A-Za-z0-9_-]", "-", spec_name))[:260]


def owner_of_resource(kind: Kind, name: str, properties: Mapping[str, Any], spec_name: str,
                      account_owner: str | None = None) -> str | None:
    """The spec that manages a live resource: from its tags, from a role assignment's description, or
    (a diagnostic setting) `spec_name` when it has this spec's default name; None when no spec does."""
    if kind is Kind.ROLE_ASSIGNMENT:
        return assignment_owner(properties.get("description"))
    if kind is Kind.DIAGNOSTIC_SETTING:
        if name.lower() != diagnostic_setting_name(spec_name).lower():
            return None
        # the spec owning the account, whose default name may be the same: then the setting is the owner's
        if account_owner and account_owner != spec_name and \
                diagnostic_setting_name(account_owner).lower() == name.lower():
            return account_owner
        return spec_name
    return owner_of(properties.get("tags"))


def arm_id(scope: Scope, kind: Kind, name: str) -> str:
    """The ARM resource id of a resource of ours (lowercase: see the module docstring)."""
    group = f"/subscriptions/{scope.subscription}/resourcegroups/{scope.resource_group}"
    if kind is Kind.RESOURCE_GROUP:
        return f"/subscriptions/{scope.subscription}/resourcegroups/{name}".lower()
    if kind is Kind.ACCOUNT:
        return f"{group}/providers/microsoft.cognitiveservices/accounts/{name}".lower()
    if kind is Kind.PRIVATE_ENDPOINT:
        return f"{group}/providers/microsoft.network/privateendpoints/{name}".lower()
    target = key_vault_id(scope) if scope.account is None else arm_id(scope, Kind.ACCOUNT, scope.account)
    if kind in ACCOUNT_CHILD_KINDS:
        return f"{target}/{ADDRESS_SEGMENT[kind]}/{name}".lower()
    provider = {Kind.ROLE_ASSIGNMENT: "microsoft.authorization", Kind.DIAGNOSTIC_SETTING: "microsoft.insights"}
    return f"{target}/providers/{provider[kind]}/{ADDRESS_SEGMENT[kind]}/{name}".lower()


def key_vault_id(scope: Scope) -> str:
    return (f"/subscriptions/{scope.subscription}/resourcegroups/{scope.resource_group}"
            f"/providers/microsoft.keyvault/vaults/{scope.key_vault}").lower()


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
