// Role assignments for the identity that runs `provision` (azd: the signed-in
// user or service principal).
//
// - Cognitive Services Contributor on the resource group: create, change and
//   delete accounts, deployments, content filters (RAI policies) and
//   blocklists, and read account keys (listKeys).
// - Key Vault Contributor on the vault: provision writes secrets through the
//   management plane (Microsoft.KeyVault/vaults/secrets/write, a control-plane
//   action no data-plane role grants).
// - Key Vault Secrets Officer on the vault: read and manage the secret values
//   through the data plane (az keyvault secret show, SDKs, apps under that identity).
//
// Not granted here, because a resource-group deployment cannot: the
// subscription-level reads `provision plan` makes (model catalog, quota usages,
// soft-deleted accounts) and purging a soft-deleted account. See infra/README.md.

@description('Object id of the identity that runs provision.')
param principalId string

@description('User, Group or ServicePrincipal; empty: Azure looks it up.')
param principalType string = ''

@description('Name of the Key Vault (in this resource group) to grant access to; empty: none.')
param keyVaultName string = ''

// Built-in role definition ids (the same in every subscription).
var cognitiveServicesContributor = '25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68'
var keyVaultContributor = 'f25e0fa2-a7c8-4377-a976-54943a77a395'
var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

var vaultRoles = empty(keyVaultName) ? [] : [
  keyVaultContributor
  keyVaultSecretsOfficer
]

resource accountsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, cognitiveServicesContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesContributor)
    principalId: principalId
    principalType: empty(principalType) ? null : principalType
    description: 'provision: manage Azure OpenAI accounts, deployments, content filters and keys'
  }
}

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' existing = if (!empty(keyVaultName)) {
  name: keyVaultName
}

resource vaultRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in vaultRoles: {
    name: guid(resourceGroup().id, keyVaultName, principalId, role)
    scope: vault
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: principalId
      principalType: empty(principalType) ? null : principalType
      description: 'provision: publish account endpoints and keys to Key Vault'
    }
  }
]
