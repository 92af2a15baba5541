// Optional virtual network for the environment: one subnet delegated to Microsoft.App/environments
// (a workload-profiles environment needs at least a /27). Only needed for private endpoints,
// NSGs/UDRs, or external TCP ports; the silos' internal TCP ports work without it.

param location string
param baseName string

@description('Address space of the virtual network, e.g. 10.40.0.0/16.')
param addressPrefix string

@description('The environment\'s infrastructure subnet (at least /27), inside addressPrefix.')
param subnetPrefix string

resource vnet 'Microsoft.Network/virtualNetworks@2025-05-01' = {
  name: '${baseName}-vnet'
  location: location
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'container-apps'
        properties: {
          addressPrefix: subnetPrefix
          delegations: [
            {
              name: 'Microsoft.App.environments'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }
}

output infrastructureSubnetId string = vnet.properties.subnets[0].id
