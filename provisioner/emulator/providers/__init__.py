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
"""
from __future__ import annotations

from provisioner.emulator.arm import Router


def register_all(router: Router) -> None:
    from provisioner.emulator.providers import (
        accounts,
        availability,
        deployments,
        keyvault,
        models,
        prices,
        rai,
        resources,
        subscriptions,
        templates,
    )

    for provider in (resources, accounts, deployments, rai, models, availability, keyvault, templates, subscriptions,
                     prices):
        provider.register(router)
