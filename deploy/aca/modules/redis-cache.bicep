// Azure Cache for Redis (Basic/Standard: one non-clustered Redis), the older, cheaper choice.
// TLS on port 6380 with the access key (main.bicep builds the connection string).

param location string

@description('Cache name, globally unique.')
param name string

@allowed([
  'Basic'
  'Standard'
])
param sku string = 'Standard'

@description('Size: 0 = C0 (250 MB) ... 6 = C6 (53 GB).')
@minValue(0)
@maxValue(6)
param capacity int = 1

resource cache 'Microsoft.Cache/redis@2024-11-01' = {
  name: name
  location: location
  properties: {
    sku: {
      name: sku
      family: 'C'
      capacity: capacity
    }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    disableAccessKeyAuthentication: false
    redisConfiguration: {
      'maxmemory-policy': 'noeviction'
    }
  }
}

output hostName string = cache.properties.hostName
output port int = cache.properties.sslPort
