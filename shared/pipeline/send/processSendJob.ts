// sendSms's use case: one send job from the outbound queue, the place where "never lose, never
// send twice, never exceed a number's rate, never text someone who said STOP" is decided.
//
// Exactly-once hand-over rests on three things: (1) each message's ACS repeatability id is
// derived from its message id and its first-sent time is stored BEFORE the first try, so a
// redelivered job repeats both and ACS refuses the duplicate; (2) the record's own status says
// what was already handed over, which outlives ACS's repeatability window; (3) a message whose
// hand-over outcome is uncertain and whose window has passed is never sent again — it waits for
// its delivery report (the message id, or for a request to several recipients the batch id,
// travels as the ACS tag) or ends "unknown".
//
// The steps, each in its own file: triage → guard (geo, pause, holds) → (out of attempts?) → split
// to the sender's burst → pacing slot → record the hand-over (in flight, then `sending`) → wait for
// the slot → last look (opt-outs, validity, pause, holds again) → hand over → record ACS's verdicts
// → settle the hand-over. A process that stops anywhere in
// between leaves the hand-over in flight, where the recovery timer finds it while ACS can still
// deduplicate a repeat (shared/pipeline/recoverWork.ts).
import { appOf, NO_APPS, sendingPoolOf } from '../../domain/apps.js';
import { storedOutboundEntry } from '../../domain/conversation.js';
import { moveTo, type MessageRecord } from '../../domain/message.js';
import type { Sender } from '../../domain/sender.js';
import { parseSendJob, type SendJob } from '../../domain/sendJob.js';
import { retryOnConflict } from '../optimistic.js';
import { newTally, processed, type SendDeps, type SendOutcome, type Tally } from './deps.js';
import { EARLY_LOOK_MAX_AGE_MS, holdBack, sendBack } from './guard.js';
import { announceHandOver, handOver, recordHandOver } from './handOver.js';
import { rejectInvalidJob, rejectUnknownSender } from './invalidJob.js';
import { lastLook } from './lastLook.js';
import { deferToSlot, MAX_INLINE_WAIT_MS, slotFor, splitToBurst } from './pacing.js';
import { loadRecords, saveChanged, storedHistoryLengths } from './records.js';
import { nextJobId } from './retry.js';
import { triage } from './triage.js';

export type { SendDeps, SendOutcome } from './deps.js';

/** How the queue message came. */
export interface Delivery {
  /** Not its first delivery: an earlier invocation may have stopped before announcing what it saved. */
  redelivered?: boolean;
}

/** Handles one queue message; throws only when storage or the queue is unavailable (the trigger then retries). */
export async function processSendJob(deps: SendDeps, body: unknown, delivery: Delivery = {}): Promise<SendOutcome> {
  const parsed = parseSendJob(body);
  if (!parsed.ok) {
    // Never retried: the same body fails the same way every time.
    await rejectInvalidJob(deps, body, parsed.reason);
    return { kind: 'deadLettered', reason: parsed.reason };
  }
  const job = parsed.job;
  const now = deps.clock.now();

  if (job.notBefore && Date.parse(job.notBefore) > now.getTime() + 1000) {
    // Storage queues cap visibility at 7 days; a job scheduled further out comes back early.
    await deps.queue.enqueue([{ ...job, jobId: nextJobId(job) }]);
    return { kind: 'deferred', until: job.notBefore, reason: 'notBefore' };
  }

  // An app with its own numbers sends only from them, whoever built the job (domain/apps.ts).
  const pool = sendingPoolOf(deps.senders, deps.apps ?? NO_APPS, appOf(job));
  const sender = pool.find((s) => s.number === job.from);
  if (!sender)
    return { kind: 'deadLettered', reason: await rejectUnknownSender(deps, job, pool === deps.senders ? undefined : appOf(job)) };

  // Someone else (a delivery report, a cancel, a second copy of this job) may change a record
  // between our read and our write; then read again and decide again.
  return retryOnConflict(() => processOnce(deps, job, sender, delivery));
}

