// The retention timer (docs/security.md "What is kept, how long"): for each stage — texts, records,
// conversations — the days that are due and not done yet, oldest first, through the index
// partitioned by day. A day's work is repeatable, so a run stopped half way is finished by the next.
import { dueDays, RETENTION_STAGES, type RetentionPolicy, type RetentionStage } from '../domain/retention.js';
import type { RetentionStore } from '../ports/sendRules.js';
import type { Clock, Logger } from '../ports/runtime.js';

export interface RetentionDeps {
  retention: RetentionStore;
  clock: Clock;
  log: Logger;
  policy: RetentionPolicy;
}

export type RetentionSummary = Record<RetentionStage, { days: number; changed: number }>;

export async function applyRetention(deps: RetentionDeps): Promise<RetentionSummary> {
  const now = deps.clock.now();
  const summary = {} as RetentionSummary;
  for (const stage of RETENTION_STAGES) {
    const days = dueDays(deps.policy, stage, now);
    const done = await deps.retention.doneDays(stage, days);
    summary[stage] = { days: 0, changed: 0 };
    for (const day of days.filter((d) => !done.has(d))) {
      const changed = await deps.retention.apply(stage, day, now);
      summary[stage].days++;
      summary[stage].changed += changed;
      if (changed > 0) deps.log.info('retention applied', { stage, day, changed });
    }
  }
  return summary;
}
