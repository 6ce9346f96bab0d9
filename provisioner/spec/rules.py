"""Guardrails: a spec checked against Azure's security guidance for Azure OpenAI, before it is applied.

Pure: a loaded `Spec` in, `Finding`s out, no I/O. Each rule has an id, a severity (error | warning |
note), a one-line fix and the guidance it comes from. A finding names the resource, points at the
spec's line and can be waived in the spec with a reason (`waivers:` at the top, `waive:` on an
account, a deployment or a content filter); a waived finding is still reported, marked waived.

Sources (read 2026-12):
- Azure Well-Architected Framework, service guide for Azure OpenAI (security checklist and
  recommendations): https://learn.microsoft.com/azure/well-architected/service-guides/azure-openai
- Well-Architected AI workloads, security: https://learn.microsoft.com/azure/well-architected/ai/security
- Azure security baseline for Azure OpenAI (NS-1, NS-2, IM-1, LT-3):
  https://learn.microsoft.com/security/benchmark/azure/baselines/azure-openai-security-baseline
- Network and access: https://learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks,
  https://learn.microsoft.com/azure/ai-services/disable-local-auth,
  https://learn.microsoft.com/azure/ai-services/cognitive-services-data-loss-prevention
- Content filters: https://learn.microsoft.com/azure/ai-services/openai/concepts/content-filter,
  https://learn.microsoft.com/azure/ai-services/openai/how-to/content-filters (modified filters need approval)
- Spillover and upgrades: https://learn.microsoft.com/azure/ai-services/openai/how-to/spillover-traffic-management,
  https://learn.microsoft.com/azure/ai-services/openai/concepts/model-versions

Account settings are read as the plan reads them: an account's own, else the `defaults` one
(`Spec.security_of`), so a rule judges exactly what would be applied.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from provisioner.spec.schema import ContentFilter, Path, Spec, Waiver

SEVERITIES = ("error", "warning", "note")
WAF = "https://learn.microsoft.com/azure/well-architected/service-guides/azure-openai"
BASELINE = "https://learn.microsoft.com/security/benchmark/azure/baselines/azure-openai-security-baseline"
CONTENT_FILTER = "https://learn.microsoft.com/azure/ai-services/openai/concepts/content-filter"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str  # kebab-case, for SARIF's reportingDescriptor.name
    severity: str
    summary: str
    fix: str
    source: str  # the guidance it comes from


RULES: tuple[Rule, ...] = (
    Rule("PRV001", "public-network-open", "warning",
         "Public network access is enabled and no network rule denies by default.",
         "set public_network_access: disabled and connect through private endpoints "
         "(or deny by default and allow IP rules)", WAF),
    Rule("PRV002", "key-auth-enabled", "warning",
         "Key (local) authentication is on; Entra ID and RBAC are recommended instead.",
         "set local_auth: false and grant identities the Cognitive Services OpenAI User role",
         "https://learn.microsoft.com/azure/ai-services/disable-local-auth"),
    Rule("PRV003", "no-diagnostics", "warning",
         "No diagnostic settings send the account's audit and request logs to a Log Analytics workspace.",
         "add diagnostics: {workspace: <Log Analytics workspace id>, logs: all} to the account", BASELINE),
    Rule("PRV004", "outbound-unrestricted", "note",
         "Outbound network access is not restricted, so the account can reach any URL (data exfiltration).",
         "set restrict_outbound: true with the allowed_fqdns the account needs",
         "https://learn.microsoft.com/azure/ai-services/cognitive-services-data-loss-prevention"),
    Rule("PRV005", "private-endpoint-without-dns", "warning",
         "A private endpoint has no private DNS zone, so the account's name does not resolve to it.",
         "add dns_zone_ids: [<privatelink.openai.azure.com zone id>] to the private endpoint",
         "https://learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks"),
    Rule("PRV006", "keys-published-without-local-auth", "warning",
         "key_vault publishes account keys, but the account has key authentication off: there is no key.",
         "clients of this account sign in with Entra ID; waive this if the endpoint secret is all you need",
         WAF),
    Rule("PRV007", "no-content-filter", "warning",
         "The deployment names no content filter, so Azure's default applies unreviewed and unpinned.",
         "set content_filter: Microsoft.DefaultV2 or a filter defined under content_filters", CONTENT_FILTER),
    Rule("PRV008", "harm-filter-off", "error",
         "A content filter switches a harm category (hate, sexual, violence, self-harm) off.",
         "set a threshold (low, medium or high) instead of off", CONTENT_FILTER),
    Rule("PRV009", "prompt-shield-off", "warning",
         "A content filter switches a prompt shield (jailbreak, indirect attack) off.",
         "set jailbreak: block and indirect_attack: block", WAF),
    Rule("PRV010", "protected-material-off", "note",
         "A content filter switches protected material detection (text, code) off.",
         "set protected_material_text and protected_material_code to block or annotate", CONTENT_FILTER),
    Rule("PRV011", "asynchronous-filter", "note",
         "The content filter runs asynchronously: streamed output reaches clients before it is filtered.",
         "set mode: default or blocking unless streaming latency matters more",
         "https://learn.microsoft.com/azure/ai-services/openai/how-to/content-streaming"),
    Rule("PRV012", "ptu-without-spillover", "note",
         "A provisioned deployment has no spillover target, so traffic over its PTUs gets 429s.",
         "set spillover: <a standard deployment on the same account>",
         "https://learn.microsoft.com/azure/ai-services/openai/how-to/spillover-traffic-management"),
    Rule("PRV013", "upgrade-never", "note",
         "The deployment never moves to a newer model version, so it stops when its version retires.",
         "set upgrade: on-expiry (or on-new-default) and pin version for reviewable upgrades",
         "https://learn.microsoft.com/azure/ai-services/openai/concepts/model-versions"),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}


@dataclass(frozen=True)
class Finding:
    rule: Rule
    message: str  # names the resource
    path: Path  # of the offending value, or of the resource when the value is missing
    file: str
    line: int | None
    column: int | None
    waived: str | None = None  # the waiver's reason

    def __str__(self) -> str:
        where = self.file + "".join(f":{n}" for n in (self.line, self.column) if n is not None)
        state = f" (waived: {self.waived})" if self.waived is not None else ""
        return f"{where}: {self.rule.id} {self.rule.severity}: {self.message}{state}"


def check(spec: Spec) -> list[Finding]:
    """Every finding for `spec`, waived ones included (marked), in file order."""
    waivers = list(_waivers(spec))
    findings = []
    for rule_id, message, path in _raw_findings(spec):
        line, column = spec.source.position(path)
        reason = _waiver_reason(spec, waivers, rule_id, path)
        findings.append(Finding(RULES_BY_ID[rule_id], message, path, spec.source.file, line, column, reason))
    return sorted(findings, key=lambda f: (f.line or 0, f.column or 0, f.rule.id))


def failing(findings: Iterable[Finding], *, strict: bool = False) -> list[Finding]:
    """The findings that fail a check: unwaived errors, and with `strict` unwaived warnings too."""
    severities = ("error", "warning") if strict else ("error",)
    return [f for f in findings if f.waived is None and f.rule.severity in severities]


# waivers

def _waivers(spec: Spec) -> Iterator[tuple[Path, Waiver]]:
    """(scope, waiver): a waiver covers the findings whose path starts with its scope."""
    for index, account in enumerate(spec.accounts):
        yield from ((("accounts", index), w) for w in account.waive)
        for d_index, deployment in enumerate(account.deployments):
            yield from ((("accounts", index, "deployments", d_index), w) for w in deployment.waive)
    for name, content_filter in spec.content_filters.items():
        yield from ((("content_filters", name), w) for w in content_filter.waive)


def _waiver_reason(spec: Spec, waivers: list[tuple[Path, Waiver]], rule_id: str, path: Path) -> str | None:
    for scope, waiver in waivers:
        if waiver.rule == rule_id and path[:len(scope)] == scope:
            return waiver.reason
    account = spec.accounts[path[1]].name if path[:1] == ("accounts",) else None
    for waiver in spec.waivers:
        if waiver.rule == rule_id and (waiver.accounts is None or account in waiver.accounts):
            return waiver.reason
    return None


# the rules

def _raw_findings(spec: Spec) -> Iterator[tuple[str, str, Path]]:
    for index, account in enumerate(spec.accounts):
        path: Path = ("accounts", index)
        if not account.existing:  # an existing account's settings belong to whoever manages it
            yield from _account(spec, account, path)
        if spec.key_vault is not None and not account.local_auth:
            yield ("PRV006", f"key_vault '{spec.key_vault.name}' publishes keys, but account '{account.name}' "
                             "has local_auth: false: only its endpoint is published", path + ("local_auth",))
        for d_index, deployment in enumerate(account.deployments):
            yield from _deployment(account.name, deployment, path + ("deployments", d_index))
    for name, content_filter in spec.content_filters.items():
        yield from _content_filter(name, content_filter, ("content_filters", name))


def _account(spec: Spec, account: Any, path: Path) -> Iterator[tuple[str, str, Path]]:
    name = account.name
    network = spec.security_of(account, "network")
    if spec.public_access_of(account) == "enabled" and _default_action(network) != "deny":
        endpoints = " (it has private endpoints, but the public endpoint stays open)" \
            if account.private_endpoints else ""
        if account.network is not None:
            where = path + (("network", "public_access") if account.network.public_access else ("network",))
        else:
            where = path + (("public_network_access",) if account.public_network_access is not None else ())
        yield ("PRV001", f"account '{name}' accepts requests from any network: public network access is enabled "
                         f"with no IP rules or virtual network rules{endpoints}", where)
    if account.local_auth:
        yield ("PRV002", f"account '{name}' keeps key authentication on (local_auth: true)", path + ("local_auth",))
    yield from _diagnostics(spec, account, path)
    if spec.security_of(account, "restrict_outbound") is not True:
        yield ("PRV004", f"account '{name}' does not restrict outbound network access", path)
    for e_index, endpoint in enumerate(account.private_endpoints):
        if not endpoint.dns_zone_ids:
            yield ("PRV005", f"private endpoint '{endpoint.name}' of account '{name}' has no private DNS "
                             "zone", path + ("private_endpoints", e_index))


def _default_action(network: Any) -> str:
    """What a request no rule matches gets: as desired.py resolves it (no network settings: allow)."""
    if network is None:
        return "allow"
    return network.default_action or ("deny" if network.ip_rules or network.virtual_network_rules else "allow")


def _diagnostics(spec: Spec, account: Any, path: Path) -> Iterator[tuple[str, str, Path]]:
    diagnostics = spec.security_of(account, "diagnostics")
    if diagnostics is None:
        yield ("PRV003", f"account '{account.name}' has no diagnostics configured: its audit and request logs "
                         "are kept nowhere", path)
        return
    if diagnostics.logs != "all" and "Audit" not in diagnostics.logs:
        where = path + ("diagnostics", "logs") if account.diagnostics is not None else ("defaults", "diagnostics",
                                                                                      "logs")
        yield ("PRV003", f"account '{account.name}' does not send its Audit logs to a workspace", where)


def _deployment(account: str, deployment: Any, path: Path) -> Iterator[tuple[str, str, Path]]:
    name = f"{account}/{deployment.name}"
    if deployment.content_filter is None:
        yield ("PRV007", f"deployment '{name}' names no content filter: Azure's default applies, unreviewed", path)
    if "Provisioned" in (deployment.azure_sku() or "") and deployment.spillover is None:
        yield ("PRV012", f"provisioned deployment '{name}' has no spillover target", path)
    if deployment.upgrade == "never":
        yield ("PRV013", f"deployment '{name}' never upgrades its model version (upgrade: never)",
               path + ("upgrade",))


def _content_filter(name: str, content_filter: ContentFilter, path: Path) -> Iterator[tuple[str, str, Path]]:
    for category in ("hate", "sexual", "violence", "self_harm"):
        setting = getattr(content_filter.categories, category)
        here = path + ("categories", category)
        if setting == "off":
            yield ("PRV008", f"content filter '{name}' switches the {category} filter off for prompts and "
                             "completions", here)
        elif setting is not None and not isinstance(setting, str):
            for side in ("prompt", "completion"):
                if getattr(setting, side) == "off":
                    yield ("PRV008", f"content filter '{name}' switches the {category} filter off for "
                                     f"{side}s", here + (side,))
    for shield in ("jailbreak", "indirect_attack"):
        if getattr(content_filter, shield) == "off":
            yield ("PRV009", f"content filter '{name}' switches the {shield} prompt shield off", path + (shield,))
    for material in ("protected_material_text", "protected_material_code"):
        if getattr(content_filter, material) == "off":
            yield ("PRV010", f"content filter '{name}' switches {material} detection off", path + (material,))
    if content_filter.mode == "asynchronous":
        yield ("PRV011", f"content filter '{name}' filters asynchronously (mode: asynchronous)", path + ("mode",))
