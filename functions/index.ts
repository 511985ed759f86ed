// The function app's entry (package.json "main"): registers every function with the Functions
// host. Each function's options live in its own file; this file only decides which to register.
import { app } from '@azure/functions';
import { config } from '../shared/config.js';
import { cancelMessage } from './cancelMessage.js';
import { dashboard } from './dashboard.js';
import { deliveryReports } from './deliveryReports.js';
import { dispatchEvents } from './dispatchEvents.js';
import { getAnalytics } from './getAnalytics.js';
import { getBatch } from './getBatch.js';
import { getMessage } from './getMessage.js';
import { health } from './health.js';
import { inboundSms } from './inboundSms.js';
import { openApi } from './openApi.js';
import { previewMessages } from './previewMessages.js';
import { reconcileDeliveries } from './reconcileDeliveries.js';
import { sendSms } from './sendSms.js';
import { submitMessages } from './submitMessages.js';

// Parsing the settings here makes a bad setting stop the app at start, naming the setting.
const settings = config();

app.http('submitMessages', submitMessages);
app.http('previewMessages', previewMessages);
app.http('getMessage', getMessage);
app.http('cancelMessage', cancelMessage);
app.http('getBatch', getBatch);
app.http('openApi', openApi);
app.http('health', health);
app.http('getAnalytics', getAnalytics);
app.http('dashboard', dashboard);
if (settings.outboundQueue.transport === 'servicebus') app.serviceBusQueue('sendSms', sendSms.serviceBus);
else app.storageQueue('sendSms', sendSms.storageQueue);
app.eventGrid('deliveryReports', deliveryReports);
app.eventGrid('inboundSms', inboundSms);
app.timer('reconcileDeliveries', reconcileDeliveries);
app.storageQueue('dispatchEvents', dispatchEvents);
