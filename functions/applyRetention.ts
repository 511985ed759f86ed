// applyRetention — timer: erases message texts, deletes records and conversation entries past
// their retention (SMS_RETENTION_*), day by day through the retention index (docs/security.md).
import type { InvocationContext, Timer, TimerFunctionOptions } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { applyRetention as apply } from '../shared/pipeline/applyRetention.js';

export const applyRetention: TimerFunctionOptions = {
  // Hourly at :17, off the hour other timers and most traffic start on; a day's work is repeatable.
  schedule: '0 17 * * * *',
  handler: async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const log = contextLogger(context);
    const summary = await apply(deps().retention(log));
    log.info('retention applied', {
      textsErased: summary.text.changed,
      recordsDeleted: summary.records.changed,
      conversationEntriesDeleted: summary.conversations.changed,
    });
  },
};
