// The Key Vault provision publishes each account's endpoint and key to.
//
// Azure RBAC authorization (no access policies) and soft delete. Purge
// protection is left off: it cannot be turned off again, and it would keep
// `azd down --purge` from freeing the vault's name.

@description('Vault name (3-24 letters, digits, hyphens; unique in Azure).')
param name string

@description('Azure region of the vault.')
param location string

@description('Tags of the vault.')
param tags object = {}

@description('Days a deleted vault stays recoverable (7-90).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    accessPolicies: []
  }
}

@description('Resource id of the vault.')
output id string = vault.id

@description('Name of the vault.')
output name string = vault.name

@description('URI of the vault, e.g. https://NAME.vault.azure.net/.')
output uri string = vault.properties.vaultUri
