// The Event Grid topic that carries the pipeline's own status events (message accepted, sent,
// delivered, failed, opted out) to whoever subscribes. CloudEvents 1.0 in; publishing needs an
// Entra token with EventGrid Data Sender, since access keys are disabled.

@description('Name of the Event Grid topic.')
param name string

@description('Region of the topic.')
param location string

@description('Tags for the topic (azd-env-name).')
param tags object

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    minimumTlsVersionAllowed: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

@description('Name of the topic.')
output name string = topic.name

@description('Resource id of the topic.')
output id string = topic.id

@description('Publishing endpoint (EVENTGRID_TOPIC_ENDPOINT), e.g. https://<name>.<region>-1.eventgrid.azure.net/api/events.')
output endpoint string = topic.properties.endpoint
