// Dead letters: list them with their reasons, and replay chosen ones safely. A replayed job keeps
// its message ids, so everything already handed to ACS is skipped; only messages that certainly
// never reached ACS are put back to "queued".
import { randomBytes } from 'node:crypto';
import type { MessageRecord } from '../domain/message.js';
import { parseSendJob } from '../domain/sendJob.js';
import type { Clock, DeadLetter, DeadLetterStore, MessageStore, OutboundQueue } from '../ports.js';
import type { StatusEventSink } from './statusEvents.js';

export interface DeadLetterDeps {
  deadLetters: DeadLetterStore;
  messages: MessageStore;
  queue: OutboundQueue;
  clock: Clock;
  events?: StatusEventSink;
}

/** Failures after which a message certainly never reached ACS, so sending it again is safe. */
const REPLAYABLE_CODES = new Set(['max-attempts', 'sender-not-configured']);

export interface ReplayResult {
  id: string;
  outcome: 'replayed' | 'notReplayable';
  /** Messages put back to "queued" and re-enqueued. */
  requeued: string[];
  /** Messages left as they are, with the reason. */
  kept: Array<{ messageId: string; reason: string }>;
  detail?: string;
}

export async function listDeadLetters(deps: Pick<DeadLetterDeps, 'deadLetters'>, limit = 100): Promise<DeadLetter[]> {
  return deps.deadLetters.list({ limit });
}

/**
 * Re-enqueues the job of a dead letter. A message is put back only when it is `failed` with a
 * replayable code and has no open repeatability window behind it (its last failure was certain);
 * messages sent, delivered, canceled, or of uncertain outcome are kept as they are.
 */
export async function replayDeadLetter(deps: DeadLetterDeps, letter: DeadLetter): Promise<ReplayResult> {
  const parsed = parseSendJob(letter.body);
  if (!parsed.ok) {
    return { id: letter.id, outcome: 'notReplayable', requeued: [], kept: [], detail: `the job itself is invalid: ${parsed.reason}; fix and enqueue it again` };
  }
  const job = parsed.job;
  const now = deps.clock.now();
  const stored = await deps.messages.getMany(job.batchId, job.recipients.map((r) => r.messageId));
  const requeue: MessageRecord[] = [];
  const replayed: MessageRecord[] = [];
  const kept: ReplayResult['kept'] = [];
  for (const r of job.recipients) {
    const record = stored.get(r.messageId);
    if (!record) {
      requeue.push({ messageId: r.messageId } as MessageRecord); // the sender creates it from the job
      continue;
    }
    if (record.status === 'queued' || record.status === 'scheduled') {
      requeue.push(record);
    } else if (record.status === 'failed' && REPLAYABLE_CODES.has(record.error?.code ?? '') && !record.acsMessageId && !record.repeatabilityFirstSent) {
      record.status = 'queued';
      record.updatedAt = now.toISOString();
      record.history.push({ status: 'queued', at: record.updatedAt, reason: `replayed from dead letter ${letter.id}` });
      delete record.error;
      record.attempts = 0;
      requeue.push(record);
      replayed.push(record);
    } else {
      const why =
        record.status === 'failed' && record.repeatabilityFirstSent
          ? 'its last hand-over may have reached ACS; sending again could duplicate it'
          : `it is ${record.status}`;
      kept.push({ messageId: r.messageId, reason: why });
    }
  }
  const toSave = requeue.filter((r) => r.etag);
  if (toSave.length > 0) {
    await deps.messages.saveAll(toSave);
    // Back to "queued" is a change of status like any other (its event id counts the second time).
    if (replayed.length > 0) await deps.events?.statusChanged(replayed);
  }
  if (requeue.length > 0) {
    const ids = new Set(requeue.map((r) => r.messageId));
    const { reservedAt: _r, lastError: _l, ...rest } = job;
    await deps.queue.enqueue([
      { ...rest, jobId: `${job.batchId}.replay.${randomBytes(4).toString('hex')}`, attempt: 1, recipients: job.recipients.filter((r) => ids.has(r.messageId)) },
    ]);
  }
  await deps.deadLetters.remove(letter.id);
  return { id: letter.id, outcome: requeue.length > 0 ? 'replayed' : 'notReplayable', requeued: requeue.map((r) => r.messageId), kept };
}
