// recoverWork — timer (RECOVERY_INTERVAL_SECONDS, 30 s by default): finishes submits and hand-overs
// whose process stopped half way, while ACS can still tell a repeat from a new message.
import type { InvocationContext, Timer, TimerFunctionOptions } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { recoverWork as recover } from '../shared/pipeline/recoverWork.js';

/** The options of the timer; its schedule comes from the settings, so they are built at start. */
export function recoverWork(schedule: string): TimerFunctionOptions {
  return {
    schedule,
    handler: async (_timer: Timer, context: InvocationContext): Promise<void> => {
      const log = contextLogger(context);
      const summary = await recover(deps().recovery(log));
      if (summary.submissionsCompleted + summary.handOversResumed + summary.handOversDecided > 0)
        log.info('recovered', { ...summary });
    },
  };
}
