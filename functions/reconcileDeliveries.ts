// reconcileDeliveries — timer: brings messages without a delivery report to a final status.
import type { InvocationContext, Timer, TimerFunctionOptions } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { reconcileDeliveries as reconcile } from '../shared/pipeline/reconcileDeliveries.js';

export const reconcileDeliveries: TimerFunctionOptions = {
  schedule: '%RECONCILE_SCHEDULE%',
  handler: async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const log = contextLogger(context);
    const summary = await reconcile(deps().reconcile(log));
    log.info('reconciled', { messages: summary.checked, parkedReports: summary.parkedApplied });
  },
};
