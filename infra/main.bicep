// Everything `azd provision` creates for the SMS pipeline, in one resource group, reached only with
// the function app's user-assigned managed identity (no connection strings, keys or SAS anywhere).
// The Event Grid subscriptions to the functions are stage two: infra/eventgrid-subscriptions.bicep,
// deployed by infra/hooks/stageTwo.mjs after provision and after deploy, once the function code
// exists (see docs/deploy.md).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment. Seeds the resource token and the azd-env-name tag.')
param environmentName string

// Flex Consumption runs in some regions only. Listing them here makes azd offer only these and ARM
// refuse any other before a single resource is created. The list is the one Microsoft's Flex
// quickstart declares (Azure-Samples/functions-quickstart-typescript-azd infra/main.bicep, without
// the eastus2euap canary); `az functionapp list-flexconsumption-locations` is the live answer, which
// the preprovision hook also asks when the Azure CLI is signed in.
@minLength(1)
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
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

@description('Resource id of a role your administrators made for sending SMS with Entra ID, or of a built-in role when ACS refuses the custom one (the deploy hook says when). Empty creates the custom role "ACS SMS Sender" (see modules/communication-access.bicep).')
param acsSenderRoleDefinitionId string = ''

@description('Name of an Event Grid system topic that already exists on the Communication Services resource (a resource can have only one). Empty creates one.')
param existingSystemTopicName string = ''

@description('Resource group of that existing system topic. Empty means the resource group of the Communication Services resource.')
param existingSystemTopicResourceGroupName string = ''

@allowed([
  'servicebus'
  'storage'
])
@description('Which queue carries send jobs (OUTBOUND_QUEUE_TRANSPORT): Service Bus (dead-lettering, scheduled messages, duplicate detection; about $10 a month) or a Storage queue. Only the chosen one is created and granted.')
param outboundQueueTransport string = 'servicebus'

@description('NCRONTAB schedule of the delivery-report reconciler (RECONCILE_SCHEDULE). The host resolves %RECONCILE_SCHEDULE% from app settings, so it is always set.')
param reconcileSchedule string = '0 */5 * * * *'

// Settings the code reads that azd may set from its environment (azd env set NAME value). Each is
// passed on only when it has a value: an empty one leaves the app setting as it is on the site, so
// a value set by hand in the portal survives `azd provision` (modules/app-settings.bicep merges).
// Values are checked by the preprovision hook with the app's own settingsSchema before anything is
// deployed, and again by the app at start-up.
@description('OPT_OUT_SCOPE: how far a STOP reaches, sender or pool. Empty keeps the current setting.')
param optOutScope string = ''

@description('ACS_OPT_OUT_MIRROR: true also mirrors every opt-out to ACS\'s own list. Empty keeps the current setting.')
param acsOptOutMirror string = ''

@description('SMS_MAX_SEGMENTS: most segments one message may have. Empty keeps the current setting.')
param smsMaxSegments string = ''

@description('SEND_MAX_ATTEMPTS: hand-over attempts before a message is dead-lettered. Empty keeps the current setting.')
param sendMaxAttempts string = ''

@description('SEND_UNCERTAIN_POLICY: atMostOnce (default) or atLeastOnce, for a hand-over whose outcome is unknown. Empty keeps the current setting.')
@allowed(['', 'atMostOnce', 'atLeastOnce'])
param sendUncertainPolicy string = ''

@description('RECOVERY_INTERVAL_SECONDS: how often half-done submits and hand-overs are finished (the recoverWork timer). Empty keeps the current setting.')
param recoveryIntervalSeconds string = ''

@description('RECONCILE_AFTER_SECONDS: when a message without a delivery report is looked up at ACS. Empty keeps the current setting.')
param reconcileAfterSeconds string = ''

@description('DELIVERY_REPORT_DEADLINE_HOURS: when a message without a final status ends unknown. Empty keeps the current setting.')
param deliveryReportDeadlineHours string = ''

@description('STATUS_WEBHOOK_URLS: comma-separated https URLs that receive status events. Empty keeps the current setting. Its secret, STATUS_WEBHOOK_SECRET, is set on the app by hand (docs/deploy.md), never through azd.')
param statusWebhookUrls string = ''

@description('STATUS_WEBHOOK_EVENT_TYPES: event types the webhooks receive. Empty keeps the current setting.')
param statusWebhookEventTypes string = ''

@description('EVENTS_SOURCE: CloudEvents source of the pipeline\'s events. Empty keeps the current setting.')
param eventsSource string = ''

