// inboundSms — Event Grid: Microsoft.Communication.SMSReceived from ACS.
import type { EventGridEvent, EventGridFunctionOptions, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { receiveInboundSms } from '../shared/pipeline/inboundSms.js';

export const inboundSms: EventGridFunctionOptions = {
  handler: async (event: EventGridEvent, context: InvocationContext): Promise<void> => {
    const s = services();
    const outcome = await receiveInboundSms({ ...s, log: contextLogger(context), senders: s.config.senders }, event);
    context.log(`inbound sms ${outcome.kind}`);
  },
};
