"""Desired resources as ARM templates, one per resource group.

Each account's children form one chain of `dependsOn` (blocklists, their items,
RAI policies, then the deployments as a serial copy loop with batchSize 1),
because Azure accepts one write at a time per account. Its private endpoints
continue the chain: an endpoint's connection is a write to the account, which
Azure refuses while the account is busy (AccountProvisioningStateInvalid "in
state Accepted": Azure/bicep-registry-modules#5957, fixed in #7205 by making
the endpoints wait for the deployments). Role assignments and diagnostic
settings are extension resources (`scope` names the account or the key vault,
as Bicep compiles `scope: account`) that only wait for the account.
Template functions used: `resourceId`, `variables`, `copyIndex` and `format` —
the set the emulator's template engine documents. `bicep.py` renders the same
templates as Bicep.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provisioner.version import VERSION
from provisioner.model import rest
from provisioner.model.resources import DNS_ZONE_GROUP, Kind, Resource

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
API_VERSION = "2025-09-01"  # Microsoft.CognitiveServices, as azure-mgmt-cognitiveservices 14 uses
ACCOUNT = "Microsoft.CognitiveServices/accounts"
BLOCKLIST = ACCOUNT + "/raiBlocklists"
BLOCKLIST_ITEM = BLOCKLIST + "/raiBlocklistItems"
RAI_POLICY = ACCOUNT + "/raiPolicies"
DEPLOYMENT = ACCOUNT + "/deployments"
KEY_VAULT = "Microsoft.KeyVault/vaults"
PRIVATE_ENDPOINT = "Microsoft.Network/privateEndpoints"
PRIVATE_DNS_ZONE_GROUP = PRIVATE_ENDPOINT + "/privateDnsZoneGroups"
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
DIAGNOSTIC_SETTING = "Microsoft.Insights/diagnosticSettings"
# api-version per resource type: the ones the installed SDKs send (tests/export checks each against them)
API_VERSIONS = {
    PRIVATE_ENDPOINT: "2026-03-01",  # azure-mgmt-network 33
    PRIVATE_DNS_ZONE_GROUP: "2026-03-01",
    ROLE_ASSIGNMENT: "2022-04-01",  # azure-mgmt-authorization 4
    DIAGNOSTIC_SETTING: "2021-05-01-preview",  # azure-mgmt-monitor 6
    KEY_VAULT: "2026-05-15",  # azure-mgmt-keyvault 14 (Bicep refers to the vault as `existing`)
}


@dataclass
class GroupTemplate:
    subscription: str
    resource_group: str
    template: dict[str, Any] = field(default_factory=dict)


def group_templates(resources: list[Resource], spec_name: str, *, restore: frozenset[str] = frozenset()
                    ) -> list[GroupTemplate]:
    """One template per (subscription, resource group) holding its accounts and their children (and what
    attaches to them); accounts the spec only refers to (`existing: true`) are left out, their children
    not. `restore` names accounts to bring back from soft delete (properties.restore)."""
    by_group: dict[tuple[str, str], list[Resource]] = {}
    for resource in resources:
        if resource.kind is Kind.RESOURCE_GROUP or resource.reference:
            continue  # an `existing: true` account is someone else's: used (as `existing` in Bicep), never written
        key = (resource.scope.subscription, resource.scope.resource_group)
        by_group.setdefault(key, []).append(resource)
    return [GroupTemplate(subscription, group, template(items, spec_name, restore=restore))
            for (subscription, group), items in sorted(by_group.items())]


def template(resources: list[Resource], spec_name: str, *, restore: frozenset[str] = frozenset()) -> dict[str, Any]:
    vault_grants = [r for r in resources if r.kind is not Kind.ACCOUNT and r.scope.account is None]
    resources = [r for r in resources if r not in vault_grants]
    accounts = sorted({r.name if r.kind is Kind.ACCOUNT else r.scope.account or "" for r in resources})
    present = {(r.kind, r.scope.account if r.kind is not Kind.ACCOUNT else r.name, r.name) for r in resources}
    variables: dict[str, Any] = {}
    body: list[dict[str, Any]] = []
    for account in accounts:
        mine = [r for r in resources if (r.name if r.kind is Kind.ACCOUNT else r.scope.account) == account]
        body += _account_chain(account, mine, variables, (Kind.ACCOUNT, account, account) in present,
                               account in restore)
    for r in sorted(vault_grants, key=lambda r: (r.scope.key_vault or "", r.name)):
        body.append(_extension(r, f"{KEY_VAULT}/{r.scope.key_vault}", None))
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0",
            "metadata": {"generator": {"name": "provision", "version": VERSION}, "spec": spec_name},
            "parameters": {}, "variables": variables, "resources": body, "outputs": {}}


def resource_id(resource_type: str, *names: str) -> str:
    quoted = ", ".join(f"'{n}'" for n in (resource_type, *names))
    return f"[resourceId({quoted})]"


def literal(value: Any) -> Any:
    """`value` with every string ARM would read as an expression (`[...]`, e.g. a regex `[Bb]ad[sz]` or a tag
    `[internal]`) escaped as `[[...]`, so it deploys as the literal text."""
    if isinstance(value, str):
        return "[" + value if value.startswith("[") and value.endswith("]") else value
    if isinstance(value, dict):
        return {k: literal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [literal(v) for v in value]
    return value


def scope_of(entry: dict[str, Any]) -> tuple[str, str] | None:
    """(type, name) of the resource an extension resource's `scope` names, or None for a resource of its own."""
    if "scope" not in entry:
        return None
    namespace, resource_type, name = entry["scope"].split("/")
    return f"{namespace}/{resource_type}", name