async function processOnce(deps: SendDeps, job: SendJob, sender: Sender, delivery: Delivery): Promise<SendOutcome> {
  const records = await loadRecords(deps, job, deps.clock.now());
  const stored = storedHistoryLengths(records);
  const changed = new Set<MessageRecord>();
  const tally = newTally();
  const { done, retries, fresh } = triage(records, job, deps.clock.now(), changed, tally, deps.log, deps.uncertainPolicy);

  await repeatAnnouncements(deps, done);

  // Paused, held or not permitted: looked at before a slot is reserved, so waiting costs no slot.
  // Re-sends of hand-overs that may have reached ACS are not held back: they complete what was started.
  const early = await holdBack(
    deps,
    job,
    fresh.filter((r) => r.status !== 'sending'),
    changed,
    tally,
    EARLY_LOOK_MAX_AGE_MS,
  );
  const guarded = new Set(early.go);
  let candidates = [...retries, ...fresh.filter((r) => r.status === 'sending' || guarded.has(r))];
  // The waiting ones go back on the queue once this round can no longer lose a race and run again.
  const waitEarly = async () => (early.back ? sendBack(deps, job, early.back) : undefined);
  if (candidates.length === 0) {
    const outcome = await finish(deps, stored, changed, tally);
    const until = await waitEarly();
    return until && early.back && tally.failed + tally.expired === 0
      ? { kind: 'deferred', until, reason: early.back.reason }
      : outcome;
  }
  if (job.attempt > deps.maxAttempts) {
    const outcome = await giveUp(deps, job, candidates, stored, changed, tally);
    await waitEarly();
    return outcome;
  }

  candidates = await splitToBurst(deps, job, sender, candidates);
  const startAt = await slotFor(deps, job, sender, candidates.length);
  if (startAt - deps.clock.now().getTime() > MAX_INLINE_WAIT_MS) {
    await saveChanged(deps, stored, changed);
    await waitEarly();
    return { kind: 'deferred', until: await deferToSlot(deps, job, candidates, startAt), reason: 'pacing' };
  }

  // The writes of the hand-over go before the wait for the slot, so that after it only the last
  // look stands between the slot and the request: sends keep to their slots, not slot + writes.
  const handoverAt = deps.clock.now();
  await recordHandOver(deps, candidates, changed, stored, handoverAt);
  const wait = startAt - deps.clock.now().getTime();
  if (wait > 0) await deps.clock.sleep(wait);

  const look = await lastLook(deps, job, sender, candidates, new Set(retries), changed, tally, deps.clock.now(), guarded);
  await announceHandOver(deps, candidates, delivery.redelivered ? retries : [], changed, stored);
  await waitEarly();
  if (look.back) await sendBack(deps, job, look.back);
  if (look.live.length > 0) await handOver(deps, job, look.live, tally);
  // ACS's answers (or the retries) are stored: the hand-over is no longer in flight.
  await deps.tracker.settle(
    candidates.map((r) => r.messageId),
    handoverAt,
  );
  return processed(tally);
}

/**
 * A redelivered job: its changes are stored, but their events and thread entries may not have
 * been written (the invocation failed after the save). Writing again is harmless: same event
 * ids, same entries (keyed by the stored hand-over time).
 */
async function repeatAnnouncements(deps: SendDeps, done: MessageRecord[]): Promise<void> {
  if (done.length === 0) return;
  const entries = done.map(storedOutboundEntry).filter((e) => e !== undefined);
  await Promise.all([
    deps.events.statusChanged(done),
    entries.length > 0 ? deps.conversations.recordOutbound(entries) : undefined,
  ]);
}

async function finish(
  deps: SendDeps,
  stored: Map<string, number>,
  changed: Set<MessageRecord>,
  tally: Tally,
): Promise<SendOutcome> {
  await saveChanged(deps, stored, changed);
  return processed(tally);
}

/** Out of attempts: give up loudly rather than retry for ever. */
async function giveUp(
  deps: SendDeps,
  job: SendJob,
  candidates: MessageRecord[],
  stored: Map<string, number>,
  changed: Set<MessageRecord>,
  tally: Tally,
): Promise<SendOutcome> {
  const now = deps.clock.now();
  const reason = `gave up after ${deps.maxAttempts} attempts${job.lastError ? `: ${job.lastError}` : ''}`;
  for (const record of candidates) {
    if (moveTo(record, 'failed', now, { reason, code: 'max-attempts' })) {
      record.error = { code: 'max-attempts', message: reason };
      changed.add(record);
    }
  }
  await saveChanged(deps, stored, changed);
  await deps.deadLetters.add({ reason, body: JSON.stringify(job), jobId: job.jobId, batchId: job.batchId });
  deps.log.warn('send job dead-lettered after max attempts', { jobId: job.jobId, recipients: candidates.length });
  tally.failed += candidates.length;
  return processed(tally);
}
