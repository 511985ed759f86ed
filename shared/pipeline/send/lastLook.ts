// The last look before the hand-over, after any pacing wait: a STOP recorded while the job waited
// for its slot wins, and so does a validity that ended meanwhile.
import { moveTo, type MessageRecord } from '../../domain/message.js';
import type { Sender } from '../../domain/sender.js';
import type { SendJob } from '../../domain/sendJob.js';
import type { SendDeps, Tally } from './deps.js';
import { isRetry } from './triage.js';

/**
 * A message never handed over whose recipient has opted out becomes `suppressed`, one past its
 * validity `expired`. A retry of an uncertain hand-over to a recipient who opted out meanwhile is
 * not sent again either; since the earlier try may have reached ACS, it is left `sending` for its
 * delivery report or the reconciler to settle. Returns the records still to be handed over.
 */
export async function lastLook(
  deps: SendDeps,
  job: SendJob,
  sender: Sender,
  candidates: MessageRecord[],
  changed: Set<MessageRecord>,
  tally: Tally,
  now: Date,
): Promise<MessageRecord[]> {
  const live = candidates.filter((record) => {
    const expiresAt = record.expiresAt ?? job.expiresAt;
    if (isRetry(record) || !expiresAt || Date.parse(expiresAt) > now.getTime()) return true;
    if (moveTo(record, 'expired', now, { reason: 'not handed to ACS before its validity ended' })) {
      changed.add(record);
      tally.expired++;
    }
    return false;
  });
  if (live.length === 0 || job.kind === 'optOutConfirmation') return live;

  const optedOut = await deps.optOuts.optedOut(sender.number, live.map((r) => r.to));
  return live.filter((record) => {
    if (!optedOut.has(record.to)) return true;
    if (isRetry(record)) {
      deps.log.warn('recipient opted out after an uncertain hand-over; not sent again', { messageId: record.messageId });
      tally.uncertain++;
    } else if (moveTo(record, 'suppressed', now, { reason: 'recipient opted out of this sender' })) {
      changed.add(record);
      tally.suppressed++;
    }
    return false;
  });
}
