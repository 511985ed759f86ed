// The function app's entry (package.json "main"): registers every function with the Functions
// host. Each function's options live in its own file; this file only decides which to register.
import { app } from '@azure/functions';
import { config } from '../shared/config.js';
import { deliveryReports } from './deliveryReports.js';
import { getMessage } from './getMessage.js';
import { health } from './health.js';
import { inboundSms } from './inboundSms.js';
import { reconcileDeliveries } from './reconcileDeliveries.js';
import { sendSms } from './sendSms.js';
import { submitMessages } from './submitMessages.js';

// Parsing the settings here makes a bad setting stop the app at start, naming the setting.
const settings = config();

app.http('submitMessages', submitMessages);
app.http('getMessage', getMessage);
app.http('health', health);
if (settings.outboundQueue.transport === 'servicebus') app.serviceBusQueue('sendSms', sendSms.serviceBus);
else app.storageQueue('sendSms', sendSms.storageQueue);
app.eventGrid('deliveryReports', deliveryReports);
app.eventGrid('inboundSms', inboundSms);
app.timer('reconcileDeliveries', reconcileDeliveries);
