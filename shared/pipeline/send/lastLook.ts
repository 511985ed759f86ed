// The last look before the hand-over, after any pacing wait: a STOP recorded while the job waited
// for its slot wins, and so does a validity that ended meanwhile.
import { moveTo, unrecordHandOver, type MessageRecord } from '../../domain/message.js';
import type { Sender } from '../../domain/sender.js';
import type { SendJob } from '../../domain/sendJob.js';
import type { SendDeps, Tally } from './deps.js';
import { decideUncertain } from './uncertain.js';

/**
 * A message not handed over before whose recipient has opted out becomes `suppressed`, one past
 * its validity `expired`: the hand-over this invocation recorded (unannounced) is taken back, as
 * ACS never sees it. A retry of an earlier hand-over (`retries`: it may have reached ACS) is not
 * sent again to a recipient who opted out meanwhile; it cannot be known whether the earlier try
 * texted them, so it ends `unknown`. Returns the records to hand over now.
 */
export async function lastLook(
  deps: SendDeps,
  job: SendJob,
  sender: Sender,
  candidates: MessageRecord[],
  retries: ReadonlySet<MessageRecord>,
  changed: Set<MessageRecord>,
  tally: Tally,
  now: Date,
): Promise<MessageRecord[]> {
  const live = candidates.filter((record) => {
    const expiresAt = record.expiresAt ?? job.expiresAt;
    if (retries.has(record) || !expiresAt || Date.parse(expiresAt) > now.getTime()) return true;
    unrecordHandOver(record);
    if (moveTo(record, 'expired', now, { reason: 'not handed to ACS before its validity ended' })) {
      changed.add(record);
      tally.expired++;
    }
    return false;
  });
  if (live.length === 0 || job.kind === 'optOutConfirmation') return live;

  const optedOut = await deps.optOuts.optedOut(
    sender.number,
    live.map((r) => r.to),
  );
  return live.filter((record) => {
    if (!optedOut.has(record.to)) return true;
    changed.add(record);
    if (retries.has(record)) {
      deps.log.warn('recipient opted out after an uncertain hand-over; not sent again', { messageId: record.messageId });
      decideUncertain(record, now, 'atMostOnce', 'the recipient opted out after a hand-over whose outcome is not known');
      tally.uncertain++;
    } else {
      unrecordHandOver(record);
      if (moveTo(record, 'suppressed', now, { reason: 'recipient opted out of this sender' })) tally.suppressed++;
    }
    return false;
  });
}