@description('EVENTS_RETRY_BASE_SECONDS: first retry delay of a failed event delivery. Empty keeps the current setting.')
param eventsRetryBaseSeconds string = ''

@description('ANALYTICS_RESPONSE_WINDOW_HOURS: how soon a reply counts as an answer. Empty keeps the current setting.')
param analyticsResponseWindowHours string = ''

@description('SMS_ALLOWED_COUNTRIES: destination countries messages may go to (ISO alpha-2, comma separated), or * for any. Empty keeps the current setting (unset: the countries the senders reach).')
param smsAllowedCountries string = ''

@description('SMS_BUDGET_WHEN_REACHED: refuse (429 with Retry-After) or queue, once a budget is reached. Empty keeps the current setting. SMS_BUDGETS itself holds prices and is set on the app by hand (docs/security.md).')
@allowed(['', 'refuse', 'queue'])
param smsBudgetWhenReached string = ''

@description('LINK_DOMAIN: host (and optional path) of tracked short links, e.g. go.contoso.com, or go.contoso.com/api/l when the domain is bound to the function app itself (docs/links.md). Empty keeps the current setting.')
param linkDomain string = ''

@description('AUTH_MODE: how callers of the HTTP API prove who they are: keys (function keys, the default), entra (Entra ID tokens with app roles), both (a key and a token). Empty keeps the current setting (docs/security.md).')
@allowed(['', 'keys', 'entra', 'both'])
param authMode string = ''

@description('AUTH_TENANT_ID: the Entra ID tenant whose tokens are accepted; infra/hooks/appRegistration.mjs writes it into the azd environment. Empty keeps the current setting.')
param authTenantId string = ''

@description('AUTH_AUDIENCE: the pipeline\'s app ID URI and/or client id (comma separated) tokens must be for; infra/hooks/appRegistration.mjs writes it into the azd environment. Empty keeps the current setting.')
param authAudience string = ''

@description('LINK_EXPIRY_DAYS: days a short link answers after its message was accepted (default 90). Empty keeps the current setting.')
param linkExpiryDays string = ''

@description('SMS_CATEGORY_BY_TAG: message categories by tag, e.g. promo=marketing,login=otp (docs/sending.md). Empty keeps the current setting.')
param smsCategoryByTag string = ''

@description('SMS_QUIET_HOURS: send windows in the recipient\'s time per category and country, e.g. marketing:US=08:00-21:00;marketing:FR=08:00-20:00/Mon-Sat, or none. Empty keeps the current setting (unset: the US/CA and French defaults).')
param smsQuietHours string = ''

@description('SMS_QUIET_HOLIDAYS: public holidays on which a country\'s windows stay shut, e.g. FR:2026-12-25,FR:2027-01-01. Empty keeps the current setting.')
param smsQuietHolidays string = ''

@description('SMS_FREQUENCY_CAPS: most messages per recipient and category per day and week, e.g. marketing:3/day,10/week, or none. Empty keeps the current setting (unset: no caps).')
param smsFrequencyCaps string = ''

@description('SMS_RETENTION_TEXT_DAYS: days a message record keeps its text (36 to 3650). Empty keeps the current setting (unset: 45).')
param smsRetentionTextDays string = ''

@description('SMS_RETENTION_RECORD_DAYS: days a message record is kept (at least the text days). Empty keeps the current setting (unset: 400).')
param smsRetentionRecordDays string = ''

@description('SMS_RETENTION_CONVERSATION_DAYS: days a conversation entry is kept (1 to 3650). Empty keeps the current setting (unset: 90).')
param smsRetentionConversationDays string = ''

// JSON-valued settings are object parameters: azd parses an environment value as JSON only for
// array and object parameters (azure-dev CHANGELOG 1.23.4, #6694); in a string parameter the quotes
// of the JSON would break main.parameters.json. ANALYTICS_SMS_PRICES and SMS_BUDGETS are not among
// them: their prices are decimals, and ARM templates have no floating-point type (learn.microsoft.com, "Data types in
// ARM templates"), so it is set on the site by hand, where the merge keeps it.
@description('INBOUND_KEYWORDS as JSON, e.g. {"stop":["STOP","ARRET"]}. Empty keeps the current setting.')
param inboundKeywords object = {}

@description('INBOUND_REPLIES as JSON, e.g. {"help":"Acme alerts. Reply STOP to end."}. Empty keeps the current setting.')
param inboundReplies object = {}

