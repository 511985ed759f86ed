// Everything `azd provision` creates for the SMS pipeline, in one resource group, reached only with
// the function app's user-assigned managed identity (no connection strings, keys or SAS anywhere).
// The Event Grid subscriptions to the functions are stage two: infra/eventgrid-subscriptions.bicep,
// deployed by the azd postdeploy hook once the function code exists (see docs/deploy.md).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment. Seeds the resource token and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region of the resource group and of every regional resource. It must offer the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Name of the resource group. Empty means rg-<environmentName>.')
param resourceGroupName string = ''

// An array, not a string: azd parses the JSON of SMS_SENDERS for array parameters, whereas a JSON
// text substituted into a string parameter would break main.parameters.json on its quotes.
@description('The sender pool, e.g. [{"number":"+18005550100","type":"tollFree"}] (azd env SMS_SENDERS). Numbers are bought and verified outside Bicep; see docs/deploy.md. Empty lets a first provision create the ACS resource you then buy a number on.')
param smsSenders array = []

@description('Name of an existing Azure Communication Services resource (the one that owns your numbers). Empty creates a new one in this environment\'s resource group.')
param existingCommunicationServiceName string = ''

@description('Resource group of that existing Communication Services resource. Empty means this environment\'s resource group.')
param existingCommunicationServiceResourceGroupName string = ''

@description('Where a newly created Communication Services resource keeps its data at rest.')
param communicationDataLocation string = 'United States'

@description('Resource id of a role your administrators made for sending SMS with Entra ID. Empty creates the custom role "ACS SMS Sender" (see modules/communication-access.bicep).')
param acsSenderRoleDefinitionId string = ''

@allowed([
  512
  2048
  4096
])
@description('Memory of each Flex Consumption instance, in MB.')
param instanceMemoryMB int = 2048

@minValue(1)
@maxValue(1000)
@description('Most Flex Consumption instances the app may scale to. Caps cost and the number of concurrent ACS requests; sending is paced per number anyway.')
param maximumInstanceCount int = 40

var abbrs = loadJsonContent('abbreviations.json')
// One token per subscription + environment + region keeps names unique and stable across re-runs.
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var rgName = !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
// Flex Consumption keeps deployment packages in a blob container of its own (same shape as the azd templates).
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'
var eventGridDeadLetterContainerName = 'eventgrid-deadletters'
// Must equal DEFAULT_OUTBOUND_QUEUE in shared/resourceNames.ts (test/contract/infra.test.ts checks it).
var outboundQueueName = 'sms-outbound'
// The event outbox: a Storage queue the dispatchEvents function drains (EVENTS_QUEUE_NAME).
var eventsQueueName = 'sms-events'
// One ACS request may take this long before it counts as timed out; the queue lock
// (modules/servicebus.bicep) is sized from it, so it is pinned here rather than left to the default.
var acsRequestTimeoutMs = 15000
var createCommunicationService = empty(existingCommunicationServiceName)
var communicationServiceName = createCommunicationService
  ? '${abbrs.communicationServices}${resourceToken}'
  : existingCommunicationServiceName
var communicationResourceGroupName = empty(existingCommunicationServiceResourceGroupName)
  ? rgName
  : existingCommunicationServiceResourceGroupName

resource rg 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: rgName
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    deadLetterContainerName: eventGridDeadLetterContainerName
    outboundQueueName: outboundQueueName
    eventsQueueName: eventsQueueName
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: '${abbrs.serviceBusNamespaces}${resourceToken}'
    location: location
    tags: tags
    queueName: outboundQueueName
  }
}

module statusTopic 'modules/eventgrid-topic.bicep' = {
  name: 'eventgrid-topic'
  scope: rg
  params: {
    name: '${abbrs.eventGridTopics}status-${resourceToken}'
    location: location
    tags: tags
  }
}

module communication 'modules/communication.bicep' = if (createCommunicationService) {
  name: 'communication'
  scope: rg
  params: {
    name: communicationServiceName
    dataLocation: communicationDataLocation
    tags: tags
  }
}

