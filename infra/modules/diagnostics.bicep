// Diagnostic settings: every log category (the allLogs group) and all metrics
// of the accounts and the Key Vault go to one Log Analytics workspace.

@description('Resource id of the Log Analytics workspace.')
param workspaceId string

@description('Names of the accounts (in this resource group).')
param accountNames array

@description('Name of the Key Vault (in this resource group); empty: none.')
param keyVaultName string = ''

var settingName = 'provision-log-analytics'

resource accounts 'Microsoft.CognitiveServices/accounts@2025-09-01' existing = [
  for accountName in accountNames: {
    name: accountName
  }
]

resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = [
  for (accountName, i) in accountNames: {
    name: settingName
    scope: accounts[i]
    properties: {
      workspaceId: workspaceId
      logs: [
        {
          categoryGroup: 'allLogs'
          enabled: true
        }
      ]
      metrics: [
        {
          category: 'AllMetrics'
          enabled: true
        }
      ]
    }
  }
]

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' existing = if (!empty(keyVaultName)) {
  name: keyVaultName
}

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(keyVaultName)) {
  name: settingName
  scope: vault
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}
