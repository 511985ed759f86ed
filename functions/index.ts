// The function app's entry (package.json "main"): registers every function with the Functions
// host. Each function's options live in its own file; this file only decides which to register.
import { app, type HttpFunctionOptions } from '@azure/functions';
import { hostAuthLevel } from '../shared/adapters/functions/callers.js';
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

// HTTP functions ask the host for a function key unless callers bring Entra ID tokens alone
// (AUTH_MODE=entra): the host reads each function's auth level when the app starts, and a setting
// change restarts the app (docs/security.md).
const http = (name: string, options: HttpFunctionOptions) =>
  app.http(name, { ...options, authLevel: hostAuthLevel(settings.auth, options.authLevel) });

http('submitMessages', submitMessages);
http('previewMessages', previewMessages);
http('getMessage', getMessage);
http('listMessages', listMessages);
http('cancelMessage', cancelMessage);
http('getBatch', getBatch);
http('getOptOut', getOptOut);
http('addOptOut', addOptOut);
http('removeOptOut', removeOptOut);
http('listOptOuts', listOptOuts);
http('getConsentHistory', getConsentHistory);
http('getConversation', getConversation);
http('eraseSubject', eraseSubject);
http('putTemplate', putTemplate);
http('getTemplate', getTemplate);
http('deleteTemplate', deleteTemplate);
http('listTemplates', listTemplates);
http('openApi', openApi);
http('followLink', followLink);
http('health', health);
http('healthDetails', healthDetails);
http('getAnalytics', getAnalytics);
http('dashboard', dashboard);
http('getSending', getSending);
http('setSending', setSending);
http('listHolds', listHolds);
http('getHold', getHold);
http('releaseHold', releaseHold);
http('recordConversion', recordConversion);
if (settings.outboundQueue.transport === 'servicebus') app.serviceBusQueue('sendSms', sendSms.serviceBus);
else app.storageQueue('sendSms', sendSms.storageQueue);
app.eventGrid('deliveryReports', deliveryReports);
app.eventGrid('inboundSms', inboundSms);
app.timer('reconcileDeliveries', reconcileDeliveries);
app.timer('recoverWork', recoverWork(settings.recovery.schedule));
app.storageQueue('dispatchEvents', dispatchEvents);
app.timer('observeQueues', observeQueues);
app.timer('applyRetention', applyRetention);
