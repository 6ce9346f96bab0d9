"""The deployments.yaml document as pydantic models.

The models check shape and types only (the JSON Schema editors use is
generated from them); rules that span fields or sections live in validate.py.
A `Spec` also knows where each of its values is written (`Spec.source`), so
every later check can point at a line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Literal, Mapping, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    Tag,
    field_validator,
    model_validator,
)

from provisioner.errors import Diagnostic
from provisioner.model.resources import SourceLocation

SPEC_VERSION = 1

Path = tuple[Union[str, int], ...]  # a field path: ("accounts", 0, "deployments", 1, "capacity")

Threshold = Literal["low", "medium", "high", "off"]
Action = Literal["block", "annotate", "off"]
DeploymentType = Literal["standard", "provisioned", "batch", "developer"]
DeploymentScope = Literal["regional", "global", "datazone"]

DEFAULT_TYPE: DeploymentType = "standard"
DEFAULT_SCOPE: DeploymentScope = "global"

# type x scope -> Azure deployment SKU name; a missing pair is impossible.
SKU_BY_TYPE_AND_SCOPE: dict[tuple[str, str], str] = {
    ("standard", "regional"): "Standard",
    ("standard", "global"): "GlobalStandard",
    ("standard", "datazone"): "DataZoneStandard",
    ("provisioned", "regional"): "ProvisionedManaged",
    ("provisioned", "global"): "GlobalProvisionedManaged",
    ("provisioned", "datazone"): "DataZoneProvisionedManaged",
    ("batch", "global"): "GlobalBatch",
    ("batch", "datazone"): "DataZoneBatch",
    ("developer", "global"): "DeveloperTier",
}

BUILT_IN_POLICY_PREFIX = "Microsoft."


def is_built_in_policy(name: str) -> bool:
    return name.startswith(BUILT_IN_POLICY_PREFIX)


def format_path(path: Path) -> str:
    """("accounts", 0, "capacity") -> "accounts[0].capacity"."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class SourceMap:
    """Where each value (and each mapping key) of a spec is written: 1-based (line, column)."""

    file: str = "<memory>"
    values: Mapping[Path, tuple[int, int]] = field(default_factory=dict)
    keys: Mapping[Path, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Path, *, at_key: bool = False) -> tuple[int | None, int | None]:
        """The position of `path`, or of its closest written ancestor."""
        if at_key and path in self.keys:
            return self.keys[path]
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, (None, None))

    def locate(self, path: Path) -> SourceLocation:
        """Where the item at `path` is declared: its key when it has one (`strict:`), else its value."""
        line, column = self.position(path, at_key=True)
        return SourceLocation(self.file, line, column)

    def diagnostic(
        self, path: Path, message: str, *, severity: str = "error", at_key: bool = False
    ) -> Diagnostic:
        line, column = self.position(path, at_key=at_key)
        return Diagnostic(self.file, line, column, format_path(path), message, severity)


def _scalar_or_mapping(scalar: Any, mapping: type[BaseModel], is_scalar: Callable[[Any], bool], expected: str) -> Any:
    """A value written either as a scalar shorthand or as a mapping.

    A tagged union makes pydantic report errors of the matching shape only;
    any other shape gets one "expected ..." error instead of one per member.
    """

    def shape(value: Any) -> str | None:
        if isinstance(value, (dict, BaseModel)):
            return "mapping"
        return "scalar" if is_scalar(value) else None

    return Annotated[
        Union[Annotated[scalar, Tag("scalar")], Annotated[mapping, Tag("mapping")]],
        Discriminator(shape, custom_error_type="expected", custom_error_message=expected),
    ]


def _is_whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


class _Model(BaseModel):
    # Numbers are accepted where text is expected (`version: 2`, `cost-center: 4711`).
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


Tags = Annotated[dict[str, str], Field(
    description="Azure tags (text values): names of 1-512 characters without < > % & \\ ? /, values of at most"
                " 256 characters; at most 46 per resource, inherited ones included."
)]
PositiveInt = Annotated[StrictInt, Field(gt=0)]


# security settings (network isolation, identity, access grants, diagnostics)

LogCategory = Literal["Audit", "RequestResponse", "Trace", "AzureOpenAIRequestUsage"]
PrincipalType = Literal["user", "group", "service_principal"]


