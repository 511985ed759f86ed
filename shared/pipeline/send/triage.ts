// The first look at a job's records: what is done already, what is a retry of an earlier
// hand-over, what is new, and what can no longer be sent.
import { REPEATABILITY } from '../../domain/acsFacts.js';
import { moveTo, type MessageRecord } from '../../domain/message.js';
import { isFinal } from '../../domain/messageStatus.js';
import type { SendJob } from '../../domain/sendJob.js';
import type { Logger } from '../../ports/runtime.js';
import type { Tally } from './deps.js';

/**
 * How long ACS is assumed to honour a repeatability id after its first-sent time, with a margin.
 * The 5 minutes are published for ACS Email and Rooms only (acsFacts.ts REPEATABILITY); for SMS
 * nothing is, and its examples accept a first-sent years old as new — so this guard, not a 412,
 * is what keeps an uncertain hand-over from being sent twice.
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

/** Sorts the records; expired ones move to `expired` (added to `changed`). */
export function triage(records: readonly MessageRecord[], job: SendJob, now: Date, changed: Set<MessageRecord>, tally: Tally, log: Logger): Triage {
  const out: Triage = { done: [], retries: [], fresh: [] };
  for (const record of records) {
    if (!record.etag) changed.add(record); // created from a job enqueued directly by another app
    if (isFinal(record.status) || record.status === 'sent' || record.status === 'unknown') {
      tally.skipped++;
      out.done.push(record);
      continue;
    }
    if (isRetry(record)) {
      const age = now.getTime() - Date.parse(record.repeatabilityFirstSent!);
      if (age < REPEATABILITY_WINDOW_MS - REPEATABILITY_MARGIN_MS) {
        out.retries.push(record);
      } else {
        // ACS may have sent it and would no longer recognise the id: sending again could text
        // the person twice. Its delivery report (tagged with the batch id) or the reconciler decides.
        tally.uncertain++;
        log.warn('hand-over outcome uncertain and outside the repeatability window; not sent again', { messageId: record.messageId });
      }
      continue;
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
