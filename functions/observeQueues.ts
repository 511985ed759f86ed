// observeQueues — timer, every minute: records the age of the oldest send job waiting and the dead
// letters waiting for an operator (docs/operations.md: the queue-age and dead-letter alerts read them).
import type { InvocationContext, Timer, TimerFunctionOptions } from '@azure/functions';
import { services } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';

export const observeQueues: TimerFunctionOptions = {
  schedule: '0 * * * * *',
  handler: async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const seen = await services().observeQueues();
    if (seen.oldestAgeSeconds > 300 || seen.tableDeadLetters + seen.transportDeadLetters > 0)
      contextLogger(context).warn('queues observed', { ...seen });
  },
};
