// Dead letters: list them with their reasons, and replay chosen ones safely. They are kept in two
// places: the pipeline's `deadLetters` table (jobs the sender gave up on, with its reason) and the
// transport's own dead letters (jobs the function failed on at every delivery). A replayed job
// keeps its message ids and goes through the sender again, which never hands a message to ACS
// twice; the replay only re-opens messages that failed without ever reaching ACS.
import { randomBytes } from 'node:crypto';
import type { DeadLetter } from '../domain/deadLetter.js';
import type { MessageRecord } from '../domain/message.js';
import { parseSendJob, withRecipients, type SendJob } from '../domain/sendJob.js';
import type { DeadLetterStore, TransportDeadLetters } from '../ports/deadLetters.js';
import type { StatusEventSink } from '../ports/events.js';
import type { MessageStore } from '../ports/messages.js';
import type { OutboundQueue } from '../ports/queue.js';
import type { Clock } from '../ports/runtime.js';

export interface DeadLetterDeps {
  deadLetters: DeadLetterStore;
  transportDeadLetters: TransportDeadLetters;
  messages: MessageStore;
  queue: OutboundQueue;
  clock: Clock;
  events: StatusEventSink;
}

/** Failures after which a message certainly never reached ACS, so sending it again is safe. */
const REPLAYABLE_CODES = new Set(['max-attempts', 'sender-not-configured']);

export interface ReplayResult {
  id: string;
  outcome: 'replayed' | 'notReplayable';
  /** Messages re-enqueued (failed ones put back to "queued" first). */
  requeued: string[];
  /** Messages left as they are, with the reason. */
  kept: Array<{ messageId: string; reason: string }>;
  detail?: string;
}

/** The sender's dead letters first (newest first), then the transport's (oldest first). */
export async function listDeadLetters(
  deps: Pick<DeadLetterDeps, 'deadLetters' | 'transportDeadLetters'>,
  limit = 100,
): Promise<DeadLetter[]> {
  const own = await deps.deadLetters.list({ limit });
  const transport = own.length < limit ? await deps.transportDeadLetters.list(limit - own.length) : [];
  return [...own, ...transport];
}

/** Deletes a dead letter from wherever it is kept. */
export async function discardDeadLetter(
  deps: Pick<DeadLetterDeps, 'deadLetters' | 'transportDeadLetters'>,
  letter: DeadLetter,
): Promise<void> {
  if (letter.source !== undefined) {
    await deps.transportDeadLetters.remove([letter.id]);
  } else {
    await deps.deadLetters.remove(letter.id);
  }
}

/**
 * Re-enqueues the job of a dead letter, for the messages it is safe to send:
 * - not handed over yet (queued, scheduled, or no record at all): sent as the job says;
 * - `sending`: the sender decides — it repeats a hand-over only inside ACS's repeatability
 *   window and leaves one of uncertain outcome alone after it;
 * - `failed` with a code that means "never reached ACS" and no hand-over of uncertain outcome
 *   behind it: put back to `queued`;
 * - anything else (sent, delivered, suppressed, canceled, expired, another failure): kept.
 * The letter is removed once its job is back on the queue, or when nothing in it needs sending.
 */
export async function replayDeadLetter(deps: DeadLetterDeps, letter: DeadLetter): Promise<ReplayResult> {
  const parsed = parseSendJob(letter.body);
  if (!parsed.ok) {
    return {
      id: letter.id,
      outcome: 'notReplayable',
      requeued: [],
      kept: [],
      detail: `the job itself is invalid: ${parsed.reason}; fix and enqueue it again`,
    };
  }
  const job = parsed.job;
  const now = deps.clock.now();
  const stored = await deps.messages.getMany(
    job.batchId,
    job.recipients.map((r) => r.messageId),
  );
  const requeue = new Set<string>();
  const reopened: MessageRecord[] = [];
  const kept: ReplayResult['kept'] = [];
  for (const r of job.recipients) {
    const record = stored.get(r.messageId);
    if (!record || record.status === 'queued' || record.status === 'scheduled' || record.status === 'sending') {
      requeue.add(r.messageId); // a missing record is created by the sender from the job
    } else if (
      record.status === 'failed' &&
      REPLAYABLE_CODES.has(record.error?.code ?? '') &&
      !record.acsMessageId &&
      !record.repeatabilityFirstSent
    ) {
      record.status = 'queued';
      record.updatedAt = now.toISOString();
      record.history.push({ status: 'queued', at: record.updatedAt, reason: `replayed from dead letter ${letter.id}` });
      delete record.error;
      record.attempts = 0;
      reopened.push(record);
      requeue.add(r.messageId);
    } else {
      const why =
        record.status === 'failed' && (record.repeatabilityFirstSent || record.acsMessageId)
          ? 'its last hand-over may have reached ACS; sending again could duplicate it'
          : record.status === 'failed'
            ? `it failed for good (${record.error?.code ?? 'no code'}: ${record.error?.message ?? 'no reason'})`
            : `it is ${record.status}`;
      kept.push({ messageId: r.messageId, reason: why });
    }
  }
  if (reopened.length > 0) {
    await deps.messages.saveAll(reopened);
    // Back to "queued" is a change of status like any other (its event id counts the second time).
    await deps.events.statusChanged(reopened);
  }
  if (requeue.size > 0) {
    const { reservedAt: _r, lastError: _l, notBefore: _n, ...rest } = job;
    await deps.queue.enqueue([
      {
        ...withRecipients(rest as SendJob, (id) => requeue.has(id)),
        jobId: `${job.batchId}.replay.${randomBytes(4).toString('hex')}`,
        attempt: 1,
        // A scheduled job keeps its time; a job that was due is due now.
        ...(job.notBefore && Date.parse(job.notBefore) > now.getTime() ? { notBefore: job.notBefore } : {}),
      },
    ]);
  }
  await discardDeadLetter(deps, letter);
  return { id: letter.id, outcome: requeue.size > 0 ? 'replayed' : 'notReplayable', requeued: [...requeue], kept };
}
