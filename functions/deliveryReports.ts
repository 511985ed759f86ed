// deliveryReports — Event Grid: Microsoft.Communication.SMSDeliveryReportReceived from ACS.
import type { EventGridEvent, EventGridFunctionOptions, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { recordDeliveryReport } from '../shared/pipeline/deliveryReports.js';

export const deliveryReports: EventGridFunctionOptions = {
  handler: async (event: EventGridEvent, context: InvocationContext): Promise<void> => {
    const log = contextLogger(context);
    const outcome = await recordDeliveryReport(deps().deliveryReport(log), event);
    log.info(`delivery report ${outcome.kind}`);
  },
};
