// The function app's entry (package.json "main"): registers every function with the Functions
// host. Each function's options live in its own file; this file only decides which to register.
import { app } from '@azure/functions';
import { config } from '../shared/config.js';
import { startTelemetry } from '../shared/adapters/functions/telemetry.js';
import { applyRetention } from './applyRetention.js';
import { addOptOut } from './addOptOut.js';
import { cancelMessage } from './cancelMessage.js';
import { dashboard } from './dashboard.js';
import { deleteTemplate } from './deleteTemplate.js';
import { deliveryReports } from './deliveryReports.js';
import { dispatchEvents } from './dispatchEvents.js';
import { eraseSubject } from './eraseSubject.js';
import { getAnalytics } from './getAnalytics.js';
import { getBatch } from './getBatch.js';
import { getConsentHistory } from './getConsentHistory.js';
import { getConversation } from './getConversation.js';
import { getHold } from './getHold.js';
import { getMessage } from './getMessage.js';
import { getOptOut } from './getOptOut.js';
import { getSending } from './getSending.js';
import { getTemplate } from './getTemplate.js';
import { followLink } from './followLink.js';
import { health, healthDetails } from './health.js';
import { inboundSms } from './inboundSms.js';
import { listHolds } from './listHolds.js';
import { listMessages } from './listMessages.js';
import { listOptOuts } from './listOptOuts.js';
import { listTemplates } from './listTemplates.js';
import { observeQueues } from './observeQueues.js';
import { openApi } from './openApi.js';
import { previewMessages } from './previewMessages.js';
import { putTemplate } from './putTemplate.js';
import { reconcileDeliveries } from './reconcileDeliveries.js';
import { recordConversion } from './recordConversion.js';
import { recoverWork } from './recoverWork.js';
import { releaseHold } from './releaseHold.js';
import { removeOptOut } from './removeOptOut.js';
import { sendSms } from './sendSms.js';
import { setSending } from './setSending.js';
import { submitMessages } from './submitMessages.js';

// Parsing the settings here makes a bad setting stop the app at start, naming the setting.
const settings = config();

// Traces, metrics and logs (docs/operations.md), before anything runs. When the app sends its own
// telemetry to Application Insights it tells the host so, and the host stops sending the app's log
// lines a second time: the capability Microsoft's Functions instrumentation sets
// (Azure/azure-functions-nodejs-opentelemetry src/instrumentation.ts, "so that the host doesn't
// duplicate"); host.json's telemetryMode OpenTelemetry is the host's half.
if (startTelemetry(settings.telemetry).exporter === 'azureMonitor') {
  app.setup({ capabilities: { WorkerOpenTelemetryEnabled: true } });
}

app.http('submitMessages', submitMessages);
app.http('previewMessages', previewMessages);
app.http('getMessage', getMessage);
app.http('listMessages', listMessages);
app.http('cancelMessage', cancelMessage);
app.http('getBatch', getBatch);
app.http('getOptOut', getOptOut);
app.http('addOptOut', addOptOut);
app.http('removeOptOut', removeOptOut);
app.http('listOptOuts', listOptOuts);
app.http('getConsentHistory', getConsentHistory);
app.http('getConversation', getConversation);
app.http('eraseSubject', eraseSubject);
app.http('putTemplate', putTemplate);
app.http('getTemplate', getTemplate);
app.http('deleteTemplate', deleteTemplate);
app.http('listTemplates', listTemplates);
app.http('openApi', openApi);
app.http('followLink', followLink);
app.http('health', health);
app.http('healthDetails', healthDetails);
app.http('getAnalytics', getAnalytics);
app.http('dashboard', dashboard);
app.http('getSending', getSending);
app.http('setSending', setSending);
app.http('listHolds', listHolds);
app.http('getHold', getHold);
app.http('releaseHold', releaseHold);
app.http('recordConversion', recordConversion);
if (settings.outboundQueue.transport === 'servicebus') app.serviceBusQueue('sendSms', sendSms.serviceBus);
else app.storageQueue('sendSms', sendSms.storageQueue);
app.eventGrid('deliveryReports', deliveryReports);
app.eventGrid('inboundSms', inboundSms);
app.timer('reconcileDeliveries', reconcileDeliveries);
app.timer('recoverWork', recoverWork(settings.recovery.schedule));
app.storageQueue('dispatchEvents', dispatchEvents);
app.timer('observeQueues', observeQueues);
app.timer('applyRetention', applyRetention);
