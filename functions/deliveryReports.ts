// deliveryReports — Event Grid: Microsoft.Communication.SMSDeliveryReportReceived from ACS.
import type { EventGridFunctionOptions, EventGridEvent, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { recordDeliveryReport } from '../shared/pipeline/deliveryReports.js';

export const deliveryReports: EventGridFunctionOptions = {
  handler: async (event: EventGridEvent, context: InvocationContext): Promise<void> => {
    const outcome = await recordDeliveryReport({ ...services(), log: contextLogger(context) }, event);
    context.log(`delivery report ${outcome.kind}`);
  },
};
