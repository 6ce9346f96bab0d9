// The Key Vault provision publishes each account's endpoint and key to, and the
// spec's grants on it (key_vault.access: the consumers of the published secrets).
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

@description('Role assignments on the vault (the spec\'s key_vault.access), resolved by main.bicep: [{principalId, principalType, roleId}].')
param grants array = []

@description('Description of those role assignments (who made them).')
param grantDescription string = ''

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

// Named and described as provision does, as on the accounts (modules/account.bicep).
resource vaultGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for grant in grants: {
    name: guid(toLower(vault.id), grant.principalId, grant.roleId)
    scope: vault
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grant.roleId)
      principalId: grant.principalId
      principalType: grant.principalType
      description: grantDescription
    }
  }
]

@description('Resource id of the vault.')
output id string = vault.id

@description('Name of the vault.')
output name string = vault.name

@description('URI of the vault, e.g. https://NAME.vault.azure.net/.')
output uri string = vault.properties.vaultUri