class Network(_Model):
    """Who may reach the account over the network (the account's publicNetworkAccess and networkAcls)."""

    public_access: Literal["enabled", "disabled"] | None = Field(
        None, description="enabled | disabled: the public endpoint (default enabled; the same setting as the "
                          "account's public_network_access, which is its older spelling).")
    default_action: Literal["allow", "deny"] | None = Field(
        None, description="allow | deny: what happens to requests no rule matches; default deny when ip_rules or "
                          "virtual_network_rules are given, else allow.")
    ip_rules: list[str] = Field([], description="Public IPv4 addresses or CIDR ranges allowed in (at most /30: "
                                               "write a single address without a prefix).")
    virtual_network_rules: list[str] = Field(
        [], description="Subnet resource ids allowed in (the subnet needs the Microsoft.CognitiveServices service "
                        "endpoint).")
    bypass: Literal["azure_services", "none"] = Field(
        "azure_services", description="azure_services | none: whether trusted Azure services get through.")


class PrivateEndpoint(_Model):
    """A Microsoft.Network private endpoint connecting a subnet to the account."""

    name: str = Field(description="Name of the private endpoint (2-64 letters, digits, underscores, periods and "
                                  "hyphens); it goes in the account's resource group.")
    subnet: str = Field(description="Resource id of the subnet it gets its private IP address from.")
    dns_zone_ids: list[str] = Field(
        [], description="Private DNS zone resource ids (e.g. privatelink.openai.azure.com) that get the "
                        "account's record, through the endpoint's DNS zone group.")
    location: str | None = Field(None, description="Region of the endpoint: the virtual network's; default: the "
                                                   "account's location.")


class Identity(_Model):
    """The account's managed identities (used to reach other resources, e.g. customer-managed keys)."""

    system_assigned: StrictBool = Field(False, description="Give the account a system-assigned identity.")
    user_assigned: list[str] = Field([], description="Resource ids of user-assigned identities to attach (they "
                                                    "must exist).")


class Grant(_Model):
    """An Azure role granted to a principal on this resource (a role assignment)."""

    principal: str = Field(description="Object id (a GUID) of the user, group or service principal (for a managed "
                                       "identity: its principal id).")
    type: PrincipalType = Field(description="user | group | service_principal (managed identities are service "
                                            "principals).")
    role: str = Field(description="A built-in role name (e.g. Cognitive Services OpenAI User) or a role definition "
                                  "id (GUID or resource id).")


class Diagnostics(_Model):
    """A diagnostic setting sending the account's logs (and metrics) to a Log Analytics workspace."""

    workspace: str = Field(description="Resource id of the Log Analytics workspace.")
    logs: Union[Literal["all"], list[LogCategory]] = Field(
        "all", description="all (every category, as the allLogs group) or a list of Audit, RequestResponse, Trace, "
                           "AzureOpenAIRequestUsage.")
    metrics: StrictBool = Field(True, description="Send the account's metrics (AllMetrics) too.")
    name: str | None = Field(None, description="Name of the diagnostic setting; default provision-<spec name>. "
                                               "Only a setting with the default name is deleted when the spec "
                                               "stops declaring it.")


Grants = Annotated[list[Grant], Field(description="Role assignments on this resource: {principal, type, role}.")]


class Security(_Model):
    """Security settings an account takes from `defaults` unless it sets its own (each replaces the default)."""

    network: Network | None = Field(None, description="Network access: public_access, default_action, ip_rules, "
                                                      "virtual_network_rules, bypass.")
    identity: Identity | None = Field(None, description="Managed identities: system_assigned, user_assigned.")
    restrict_outbound: StrictBool | None = Field(
        None, description="Restrict the account's outbound network access to allowed_fqdns (data loss prevention).")
    allowed_fqdns: list[str] | None = Field(
        None, description="Host names the account may reach when restrict_outbound is true.")
    access: Grants | None = None
    diagnostics: Diagnostics | None = Field(None, description="Send logs and metrics to Log Analytics.")


class Defaults(Security):
    """Settings every account inherits unless it sets its own."""

    subscription: str | None = Field(None, description="Azure subscription id (a GUID).")
    resource_group: str | None = Field(None, description="Resource group of the accounts.")
    location: str | None = Field(None, description="Azure region, e.g. eastus2.")
    tags: Tags = {}


