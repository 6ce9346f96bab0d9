"""Rules that span fields and sections, checked once the document has the right shape."""
from __future__ import annotations

import re
from typing import Iterator

from provisioner.errors import Diagnostic
from provisioner.model.resources import OWNER_TAG, SPEC_TAG
from provisioner.spec.loader import did_you_mean
from provisioner.spec.rules import RULES_BY_ID
from provisioner.spec.schema import (
    BUILT_IN_POLICY_PREFIX,
    DEFAULT_SCOPE,
    DEFAULT_TYPE,
    SKU_BY_TYPE_AND_SCOPE,
    CapacityRange,
    Deployment,
    Path,
    Spec,
    Waiver,
    format_path,
    is_built_in_policy,
)

ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{1,63}")  # also the rule for custom subdomains
NAME_RULE = "use 2-64 letters, digits and hyphens, starting with a letter or digit"
KEY_VAULT_NAME = re.compile(r"(?!.*--)[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]")
SECRET_NAME = re.compile(r"[A-Za-z0-9-]{1,127}")


def validate_spec(spec: Spec) -> list[Diagnostic]:
    """Every semantic problem in `spec`, errors and warnings (severity "warning"), in file order."""
    checks = (_accounts, _deployments, _content_filters, _unused_blocklists, _key_vault, _reserved_tags, _waivers)
    diagnostics = [diagnostic for check in checks for diagnostic in check(spec)]
    return sorted(diagnostics, key=lambda d: (d.line or 0, d.column or 0))


def _where(spec: Spec, path: Path) -> str:
    """"line 12" when the spec came from a file, else the field path."""
    line, _ = spec.source.position(path)
    return f"line {line}" if line is not None else format_path(path)


def _accounts(spec: Spec) -> Iterator[Diagnostic]:
    first_index: dict[str, int] = {}
    for index, account in enumerate(spec.accounts):
        path: Path = ("accounts", index)
        name = account.name
        if not ACCOUNT_NAME.fullmatch(name):
            yield spec.source.diagnostic(
                path + ("name",),
                f"'{name}' is not a valid account name: {NAME_RULE}",
            )
        # Azure names are case-insensitive.
        first = first_index.setdefault(name.lower(), index)
        if first != index:
            yield spec.source.diagnostic(
                path + ("name",), f"duplicate account name '{name}' (first at {_where(spec, ('accounts', first))})"
            )
        subdomain = account.custom_subdomain
        if subdomain is not None and not ACCOUNT_NAME.fullmatch(subdomain):
            yield spec.source.diagnostic(
                path + ("custom_subdomain",),
                f"'{subdomain}' is not a valid subdomain: {NAME_RULE}",
            )
        placement = {
            "subscription": spec.subscription_of(account),
            "resource_group": spec.resource_group_of(account),
            "location": spec.location_of(account),
        }
        for field, value in placement.items():
            if not value:
                yield spec.source.diagnostic(
                    path, f"account '{name}' has no {field}: set defaults.{field} or {format_path(path + (field,))}"
                )


def _deployments(spec: Spec) -> Iterator[Diagnostic]:
    for account_index, account in enumerate(spec.accounts):
        by_name = {deployment.name: deployment for deployment in account.deployments}
        first_index: dict[str, int] = {}
        for index, deployment in enumerate(account.deployments):
            path: Path = ("accounts", account_index, "deployments", index)
            first = first_index.setdefault(deployment.name.lower(), index)
            if first != index:
                first_path = ("accounts", account_index, "deployments", first)
                yield spec.source.diagnostic(
                    path + ("name",),
                    f"duplicate deployment name '{deployment.name}' in account '{account.name}'"
                    f" (first at {_where(spec, first_path)})",
                )
            yield from _sku(spec, path, deployment)
            if isinstance(deployment.capacity, CapacityRange) and deployment.capacity.min > deployment.capacity.max:
                yield spec.source.diagnostic(
                    path + ("capacity",),
                    f"capacity min ({deployment.capacity.min}) is greater than max ({deployment.capacity.max})",
                )
            yield from _content_filter_reference(spec, path, deployment.content_filter)
            yield from _spillover(spec, path, account.name, deployment, by_name)


