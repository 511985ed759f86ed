// The function app: Flex Consumption (FC1), Node 20, running as one user-assigned managed identity.
// Every connection below is identity-based; the app settings name endpoints, never secrets.
// test/contract/infra.test.ts compares these settings with settingsSchema in shared/config.ts.

@description('Name of the function app.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Region of the plan and the app.')
param location string

@description('Tags for the plan and the app (azd-env-name); the app also gets azd-service-name.')
param tags object

@description('Resource id of the user-assigned managed identity the app runs as.')
param identityId string

@description('Client id of that identity; every identity-based connection selects it.')
param identityClientId string

@description('Storage account for host storage (AzureWebJobsStorage) and deployment packages.')
param storageAccountName string

@description('Blob container that holds the deployment packages.')
param deploymentContainerName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Fully qualified Service Bus namespace, e.g. sb-x.servicebus.windows.net.')
param serviceBusFullyQualifiedNamespace string

@description('Name of the outbound Service Bus queue.')
param outboundQueueName string

@description('Name of the event outbox queue on the storage account.')
param eventsQueueName string

@description('Endpoint of the Communication Services resource, https://<host>.')
param communicationServiceEndpoint string

@description('Publishing endpoint of the status-event topic.')
param eventGridTopicEndpoint string

@description('The sender pool; written to SMS_SENDERS as JSON.')
param smsSenders array

@minValue(1000)
@maxValue(120000)
@description('Milliseconds before an ACS request counts as timed out (ACS_REQUEST_TIMEOUT_MS).')
param acsRequestTimeoutMs int

@description('NCRONTAB schedule of the delivery-report reconciler (six fields, seconds first).')
param reconcileSchedule string = '0 */5 * * * *'

@allowed([
  512
  2048
  4096
])
@description('Memory of each instance, in MB.')
param instanceMemoryMB int

@minValue(1)
@maxValue(1000)
@description('Most instances the app scales out to.')
param maximumInstanceCount int

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: '20'
      }
    }
  }
}

// Flex Consumption takes the runtime from functionAppConfig, so FUNCTIONS_WORKER_RUNTIME and
// FUNCTIONS_EXTENSION_VERSION are not (and must not be) app settings here.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: {
    // Host storage with the managed identity: account name only, no connection string.
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    // The one connection-string-shaped setting: it names the ingestion endpoint and the component.
    // With DisableLocalAuth on the component it grants nothing by itself; telemetry is accepted only
    // with an Entra token for the identity below (Monitoring Metrics Publisher).
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    OUTBOUND_QUEUE_TRANSPORT: 'servicebus'
    OUTBOUND_QUEUE_NAME: outboundQueueName
    EVENTS_QUEUE_NAME: eventsQueueName
    ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
    ServiceBusConnection__credential: 'managedidentity'
    ServiceBusConnection__clientId: identityClientId
    // ACS, Tables and Event Grid are reached through DefaultAzureCredential, which picks the
    // user-assigned identity named by AZURE_CLIENT_ID.
    ACS_ENDPOINT: communicationServiceEndpoint
    AZURE_CLIENT_ID: identityClientId
    // string() of an array is its JSON text, which is what the code parses.
    SMS_SENDERS: string(smsSenders)
    ACS_REQUEST_TIMEOUT_MS: string(acsRequestTimeoutMs)
    EVENTGRID_TOPIC_ENDPOINT: eventGridTopicEndpoint
    // The reconciler's timer trigger names its schedule as %RECONCILE_SCHEDULE%; the Functions host
    // resolves that from app settings (the code's default never reaches it), so it must be set here.
    RECONCILE_SCHEDULE: reconcileSchedule
  }
}

// No publishing passwords: azd deploys to Flex Consumption with an Entra token.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('Name of the function app.')
output name string = functionApp.name

@description('Resource id of the function app (Event Grid subscriptions target <id>/functions/<name>).')
output id string = functionApp.id

@description('Base URL of the function app.')
output uri string = 'https://${functionApp.properties.defaultHostName}'
