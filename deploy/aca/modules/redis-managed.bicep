// Azure Managed Redis (Microsoft.Cache/redisEnterprise) with one non-clustered database: the
// prefix index's Lua script reads keys it computes and many keys in one call, which a sharded
// (OSS or Enterprise cluster policy) database refuses across slots. Clients reach it over TLS
// on port 10000 with the database's access key (main.bicep builds the connection string).

param location string

@description('Cache name, globally unique.')
param name string

@description('Azure Managed Redis SKU, e.g. Balanced_B0 (0.5 GB), Balanced_B1, Balanced_B3, MemoryOptimized_M10.')
param sku string = 'Balanced_B1'

resource cluster 'Microsoft.Cache/redisEnterprise@2025-07-01' = {
  name: name
  location: location
  sku: {
    name: sku
  }
  properties: {
    minimumTlsVersion: '1.2'
    highAvailability: 'Enabled'
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' = {
  parent: cluster
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted'
    port: 10000
    clusteringPolicy: 'NoCluster'
    // sessions, the engine registry and the cluster membership live here: never evict them
    evictionPolicy: 'NoEviction'
    accessKeysAuthentication: 'Enabled'
  }
}

output hostName string = cluster.properties.hostName
output port int = database.properties.port
