// The first look at a job's records: what is done already, what is a retry of an earlier
// hand-over, what is new, and what can no longer be sent.
import { REPEATABILITY } from '../../domain/acsFacts.js';
import { moveTo, type MessageRecord } from '../../domain/message.js';
import { isFinal } from '../../domain/messageStatus.js';
import type { SendJob } from '../../domain/sendJob.js';
import type { Logger } from '../../ports/runtime.js';
import type { Tally } from './deps.js';
import { decideUncertain, type UncertainPolicy } from './uncertain.js';

/**
 * How long ACS is assumed to honour a repeatability id after its first-sent time, with a margin.
 * The 5 minutes are published for ACS Email and Rooms only (acsFacts.ts REPEATABILITY); for SMS
 * nothing is, and its examples accept a first-sent years old as new — so the send path's own rules
 * (this window, the uncertain-hand-over policy), never a 412, keep a message from being sent twice.
 */
export const REPEATABILITY_WINDOW_MS = REPEATABILITY.trackedMs;
export const REPEATABILITY_MARGIN_MS = 30_000;

export interface Triage {
  /** Handed over before (sent, final, unknown): nothing to send, but their events and thread entries are written again. */
  done: MessageRecord[];
  /** In `sending` inside the repeatability window: the hand-over is repeated with the same ids. */
  retries: MessageRecord[];
  /** Never handed over: sent now. */
  fresh: MessageRecord[];
}

/** A record whose hand-over was recorded, so a new try repeats it under the same repeatability id. */
export function isRetry(record: MessageRecord): boolean {
  return record.status === 'sending' && record.repeatabilityFirstSent !== undefined;
}

/** Whether ACS would still recognise a repeat of this hand-over (its first-sent time is recent enough). */
export function insideWindow(record: MessageRecord, now: Date): boolean {
  const age = now.getTime() - Date.parse(record.repeatabilityFirstSent!);
  return age < REPEATABILITY_WINDOW_MS - REPEATABILITY_MARGIN_MS;
}

/** Sorts the records; expired ones move to `expired`, uncertain ones are decided (both added to `changed`). */
export function triage(
  records: readonly MessageRecord[],
  job: SendJob,
  now: Date,
  changed: Set<MessageRecord>,
  tally: Tally,
  log: Logger,
  policy: UncertainPolicy,
): Triage {
  const out: Triage = { done: [], retries: [], fresh: [] };
  for (const record of records) {
    if (!record.etag) changed.add(record); // created from a job enqueued directly by another app
    if (isFinal(record.status) || record.status === 'sent' || record.status === 'unknown') {
      tally.skipped++;
      out.done.push(record);
      continue;
    }
    if (isRetry(record)) {
      if (insideWindow(record, now)) {
        out.retries.push(record);
        continue;
      }
      // ACS may have it and would no longer recognise the id: decided now, by the policy.
      tally.uncertain++;
      changed.add(record);
      const again = decideUncertain(
        record,
        now,
        policy,
        'the hand-over was interrupted and ACS can no longer tell a repeat from a new message',
      );
      log.warn('hand-over outcome uncertain outside the repeatability window', { messageId: record.messageId, sentAgain: again });
      if (!again) continue;
    }
    const expiresAt = record.expiresAt ?? job.expiresAt;
    if (expiresAt && Date.parse(expiresAt) <= now.getTime()) {
      if (moveTo(record, 'expired', now, { reason: 'not handed to ACS before its validity ended' })) {
        changed.add(record);
        tally.expired++;
      }
      continue;
    }
    out.fresh.push(record);
  }
  return out;
}
