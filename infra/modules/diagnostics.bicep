// Diagnostic settings of the accounts (the spec's `diagnostics`, or, for accounts
// without, the logAnalyticsWorkspaceId parameter's: all logs and all metrics) and of the
// Key Vault, each to a Log Analytics workspace.
//
// An account's setting from the spec is written as provision writes it
// (provisioner/model/rest.py diagnostic_setting_body): `logs: all` is the allLogs
// category group, a list is one entry per category, `metrics: true` is AllMetrics;
// its name is the spec's `name`, else provision's default `provision-<spec name>`, so
// provision recognises it as its own and plans no change.

@description('One setting per account: [{accountName, name, workspaceId, logs ("all" or [category]), metrics (bool)}].')
param settings array

@description('Name of the Key Vault (in this resource group); empty: none.')
param keyVaultName string = ''

@description('Resource id of the Log Analytics workspace for the Key Vault\'s setting; empty: none.')
param keyVaultWorkspaceId string = ''

var allLogs = [
  {
    categoryGroup: 'allLogs'
    enabled: true
  }
]
var allMetrics = [
  {
    category: 'AllMetrics'
    enabled: true
  }
]

resource accounts 'Microsoft.CognitiveServices/accounts@2025-09-01' existing = [
  for setting in settings: {
    name: setting.accountName
  }
]

resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = [
  for (setting, i) in settings: {
    name: setting.name
    scope: accounts[i]
    properties: {
      workspaceId: setting.workspaceId
      logs: setting.logs == 'all' ? allLogs : map(setting.logs, category => {
        category: category
        enabled: true
      })
      metrics: setting.metrics ? allMetrics : []
    }
  }
]

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' existing = if (!empty(keyVaultName)) {
  name: keyVaultName
}

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(keyVaultName) && !empty(keyVaultWorkspaceId)) {
  name: 'provision-log-analytics'
  scope: vault
  properties: {
    workspaceId: keyVaultWorkspaceId
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
