// The Event Grid system topic on the Communication Services resource: the source of
// SMSDeliveryReportReceived and SMSReceived. Its system-assigned identity writes dead letters to blob
// storage, so no storage key is ever handed to Event Grid. The subscriptions to the functions are
// created later, by infra/eventgrid-subscriptions.bicep, once the function code is deployed.

@description('Name of the system topic.')
param name string

@description('Tags for the system topic (azd-env-name).')
param tags object

@description('Resource id of the Communication Services resource whose events the topic carries.')
param communicationServiceId string

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  // System topics of global resources such as Communication Services live in the "global" region.
  location: 'global'
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: communicationServiceId
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

@description('Name of the system topic.')
output name string = systemTopic.name

@description('Resource id of the system topic.')
output id string = systemTopic.id

@description('Principal id of the topic\'s system-assigned identity (granted blob access to the dead-letter container).')
output principalId string = systemTopic.identity.principalId
