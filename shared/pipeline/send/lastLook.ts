// The last look before the hand-over, after any pacing wait: a STOP recorded while the job waited
// for its slot wins, and so do a validity that ended meanwhile, a pause and a fraud hold.
import { moveTo, unrecordHandOver, type MessageRecord } from '../../domain/message.js';
import type { Sender } from '../../domain/sender.js';
import type { SendJob } from '../../domain/sendJob.js';
import type { SendDeps, Tally } from './deps.js';
import { holdBack, LAST_LOOK_MAX_AGE_MS, type HeldBack } from './guard.js';
import { decideUncertain } from './uncertain.js';

/**
 * A message not handed over before whose recipient has opted out becomes `suppressed`, one past
 * its validity `expired`: the hand-over this invocation recorded (unannounced) is taken back, as
 * ACS never sees it. A retry of an earlier hand-over (`retries`: it may have reached ACS) is not
 * sent again to a recipient who opted out meanwhile; it cannot be known whether the earlier try
 * texted them, so it ends `unknown`. A pause or a hold in force now sends the others back to wait
 * (`back`). Returns the records to hand over now.
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
  /** The records the pause and holds apply to: never handed over before (guard.ts). */
  guarded: ReadonlySet<MessageRecord>,
): Promise<{ live: MessageRecord[]; back?: HeldBack }> {
  const unexpired = candidates.filter((record) => {
    const expiresAt = record.expiresAt ?? job.expiresAt;
    if (retries.has(record) || !expiresAt || Date.parse(expiresAt) > now.getTime()) return true;
    unrecordHandOver(record);
    if (moveTo(record, 'expired', now, { reason: 'not handed to ACS before its validity ended' })) {
      changed.add(record);
      tally.expired++;
    }
    return false;
  });
  const look = await holdBack(
    deps,
    job,
    unexpired.filter((r) => guarded.has(r)),
    changed,
    tally,
    LAST_LOOK_MAX_AGE_MS,
  );
  const going = new Set(look.go);
  const live = unexpired.filter((r) => !guarded.has(r) || going.has(r));
  const back = look.back ? { back: look.back } : {};
  if (live.length === 0 || job.kind === 'optOutConfirmation') return { live, ...back };

  const optedOut = await deps.optOuts.optedOut(
    sender.number,
    live.map((r) => r.to),
  );
  const sendable = live.filter((record) => {
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
  return { live: sendable, ...back };
}