class KeyVault(_Model):
    """Where endpoints and keys are published after apply."""

    name: str = Field(description="Name of the Key Vault: 3-24 letters, digits and single hyphens, starting with a"
                                   " letter (it must exist unless `create: true`).")
    resource_group: str | None = Field(None, description="Default: defaults.resource_group.")
    subscription: str | None = Field(None, description="Default: defaults.subscription.")
    endpoint_secret: str = Field(
        "{account}-endpoint", description="Secret name template for an account's endpoint; {account} is replaced."
    )
    key_secret: str = Field(
        "{account}-key", description="Secret name template for an account's key; {account} is replaced."
    )
    create: bool = Field(
        False, description="Create the vault (RBAC authorization, soft delete on) when it does not exist."
    )
    location: str | None = Field(None, description="Region for a vault provision creates. Default: defaults.location, "
                                                   "else the first account's location.")
    adopt_existing: StrictBool = Field(
        False, description="Take over secrets of the same name that exist without ownership tags (by default "
                           "such a secret is never overwritten and publishing it fails).")
    access: list[Grant] = Field(
        [], description="Role assignments on the vault, e.g. Key Vault Secrets User for the applications that read "
                        "the published secrets: {principal, type, role}.")


class Waiver(_Model):
    """A guardrail rule (see `provision validate --rules`) accepted on purpose, with the reason."""

    rule: str = Field(description="Rule id, e.g. PRV002.")
    reason: str = Field(description="Why the finding is accepted; required and shown in reports.")


class SpecWaiver(Waiver):
    """A waiver for the whole spec, or for some of its accounts."""

    accounts: list[str] | None = Field(
        None, description="Accounts it applies to (their findings and their deployments'); default: every finding "
                          "of the rule.")


Waivers = Annotated[list[Waiver], Field(description="Guardrail rules waived here, each with a reason.")]


class CategoryThresholds(_Model):
    """Separate thresholds for prompts and completions."""

    prompt: Threshold | None = Field(None, description="Threshold for prompts: low | medium | high | off.")
    completion: Threshold | None = Field(None, description="Threshold for completions: low | medium | high | off.")

    @model_validator(mode="after")
    def _at_least_one(self) -> CategoryThresholds:
        if self.prompt is None and self.completion is None:
            raise ValueError("set prompt, completion or both")
        return self


CategorySetting = _scalar_or_mapping(
    Threshold, CategoryThresholds, _is_text, "a threshold (low, medium, high, off) or {prompt: ..., completion: ...}"
)


class Categories(_Model):
    """Severity thresholds per harm category; a category not given keeps the base policy's setting."""

    hate: CategorySetting | None = Field(None, description="low | medium | high | off, or {prompt, completion}.")
    sexual: CategorySetting | None = Field(None, description="low | medium | high | off, or {prompt, completion}.")
    violence: CategorySetting | None = Field(None, description="low | medium | high | off, or {prompt, completion}.")
    self_harm: CategorySetting | None = Field(None, description="low | medium | high | off, or {prompt, completion}.")


class ContentFilter(_Model):
    """A content filter; it becomes a RAI policy on every account whose deployments use it."""

    base: str = Field("Microsoft.DefaultV2", description="Built-in policy this one starts from.")
    mode: Literal["default", "blocking", "asynchronous"] = Field(
        "default", description="default | blocking | asynchronous (filter after streaming)."
    )
    categories: Categories = Field(default_factory=Categories)
    jailbreak: Action | None = Field(None, description="Prompt shield for jailbreak attempts: block | annotate | off.")
    indirect_attack: Action | None = Field(
        None, description="Prompt shield for indirect attacks: block | annotate | off."
    )
    protected_material_text: Action | None = Field(
        None, description="Protected text in completions: block | annotate | off."
    )
    protected_material_code: Action | None = Field(
        None, description="Protected code in completions: block | annotate | off."
    )
    blocklists: list[str] = Field([], description="Names of blocklists (defined under blocklists) to apply.")
    waive: Waivers = []


class RegexItem(_Model):
    regex: str = Field(description="A regular expression to block.")


BlocklistItem = _scalar_or_mapping(str, RegexItem, _is_text, "a phrase to block or {regex: ...}")


class Blocklist(_Model):
    description: str = Field("", description="What the list is for.")
    items: list[BlocklistItem] = Field(
        [], description='Phrases to block, or {regex: "..."} for patterns: 1-1000 characters each, at most 10,000.'
    )


class CapacityRange(_Model):
    """Flexible capacity: the planner picks what quota allows between min and max."""

    min: PositiveInt = Field(description="The least capacity acceptable.")
    max: PositiveInt = Field(description="The most capacity wanted.")


