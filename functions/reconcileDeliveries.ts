// reconcileDeliveries — timer: brings messages without a delivery report to a final status.
import type { InvocationContext, Timer, TimerFunctionOptions } from '@azure/functions';
import { consentDeps, services } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { reconcileDeliveries as reconcile } from '../shared/pipeline/reconcileDeliveries.js';

export const reconcileDeliveries: TimerFunctionOptions = {
  schedule: '%RECONCILE_SCHEDULE%',
  handler: async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const s = services();
    const log = contextLogger(context);
    const summary = await reconcile({
      ...s,
      log,
      consent: consentDeps(s, log),
      reconcileAfterMs: s.config.reconcile.afterMs,
      deadlineMs: s.config.reconcile.deadlineMs,
    });
    context.log(`reconciled ${summary.checked} messages, ${summary.parkedApplied} parked reports`);
  },
};