@description('LINK_TRACKING as JSON, e.g. {"default":false,"tags":{"promo":true},"templates":{"welcome":true}}. Empty keeps the current setting.')
param linkTracking object = {}

@description('LINK_UTM as JSON, e.g. {"utm_source":"sms","utm_campaign":"{tag}"}. Empty keeps the current setting.')
param linkUtm object = {}

@description('E-mail address the alerts go to (azd env ALERT_EMAIL). Empty creates the alert rules without anyone to notify; docs/operations.md lists them.')
param alertEmail string = ''

@description('SMS_PUMPING_PROTECTION as JSON, e.g. {"burstPerMinute":20,"otpTags":["otp"]}. Empty keeps the current setting.')
param smsPumpingProtection object = {}

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
// Must equal DEFAULT_OUTBOUND_QUEUE in shared/resourceNames.ts (test/infra/settings.test.ts checks it).
var outboundQueueName = 'sms-outbound'
// The event outbox: a Storage queue the dispatchEvents function drains (EVENTS_QUEUE_NAME).
var eventsQueueName = 'sms-events'
// One ACS request may take this long before it counts as timed out; the queue lock
// (modules/servicebus.bicep) is sized from it, so it is pinned here rather than left to the default.
var acsRequestTimeoutMs = 15000
var useServiceBus = outboundQueueTransport == 'servicebus'
var createCommunicationService = empty(existingCommunicationServiceName)
var communicationServiceName = createCommunicationService
  ? '${abbrs.communicationServices}${resourceToken}'
  : existingCommunicationServiceName
var communicationResourceGroupName = empty(existingCommunicationServiceResourceGroupName)
  ? rgName
  : existingCommunicationServiceResourceGroupName
var adoptSystemTopic = !empty(existingSystemTopicName)
var ownSystemTopicName = '${abbrs.eventGridSystemTopics}acs-${resourceToken}'
var systemTopicName = adoptSystemTopic ? existingSystemTopicName : ownSystemTopicName
// On a topic this environment did not create (shared with another environment, or made in the
// portal), the subscriptions carry the environment's name, so one environment never overwrites
// another's subscriptions of the same name (which would silently take its events away).
var eventSubscriptionSuffix = systemTopicName == ownSystemTopicName ? '' : '-${take(environmentName, 40)}'
var systemTopicResourceGroupName = !adoptSystemTopic
  ? rgName
  : (empty(existingSystemTopicResourceGroupName) ? communicationResourceGroupName : existingSystemTopicResourceGroupName)
// App settings azd may set from its environment, by setting name (modules/function-app.bicep passes
// on the non-empty ones).
var optionalSettings = {
  OPT_OUT_SCOPE: optOutScope
  ACS_OPT_OUT_MIRROR: acsOptOutMirror
  SMS_MAX_SEGMENTS: smsMaxSegments
  SEND_MAX_ATTEMPTS: sendMaxAttempts
  SEND_UNCERTAIN_POLICY: sendUncertainPolicy
  RECOVERY_INTERVAL_SECONDS: recoveryIntervalSeconds
  RECONCILE_AFTER_SECONDS: reconcileAfterSeconds
  DELIVERY_REPORT_DEADLINE_HOURS: deliveryReportDeadlineHours
  STATUS_WEBHOOK_URLS: statusWebhookUrls
  STATUS_WEBHOOK_EVENT_TYPES: statusWebhookEventTypes
  EVENTS_SOURCE: eventsSource
  EVENTS_RETRY_BASE_SECONDS: eventsRetryBaseSeconds
  ANALYTICS_RESPONSE_WINDOW_HOURS: analyticsResponseWindowHours
  INBOUND_KEYWORDS: empty(inboundKeywords) ? '' : string(inboundKeywords)
  INBOUND_REPLIES: empty(inboundReplies) ? '' : string(inboundReplies)
  SMS_ALLOWED_COUNTRIES: smsAllowedCountries
  SMS_BUDGET_WHEN_REACHED: smsBudgetWhenReached
  SMS_PUMPING_PROTECTION: empty(smsPumpingProtection) ? '' : string(smsPumpingProtection)
  LINK_DOMAIN: linkDomain
  LINK_EXPIRY_DAYS: linkExpiryDays
  AUTH_MODE: authMode
  AUTH_TENANT_ID: authTenantId
  AUTH_AUDIENCE: authAudience
  LINK_TRACKING: empty(linkTracking) ? '' : string(linkTracking)
  LINK_UTM: empty(linkUtm) ? '' : string(linkUtm)
  SMS_CATEGORY_BY_TAG: smsCategoryByTag
  SMS_QUIET_HOURS: smsQuietHours
  SMS_QUIET_HOLIDAYS: smsQuietHolidays
  SMS_FREQUENCY_CAPS: smsFrequencyCaps
  SMS_RETENTION_TEXT_DAYS: smsRetentionTextDays
  SMS_RETENTION_RECORD_DAYS: smsRetentionRecordDays
  SMS_RETENTION_CONVERSATION_DAYS: smsRetentionConversationDays
}

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