// Runs where the ACS resource lives (this resource group, or the one holding an existing resource).
module communicationAccess 'modules/communication-access.bicep' = {
  name: 'communication-access-${resourceToken}'
  scope: resourceGroup(communicationResourceGroupName)
  dependsOn: [
    communication
  ]
  params: {
    communicationServiceName: communicationServiceName
    principalId: identity.outputs.principalId
    senderRoleDefinitionId: acsSenderRoleDefinitionId
    roleNameSuffix: resourceToken
  }
}

module acsEvents 'modules/eventgrid-system-topic.bicep' = {
  name: 'eventgrid-system-topic'
  scope: rg
  params: {
    name: '${abbrs.eventGridSystemTopics}acs-${resourceToken}'
    tags: tags
    communicationServiceId: communicationAccess.outputs.resourceId
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    functionPrincipalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    functionBlobContainerNames: storage.outputs.functionContainerNames
    deadLetterContainerName: storage.outputs.deadLetterContainerName
    storageQueueNames: storage.outputs.queueNames
    serviceBusNamespaceName: serviceBus.outputs.namespaceName
    serviceBusQueueName: serviceBus.outputs.queueName
    eventGridTopicName: statusTopic.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    systemTopicPrincipalId: acsEvents.outputs.principalId
  }
}

module api 'modules/function-app.bicep' = {
  name: 'api'
  scope: rg
  // Role assignments first, so the host finds its permissions when it starts.
  dependsOn: [
    rbac
  ]
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    outboundQueueName: serviceBus.outputs.queueName
    eventsQueueName: eventsQueueName
    communicationServiceEndpoint: communicationAccess.outputs.endpoint
    eventGridTopicEndpoint: statusTopic.outputs.endpoint
    smsSenders: smsSenders
    acsRequestTimeoutMs: acsRequestTimeoutMs
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
  }
}

// Outputs become azd environment values (.azure/<env>/.env); the postdeploy hook reads them.
@description('Region of the deployment.')
output AZURE_LOCATION string = location

@description('Entra tenant of the subscription.')
output AZURE_TENANT_ID string = tenant().tenantId

@description('Resource group holding the pipeline.')
output AZURE_RESOURCE_GROUP string = rg.name

@description('Name of the function app.')
output AZURE_FUNCTION_APP_NAME string = api.outputs.name

@description('Name of the function app, for azd\'s api service.')
output SERVICE_API_NAME string = api.outputs.name

@description('Base URL of the function app; HTTP routes are under /api.')
output SERVICE_API_URI string = api.outputs.uri

@description('Client id of the function app\'s user-assigned identity (named so local tools do not mistake it for their own AZURE_CLIENT_ID).')
output AZURE_FUNCTION_IDENTITY_CLIENT_ID string = identity.outputs.clientId

@description('Storage account for tables, queues, deployment packages and Event Grid dead letters.')
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name

@description('Service Bus namespace, fully qualified.')
output AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace

@description('Name of the outbound Service Bus queue.')
output OUTBOUND_QUEUE_NAME string = serviceBus.outputs.queueName

@description('Name of the Communication Services resource that sends the SMS.')
output AZURE_COMMUNICATION_SERVICE_NAME string = communicationServiceName

@description('Resource group of the Communication Services resource.')
output AZURE_COMMUNICATION_SERVICE_RESOURCE_GROUP string = communicationResourceGroupName

@description('Endpoint of the Communication Services resource.')
output ACS_ENDPOINT string = communicationAccess.outputs.endpoint

@description('Endpoint of the Event Grid topic that carries the pipeline\'s status events.')
output EVENTGRID_TOPIC_ENDPOINT string = statusTopic.outputs.endpoint

@description('Event Grid system topic on the Communication Services resource; stage two subscribes the functions to it.')
output EVENTGRID_SYSTEM_TOPIC_NAME string = acsEvents.outputs.name

@description('Blob container that receives Event Grid deliveries that ran out of retries.')
output EVENTGRID_DEADLETTER_CONTAINER string = storage.outputs.deadLetterContainerName

@description('Application Insights connection string: an ingestion address, not a secret, because local authentication is disabled on the component.')
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
