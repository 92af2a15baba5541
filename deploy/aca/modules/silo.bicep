// The silo app: every replica is one Orleans silo hosting one engine per model, the models read
// from the Azure Files share at /models. Replicas reach each other directly at the replica IP they
// advertise (Cluster:AdvertisedAddress=auto) on 11111 (silo) and 30000 (gateway); each replica names
// itself after its replica name, so engine ids ("{silo}/{device}") are unique per replica. Direct
// replica-to-replica TCP is not verified on Azure yet: deploy/README.md, Decisions.

param location string
param name string
param environmentId string
param workloadProfileName string
param identityId string
param registryServer string

@description('Image reference, e.g. myacr.azurecr.io/orleansllm/silo:1.')
param image string

@secure()
param redisConnectionString string

param clusterId string

@description('Models served, each a folder or .gguf file on the share: [{ name: "demo", path: "demo" }].')
param models array

@description('Kernel threads per engine; 0 = every core of the replica.')
param engineThreads int = 0

param kvCacheMiB int = 4096

@description('Environment storage (environment.bicep) holding the models.')
param modelStorageName string

param cpuCores int
param memory string

@description('0 lets the app scale to zero (see deploy/README.md: nothing but the cron rule wakes it).')
@minValue(0)
param minReplicas int

@minValue(1)
param maxReplicas int

@description('KEDA cron rule that keeps cronReplicas silos up during the active hours when minReplicas is 0.')
param cronTimezone string = 'Etc/UTC'
param cronStart string = '0 8 * * 1-5'
param cronEnd string = '0 20 * * 1-5'
param cronReplicas int = 1

@description('Average CPU utilisation (%) above which another silo starts.')
param cpuUtilizationPercent int = 75

var modelEnv = flatten(map(range(0, length(models)), i => [
  {
    name: 'OrleansLlm__Models__${models[i].name}__Path'
    value: '/models/${models[i].path}'
  }
  {
    name: 'OrleansLlm__Engines__${i}__Device'
    value: 'cpu${i}'
  }
  {
    name: 'OrleansLlm__Engines__${i}__Model'
    value: models[i].name
  }
  {
    name: 'OrleansLlm__Engines__${i}__Threads'
    value: string(engineThreads)
  }
  {
    name: 'OrleansLlm__Engines__${i}__KvCacheMiB'
    value: string(kvCacheMiB)
  }
]))

var cronRule = {
  name: 'active-hours'
  custom: {
    type: 'cron'
    metadata: {
      timezone: cronTimezone
      start: cronStart
      end: cronEnd
      desiredReplicas: string(cronReplicas)
    }
  }
}

// CPU utilisation cannot wake an app from zero, only add replicas to a running one
var cpuRule = {
  name: 'cpu'
  custom: {
    type: 'cpu'
    metadata: {
      type: 'Utilization'
      value: string(cpuUtilizationPercent)
    }
  }
}

resource silo 'Microsoft.App/containerApps@2026-01-01' = {
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
    workloadProfileName: workloadProfileName
    configuration: {
      activeRevisionsMode: 'Single'
      registries: [
        {
          server: registryServer
          identity: identityId
        }
      ]
      secrets: [
        {
          name: 'redis'
          value: redisConnectionString
        }
      ]
      // Internal only. HTTP 8080: health, /metrics, /dashboard. The TCP mappings declare Orleans' ports to the
      // environment; silos and the gateway connect to each replica's own address, not through this load balancer.
      ingress: {
        external: false
        targetPort: 8080
        transport: 'http'
        additionalPortMappings: [
          {
            external: false
            targetPort: 11111
            exposedPort: 11111
          }
          {
            external: false
            targetPort: 30000
            exposedPort: 30000
          }
        ]
      }
    }
    template: {
      terminationGracePeriodSeconds: 60
      containers: [
        {
          name: 'silo'
          image: image
          // the image's entry point with one argument the template cannot spell: this replica's name
          command: [
            '/bin/sh'
            '-c'
            'exec "$APP_ENTRY" --Cluster:SiloName="\${CONTAINER_APP_REPLICA_NAME:-$HOSTNAME}"'
          ]
          resources: {
            cpu: cpuCores
            memory: memory
          }
          env: concat([
            {
              name: 'Cluster__Mode'
              value: 'Redis'
            }
            {
              name: 'Cluster__AdvertisedAddress'
              value: 'auto'
            }
            {
              name: 'Cluster__ClusterId'
              value: clusterId
            }
            {
              name: 'ConnectionStrings__redis'
              secretRef: 'redis'
            }
          ], modelEnv)
          volumeMounts: [
            {
              volumeName: 'models'
              mountPath: '/models'
            }
          ]
          probes: [
            {
              type: 'Startup'
              httpGet: {
                path: '/alive'
                port: 8080
              }
              initialDelaySeconds: 5
              periodSeconds: 5
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
              // healthy once this silo is an active cluster member
              type: 'Readiness'
              httpGet: {
                path: '/health'
                port: 8080
              }
              periodSeconds: 5
              failureThreshold: 3
            }
          ]
        }
      ]
      volumes: [
        {
          name: 'models'
          storageType: 'AzureFile'
          storageName: modelStorageName
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: minReplicas == 0 ? [cronRule, cpuRule] : [cpuRule]
      }
    }
  }
}

output name string = silo.name
