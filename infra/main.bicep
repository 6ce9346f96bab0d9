// The foundation around the model deployments, read from the same
// deployments.yaml that `provision` reads: the Azure OpenAI accounts (and,
// with deployModels, the deployments Bicep can create in one pass), the Key
// Vault, role assignments for the identity that runs provision, and optional
// diagnostic settings. azd runs it (azure.yaml), then its postprovision hook
// runs `provision apply` for everything else: content filters, blocklists,
// the remaining deployments, quota checks and the Key Vault secrets.
//
// What Bicep cannot do the way provision does (see infra/README.md):
// - `defaults.subscription`, `resource_group` and `subscription` fields are
//   ignored: everything goes into the resource group this file is deployed to.
// - `${VAR}` placeholders cannot be expanded. A value that is exactly
//   `${VAR:-default}` becomes `default`; any other placeholder counts as unset
//   (a location then falls back to the resource group's). Account names must
//   be written literally.
targetScope = 'resourceGroup'

@description('Object id of the identity that runs provision (azd: AZURE_PRINCIPAL_ID). Empty: no role assignments.')
param principalId string = ''

@description('Type of that identity: User, Group or ServicePrincipal (azd: AZURE_PRINCIPAL_TYPE). Empty: Azure looks it up.')
param principalType string = ''

@description('Resource id of a Log Analytics workspace for diagnostic settings. Empty: no diagnostic settings.')
param logAnalyticsWorkspaceId string = ''

@description('Key Vault name instead of key_vault.name from deployments.yaml (then set the spec to the same name). Empty: the spec\'s.')
param keyVaultName string = ''

@description('Also create the model deployments that need nothing provision makes first: no custom content filter (none, or a built-in Microsoft.* one) and no spillover. false: provision creates all of them.')
param deployModels bool = true

var spec = any(loadYamlContent('../deployments.yaml'))

// A spec value with its placeholder resolved as far as Bicep can, or `fallback` when it is empty or unknown:
// a value with a `$` in it is a placeholder (no account, region or vault name has one).
func resolveOr(value string, fallback string) string => !contains(value, '$') ? (empty(value) ? fallback : value) : (startsWith(value, '$') && endsWith(value, '}') && contains(value, ':-') ? substring(value, indexOf(value, ':-') + 2, length(value) - indexOf(value, ':-') - 3) : fallback)

var defaults = spec.?defaults ?? {}
var accounts = spec.accounts
var specName = resolveOr(spec.?name ?? '', 'deployments') // provision's default: the spec file's stem
var ownershipTags = {
  'managed-by': 'provision'
  'provision-spec': specName
}
var defaultLocation = resolveOr(defaults.?location ?? '', resourceGroup().location)

var vaultSpec = spec.?key_vault ?? {}
var vaultName = empty(keyVaultName) ? resolveOr(vaultSpec.?name ?? '', '') : keyVaultName
// provision's default for a vault it creates: defaults.location, else the first account's location
var firstAccountLocation = empty(accounts) ? defaultLocation : resolveOr(accounts[0].?location ?? '', defaultLocation)
var vaultLocation = resolveOr(vaultSpec.?location ?? '', resolveOr(defaults.?location ?? '', firstAccountLocation))

module accountModules 'modules/account.bicep' = [
  for account in accounts: {
    name: take('provision-account-${account.name}', 64)
    params: {
      name: account.name
      location: resolveOr(account.?location ?? '', defaultLocation)
      kind: account.?kind ?? 'OpenAI'
      customSubDomainName: resolveOr(account.?custom_subdomain ?? '', account.name)
      publicNetworkAccess: (account.?public_network_access ?? 'enabled') == 'disabled' ? 'Disabled' : 'Enabled'
      disableLocalAuth: !(account.?local_auth ?? true)
      tags: union(defaults.?tags ?? {}, account.?tags ?? {}, ownershipTags)
      deployments: deployModels ? filter(account.?deployments ?? [], d => empty(d.?spillover ?? '') && startsWith(d.?content_filter ?? 'Microsoft.', 'Microsoft.')) : []
    }
  }
]

module vault 'modules/keyvault.bicep' = if (!empty(vaultName)) {
  name: 'provision-keyvault'
  params: {
    name: vaultName
    location: vaultLocation
    tags: defaults.?tags ?? {}
  }
}

module roles 'modules/roles.bicep' = if (!empty(principalId)) {
  name: 'provision-roles'
  params: {
    principalId: principalId
    principalType: principalType
    keyVaultName: vaultName
  }
  dependsOn: [
    vault
  ]
}

module diagnostics 'modules/diagnostics.bicep' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'provision-diagnostics'
  params: {
    workspaceId: logAnalyticsWorkspaceId
    accountNames: [for account in accounts: account.name]
    keyVaultName: vaultName
  }
  dependsOn: [
    accountModules
    vault
  ]
}

@description('Endpoint of the first account in deployments.yaml.')
output AZURE_OPENAI_ENDPOINT string = empty(accounts) ? '' : accountModules[0].outputs.endpoint

@description('Every account: [{name, endpoint}], in the order of deployments.yaml.')
output AZURE_OPENAI_ENDPOINTS array = [
  for (account, i) in accounts: {
    name: account.name
    endpoint: accountModules[i].outputs.endpoint
  }
]

@description('Name of the Key Vault the endpoints and keys are published to ("" when there is none).')
output AZURE_KEY_VAULT_NAME string = vaultName

@description('URI of that Key Vault ("" when there is none).')
output AZURE_KEY_VAULT_ENDPOINT string = empty(vaultName) ? '' : vault!.outputs.uri
