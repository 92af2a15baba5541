// Parameters of a deployment; deploy/README.md runs it twice (deployApps false, then true).
using 'main.bicep'

param baseName = 'orleansllm'
param siloProfileType = 'Consumption-GPU-NC8as-T4'
param redisKind = 'managed'
param imageTag = readEnvironmentVariable('ORLEANSLLM_IMAGE_TAG', '1')
param deployApps = bool(readEnvironmentVariable('ORLEANSLLM_DEPLOY_APPS', 'true'))
param models = [
  {
    name: 'demo'
    path: 'demo'
  }
]
param siloMinReplicas = 1
param siloMaxReplicas = 4
param gatewayMinReplicas = 1
// one tenant; the key comes from the shell that deploys, never from this file
param apiKeys = {
  default: readEnvironmentVariable('ORLEANSLLM_API_KEY')
}
