// The Container Apps environment: workload profiles (Consumption for the gateway, a serverless
// GPU profile for the silos), logs to Log Analytics, traces and logs through the managed
// OpenTelemetry agent to Application Insights, and the model share as environment storage.

param location string
param name string

@description('Workload profile type of the silos: a serverless GPU profile, or Consumption for CPU-only silos.')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
  'Consumption'
])
param siloProfileType string

@description('The infrastructure subnet (network.bicep), or empty for the environment\'s own network.')
param infrastructureSubnetId string = ''

param workspaceName string
param appInsightsName string
param modelStorageAccountName string
param modelShareName string

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' existing = {
  name: workspaceName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource modelAccount 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: modelStorageAccountName
}

var consumptionProfile = {
  name: 'Consumption'
  workloadProfileType: 'Consumption'
}
// serverless GPU profiles take no instance counts: replicas are billed per second while they run
var gpuProfile = {
  name: 'gpu'
  workloadProfileType: siloProfileType
}

resource environment 'Microsoft.App/managedEnvironments@2025-10-02-preview' = {
  name: name
  location: location
  properties: {
    workloadProfiles: siloProfileType == 'Consumption' ? [consumptionProfile] : [consumptionProfile, gpuProfile]
    vnetConfiguration: empty(infrastructureSubnetId) ? null : {
      infrastructureSubnetId: infrastructureSubnetId
      internal: false
    }
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    // The agent injects OTEL_EXPORTER_OTLP_ENDPOINT (and _PROTOCOL=grpc) into every app, which turns
    // on ServiceDefaults' OTLP exporter. Application Insights takes traces and logs, not metrics:
    // metrics stay on each app's Prometheus /metrics.
    appInsightsConfiguration: {
      connectionString: appInsights.properties.ConnectionString
    }
    openTelemetryConfiguration: {
      tracesConfiguration: {
        destinations: [
          'appInsights'
        ]
      }
      logsConfiguration: {
        destinations: [
          'appInsights'
        ]
      }
    }
  }
}

resource models 'Microsoft.App/managedEnvironments/storages@2026-01-01' = {
  parent: environment
  name: 'models'
  properties: {
    azureFile: {
      accountName: modelAccount.name
      accountKey: modelAccount.listKeys().keys[0].value
      shareName: modelShareName
      accessMode: 'ReadOnly'
    }
  }
}

output id string = environment.id
output defaultDomain string = environment.properties.defaultDomain
output siloProfileName string = siloProfileType == 'Consumption' ? consumptionProfile.name : gpuProfile.name
output modelStorageName string = models.name
