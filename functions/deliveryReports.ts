// deliveryReports — Event Grid: Microsoft.Communication.SMSDeliveryReportReceived from ACS.
import type { EventGridFunctionOptions, EventGridEvent, InvocationContext } from '@azure/functions';
import { consentDeps, services } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { recordDeliveryReport } from '../shared/pipeline/deliveryReports.js';

export const deliveryReports: EventGridFunctionOptions = {
  handler: async (event: EventGridEvent, context: InvocationContext): Promise<void> => {
    const s = services();
    const log = contextLogger(context);
    const outcome = await recordDeliveryReport({ ...s, log, consent: consentDeps(s, log) }, event);
    context.log(`delivery report ${outcome.kind}`);
  },
};
