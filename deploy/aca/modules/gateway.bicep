// The gateway app: the OpenAI API on external HTTPS ingress (target port 8080), an Orleans client
// of the silos. It scales on concurrent HTTP requests and never below one replica.

param location string
param name string
param environmentId string
param identityId string
param registryServer string

@description('Image reference, e.g. myacr.azurecr.io/orleansllm/gateway:1.')
param image string

@secure()
param redisConnectionString string

param clusterId string

@description('API key per tenant: { "<tenant>": "<key>" }. Keys: letters, digits, "-" and "_" only. Empty: no authentication.')
@secure()
param apiKeys object

@minValue(1)
param minReplicas int = 1

@minValue(1)
param maxReplicas int = 5

@description('Concurrent requests per replica before another starts (a streamed generation is one request for its whole length).')
param concurrentRequests int = 50

// Gateway:ApiKeys maps key -> tenant, so the key is a configuration *name*; as an environment variable it
// would sit in the template in clear. It travels instead as a secret holding command-line arguments.
var apiKeyArgs = join(map(items(apiKeys), k => '--Gateway:ApiKeys:${k.value}=${k.key}'), ' ')
var hasApiKeys = !empty(apiKeys)

resource gateway 'Microsoft.App/containerApps@2026-01-01' = {
  name: name
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      registries: [
        {
          server: registryServer
          identity: identityId
        }
      ]
      secrets: concat([
        {
          name: 'redis'
          value: redisConnectionString
        }
      ], hasApiKeys ? [
        {
          name: 'api-key-args'
          value: apiKeyArgs
        }
      ] : [])
      ingress: {
        external: true
        targetPort: 8080
        transport: 'auto'
        allowInsecure: false
      }
    }
    template: {
      terminationGracePeriodSeconds: 30
      containers: [
        {
          name: 'gateway'
          image: image
          // word-split on purpose (one argument per key), globbing off
          command: [
            '/bin/sh'
            '-c'
            'set -f; exec "$APP_ENTRY" $GATEWAY_API_KEY_ARGS'
          ]
          resources: {
            cpu: 1
            memory: '2Gi'
          }
          env: concat([
            {
              name: 'Cluster__ClusterId'
              value: clusterId
            }
            {
              name: 'ConnectionStrings__redis'
              secretRef: 'redis'
            }
          ], hasApiKeys ? [
            {
              name: 'GATEWAY_API_KEY_ARGS'
              secretRef: 'api-key-args'
            }
          ] : [])
          probes: [
            {
              type: 'Startup'
              httpGet: {
                path: '/alive'
                port: 8080
              }
              initialDelaySeconds: 2
              periodSeconds: 3
              failureThreshold: 10
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/alive'
                port: 8080
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              // /alive, not /health: with every silo down (scaled to zero) the gateway stays in rotation and
              // answers 503 with an OpenAI error body and Retry-After, instead of the platform's bare error
              type: 'Readiness'
              httpGet: {
                path: '/alive'
                port: 8080
              }
              periodSeconds: 5
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http'
            http: {
              metadata: {
                concurrentRequests: string(concurrentRequests)
              }
            }
          }
        ]
      }
    }
  }
}

output fqdn string = gateway.properties.configuration.ingress.fqdn
