// dispatchEvents — takes the pipeline's events off the outbox queue and delivers them to the
// destinations each message names (the webhooks, the Event Grid topic; analytics only on a retry,
// since it is counted when the change is saved); each destination retries on its own.
import type { InvocationContext, StorageQueueFunctionOptions } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { dispatchEvents as dispatch } from '../shared/pipeline/dispatchEvents.js';

export const dispatchEvents: StorageQueueFunctionOptions = {
  queueName: '%EVENTS_QUEUE_NAME%',
  connection: 'AzureWebJobsStorage',
  handler: async (message: unknown, context: InvocationContext): Promise<void> => {
    const log = contextLogger(context);
    const outcome = await dispatch(deps().dispatch(log), message);
    log.info('events dispatched', outcome);
  },
};
