// The pipeline's storage account: its tables, the host's blobs, Flex Consumption deployment packages,
// Event Grid dead letters, the event outbox, and the outbound queue when the storage transport is
// chosen. Shared-key access is off, so every request must carry an Entra token.

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

@description('Whether send jobs travel on a Storage queue (OUTBOUND_QUEUE_TRANSPORT=storage); only then is the outbound queue created here.')
param useStorageTransport bool

@description('Log Analytics workspace that receives the account\'s diagnostics.')
param logAnalyticsWorkspaceId string

@description('Name of the event outbox queue (EVENTS_QUEUE_NAME), drained by dispatchEvents.')
param eventsQueueName string

// Must equal the values of TABLES in shared/resourceNames.ts (test/infra/settings.test.ts checks it).
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
  'submissions'
  'rateLimits'
  'analytics'
  'templates'
  'messageReferences'
  'sendingControls'
  'budgets'
  'fraudWatch'
  'links'
  'frequencyCaps'
  'retention'
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

// The outbound pair exists only with the storage transport (an unused queue would still be granted
// to the identity); the event outbox is always used. Queue triggers move failures to <name>-poison.
var outboundQueueNames = useStorageTransport
  ? [
      outboundQueueName
      '${outboundQueueName}-poison'
    ]
  : []
var queueNames = concat(outboundQueueNames, [
  eventsQueueName
  '${eventsQueueName}-poison'
])

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

// Diagnostics go to the workspace Application Insights uses. Queue and blob requests are logged in
// full (a few per send job, a few per deployment). Table requests are the pipeline's hot path (about
// 3.6 per recipient, docs/benchmarks.md), so only their deletes (erasure, clean-up) are logged and
// the rest is left to the Transaction metrics, which cost nothing to keep.
var transactionMetrics = [
  {
    category: 'Transaction'
    enabled: true
  }
]

resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: transactionMetrics
  }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: transactionMetrics
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: transactionMetrics
  }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: tableService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
    metrics: transactionMetrics
  }
}

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

@description('Every storage queue created: the outbound pair (storage transport only), the event outbox and its poison queue. modules/rbac.bicep grants each to the function identity.')
output queueNames array = queueNames

@description('Tables created for the pipeline.')
output tableNames array = tableNames
