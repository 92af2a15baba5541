// The Azure Files share that holds model files (Hugging Face folders or .gguf files). Silos mount
// it read-only at /models; images never contain weights. Premium (SSD) shares read faster, which
// is most of an engine's cold start.

param location string

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
param accountName string

@allowed([
  'Premium_LRS'
  'Premium_ZRS'
  'Standard_LRS'
  'Standard_ZRS'
])
param sku string = 'Premium_LRS'

@description('Share size in GiB (premium shares are billed by provisioned size; at least 100).')
@minValue(100)
param quotaGiB int = 100

param shareName string = 'models'

resource account 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: accountName
  location: location
  sku: {
    name: sku
  }
  kind: startsWith(sku, 'Premium') ? 'FileStorage' : 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
  }
}

resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2025-06-01' = {
  parent: account
  name: 'default'
}

resource share 'Microsoft.Storage/storageAccounts/fileServices/shares@2025-06-01' = {
  parent: fileService
  name: shareName
  properties: {
    shareQuota: quotaGiB
    enabledProtocols: 'SMB'
  }
}

output accountName string = account.name
output shareName string = share.name