def _sku(spec: Spec, path: Path, deployment: Deployment) -> Iterator[Diagnostic]:
    if deployment.sku is not None:
        if deployment.type is not None or deployment.scope is not None:
            yield spec.source.diagnostic(
                path + ("sku",), "give either sku or type/scope, not both: sku already names the Azure SKU"
            )
        return
    type_ = deployment.type or DEFAULT_TYPE
    scope = deployment.scope or DEFAULT_SCOPE
    if (type_, scope) not in SKU_BY_TYPE_AND_SCOPE:
        possible = [s for (t, s) in SKU_BY_TYPE_AND_SCOPE if t == type_]
        yield spec.source.diagnostic(
            path + ("scope",), f"{type_} deployments cannot have scope {scope}; use {' or '.join(possible)}"
        )


def _content_filter_reference(spec: Spec, path: Path, name: str | None) -> Iterator[Diagnostic]:
    if name is None or is_built_in_policy(name) or name in spec.content_filters:
        return
    defined = list(spec.content_filters)
    yield spec.source.diagnostic(
        path + ("content_filter",),
        f"content filter '{name}' is not defined: define it under content_filters"
        f" or use a built-in policy ({BUILT_IN_POLICY_PREFIX}DefaultV2, {BUILT_IN_POLICY_PREFIX}Default)"
        + did_you_mean(name, defined),
    )


def _spillover(
    spec: Spec, path: Path, account: str, deployment: Deployment, by_name: dict[str, Deployment]
) -> Iterator[Diagnostic]:
    name, target = deployment.name, deployment.spillover
    if target is None:
        return
    here = path + ("spillover",)
    if target == name:
        yield spec.source.diagnostic(here, "a deployment cannot spill over to itself")
        return
    if target not in by_name:
        elsewhere = [
            other.name
            for other in spec.accounts
            if other.name != account and any(d.name == target for d in other.deployments)
        ]
        detail = f" ('{target}' is on account '{elsewhere[0]}')" if elsewhere else did_you_mean(target, list(by_name))
        yield spec.source.diagnostic(
            here, f"spillover must name a deployment on the same account; account '{account}' has no '{target}'{detail}"
        )
        return
    chain = [name, target]
    while (next_target := by_name[chain[-1]].spillover) in by_name and next_target not in chain:
        chain.append(next_target)
    if next_target == name:
        # Each deployment would have to exist before the other.
        yield spec.source.diagnostic(here, "spillover loop: " + " -> ".join(chain + [name]))
        return
    if "Provisioned" not in (deployment.azure_sku() or ""):
        yield spec.source.diagnostic(
            here, "spillover only takes effect on provisioned deployments", severity="warning"
        )


def _content_filters(spec: Spec) -> Iterator[Diagnostic]:
    used = {d.content_filter for account in spec.accounts for d in account.deployments}
    for name, content_filter in spec.content_filters.items():
        path: Path = ("content_filters", name)
        if is_built_in_policy(name):
            yield spec.source.diagnostic(
                path, f"names starting with '{BUILT_IN_POLICY_PREFIX}' are kept for built-in policies", at_key=True
            )
        for index, blocklist in enumerate(content_filter.blocklists):
            if blocklist not in spec.blocklists:
                yield spec.source.diagnostic(
                    path + ("blocklists", index),
                    f"blocklist '{blocklist}' is not defined under blocklists"
                    + did_you_mean(blocklist, list(spec.blocklists)),
                )
        if name not in used:
            yield spec.source.diagnostic(
                path,
                f"content filter '{name}' is used by no deployment, so it is not created",
                severity="warning",
                at_key=True,
            )


def _unused_blocklists(spec: Spec) -> Iterator[Diagnostic]:
    used = {name for content_filter in spec.content_filters.values() for name in content_filter.blocklists}
    for name in spec.blocklists:
        if name not in used:
            yield spec.source.diagnostic(
                ("blocklists", name),
                f"blocklist '{name}' is used by no content filter, so it is not created",
                severity="warning",
                at_key=True,
            )