// Alerts and the workbook read the app's OpenTelemetry metrics and logs in Application Insights.
module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    location: location
    tags: tags
    namePrefix: resourceToken
    alertEmail: alertEmail
  }
}

module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    applicationInsightsId: monitoring.outputs.applicationInsightsId
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
    useStorageTransport: !useServiceBus
    eventsQueueName: eventsQueueName
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

module serviceBus 'modules/servicebus.bicep' = if (useServiceBus) {
  name: 'servicebus'
  scope: rg
  params: {
    name: '${abbrs.serviceBusNamespaces}${resourceToken}'
    location: location
    tags: tags
    queueName: outboundQueueName
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
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

// An adopted system topic keeps its own tags; reading them needs the topic to exist, which it does.
resource adoptedSystemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = if (adoptSystemTopic) {
  name: systemTopicName
  scope: resourceGroup(systemTopicResourceGroupName)
}

module acsEvents 'modules/eventgrid-system-topic.bicep' = {
  name: 'eventgrid-system-topic-${resourceToken}'
  scope: resourceGroup(systemTopicResourceGroupName)
  params: {
    name: systemTopicName
    tags: adoptSystemTopic ? (adoptedSystemTopic.?tags ?? {}) : tags
    communicationServiceId: communicationAccess.outputs.resourceId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
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
    serviceBusNamespaceName: useServiceBus ? serviceBus!.outputs.namespaceName : ''
    serviceBusQueueName: useServiceBus ? serviceBus!.outputs.queueName : ''
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
    outboundQueueTransport: outboundQueueTransport
    serviceBusFullyQualifiedNamespace: useServiceBus ? serviceBus!.outputs.fullyQualifiedNamespace : ''
    outboundQueueName: outboundQueueName
    eventsQueueName: eventsQueueName
    communicationServiceEndpoint: communicationAccess.outputs.endpoint
    eventGridTopicEndpoint: statusTopic.outputs.endpoint
    smsSenders: smsSenders
    acsRequestTimeoutMs: acsRequestTimeoutMs
    reconcileSchedule: reconcileSchedule
    optionalSettings: optionalSettings
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
  }
}

// Outputs become azd environment values (.azure/<env>/.env); the hooks (infra/hooks) read them.
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

@description('Service Bus namespace, fully qualified; empty with the storage transport.')
output AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE string = useServiceBus ? serviceBus!.outputs.fullyQualifiedNamespace : ''

@description('Which queue carries send jobs: servicebus or storage.')
output OUTBOUND_QUEUE_TRANSPORT string = outboundQueueTransport

@description('Name of the outbound queue (Service Bus, or Storage with the storage transport).')
output OUTBOUND_QUEUE_NAME string = outboundQueueName

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

@description('Resource group of that system topic (this environment\'s, or the one of an adopted topic).')
output EVENTGRID_SYSTEM_TOPIC_RESOURCE_GROUP string = systemTopicResourceGroupName

@description('Suffix of this environment\'s event subscription names: empty on its own system topic, -<environment> on an adopted one.')
output EVENTGRID_SUBSCRIPTION_SUFFIX string = eventSubscriptionSuffix

@description('Name of the custom ACS role this environment created (empty when ACS_SENDER_ROLE_DEFINITION_ID names one); tear-down deletes it by this name.')
output AZURE_ACS_SENDER_ROLE_NAME string = communicationAccess.outputs.senderRoleName

@description('Names of the app settings infra owns on the function app; every other setting is kept across provisions.')
output FUNCTION_APP_MANAGED_SETTINGS array = api.outputs.managedSettingNames

@description('Blob container that receives Event Grid deliveries that ran out of retries.')
output EVENTGRID_DEADLETTER_CONTAINER string = storage.outputs.deadLetterContainerName

@description('Application Insights connection string: an ingestion address, not a secret, because local authentication is disabled on the component.')
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
