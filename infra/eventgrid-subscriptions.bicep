// Stage two of the deployment: subscribe the functions to the ACS events. Event Grid checks that the
// destination function exists when a subscription is created, so this cannot be part of main.bicep
// (on a first `azd up` the code is not deployed yet). infra/hooks/stageTwo.mjs, the postprovision and
// postdeploy hook, deploys it with `az deployment group create` into the system topic's resource
// group, passing main.bicep's outputs as parameters, as soon as the functions are indexed.
//
// The destination is endpointType AzureFunction with the function's resource id: Event Grid calls the
// function through the platform, so no system key or webhook URL is handled, stored or rotated.
targetScope = 'resourceGroup'

@description('Name of the Event Grid system topic on the Communication Services resource (EVENTGRID_SYSTEM_TOPIC_NAME).')
param systemTopicName string

@description('Name of the function app (AZURE_FUNCTION_APP_NAME).')
param functionAppName string

@description('Resource group of the function app and of the dead-letter storage account (AZURE_RESOURCE_GROUP); this deployment runs in the system topic\'s, which differs for an adopted topic.')
param appResourceGroupName string = resourceGroup().name

@description('Storage account that holds the dead-letter container (AZURE_STORAGE_ACCOUNT_NAME).')
param deadLetterStorageAccountName string

@description('Blob container for events that ran out of retries (EVENTGRID_DEADLETTER_CONTAINER).')
param deadLetterContainerName string

@description('Appended to the subscription names (EVENTGRID_SUBSCRIPTION_SUFFIX): empty on the environment\'s own system topic, -<environment> on a topic shared with others, so no environment overwrites another\'s.')
param subscriptionNameSuffix string = ''

@minValue(1)
@maxValue(30)
@description('Delivery attempts per event. A STOP or a delivery report must not be lost to a short outage, so the default is Event Grid\'s maximum.')
param maxDeliveryAttempts int = 30

@minValue(1)
@maxValue(1440)
@description('Minutes Event Grid keeps retrying an event before dead-lettering it; the default is the maximum, one day.')
param eventTimeToLiveInMinutes int = 1440

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
  scope: resourceGroup(appResourceGroupName)
}

resource deadLetterStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: deadLetterStorageAccountName
  scope: resourceGroup(appResourceGroupName)
}

var retryPolicy = {
  maxDeliveryAttempts: maxDeliveryAttempts
  eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
}

// Events that exhaust their retries are written as blobs with the system topic's managed identity
// (Storage Blob Data Contributor on this container only; modules/rbac.bicep), so no storage key.
var deadLetter = {
  identity: {
    type: 'SystemAssigned'
  }
  deadLetterDestination: {
    endpointType: 'StorageBlob'
    properties: {
      resourceId: deadLetterStorage.id
      blobContainerName: deadLetterContainerName
    }
  }
}

resource deliveryReportSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'sms-delivery-reports${subscriptionNameSuffix}'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/deliveryReports'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.SMSDeliveryReportReceived'
      ]
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: retryPolicy
    deadLetterWithResourceIdentity: deadLetter
  }
}

resource inboundSmsSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'sms-received${subscriptionNameSuffix}'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/inboundSms'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.SMSReceived'
      ]
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: retryPolicy
    deadLetterWithResourceIdentity: deadLetter
  }
}

@description('Resource id of the delivery-report subscription.')
output deliveryReportSubscriptionId string = deliveryReportSubscription.id

@description('Resource id of the inbound-SMS subscription.')
output inboundSmsSubscriptionId string = inboundSmsSubscription.id