Capacity = _scalar_or_mapping(
    PositiveInt, CapacityRange, _is_whole_number, "a positive whole number or {min: N, max: N}"
)


class Deployment(_Model):
    name: str = Field(description="Deployment name, unique within its account: 2-64 letters, digits, hyphens,"
                                  " underscores and periods, starting with a letter or digit.")
    model: str = Field(min_length=1, description="Model name, e.g. gpt-4o.")
    format: str = Field("OpenAI", description="Model format.")
    version: str | None = Field(None, min_length=1,
                                description="Model version; omitted: the region's default version.")
    type: DeploymentType | None = Field(
        None, description="standard | provisioned | batch | developer (default standard). Not with sku."
    )
    scope: DeploymentScope | None = Field(
        None, description="regional | global | datazone (default global). Not with sku."
    )
    sku: str | None = Field(None, description="Explicit Azure SKU name (e.g. GlobalStandard); replaces type and scope.")
    capacity: Capacity = Field(
        description="Capacity units (1K tokens/minute for standard, PTUs for provisioned), or {min, max}."
    )
    content_filter: str | None = Field(
        None, description="A name from content_filters, or a built-in policy such as Microsoft.DefaultV2."
    )
    upgrade: Literal["on-new-default", "on-expiry", "never"] = Field(
        "on-new-default", description="When Azure moves the deployment to a newer model version."
    )
    spillover: str | None = Field(
        None, description="Deployment on the same account that takes overflow traffic."
    )
    prevent_destroy: StrictBool = Field(False, description="Refuse plans that would delete this deployment.")
    tags: Tags = {}
    waive: Waivers = []

    def azure_sku(self) -> str | None:
        """The Azure SKU name, or None when type and scope do not combine."""
        if self.sku is not None:
            return self.sku
        return SKU_BY_TYPE_AND_SCOPE.get((self.type or DEFAULT_TYPE, self.scope or DEFAULT_SCOPE))


class Account(Security):
    name: str = Field(description="Azure resource name: 2-64 letters, digits and hyphens, starting and ending"
                                  " with a letter or digit.")
    location: str | None = Field(None, description="Azure region; default: defaults.location.")
    subscription: str | None = Field(None, description="Default: defaults.subscription.")
    resource_group: str | None = Field(None, description="Default: defaults.resource_group.")
    kind: Literal["OpenAI", "AIServices"] = Field("OpenAI", description="OpenAI | AIServices.")
    custom_subdomain: str | None = Field(
        None, description="Endpoint subdomain: 2-63 letters, digits and hyphens; default: the account name."
    )
    public_network_access: Literal["enabled", "disabled"] | None = Field(
        None, description="enabled | disabled (default enabled); the same setting as network.public_access.")
    local_auth: StrictBool = Field(True, description="false disables API keys (Entra ID only).")
    private_endpoints: list[PrivateEndpoint] = Field(
        [], description="Private endpoints connecting subnets to the account: {name, subnet, dns_zone_ids, "
                        "location}.")
    prevent_destroy: StrictBool = Field(False, description="Refuse plans that would delete this account.")
    existing: StrictBool = Field(
        False, description="The account exists and is managed elsewhere (another spec, or by hand): this spec "
                           "manages only what it declares on it (deployments, content filters, blocklists), "
                           "never the account itself.")
    on_soft_deleted: Literal["restore", "purge", "fail"] = Field(
        "fail", description="What to do when a soft-deleted account holds the name: restore | purge | fail."
    )
    tags: Tags = Field({}, description="Merged over defaults.tags.")
    deployments: list[Deployment] = []
    waive: Waivers = []


class DeploymentOverlay(_Model):
    """What one environment changes on a deployment; anything not written keeps the spec's value."""

    enabled: StrictBool = Field(True, description="false: this environment has no such deployment.")
    version: str | None = Field(None, min_length=1, description="Model version in this environment.")
    type: DeploymentType | None = Field(None, description="Deployment type in this environment (clears `sku`).")
    scope: DeploymentScope | None = Field(None, description="Deployment scope in this environment (clears `sku`).")
    sku: str | None = Field(None, description="Explicit Azure SKU in this environment (clears `type`/`scope`).")
    capacity: Capacity | None = Field(None, description="Capacity in this environment.")
    tags: Tags = Field({}, description="Merged over the deployment's tags.")


