"""Resource providers: each module adds its ARM routes to the router.

resources   Microsoft.Resources resource groups, operation status
accounts    Microsoft.CognitiveServices accounts, keys, soft delete
deployments Microsoft.CognitiveServices account deployments (catalog, quota)
rai         RAI policies, blocklists and blocklist items
models      locations/{l}/models, usages, modelCapacities (the catalog and quota views)
keyvault    Microsoft.KeyVault vaults, deleted vaults, secrets
templates   Microsoft.Resources/deployments: template deployments, preflight validation
availability   Cognitive Services SKUs, SKU and subdomain availability, model capacity calculation
subscriptions  subscriptions, tenants, locations, providers, the generic resource lists
prices      the Azure Retail Prices API (GET /api/retail/prices; public, no token)
network     Microsoft.Network virtual networks, subnets, private endpoints, DNS zone groups, private DNS zones
privatelink the account's private endpoint connections and private link resources
msi         Microsoft.ManagedIdentity user-assigned identities
authorization  Microsoft.Authorization built-in role definitions and role assignments at any scope
monitor     Microsoft.Insights diagnostic settings, Microsoft.OperationalInsights workspaces
"""
from __future__ import annotations

from provisioner.emulator.arm import Router


def register_all(router: Router) -> None:
    from provisioner.emulator.providers import (
        accounts,
        authorization,
        availability,
        deployments,
        keyvault,
        models,
        monitor,
        msi,
        network,
        prices,
        privatelink,
        rai,
        resources,
        subscriptions,
        templates,
    )

    # authorization last: its {scope} routes end in paths no other route serves, but match any scope
    for provider in (resources, accounts, deployments, rai, models, availability, keyvault, templates, subscriptions,
                     prices, network, privatelink, msi, monitor, authorization):
        provider.register(router)
