// The pipeline's storage account: its tables, the host's blobs, Flex Consumption deployment packages,
// Event Grid dead letters, and the storage-queue variant of the outbound queue. Shared-key access is
// off, so every request must carry an Entra token.

@description('Name of the storage account (3-24 lowercase letters and digits).')
param name string

@description('Region of the storage account.')
param location string

@description('Tags for the storage account (azd-env-name).')
param tags object

@description('Blob container for Flex Consumption deployment packages.')
param deploymentContainerName string

@description('Blob container where Event Grid puts events it could not deliver.')
param deadLetterContainerName string

@description('Name of the outbound queue; the storage-queue transport uses a queue of the same name.')
param outboundQueueName string

@description('Name of the event outbox queue (EVENTS_QUEUE_NAME), drained by dispatchEvents.')
param eventsQueueName string

// Must equal the values of TABLES in shared/resourceNames.ts (test/contract/infra.test.ts checks it).
var tableNames = [
  'messages'
  'acsMessageIds'
  'deliveryTracking'
  'parkedReports'
  'optOuts'
  'consentLog'
  'conversations'
  'deadLetters'
  'idempotency'
  'rateLimits'
  'analytics'
]

// The Functions host keeps its locks and keys in these containers. They are created here so the
// function identity's blob access can be limited to named containers (modules/rbac.bicep).
var hostContainerNames = [
  'azure-webjobs-hosts'
  'azure-webjobs-secrets'
]

var functionContainerNames = concat(
  [
    deploymentContainerName
  ],
  hostContainerNames
)

var containerNames = concat(
  functionContainerNames,
  [
    deadLetterContainerName
  ]
)

// The outbound pair is only used when OUTBOUND_QUEUE_TRANSPORT is "storage"; the event outbox is
// always used. Queue triggers move failures to <name>-poison.
var queueNames = [
  outboundQueueName
  '${outboundQueueName}-poison'
  eventsQueueName
  '${eventsQueueName}-poison'
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    dnsEndpointType: 'Standard'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in containerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

@description('Name of the storage account.')
output name string = storage.name

@description('Resource id of the storage account.')
output id string = storage.id

@description('Blob endpoint, e.g. https://<name>.blob.core.windows.net/.')
output blobEndpoint string = storage.properties.primaryEndpoints.blob

@description('Deployment package container (created here).')
output deploymentContainerName string = deploymentContainerName

@description('Event Grid dead-letter container (created here).')
output deadLetterContainerName string = deadLetterContainerName

@description('The blob containers the function app uses: deployment packages and the host\'s own.')
output functionContainerNames array = functionContainerNames

@description('Storage queues created, in this order: outbound queue, its poison queue, event outbox, its poison queue (modules/rbac.bicep grants each by position).')
output queueNames array = queueNames

@description('Tables created for the pipeline.')
output tableNames array = tableNames
