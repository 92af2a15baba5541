// OrleansLlm on Azure Container Apps: silos on a serverless GPU workload profile, the OpenAI
// gateway on the Consumption profile, Redis for clustering, storage, grain directory and the
// prefix index, models on an Azure Files share. deploy/README.md has the commands.

targetScope = 'resourceGroup'

@description('Prefix of every resource name (lowercase letters and digits, 3-12).')
@minLength(3)
@maxLength(12)
param baseName string = 'orleansllm'

param location string = resourceGroup().location

@description('Workload profile of the silos. Serverless GPU needs GPU quota in a region that offers it; Consumption runs CPU-only silos (at most 4 vCPU).')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
  'Consumption'
])
param siloProfileType string = 'Consumption-GPU-NC8as-T4'

@description('Create the registry, Redis, storage and environment only (false), or the apps too (true). The first run is false: the images must be in the registry before the apps pull them.')
param deployApps bool = true

@description('Image tag of orleansllm/silo and orleansllm/gateway in the registry.')
param imageTag string = '1'

@description('Azure Managed Redis (Microsoft.Cache/redisEnterprise) or Azure Cache for Redis (Microsoft.Cache/redis).')
@allowed([
  'managed'
  'cache'
])
param redisKind string = 'managed'

@description('Azure Managed Redis SKU (redisKind managed).')
param managedRedisSku string = 'Balanced_B1'

@description('Orleans ClusterId: silos and gateway of one deployment share it.')
param clusterId string = 'orleansllm'

@description('Models on the share: [{ name, path }], path relative to the share root (a Hugging Face folder or a .gguf file).')
param models array = [
  {
    name: 'demo'
    path: 'demo'
  }
]

@description('KV cache per engine, MiB.')
param kvCacheMiB int = 4096

@description('Silo replicas at rest: 0 releases the GPU when no cron window is open (the serverless case).')
@minValue(0)
param siloMinReplicas int = 1

@minValue(1)
param siloMaxReplicas int = 4

@description('When siloMinReplicas is 0: the cron window (KEDA cron scaler) in which silos run.')
param siloCronTimezone string = 'Etc/UTC'
param siloCronStart string = '0 8 * * 1-5'
param siloCronEnd string = '0 20 * * 1-5'

@minValue(1)
param gatewayMinReplicas int = 1

@minValue(1)
param gatewayMaxReplicas int = 5

@description('API key per tenant, { "<tenant>": "<key>" }; empty leaves the public API open.')
@secure()
param apiKeys object = {}

@description('Optional VNet address space (e.g. 10.40.0.0/16); empty uses the environment\'s own network.')
param vnetAddressPrefix string = ''

@description('The environment subnet inside vnetAddressPrefix (at least /27).')
param vnetSubnetPrefix string = '10.40.0.0/23'

var suffix = uniqueString(resourceGroup().id)
// replica sizes: a serverless GPU replica takes the profile's whole allocation
var siloSizes = {
  'Consumption-GPU-NC8as-T4': {
    cpu: 8
    memory: '56Gi'
  }
  'Consumption-GPU-NC24-A100': {
    cpu: 24
    memory: '220Gi'
  }
  Consumption: {
    cpu: 4
    memory: '8Gi'
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    baseName: baseName
  }
}

module network 'modules/network.bicep' = if (!empty(vnetAddressPrefix)) {
  name: 'network'
  params: {
    location: location
    baseName: baseName
    addressPrefix: vnetAddressPrefix
    subnetPrefix: vnetSubnetPrefix
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    location: location
    registryName: take('${baseName}${suffix}', 50)
    identityName: '${baseName}-apps'
  }
}

module modelShare 'modules/model-share.bicep' = {
  name: 'model-share'
  params: {
    location: location
    accountName: take('${baseName}${suffix}', 24)
  }
}

var redisName = '${baseName}-${suffix}'

module managedRedis 'modules/redis-managed.bicep' = if (redisKind == 'managed') {
  name: 'redis-managed'
  params: {
    location: location
    name: redisName
    sku: managedRedisSku
  }
}

module cacheRedis 'modules/redis-cache.bicep' = if (redisKind == 'cache') {
  name: 'redis-cache'
  params: {
    location: location
    name: redisName
  }
}

// Read back here, not output by the modules, so no deployment output carries the key.
resource managedRedisDatabase 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' existing = if (redisKind == 'managed') {
  name: '${redisName}/default'
}

resource cacheRedisResource 'Microsoft.Cache/redis@2024-11-01' existing = if (redisKind == 'cache') {
  name: redisName
}

// StackExchange.Redis syntax; abortConnect=False keeps retrying while Redis is briefly unreachable
var redisConnectionString = redisKind == 'managed'
  ? '${managedRedis!.outputs.hostName}:${managedRedis!.outputs.port},password=${managedRedisDatabase!.listKeys().primaryKey},ssl=True,abortConnect=False'
  : '${cacheRedis!.outputs.hostName}:${cacheRedis!.outputs.port},password=${cacheRedisResource!.listKeys().primaryKey},ssl=True,abortConnect=False'

module environment 'modules/environment.bicep' = {
  name: 'environment'
  params: {
    location: location
    name: '${baseName}-env'
    siloProfileType: siloProfileType
    infrastructureSubnetId: empty(vnetAddressPrefix) ? '' : network!.outputs.infrastructureSubnetId
    workspaceName: monitoring.outputs.workspaceName
    appInsightsName: monitoring.outputs.appInsightsName
    modelStorageAccountName: modelShare.outputs.accountName
    modelShareName: modelShare.outputs.shareName
  }
}

module silo 'modules/silo.bicep' = if (deployApps) {
  name: 'silo'
  params: {
    location: location
    name: '${baseName}-silo'
    environmentId: environment.outputs.id
    workloadProfileName: environment.outputs.siloProfileName
    identityId: registry.outputs.identityId
    registryServer: registry.outputs.loginServer
    image: '${registry.outputs.loginServer}/orleansllm/silo:${imageTag}'
    redisConnectionString: redisConnectionString
    clusterId: clusterId
    models: models
    kvCacheMiB: kvCacheMiB
    modelStorageName: environment.outputs.modelStorageName
    cpuCores: siloSizes[siloProfileType].cpu
    memory: siloSizes[siloProfileType].memory
    minReplicas: siloMinReplicas
    maxReplicas: siloMaxReplicas
    cronTimezone: siloCronTimezone
    cronStart: siloCronStart
    cronEnd: siloCronEnd
  }
}

module gateway 'modules/gateway.bicep' = if (deployApps) {
  name: 'gateway'
  params: {
    location: location
    name: '${baseName}-gateway'
    environmentId: environment.outputs.id
    identityId: registry.outputs.identityId
    registryServer: registry.outputs.loginServer
    image: '${registry.outputs.loginServer}/orleansllm/gateway:${imageTag}'
    redisConnectionString: redisConnectionString
    clusterId: clusterId
    apiKeys: apiKeys
    minReplicas: gatewayMinReplicas
    maxReplicas: gatewayMaxReplicas
  }
}

output registryName string = registry.outputs.registryName
output registryLoginServer string = registry.outputs.loginServer
output modelStorageAccount string = modelShare.outputs.accountName
output modelShareName string = modelShare.outputs.shareName
output environmentDomain string = environment.outputs.defaultDomain
output gatewayUrl string = deployApps ? 'https://${gateway!.outputs.fqdn}' : ''
