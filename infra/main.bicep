// The foundation around the model deployments, read from the same
// deployments.yaml that `provision` reads: the Azure OpenAI accounts with their
// network rules, managed identities, outbound restriction and access grants
// (and, with deployModels, the deployments Bicep can create in one pass), their
// private endpoints, the Key Vault and its grants, role assignments for the
// identity that runs provision, and diagnostic settings. azd runs it (azure.yaml), then its postprovision hook
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

@description('Resource id of a Log Analytics workspace for the diagnostic settings of the vault and of accounts whose spec has no `diagnostics`. Empty: none for those.')
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
// provision's marks on an account that has grants or a diagnostic setting from the spec: its plan lists those
// only where the spec declares them or a mark says it once did (provisioner/model/resources.py, ATTACHED_TAGS)
func attachedTags(access array, diagnostics object) object => union(empty(access) ? {} : { 'provision-access': 'managed' }, empty(diagnostics) ? {} : { 'provision-diagnostics': 'managed' })

// Built-in role names the spec may use, with their ids: provisioner/model/roles.py (a test compares the two).
// ARM looks object keys up without regard to case, as provision reads role names
// (learn.microsoft.com/azure/azure-resource-manager/bicep/bicep-functions-object#contains).
var builtInRoles = {
  'Cognitive Services OpenAI User': '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  'Cognitive Services OpenAI Contributor': 'a001fd3d-188f-4b5d-821b-7da978bf7442'
  'Cognitive Services User': 'a97b65f3-24c7-4388-baec-2e87135dc908'
  'Cognitive Services Contributor': '25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68'
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6'
  'Key Vault Secrets Officer': 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  'Key Vault Reader': '21090545-7ca7-4776-b22c-e363652d74d2'
  Reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
  'Monitoring Reader': '43d0d8ad-25c7-4714-9337-8ba259a9fe05'
}
var principalTypes = {
  user: 'User'
  group: 'Group'
  service_principal: 'ServicePrincipal'
}
// provision's ownership marker (assignment_description), as the tags above are its ownership tags.
var grantDescription = 'managed-by=provision; provision-spec=${specName}'

// The spec's `access` entries as role assignments: a role is a built-in role name, a GUID or a role definition id.
func grantsOf(access array, roles object, types object) array => map(access, grant => {
  principalId: toLower(grant.principal)
  principalType: types[grant.type]
  roleId: contains(roles, grant.role) ? roles[grant.role] : toLower(last(split(grant.role, '/')))
})

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
      publicNetworkAccess: ((account.?network ?? defaults.?network ?? {}).?public_access ?? account.?public_network_access ?? 'enabled') == 'disabled' ? 'Disabled' : 'Enabled'
      disableLocalAuth: !(account.?local_auth ?? true)
      network: account.?network ?? defaults.?network ?? {}
      identity: account.?identity ?? defaults.?identity ?? {}
      restrictOutboundNetworkAccess: account.?restrict_outbound ?? defaults.?restrict_outbound ?? false
      allowedFqdnList: account.?allowed_fqdns ?? defaults.?allowed_fqdns ?? []
      grants: grantsOf(account.?access ?? defaults.?access ?? [], builtInRoles, principalTypes)
      grantDescription: grantDescription
      tags: union(defaults.?tags ?? {}, account.?tags ?? {}, ownershipTags, attachedTags(account.?access ?? defaults.?access ?? [], account.?diagnostics ?? defaults.?diagnostics ?? {}))
      deployments: deployModels ? filter(account.?deployments ?? [], d => empty(d.?spillover ?? '') && startsWith(d.?content_filter ?? 'Microsoft.', 'Microsoft.')) : []
    }
  }
]

// Each account's private endpoints, after the account's module (its deployments included) and one at a time.
var privateEndpoints = flatten(map(range(0, length(accounts)), i => map(accounts[i].?private_endpoints ?? [], endpoint => {
  account: i
  name: endpoint.name
  subnet: endpoint.subnet
  dnsZoneIds: endpoint.?dns_zone_ids ?? []
  location: resolveOr(endpoint.?location ?? '', resolveOr(accounts[i].?location ?? '', defaultLocation))
  tags: union(defaults.?tags ?? {}, accounts[i].?tags ?? {}, ownershipTags)
})))

@batchSize(1)
module privateEndpointModules 'modules/privateendpoint.bicep' = [
  for endpoint in privateEndpoints: {
    name: take('provision-pe-${endpoint.name}', 64)
    params: {
      name: endpoint.name
      location: endpoint.location
      subnetId: endpoint.subnet
      accountId: accountModules[endpoint.account].outputs.id
      dnsZoneIds: endpoint.dnsZoneIds
      tags: endpoint.tags
    }
  }
]

module vault 'modules/keyvault.bicep' = if (!empty(vaultName)) {
  name: 'provision-keyvault'
  params: {
    name: vaultName
    location: vaultLocation
    tags: defaults.?tags ?? {}
    grants: grantsOf(vaultSpec.?access ?? [], builtInRoles, principalTypes)
    grantDescription: grantDescription
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

// An account's diagnostic setting: the spec's (named as provision names it), else the parameter's workspace.
var diagnosticSettings = flatten(map(accounts, account => !empty(account.?diagnostics ?? defaults.?diagnostics ?? {}) ? [
  {
    accountName: account.name
    name: (account.?diagnostics ?? defaults.?diagnostics).?name ?? 'provision-${specName}'
    workspaceId: (account.?diagnostics ?? defaults.?diagnostics).workspace
    logs: (account.?diagnostics ?? defaults.?diagnostics).?logs ?? 'all'
    metrics: (account.?diagnostics ?? defaults.?diagnostics).?metrics ?? true
  }
] : (empty(logAnalyticsWorkspaceId) ? [] : [
  {
    accountName: account.name
    name: 'provision-log-analytics'
    workspaceId: logAnalyticsWorkspaceId
    logs: 'all'
    metrics: true
  }
])))

module diagnostics 'modules/diagnostics.bicep' = if (!empty(diagnosticSettings) || (!empty(logAnalyticsWorkspaceId) && !empty(vaultName))) {
  name: 'provision-diagnostics'
  params: {
    settings: diagnosticSettings
    keyVaultName: vaultName
    keyVaultWorkspaceId: logAnalyticsWorkspaceId
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

@description('Every account\'s system-assigned identity: [{name, principalId}] ("" without one).')
output AZURE_OPENAI_PRINCIPAL_IDS array = [
  for (account, i) in accounts: {
    name: account.name
    principalId: accountModules[i].outputs.principalId
  }
]

@description('Name of the Key Vault the endpoints and keys are published to ("" when there is none).')
output AZURE_KEY_VAULT_NAME string = vaultName

@description('URI of that Key Vault ("" when there is none).')
output AZURE_KEY_VAULT_ENDPOINT string = empty(vaultName) ? '' : vault!.outputs.uri
