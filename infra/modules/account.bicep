// One Azure OpenAI account and, optionally, model deployments on it, with its
// network rules, managed identity, outbound restriction and role assignments
// (the spec's `network`, `identity`, `restrict_outbound`, `allowed_fqdns` and
// `access`, mapped as provisioner/model/rest.py and spec/desired.py map them).
//
// The deployments are a @batchSize(1) loop: Azure refuses a second write to an
// account while one is running (409 RequestConflict), so ARM must create them
// one after another. Each item of `deployments` is a deployment exactly as
// written in deployments.yaml; the mapping below mirrors provision's own
// (provisioner/spec/schema.py SKU_BY_TYPE_AND_SCOPE, provisioner/model/rest.py).

@description('Account name (2-64 letters, digits, hyphens).')
param name string

@description('Azure region of the account.')
param location string

@description('OpenAI or AIServices.')
param kind string = 'OpenAI'

@description('Custom subdomain of the endpoint.')
param customSubDomainName string = name

@description('Enabled or Disabled.')
param publicNetworkAccess string = 'Enabled'

@description('true: no API keys, Microsoft Entra ID only.')
param disableLocalAuth bool = false

@description('Tags of the account; its deployments get them too, merged under their own.')
param tags object = {}

@description('The spec\'s `network` block ({public_access, default_action, ip_rules, virtual_network_rules, bypass}); empty: no networkAcls are sent.')
param network object = {}

@description('The spec\'s `identity` block ({system_assigned, user_assigned}); empty: no identity is sent.')
param identity object = {}

@description('true: the account may call out only to allowedFqdnList (restrict_outbound).')
param restrictOutboundNetworkAccess bool = false

@description('FQDNs the account may call out to (allowed_fqdns).')
param allowedFqdnList array = []

@description('Role assignments on the account, resolved by main.bicep: [{principalId, principalType, roleId}].')
param grants array = []

@description('Description of those role assignments (who made them).')
param grantDescription string = ''

@description('Deployments to create, each as written in deployments.yaml (name, model, format, version, type, scope, sku, capacity, content_filter, upgrade, tags).')
param deployments array = []

// type -> scope -> Azure deployment SKU; a missing pair is impossible (the spec's validation rejects it).
var skuByTypeAndScope = {
  standard: {
    regional: 'Standard'
    global: 'GlobalStandard'
    datazone: 'DataZoneStandard'
  }
  provisioned: {
    regional: 'ProvisionedManaged'
    global: 'GlobalProvisionedManaged'
    datazone: 'DataZoneProvisionedManaged'
  }
  batch: {
    global: 'GlobalBatch'
    datazone: 'DataZoneBatch'
  }
  developer: {
    global: 'DeveloperTier'
  }
}

var upgradeOptions = {
  'on-new-default': 'OnceNewDefaultVersionAvailable'
  'on-expiry': 'OnceCurrentVersionExpired'
  never: 'NoAutoUpgrade'
}

// networkAcls as provision writes them: deny by default once there are rules, unless default_action says otherwise
var ipRules = network.?ip_rules ?? []
var subnetRules = network.?virtual_network_rules ?? []
var networkAcls = {
  defaultAction: (network.?default_action ?? (empty(ipRules) && empty(subnetRules) ? 'allow' : 'deny')) == 'deny' ? 'Deny' : 'Allow'
  bypass: (network.?bypass ?? 'azure_services') == 'none' ? 'None' : 'AzureServices'
  ipRules: [for rule in ipRules: {
    value: rule
  }]
  virtualNetworkRules: [for subnet in subnetRules: {
    id: subnet
    ignoreMissingVnetServiceEndpoint: false
  }]
}

var userAssigned = identity.?user_assigned ?? []
var systemAssigned = identity.?system_assigned ?? false
var identityTypes = systemAssigned ? (empty(userAssigned) ? 'SystemAssigned' : 'SystemAssigned, UserAssigned') : (empty(userAssigned) ? 'None' : 'UserAssigned')
var managedIdentity = {
  type: identityTypes
  userAssignedIdentities: empty(userAssigned) ? null : toObject(userAssigned, id => id, id => {})
}

resource account 'Microsoft.CognitiveServices/accounts@2025-09-01' = {
  name: name
  location: location
  kind: kind
  sku: {
    name: 'S0'
  }
  identity: empty(identity) ? null : managedIdentity
  tags: tags
  properties: {
    customSubDomainName: customSubDomainName
    publicNetworkAccess: publicNetworkAccess
    disableLocalAuth: disableLocalAuth
    networkAcls: empty(network) ? null : networkAcls
    restrictOutboundNetworkAccess: restrictOutboundNetworkAccess
    allowedFqdnList: allowedFqdnList
  }
}

// Named and described as provision names and describes them (provisioner/model/resources.py
// role_assignment_name, assignment_description): either tool recognises the other's grants as the spec's.
resource accountGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for grant in grants: {
    name: guid(toLower(account.id), grant.principalId, grant.roleId)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grant.roleId)
      principalId: grant.principalId
      principalType: grant.principalType
      description: grantDescription
    }
  }
]

// `capacity: {min, max}` (flexible capacity) is created at `min`; provision keeps
// a live capacity that lies inside the range. An explicit `sku:` wins over type/scope.
@batchSize(1)
resource modelDeployments 'Microsoft.CognitiveServices/accounts/deployments@2025-09-01' = [
  for d in deployments: {
    parent: account
    name: d.name
    tags: union(tags, d.?tags ?? {})
    sku: {
      name: contains(d, 'sku') ? d.sku : skuByTypeAndScope[d.?type ?? 'standard'][d.?scope ?? 'global']
      capacity: startsWith(string(d.capacity), '{') ? d.capacity.min : d.capacity
    }
    properties: {
      model: {
        format: d.?format ?? 'OpenAI'
        name: d.model
        version: d.?version
      }
      raiPolicyName: d.?content_filter
      versionUpgradeOption: upgradeOptions[d.?upgrade ?? 'on-new-default']
    }
  }
]

@description('Resource id of the account.')
output id string = account.id

@description('Endpoint of the account, e.g. https://NAME.openai.azure.com/.')
output endpoint string = account.properties.endpoint

@description('Object id of the account\'s system-assigned identity ("" without one).')
output principalId string = systemAssigned ? account.identity.principalId : ''
