// Frequency caps at submit (docs/sending.md "Frequency caps"): each message of a capped category
// is counted against its recipient's caps in the shared ledger before the point of no return; one
// over a cap is recorded `suppressed` (code frequencyCap) and never sent. A batch that is then not
// accepted (a budget refuses it, its write certainly failed) takes its counts back.
import { capPeriods, capReason, type CapRequest } from '../../domain/frequencyCap.js';
import type { FrequencyCapLedger } from '../../ports/sendRules.js';
import type { Clock } from '../../ports/runtime.js';
import type { SendRuleDeps } from './sendRules.js';
import type { SubmitPlan } from './plan.js';

export interface FrequencyCapDeps extends SendRuleDeps {
  frequencyCaps: FrequencyCapLedger;
  clock: Clock;
}

/** The plan with the messages over a cap marked, and how to take the others' counts back. */
export async function applyFrequencyCaps(
  deps: FrequencyCapDeps,
  plan: SubmitPlan,
): Promise<{ plan: SubmitPlan; release?: () => Promise<void> }> {
  const caps = deps.sendRules.caps;
  if (!caps.has(plan.category)) return { plan };
  const now = deps.clock.now();
  const requests: CapRequest[] = plan.recipients
    .filter((r) => !r.optedOut && !r.expired)
    .map((r) => ({
      messageId: r.messageId,
      to: r.to,
      category: plan.category,
      ...capPeriods(deps.timeZones.zonesOf(r.to), r.scheduledAt ?? now),
    }));
  if (requests.length === 0) return { plan };
  // Periods before yesterday (UTC) are over in every time zone: the ledger may drop them.
  const yesterday = new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
  const verdicts = await deps.frequencyCaps.count(caps, requests, yesterday);
  const recipients = plan.recipients.map((r) => {
    const verdict = verdicts.get(r.messageId);
    return verdict && !verdict.allowed ? { ...r, capped: capReason(plan.category, verdict) } : r;
  });
  const counted = requests.filter((r) => verdicts.get(r.messageId)?.allowed);
  return {
    plan: { ...plan, recipients },
    ...(counted.length > 0 ? { release: () => deps.frequencyCaps.release(counted) } : {}),
  };
}