def _extension(r: Resource, scope: str, account: str | None) -> dict[str, Any]:
    """A role assignment or diagnostic setting on `scope` ('Namespace/type/name' in the group), waiting for the
    account when the template writes it. The name is the model's (`Resource.name`): for a role assignment the
    deterministic GUID of `role_assignment_name`, so both engines create the same assignment."""
    resource_type, body = ((ROLE_ASSIGNMENT, rest.role_assignment_body(r.properties)) if r.kind is Kind.ROLE_ASSIGNMENT
                           else (DIAGNOSTIC_SETTING, rest.diagnostic_setting_body(r.properties)))
    entry = {"type": resource_type, "apiVersion": API_VERSIONS[resource_type], "name": r.name, "scope": scope,
             **literal(body)}
    if account is not None:
        entry["dependsOn"] = [resource_id(ACCOUNT, account)]
    return entry


def _account_chain(account: str, resources: list[Resource], variables: dict[str, Any], with_account: bool,
                   restore: bool) -> list[dict[str, Any]]:
    chain: list[dict[str, Any]] = []
    previous: str | None = None  # the resourceId the next write waits for

    def add(entry: dict[str, Any], rid: str) -> None:
        nonlocal previous
        if previous:
            entry["dependsOn"] = [previous]
        chain.append(entry)
        previous = rid

    for r in resources:
        if r.kind is Kind.ACCOUNT:
            doc = rest.account_body(r.properties)
            if restore:
                doc["properties"]["restore"] = True
            add({"type": ACCOUNT, "apiVersion": API_VERSION, "name": account, **literal(doc)},
                resource_id(ACCOUNT, account))
    if not with_account:
        previous = None  # the account exists already and is not part of this template
    for r in sorted((r for r in resources if r.kind is Kind.BLOCKLIST), key=lambda r: r.name):
        add({"type": BLOCKLIST, "apiVersion": API_VERSION, "name": f"{account}/{r.name}",
             **literal(rest.blocklist_body(r.properties))}, resource_id(BLOCKLIST, account, r.name))
        for item in r.properties.get("items") or []:
            item_name = rest.blocklist_item_name(item)
            add({"type": BLOCKLIST_ITEM, "apiVersion": API_VERSION, "name": f"{account}/{r.name}/{item_name}",
                 **literal(rest.blocklist_item_body(item))}, resource_id(BLOCKLIST_ITEM, account, r.name, item_name))
    for r in sorted((r for r in resources if r.kind is Kind.RAI_POLICY), key=lambda r: r.name):
        add({"type": RAI_POLICY, "apiVersion": API_VERSION, "name": f"{account}/{r.name}",
             **literal(rest.rai_policy_body(r.properties))}, resource_id(RAI_POLICY, account, r.name))
    deployments = _spillover_first([r for r in resources if r.kind is Kind.DEPLOYMENT])
    if deployments:
        variable = "deployments_" + account.replace("-", "_").replace(".", "_")
        variables[variable] = [literal({"name": r.name, **rest.deployment_body(r.properties)}) for r in deployments]
        item = f"variables('{variable}')[copyIndex()]"
        loop = {"type": DEPLOYMENT, "apiVersion": API_VERSION,
                "name": f"[format('{{0}}/{{1}}', '{account}', {item}.name)]",
                "sku": f"[{item}.sku]", "tags": f"[{item}.tags]", "properties": f"[{item}.properties]",
                "copy": {"name": variable, "count": len(deployments), "mode": "serial", "batchSize": 1}}
        add(loop, variable)
    for r in sorted((r for r in resources if r.kind is Kind.PRIVATE_ENDPOINT), key=lambda r: r.name):
        add({"type": PRIVATE_ENDPOINT, "apiVersion": API_VERSIONS[PRIVATE_ENDPOINT], "name": r.name,
             **literal(rest.private_endpoint_body(r.properties, r.name))}, resource_id(PRIVATE_ENDPOINT, r.name))
        if r.properties.get("dns_zone_ids"):  # the zone group writes DNS records, not the account: off the chain
            chain.append({"type": PRIVATE_DNS_ZONE_GROUP, "apiVersion": API_VERSIONS[PRIVATE_DNS_ZONE_GROUP],
                          "name": f"{r.name}/{DNS_ZONE_GROUP}", **literal(rest.dns_zone_group_body(r.properties)),
                          "dependsOn": [resource_id(PRIVATE_ENDPOINT, r.name)]})
    written = account if with_account else None
    for kind in (Kind.ROLE_ASSIGNMENT, Kind.DIAGNOSTIC_SETTING):
        for r in sorted((r for r in resources if r.kind is kind), key=lambda r: r.name):
            chain.append(_extension(r, f"{ACCOUNT}/{account}", written))
    return chain


def _spillover_first(deployments: list[Resource]) -> list[Resource]:
    """A spillover target before the deployment that spills over to it."""
    by_name = {d.name: d for d in deployments}
    ordered: list[Resource] = []

    def visit(d: Resource) -> None:
        if d in ordered:
            return
        target = d.properties.get("spillover")
        if target in by_name:
            visit(by_name[target])
        ordered.append(d)

    for d in sorted(deployments, key=lambda d: d.name):
        visit(d)
    return ordered
