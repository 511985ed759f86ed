// The Event Grid system topic on the Communication Services resource: the source of
// SMSDeliveryReportReceived and SMSReceived. Its system-assigned identity writes dead letters to blob
// storage, so no storage key is ever handed to Event Grid. The subscriptions to the functions are
// created later, by infra/eventgrid-subscriptions.bicep, once the function code is deployed.
//
// A Communication Services resource can have only one system topic. When it already has one (made in
// the portal, or by another environment sharing the resource), main.bicep deploys this module with
// that topic's name, in that topic's resource group: the same PUT adopts it, turning on the
// system-assigned identity the dead letters need and keeping its other subscriptions, which are
// child resources this template does not touch.

@description('Name of the system topic (a new one, or the one the resource already has).')
param name string

@description('Tags for the system topic: azd-env-name for a new one, its own tags for an adopted one.')
param tags object

@description('Resource id of the Communication Services resource whose events the topic carries.')
param communicationServiceId string

@description('Log Analytics workspace that receives the topic\'s delivery failures and metrics.')
param logAnalyticsWorkspaceId string

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

// Delivery failures (an event Event Grid could not hand to a function, and why) and the delivery
// metrics go to the workspace Application Insights uses.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: systemTopic
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

@description('Name of the system topic.')
output name string = systemTopic.name

@description('Resource id of the system topic.')
output id string = systemTopic.id

@description('Principal id of the topic\'s system-assigned identity (granted blob access to the dead-letter container).')
output principalId string = systemTopic.identity.principalId
