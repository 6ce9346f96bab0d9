// One Azure OpenAI account and, optionally, model deployments on it.
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

resource account 'Microsoft.CognitiveServices/accounts@2025-09-01' = {
  name: name
  location: location
  kind: kind
  sku: {
    name: 'S0'
  }
  tags: tags
  properties: {
    customSubDomainName: customSubDomainName
    publicNetworkAccess: publicNetworkAccess
    disableLocalAuth: disableLocalAuth
  }
}

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
