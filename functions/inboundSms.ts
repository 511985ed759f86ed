// inboundSms — Event Grid: Microsoft.Communication.SMSReceived from ACS (Event Grid or CloudEvents schema).
import type { EventGridEvent, EventGridFunctionOptions, InvocationContext } from '@azure/functions';
import { inboundDeps, services } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { receiveInboundSms } from '../shared/pipeline/inboundSms.js';

export const inboundSms: EventGridFunctionOptions = {
  handler: async (event: EventGridEvent, context: InvocationContext): Promise<void> => {
    const outcomes = await receiveInboundSms(inboundDeps(services(), contextLogger(context)), event);
    context.log(`inbound sms ${outcomes.map((o) => o.kind).join(', ')}`);
  },
};
