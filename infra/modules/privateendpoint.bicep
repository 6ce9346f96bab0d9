// A private endpoint to an Azure OpenAI account, with its private DNS zone group
// (named `default`, one config per zone, as provision writes it: provisioner/model/rest.py).
//
// The group id of an account is `account` (learn.microsoft.com/azure/private-link/
// private-endpoint-dns, "AI + Machine Learning": privatelink.openai.azure.com for kind
// OpenAI). main.bicep runs these one at a time and after the account's module, deployments
// included: the endpoint's connection is a write to the account, which Azure refuses while
// the account is busy (AccountProvisioningStateInvalid, Azure/bicep-registry-modules#5957).

@description('Name of the private endpoint.')
param name string

@description('Azure region of the endpoint: its virtual network\'s.')
param location string

@description('Resource id of the subnet it gets its private IP address from.')
param subnetId string

@description('Resource id of the account it connects to.')
param accountId string

@description('Resource ids of the private DNS zones to register it in; empty: no DNS zone group.')
param dnsZoneIds array = []

@description('Tags of the endpoint.')
param tags object = {}

resource endpoint 'Microsoft.Network/privateEndpoints@2026-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: accountId
          groupIds: [
            'account'
          ]
        }
      }
    ]
  }
}

resource zoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2026-03-01' = if (!empty(dnsZoneIds)) {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      for zone in dnsZoneIds: {
        name: replace(last(split(zone, '/')), '.', '-')
        properties: {
          privateDnsZoneId: zone
        }
      }
    ]
  }
}

@description('Resource id of the private endpoint.')
output id string = endpoint.id
