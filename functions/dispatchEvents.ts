// dispatchEvents — takes the pipeline's events off the outbox queue and delivers them to the
// destinations each message names (the webhooks, the Event Grid topic; analytics only on a retry,
// since it is counted when the change is saved); each destination retries on its own.
import type { InvocationContext, StorageQueueFunctionOptions } from '@azure/functions';
import { services } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { dispatchEvents as dispatch } from '../shared/pipeline/dispatchEvents.js';

export const dispatchEvents: StorageQueueFunctionOptions = {
  queueName: '%EVENTS_QUEUE_NAME%',
  connection: 'AzureWebJobsStorage',
  handler: async (message: unknown, context: InvocationContext): Promise<void> => {
    const s = services();
    const outcome = await dispatch(
      { destinations: s.destinations, outbox: s.outbox, clock: s.clock, log: contextLogger(context), retryBaseMs: s.config.events.retryBaseMs },
      message,
    );
    context.log('events dispatched', JSON.stringify(outcome));
  },
};
