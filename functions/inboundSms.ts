// inboundSms — Event Grid: Microsoft.Communication.SMSReceived from ACS (Event Grid or CloudEvents schema).
import type { EventGridEvent, EventGridFunctionOptions, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { receiveInboundSms } from '../shared/pipeline/inboundSms.js';

export const inboundSms: EventGridFunctionOptions = {
  handler: async (event: EventGridEvent, context: InvocationContext): Promise<void> => {
    const log = contextLogger(context);
    const outcomes = await receiveInboundSms(deps().inbound(log), event);
    log.info(`inbound sms ${outcomes.map((o) => o.kind).join(', ')}`);
  },
};