class AccountOverlay(Security):
    """What one environment changes on an account (named as the spec's `accounts` name it); a security
    setting given here replaces the account's."""

    public_network_access: Literal["enabled", "disabled"] | None = Field(
        None, description="enabled | disabled in this environment.")
    private_endpoints: list[PrivateEndpoint] | None = Field(
        None, description="The account's private endpoints in this environment (replaces the spec's list).")
    location: str | None = Field(None, description="Azure region in this environment.")
    subscription: str | None = Field(None, description="Subscription in this environment.")
    resource_group: str | None = Field(None, description="Resource group in this environment.")
    tags: Tags = Field({}, description="Merged over the account's tags.")
    deployments: dict[str, DeploymentOverlay] = Field({}, description="Per deployment, by name.")


class Environment(_Model):
    """One environment's overlay: `provision --env NAME` (or PROVISION_ENV) applies it to the spec."""

    defaults: Defaults = Field(default_factory=Defaults, description="Merged over `defaults` (tags merged too).")
    accounts: dict[str, AccountOverlay] = Field({}, description="Per account, by the name the spec gives it.")


class Spec(_Model):
    """Azure OpenAI accounts and model deployments, managed as code by `provision`."""

    model_config = ConfigDict(title="provision deployments spec")

    version: Literal[1] = Field(description="Spec format version; must be 1.")
    name: str | None = Field(None, description="Spec name used in ownership tags (the provision-spec tag value, at"
                                               " most 256 characters); default: the file's stem.")
    defaults: Defaults = Field(default_factory=Defaults)
    adopt: StrictBool = Field(
        True, description="Take over declared resources that exist without ownership tags (shown as `adopt` in "
                          "the plan); false makes them a plan error, as `--no-adopt` does.")
    key_vault: KeyVault | None = None
    content_filters: dict[str, ContentFilter] = Field(
        {}, description="Content filters by name (1-64 letters, digits, hyphens, underscores and periods)."
    )
    blocklists: dict[str, Blocklist] = Field(
        {}, description="Blocklists by name (1-64 letters, digits, hyphens, underscores and periods)."
    )
    accounts: list[Account] = Field(description="Azure OpenAI accounts and their deployments.")
    environments: dict[str, Environment] = Field(
        {}, description="Overlays per environment (dev, prod, ...); `{env}` in any value becomes the "
                        "environment's name. With environments, every command needs --env or PROVISION_ENV.")
    waivers: list[SpecWaiver] = Field(
        [], description="Guardrail rules waived for the whole spec or for some accounts, each with a reason.")

    _source: SourceMap = PrivateAttr(default_factory=SourceMap)
    _warnings: tuple[Diagnostic, ...] = PrivateAttr(default=())

    @field_validator("version", mode="before")
    @classmethod
    def _supported_version(cls, value: Any) -> Any:
        if value != SPEC_VERSION or isinstance(value, bool):
            raise ValueError(f"this provision reads spec version {SPEC_VERSION} only, found version {value!r}")
        return value

    @property
    def source(self) -> SourceMap:
        """Where the spec's values are written (set by the loader)."""
        return self._source

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """Problems that do not stop the spec from being used (set by `provisioner.spec.load`)."""
        return self._warnings

    def subscription_of(self, account: Account) -> str | None:
        return account.subscription or self.defaults.subscription

    def resource_group_of(self, account: Account) -> str | None:
        return account.resource_group or self.defaults.resource_group

    def location_of(self, account: Account) -> str | None:
        return account.location or self.defaults.location

    def security_of(self, account: Account, field: str) -> Any:
        """An account's security setting (network, identity, restrict_outbound, allowed_fqdns, access,
        diagnostics): its own, else the default's; None when neither sets it. `existing: true` accounts
        inherit none: their settings belong to whoever manages them."""
        own = getattr(account, field)
        if own is not None or account.existing:
            return own
        return getattr(self.defaults, field)

    def public_access_of(self, account: Account) -> str:
        """enabled | disabled: network.public_access, else public_network_access, else enabled."""
        network = self.security_of(account, "network")
        if network is not None and network.public_access is not None:
            return network.public_access
        return account.public_network_access or "enabled"

    def deployment_count(self) -> int:
        return sum(len(account.deployments) for account in self.accounts)


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema of deployments.yaml, for editors."""
    return Spec.model_json_schema()
