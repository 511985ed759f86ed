// The pipeline's alerts (docs/operations.md says what each means and what to do): log search alert
// rules over the Application Insights component, reading the OpenTelemetry metrics and log events
// the app emits (shared/adapters/telemetry/names.ts; test/infra/telemetryNames.test.ts checks every
// name a query reads against it), and an action group that e-mails whoever azd was told to.
//
// Where the names land. @azure/monitor-opentelemetry-exporter writes each metric point as a
// customMetrics row named as the instrument, its attributes as customDimensions; a counter's or
// gauge's point has value = the point's value (a delta per export interval: the exporter asks for
// delta temporality for counters), a histogram's has value/valueSum = sum, valueCount = count,
// valueMin/valueMax (Azure/azure-sdk-for-js sdk/monitor/monitor-opentelemetry-exporter
// src/utils/metricUtils.ts, resourceMetricsToEnvelope; export/metric.ts for the temporality). A log
// record becomes a traces row whose message is the record's body (src/utils/logUtils.ts, MessageData).
// Rule shape: Microsoft.Insights/scheduledQueryRules, learn.microsoft.com/azure/templates/
// microsoft.insights/scheduledqueryrules — a query, a time aggregation over its rows, a threshold.

@description('Resource id of the Application Insights component the app sends its telemetry to.')
param applicationInsightsId string

@description('Region of the alert rules (that of the component).')
param location string

@description('Tags for every resource (azd-env-name).')
param tags object

@description('Prefix of the rule and action group names (the environment\'s resource token).')
param namePrefix string

@description('E-mail address the alerts go to (azd env ALERT_EMAIL). Empty creates the rules without an action group: they show in the portal\'s Alerts page only.')
param alertEmail string = ''

@minValue(1)
@maxValue(100)
@description('Failure-rate alert: percent of settled messages (delivered + failed) that failed within 30 minutes.')
param failureRatePercent int = 10

@minValue(1)
@description('Failure-rate alert: fewest settled messages in the window before the rate counts (a single failure of two is not a trend).')
param failureRateMinMessages int = 20

@minValue(60)
@description('Queue-age alert: seconds the oldest send job may wait before the alert fires.')
param queueAgeSeconds int = 600

@allowed([
  15
  30
  60
  120
])
@description('Missing-reports alert: minutes without any delivery report while messages were handed over to ACS in the minutes before.')
param deliveryReportSilenceMinutes int = 30

var withActionGroup = !empty(alertEmail)
var actionGroups = withActionGroup ? [actionGroup.id] : []

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (withActionGroup) {
  name: 'ag-${namePrefix}'
  // Action groups are global resources (learn.microsoft.com/azure/azure-monitor/alerts/action-groups).
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'sms-alerts'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Each query returns one row per problem found; the rule fires when it returns any (Count > 0).
var rules = [
  {
    key: 'dead-letters'
    displayName: 'SMS: send jobs dead-lettered'
    description: 'Send jobs wait in the dead letters (the pipeline\'s table or the queue\'s dead-letter/poison queue): their messages are not sent until an operator replays or discards them. Runbook: docs/operations.md#dead-letters.'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    query: 'customMetrics\n| where name == \'sms.dead_letters.waiting\'\n| summarize waiting = max(value) by store = tostring(customDimensions[\'sms.dead_letter.store\'])\n| where waiting > 0'
  }
  {
    key: 'failure-rate'
    displayName: 'SMS: failure rate over ${failureRatePercent}%'
    description: 'More than ${failureRatePercent}% of the messages that reached a final status in 30 minutes failed (at least ${failureRateMinMessages} settled). Runbook: docs/operations.md#failure-rate.'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT30M'
    query: 'customMetrics\n| where name in (\'sms.messages.failed\', \'sms.messages.delivered\')\n| summarize failed = sumif(value, name == \'sms.messages.failed\'), settled = sum(value)\n| where settled >= ${failureRateMinMessages} and failed * 100.0 / settled > ${failureRatePercent}'
  }
  {
    key: 'acs-unauthorized'
    displayName: 'SMS: ACS refuses the app (401/403)'
    description: 'Azure Communication Services answered 401 or 403: the identity lost its role, or the key or token is wrong. Nothing is sent until it is fixed. Runbook: docs/operations.md#acs-401-403.'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    query: 'customMetrics\n| where name == \'sms.acs.duration\'\n| extend status = toint(customDimensions[\'http.response.status_code\'])\n| where status in (401, 403)\n| summarize requests = sum(valueCount) by status, operation = tostring(customDimensions[\'sms.acs.operation\'])'
  }
  {
    key: 'delivery-reports-missing'
    displayName: 'SMS: no delivery reports for ${deliveryReportSilenceMinutes} minutes'
    description: 'Messages were handed to ACS between ${deliveryReportSilenceMinutes} minutes and twice that ago, and no delivery report arrived in the last ${deliveryReportSilenceMinutes} minutes: the Event Grid subscription may be missing, disabled or failing. Runbook: docs/operations.md#delivery-reports-missing.'
    severity: 2
    evaluationFrequency: 'PT5M'
    // Covers twice the longest silence allowed above.
    windowSize: 'PT4H'
    query: 'let silence = ${deliveryReportSilenceMinutes}m;\nlet handedOver = toscalar(customMetrics | where name == \'sms.messages.handed_over\' and timestamp between (ago(2 * silence) .. ago(silence)) | summarize sum(value));\nlet reports = toscalar(customMetrics | where name == \'sms.delivery_reports\' and timestamp > ago(silence) | summarize sum(value));\nprint handedOver = coalesce(handedOver, 0.0), reports = coalesce(reports, 0.0)\n| where handedOver > 0 and reports == 0'
  }
  {
    key: 'queue-age'
    displayName: 'SMS: send jobs waiting over ${queueAgeSeconds} s'
    description: 'The oldest send job has waited more than ${queueAgeSeconds} seconds: sending is stalled or far behind (ACS throttling, too few numbers for the volume, the sender failing). Runbook: docs/operations.md#queue-age.'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT10M'
    query: 'customMetrics\n| where name == \'sms.queue.oldest_age\'\n| summarize oldestAgeSeconds = max(value) by queue = tostring(customDimensions[\'messaging.destination.name\'])\n| where oldestAgeSeconds > ${queueAgeSeconds}'
  }
  {
    key: 'budget-reached'
    displayName: 'SMS: spend budget reached'
    description: 'The spend guard stopped sending because the budget for the period is reached. Runbook: docs/operations.md#budget-reached.'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    query: 'traces\n| where message == \'sms.budget.reached\'\n| project timestamp, customDimensions'
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: 'sms-${rule.key}-${namePrefix}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        applicationInsightsId
      ]
      evaluationFrequency: rule.evaluationFrequency
      windowSize: rule.windowSize
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: actionGroups
      }
    }
  }
]

@description('Names of the alert rules.')
output ruleNames array = [for (rule, i) in rules: alertRules[i].name]

@description('Name of the action group; empty when no e-mail was given.')
output actionGroupName string = withActionGroup ? actionGroup.name : ''
