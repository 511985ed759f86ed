// The Service Bus namespace (Standard) and the outbound queue that carries send jobs from
// submitMessages to sendSms. SAS is disabled: senders and receivers authenticate with Entra ID.

@description('Name of the Service Bus namespace.')
param name string

@description('Region of the namespace.')
param location string

@description('Tags for the namespace (azd-env-name).')
param tags object

@description('Name of the outbound queue (OUTBOUND_QUEUE_NAME).')
param queueName string

@description('Log Analytics workspace that receives the namespace\'s logs and metrics.')
param logAnalyticsWorkspaceId string

@minValue(1)
@maxValue(2000)
@description('Deliveries of one job whose processing threw (a storage outage, a crash) before the broker moves it to the dead-letter queue.')
param maxDeliveryCount int = 10

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    // Standard is the smallest tier with duplicate detection and scheduled messages (Basic has neither).
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueName
  properties: {
    // submitMessages sets MessageId = job id, so a job enqueued twice (a retried request, a replay
    // after a crash between "recorded" and "enqueued") is dropped by the broker. A day covers client
    // retries and same-day replays; longer replays are caught by the Idempotency-Key table. Standard
    // allows up to 7 days. This and requiresSession can only be chosen when the queue is created.
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'P1D'
    // Pacing is a token bucket per sender number shared through Table Storage, not sessions: sessions
    // would pin each number to one receiver and stall its queue behind one slow job.
    requiresSession: false
    // sendSms handles one job (one ACS request of up to 100 recipients) in seconds. The lock must
    // outlast its worst case: an inline pacing wait (at most 5 s; longer waits are rescheduled as a
    // new message instead), one ACS request that times out (ACS_REQUEST_TIMEOUT_MS, 15 s, no SDK
    // retries) and the per-recipient table writes, about 25 s in all. One minute is twice that, and
    // the host renews the lock while the function runs. A longer lock would only delay redelivery
    // after a crash.
    lockDuration: 'PT1M'
    // ACS failures never reach this count: the pipeline retries them as new jobs with backoff and
    // gives up after SEND_MAX_ATTEMPTS into its own deadLetters table. A delivery counts here only
    // when processing threw (Table Storage unreachable, instance lost), and redelivery is immediate,
    // so this bounds a crash loop rather than timing an outage. Ten is the Service Bus default; a
    // job past it waits in the dead-letter queue (kept, never dropped) for replay.
    maxDeliveryCount: maxDeliveryCount
    // An accepted message is never dropped silently: expiry moves it to the dead-letter queue. The
    // TTL outlasts the longest schedule (jobs may be scheduled up to 35 days ahead) plus an outage.
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P40D'
    // 5 GB is the Standard maximum and costs nothing extra: room for a long backlog.
    maxSizeInMegabytes: 5120
    enablePartitioning: false
    enableBatchedOperations: true
  }
}

// Operational logs (entity changes, throttling) and every metric, including dead-lettered and
// active message counts per queue, go to the workspace Application Insights uses.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: namespace
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

@description('Name of the namespace.')
output namespaceName string = namespace.name

@description('Resource id of the namespace.')
output namespaceId string = namespace.id

// serviceBusEndpoint is https://<name>.servicebus.windows.net:443/ (the suffix differs in sovereign clouds).
@description('Fully qualified namespace for ServiceBusConnection__fullyQualifiedNamespace, e.g. sb-x.servicebus.windows.net.')
output fullyQualifiedNamespace string = replace(replace(split(namespace.properties.serviceBusEndpoint, '//')[1], ':443', ''), '/', '')

@description('Name of the outbound queue.')
output queueName string = queue.name

@description('Resource id of the outbound queue.')
output queueId string = queue.id