def _key_vault(spec: Spec) -> Iterator[Diagnostic]:
    vault = spec.key_vault
    if vault is None:
        return
    path: Path = ("key_vault",)
    if not KEY_VAULT_NAME.fullmatch(vault.name):
        yield spec.source.diagnostic(
            path + ("name",),
            f"'{vault.name}' is not a valid Key Vault name: use 3-24 letters, digits and single hyphens,"
            " starting with a letter and ending with a letter or digit",
        )
    for field, value in (
        ("subscription", vault.subscription or spec.defaults.subscription),
        ("resource_group", vault.resource_group or spec.defaults.resource_group),
    ):
        if not value:
            yield spec.source.diagnostic(path, f"key_vault has no {field}: set defaults.{field} or key_vault.{field}")
    if not spec.accounts and not spec.defaults.location:
        yield spec.source.diagnostic(path, "key_vault's resource group needs a location: set defaults.location")
    if vault.endpoint_secret == vault.key_secret:
        yield spec.source.diagnostic(path + ("key_secret",), "key_secret must differ from endpoint_secret")
    for field in ("endpoint_secret", "key_secret"):
        yield from _secret_template(spec, path + (field,), getattr(vault, field))
    # local_auth: false with a key_vault is guardrail PRV006 (provision validate --rules).


def _secret_template(spec: Spec, path: Path, template: str) -> Iterator[Diagnostic]:
    if "{account}" not in template and len(spec.accounts) > 1:
        yield spec.source.diagnostic(
            path, f"'{template}' must contain {{account}}, else every account writes the same secret"
        )
        return
    for account in spec.accounts:
        secret = template.replace("{account}", account.name)
        if not SECRET_NAME.fullmatch(secret):
            yield spec.source.diagnostic(
                path,
                f"'{template}' gives the secret name '{secret}': Key Vault allows 1-127 letters, digits and hyphens",
            )
            return


def _reserved_tags(spec: Spec) -> Iterator[Diagnostic]:
    tagged: list[tuple[Path, dict[str, str]]] = [(("defaults", "tags"), spec.defaults.tags)]
    for account_index, account in enumerate(spec.accounts):
        tagged.append((("accounts", account_index, "tags"), account.tags))
        for index, deployment in enumerate(account.deployments):
            tagged.append((("accounts", account_index, "deployments", index, "tags"), deployment.tags))
    for path, tags in tagged:
        for reserved in (OWNER_TAG, SPEC_TAG):
            if reserved in tags:
                yield spec.source.diagnostic(
                    path + (reserved,), f"tag '{reserved}' is set by provision itself", at_key=True
                )


def _waivers(spec: Spec) -> Iterator[Diagnostic]:
    """A waiver names a known rule, gives a reason and (at the top) names accounts of this spec."""
    located: list[tuple[Path, Waiver]] = [(("waivers", i), w) for i, w in enumerate(spec.waivers)]
    for a_index, account in enumerate(spec.accounts):
        located += [(("accounts", a_index, "waive", i), w) for i, w in enumerate(account.waive)]
        for d_index, deployment in enumerate(account.deployments):
            located += [(("accounts", a_index, "deployments", d_index, "waive", i), w)
                        for i, w in enumerate(deployment.waive)]
    for name, content_filter in spec.content_filters.items():
        located += [(("content_filters", name, "waive", i), w) for i, w in enumerate(content_filter.waive)]
    accounts = [account.name for account in spec.accounts]
    for path, waiver in located:
        if waiver.rule not in RULES_BY_ID:
            yield spec.source.diagnostic(
                path + ("rule",), f"unknown guardrail rule '{waiver.rule}'; the rules are "
                f"{RULES_IDS_TEXT}" + did_you_mean(waiver.rule, list(RULES_BY_ID)))
        if not waiver.reason.strip():
            yield spec.source.diagnostic(path + ("reason",), f"the waiver of {waiver.rule} needs a reason: say why "
                                                             "the finding is accepted")
        for index, name in enumerate(getattr(waiver, "accounts", None) or ()):
            if name not in accounts:
                yield spec.source.diagnostic(path + ("accounts", index), f"the waiver names account '{name}', "
                                             "which this spec does not declare" + did_you_mean(name, accounts))


RULES_IDS_TEXT = f"{min(RULES_BY_ID)} to {max(RULES_BY_ID)} (see `provision validate --rules`)"
