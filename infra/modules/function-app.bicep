// The function app: Flex Consumption (FC1), Node 22, running as one user-assigned managed identity.
// Every connection below is identity-based; the app settings name endpoints, never secrets.
// test/infra/settings.test.ts compares these settings with settingsSchema in shared/config.ts.

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

@allowed([
  'servicebus'
  'storage'
])
@description('Which queue carries send jobs (OUTBOUND_QUEUE_TRANSPORT).')
param outboundQueueTransport string

@description('Fully qualified Service Bus namespace, e.g. sb-x.servicebus.windows.net; empty with the storage transport.')
param serviceBusFullyQualifiedNamespace string

@description('Name of the outbound queue (a Service Bus queue, or a Storage queue with the storage transport).')
param outboundQueueName string

@description('Name of the event outbox queue on the storage account.')
param eventsQueueName string

@description('Endpoint of the Communication Services resource, https://<host>.')
param communicationServiceEndpoint string

@description('Publishing endpoint of the status-event topic.')
param eventGridTopicEndpoint string

@description('The sender pool; written to SMS_SENDERS as JSON. Empty leaves SMS_SENDERS as it is (the app refuses to start without it).')
param smsSenders array

@minValue(1000)
@maxValue(120000)
@description('Milliseconds before an ACS request counts as timed out (ACS_REQUEST_TIMEOUT_MS).')
param acsRequestTimeoutMs int

@description('NCRONTAB schedule of the delivery-report reconciler (six fields, seconds first).')
param reconcileSchedule string

@description('Settings azd passes from its environment by app setting name; an empty value leaves that setting as it is on the site.')
param optionalSettings object

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
        // Node 22: Node 20 reached end of life on 30 April 2026, and Functions follows Node's support
        // dates; Microsoft's Flex quickstart deploys 22 too (functions-quickstart-typescript-azd,
        // infra/main.bicep runtimeVersion). npm run test:node22 runs the tests on it.
        name: 'node'
        version: '22'
      }
    }
  }
}

var useServiceBus = outboundQueueTransport == 'servicebus'

// Flex Consumption takes the runtime from functionAppConfig, so FUNCTIONS_WORKER_RUNTIME and
// FUNCTIONS_EXTENSION_VERSION are not (and must not be) app settings here.
var ownedSettings = union(
  {
    // Host storage with the managed identity: account name only, no connection string.
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    // The one connection-string-shaped setting: it names the ingestion endpoint and the component.
    // With DisableLocalAuth on the component it grants nothing by itself; telemetry is accepted only
    // with an Entra token for the identity below (Monitoring Metrics Publisher).
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    OUTBOUND_QUEUE_TRANSPORT: outboundQueueTransport
    OUTBOUND_QUEUE_NAME: outboundQueueName
    EVENTS_QUEUE_NAME: eventsQueueName
    // ACS, Tables and Event Grid are reached through DefaultAzureCredential, which picks the
    // user-assigned identity named by AZURE_CLIENT_ID.
    ACS_ENDPOINT: communicationServiceEndpoint
    AZURE_CLIENT_ID: identityClientId
    ACS_REQUEST_TIMEOUT_MS: string(acsRequestTimeoutMs)
    EVENTGRID_TOPIC_ENDPOINT: eventGridTopicEndpoint
    // The reconciler's timer trigger names its schedule as %RECONCILE_SCHEDULE%; the Functions host
    // resolves that from app settings (the code's default never reaches it), so it must be set here.
    RECONCILE_SCHEDULE: reconcileSchedule
  },
  useServiceBus
    ? {
        ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
        ServiceBusConnection__credential: 'managedidentity'
        ServiceBusConnection__clientId: identityClientId
      }
    : {},
  // string() of an array is its JSON text, which is what the code parses.
  empty(smsSenders)
    ? {}
    : {
        SMS_SENDERS: string(smsSenders)
      },
  toObject(filter(items(optionalSettings), s => !empty(s.value)), s => s.key, s => s.value)
)

// A module, not a child resource here, for the reason AVM gives: list() must read the site after it
// exists, which a separate deployment that depends on it guarantees, on its first deployment too.
module appSettings 'app-settings.bicep' = {
  name: '${deployment().name}-appsettings'
  params: {
    appName: functionApp.name
    currentAppSettings: list('${functionApp.id}/config/appsettings', '2024-04-01').properties
    appSettings: ownedSettings
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

@description('Names of the app settings this template owns; every other setting on the site is kept.')
output managedSettingNames array = appSettings.outputs.managedSettingNames

@description('Base URL of the function app.')
output uri string = 'https://${functionApp.properties.defaultHostName}'
