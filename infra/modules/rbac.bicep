// Every role the pipeline's identities hold, by role name, each on the narrowest scope that works.
// Data-plane roles only: nothing here can read keys, change a resource or grant access to others.
// (The ACS role is in communication-access.bicep, next to the resource it is granted on.)

@description('Principal id of the function app\'s user-assigned managed identity.')
param functionPrincipalId string

@description('Name of the storage account (tables, queues, host blobs, deployment packages, dead letters).')
param storageAccountName string

@description('Blob containers the function identity may use: the deployment package container and the host\'s containers.')
param functionBlobContainerNames array

@description('Blob container the Event Grid system topic writes dead letters to.')
param deadLetterContainerName string

@description('Every storage queue the pipeline uses: the event outbox (EVENTS_QUEUE_NAME) and its poison queue, and with the storage transport the outbound queue and its poison queue.')
param storageQueueNames array

@description('Name of the Service Bus namespace; empty with the storage transport, which needs none.')
param serviceBusNamespaceName string

@description('Name of the outbound Service Bus queue; empty with the storage transport.')
param serviceBusQueueName string

@description('Name of the Event Grid topic for status events.')
param eventGridTopicName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Principal id of the Event Grid system topic\'s system-assigned identity.')
param systemTopicPrincipalId string

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
// test/infra/policy.test.ts checks each id against its name.
var roleDefinitionIds = {
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  'EventGrid Data Sender': 'd5a91429-5739-47e2-a06b-3470a27159e7'
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb'
}

var storageBlobDataContributor = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds['Storage Blob Data Contributor'])
var storageQueueDataContributor = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds['Storage Queue Data Contributor'])
var storageTableDataContributor = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds['Storage Table Data Contributor'])
var serviceBusDataSender = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds['Azure Service Bus Data Sender'])
var serviceBusDataReceiver = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds['Azure Service Bus Data Receiver'])
var eventGridDataSender = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds['EventGrid Data Sender'])
var monitoringMetricsPublisher = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds['Monitoring Metrics Publisher'])

// The host creates and lists its containers at run time (container operations are control actions,
// which a condition does not restrict), so Storage Blob Data Contributor is granted on the account,
// with an ABAC condition that confines reading, writing and deleting blobs to the named containers:
// the deployment package container and the host's azure-webjobs-hosts / azure-webjobs-secrets. The
// Event Grid dead letters in the same account stay out of reach.
var blobDataActions = [
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action'
]
var notBlobDataActions = join(map(blobDataActions, action => '!(ActionMatches{\'${action}\'})'), ' AND ')
var inFunctionContainers = join(
  map(
    functionBlobContainerNames,
    container => '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals \'${container}\''
  ),
  ' OR '
)
var functionBlobCondition = '((${notBlobDataActions}) OR (${inFunctionContainers}))'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: deadLetterContainerName
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource storageQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = [
  for queueName in storageQueueNames: {
    parent: queueService
    name: queueName
  }
]

var useServiceBus = !empty(serviceBusNamespaceName)

resource serviceBusNamespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = if (useServiceBus) {
  name: serviceBusNamespaceName
}

resource serviceBusQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = if (useServiceBus) {
  parent: serviceBusNamespace
  name: serviceBusQueueName
}

resource eventGridTopic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: eventGridTopicName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Host storage (locks, keys) and the Flex Consumption deployment package, limited by the condition above.
resource functionBlobData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionPrincipalId, storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: storageBlobDataContributor
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Functions host blobs and deployment packages, limited to their containers.'
    condition: functionBlobCondition
    conditionVersion: '2.0'
  }
}

// The pipeline's tables. The account is the pipeline's own and holds only its tables, and creating
// a table is an account-level request, so the account is the narrowest scope that works.
resource functionTableData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionPrincipalId, storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: storageTableDataContributor
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Messages, opt-outs, consent log, pacing state and the other pipeline tables.'
  }
}

// Every storage queue the pipeline uses, each on its own scope, not the account: the event outbox
// (every function that records a status change enqueues its events there, and dispatchEvents
// receives them, puts a failed destination's retry back with a delay and parks what cannot be
// delivered in the poison queue), and with the storage transport the outbound queue and its poison
// queue (send and receive, and move failures).
resource functionStorageQueues 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queueName, i) in storageQueueNames: {
    name: guid(storageQueues[i].id, functionPrincipalId, storageQueueDataContributor)
    scope: storageQueues[i]
    properties: {
      roleDefinitionId: storageQueueDataContributor
      principalId: functionPrincipalId
      principalType: 'ServicePrincipal'
      description: 'Storage queue ${queueName}: enqueue, receive and move failures to the poison queue.'
    }
  }
]

// With the storage transport there is no Service Bus, and no Service Bus role.
//
// Scaling: the Functions scale controller reads a queue's message count through the Service Bus
// management API, which needs Manage rights (Azure Service Bus Data Owner for an identity); with
// Listen rights "scaling isn't as accurate because the queue length can't be used" (Microsoft Learn,
// azure-functions/event-driven-scaling; the extension then estimates the backlog by peeking, see
// MicrosoftDocs/azure-docs PR #128626). Data Owner can also delete and reconfigure the queue, and
// sending is paced per number anyway (200 a minute for a toll-free number), so exact scale-out buys
// nothing here: the trade-off is documented in docs/deploy.md and the role is not granted.
// submitMessages (and sendSms, re-enqueueing transient failures as a smaller job) sends to the queue.
resource functionServiceBusSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useServiceBus) {
  name: guid(serviceBusQueue.id, functionPrincipalId, serviceBusDataSender)
  scope: serviceBusQueue
  properties: {
    roleDefinitionId: serviceBusDataSender
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Enqueue send jobs on the outbound queue.'
  }
}

// sendSms's Service Bus trigger receives, completes, abandons and dead-letters on the queue.
resource functionServiceBusReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useServiceBus) {
  name: guid(serviceBusQueue.id, functionPrincipalId, serviceBusDataReceiver)
  scope: serviceBusQueue
  properties: {
    roleDefinitionId: serviceBusDataReceiver
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Receive send jobs from the outbound queue.'
  }
}

// dispatchEvents publishes the pipeline's events to the status topic (its keys are disabled).
resource functionEventGridSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(eventGridTopic.id, functionPrincipalId, eventGridDataSender)
  scope: eventGridTopic
  properties: {
    roleDefinitionId: eventGridDataSender
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Publish the pipeline\'s status events.'
  }
}

// Application Insights has local auth disabled: the host sends telemetry with an Entra token.
resource functionMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, functionPrincipalId, monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: monitoringMetricsPublisher
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Send telemetry to Application Insights with Entra ID.'
  }
}

// Event Grid writes undeliverable ACS events as blobs, with the system topic's own identity.
resource systemTopicDeadLetters 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, systemTopicPrincipalId, storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: storageBlobDataContributor
    principalId: systemTopicPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Event Grid dead letters for the ACS event subscriptions.'
  }
}

@description('The blob condition the function identity holds, for inspection.')
output functionBlobCondition string = functionBlobCondition
