// The guard at the hand-over: geo permissions (for jobs another app enqueued directly, or settings
// changed since the submit), the pause switch and fraud holds. Looked at before a job reserves its
// pacing slot (so a waiting job costs no slot) and again in the last look (so a pause or a hold
// written while the job waited for its slot stops it). A paused or held message waits on the queue —
// its validity still runs, and an ended one is reported as `expired` — and goes on once the pause is
// lifted or the hold released; waiting does not use up its attempts. A retry of a hand-over that may
// already have reached ACS is not held back: it only completes what was started.
import { DEFAULT_PUMPING_POLICY } from '../../domain/fraudWatch.js';
import { geoVerdict } from '../../domain/geo.js';
import { moveTo, unrecordHandOver, type MessageRecord } from '../../domain/message.js';
import type { SendJob } from '../../domain/sendJob.js';
import { cancelingHoldFor, FRAUD_SUSPECTED, holdFor, pauseFor } from '../../domain/sendingControls.js';
import type { SendDeps, Tally } from './deps.js';
import { subJob } from './retry.js';

/** A paused job looks again this often; resuming sends it within about this long. */
export const PAUSE_RECHECK_MS = 10_000;
/** A held message looks again this often, unless SMS_PUMPING_PROTECTION heldRecheckSeconds says otherwise. */
export const HOLD_RECHECK_MS = DEFAULT_PUMPING_POLICY.heldRecheckSeconds * 1000;
/** Before the slot, the controls an instance read up to this long ago will do. */
export const EARLY_LOOK_MAX_AGE_MS = 1_000;
/** At the last look, at most this old: a pause stops hand-overs within this, plus one request in flight. */
export const LAST_LOOK_MAX_AGE_MS = 200;

/** The geo rule's code on a message it fails at the hand-over. */
export const GEO_NOT_PERMITTED = 'geo-not-permitted';

/** Records that wait, why, and when they look again. */
export interface HeldBack {
  records: MessageRecord[];
  reason: 'paused' | 'held';
  retryAt: number;
}

/**
 * Sorts `records` (never handed over) into those that may go on and those that wait; fails those
 * the geo permissions refuse, holds those under a fraud hold, cancels held ones whose hold was
 * released with "cancel". A hand-over recorded for a record that waits is taken back.
 */
export async function holdBack(
  deps: SendDeps,
  job: SendJob,
  records: readonly MessageRecord[],
  changed: Set<MessageRecord>,
  tally: Tally,
  maxAgeMs: number,
): Promise<{ go: MessageRecord[]; back?: HeldBack }> {
  if (records.length === 0) return { go: [] };
  const snapshot = await deps.controls.snapshot(maxAgeMs);
  const now = deps.clock.now();
  const open: MessageRecord[] = [];
  for (const record of records) {
    const geo = geoVerdict(deps.allowedCountries, record.to);
    if (geo.allowed) {
      open.push(record);
      continue;
    }
    takeBack(record, changed);
    if (moveTo(record, 'failed', now, { reason: `The recipient ${geo.reason}`, code: GEO_NOT_PERMITTED })) {
      record.error = { code: GEO_NOT_PERMITTED, message: `The recipient ${geo.reason}` };
      changed.add(record);
      tally.failed++;
    }
  }

  const pause = pauseFor(snapshot.pauses, job.from, job.tag);
  if (pause) {
    for (const record of open) takeBack(record, changed);
    tally.paused += open.length;
    return {
      go: [],
      ...(open.length > 0
        ? { back: { records: open, reason: 'paused', retryAt: nextLook(open, job, now.getTime() + PAUSE_RECHECK_MS) } }
        : {}),
    };
  }
  if (job.kind === 'optOutConfirmation') return { go: open };

  const go: MessageRecord[] = [];
  const held: MessageRecord[] = [];
  for (const record of open) {
    const hold = holdFor(snapshot.holds, record.to, job.tag);
    if (hold) {
      takeBack(record, changed);
      if (moveTo(record, 'held', now, { reason: FRAUD_SUSPECTED, code: hold.id })) changed.add(record);
      held.push(record);
      continue;
    }
    const canceling = record.status === 'held' ? cancelingHoldFor(snapshot.holds, record.to, job.tag) : undefined;
    if (canceling) {
      if (moveTo(record, 'canceled', now, { reason: `canceled when hold ${canceling.id} was released`, code: canceling.id }))
        changed.add(record);
      continue;
    }
    go.push(record);
  }
  tally.held += held.length;
  return {
    go,
    ...(held.length > 0
      ? {
          back: {
            records: held,
            reason: 'held',
            retryAt: nextLook(held, job, now.getTime() + (deps.holdRecheckMs ?? HOLD_RECHECK_MS)),
          },
        }
      : {}),
  };
}

/** Takes back a hand-over recorded (and saved) before the last look: the record must be saved again. */
function takeBack(record: MessageRecord, changed: Set<MessageRecord>): void {
  if (record.status !== 'sending') return;
  unrecordHandOver(record);
  changed.add(record);
}

/** When waiting records look again: at the recheck, or when the first of them expires, to report it then. */
function nextLook(records: readonly MessageRecord[], job: SendJob, recheckAt: number): number {
  const expiries = records.map((r) => Date.parse(r.expiresAt ?? job.expiresAt ?? '')).filter(Number.isFinite);
  return Math.min(recheckAt, ...expiries.map((t) => t + 1_000));
}

/** Puts the waiting records back on the queue as a job of their own, same attempt, looking again at `retryAt`. */
export async function sendBack(deps: SendDeps, job: SendJob, back: HeldBack): Promise<string> {
  const until = new Date(Math.max(back.retryAt, deps.clock.now().getTime())).toISOString();
  await deps.queue.enqueue([
    subJob(job, back.records, { attempt: job.attempt, notBefore: until, ...(job.lastError ? { lastError: job.lastError } : {}) }),
  ]);
  deps.log.info(back.reason === 'paused' ? 'send job waits: sending is paused' : 'messages held: fraud suspected', {
    jobId: job.jobId,
    recipients: back.records.length,
    until,
  });
  return until;
}
