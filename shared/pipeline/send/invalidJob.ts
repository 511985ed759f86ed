// Jobs that cannot be processed: an invalid one, or one from a sender no longer configured. They
// are dead-lettered with their reason, never retried; the messages they name show `failed`.
import { EXTERNAL_BATCH_ID_PATTERN, MESSAGE_ID_PATTERN } from '../../domain/ids.js';
import { moveTo, newMessageRecord, type MessageRecord } from '../../domain/message.js';
import { PENDING_STATUSES } from '../../domain/messageStatus.js';
import type { SendJob } from '../../domain/sendJob.js';
import { retryOnConflict } from '../optimistic.js';
import type { SendDeps } from './deps.js';
import { loadRecords, storedHistoryLengths } from './records.js';

/** What an invalid job still says about the messages it carries. */
export interface NamedMessages {
  jobId?: string;
  batchId: string;
  from: string;
  recipients: Array<{ messageId: string; to: string }>;
}

/** Dead-letters a job that failed validation; the messages it names, when they can be identified, show `failed`. */
export async function rejectInvalidJob(deps: SendDeps, body: unknown, problem: string): Promise<string> {
  const reason = `invalid send job: ${problem}`;
  const named = identifyMessages(body);
  await deps.deadLetters.add({
    reason,
    body: rawText(body),
    ...(named?.jobId ? { jobId: named.jobId } : {}),
    ...(named ? { batchId: named.batchId } : {}),
  });
  if (named) await failInvalidJob(deps, named, reason);
  deps.log.warn('send job dead-lettered: invalid', { reason: problem, messages: named?.recipients.length ?? 0 });
  return reason;
}

/**
 * Reads the batch id and message ids out of a job that failed validation, trusting nothing: only
 * ids that match their patterns (and belong to the batch) count, at most one job's worth.
 */
export function identifyMessages(body: unknown): NamedMessages | undefined {
  let value: unknown = body;
  try {
    if (typeof body === 'string') value = JSON.parse(body);
    else if (Buffer.isBuffer(body)) value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const job = value as Record<string, unknown>;
  const batchId = job.batchId;
  if (typeof batchId !== 'string' || !EXTERNAL_BATCH_ID_PATTERN.test(batchId) || !Array.isArray(job.recipients)) return undefined;
  const seen = new Set<string>();
  const recipients: NamedMessages['recipients'] = [];
  for (const entry of job.recipients.slice(0, 100) as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { messageId, to } = entry as Record<string, unknown>;
    if (typeof messageId !== 'string' || !MESSAGE_ID_PATTERN.test(messageId) || !messageId.startsWith(`${batchId}-`)) continue;
    if (seen.has(messageId)) continue;
    seen.add(messageId);
    recipients.push({ messageId, to: typeof to === 'string' ? to.slice(0, 32) : '' });
  }
  if (recipients.length === 0) return undefined;
  const jobId = typeof job.jobId === 'string' && /^[A-Za-z0-9_.:-]{1,128}$/.test(job.jobId) ? job.jobId : undefined;
  const from = typeof job.from === 'string' ? job.from.slice(0, 20) : '';
  return { ...(jobId ? { jobId } : {}), batchId, from, recipients };
}

/** Marks the not yet handed over messages of an invalid job `failed`; creates the records it lacks. */
async function failInvalidJob(deps: SendDeps, named: NamedMessages, reason: string): Promise<void> {
  const code = 'invalid-job';
  const message = reason.slice(0, 1000);
  await retryOnConflict(async () => {
    const now = deps.clock.now();
    const stored = await deps.messages.getMany(
      named.batchId,
      named.recipients.map((r) => r.messageId),
    );
    const changed: MessageRecord[] = [];
    for (const r of named.recipients) {
      const record =
        stored.get(r.messageId) ??
        newMessageRecord(
          {
            messageId: r.messageId,
            batchId: named.batchId,
            from: named.from,
            to: r.to,
            body: '',
            deliveryReport: false,
            status: 'queued',
            reason: 'enqueued directly on the outbound queue',
          },
          now,
        );
      // A message already handed over (an earlier, valid copy of the job) keeps its status.
      if (PENDING_STATUSES.has(record.status) && moveTo(record, 'failed', now, { reason: message, code })) {
        record.error = { code, message };
        changed.push(record);
      }
    }
    if (changed.length > 0) {
      await deps.messages.saveAll(changed);
      await deps.events.statusChanged(changed);
    }
  });
}

/** Fails every message of a job from a sender that is no longer configured, and dead-letters the job for replay. */
export async function rejectUnknownSender(deps: SendDeps, job: SendJob, app?: string): Promise<string> {
  const reason =
    app === undefined
      ? `from ${job.from} is not one of the configured senders`
      : `from ${job.from} is not one of the senders of app "${app}" (SMS_APPS)`;
  const code = 'sender-not-configured';
  const now = deps.clock.now();
  const records = await loadRecords(deps, job, now);
  const loaded = storedHistoryLengths(records);
  const changed = records.filter((r) => {
    const moved = moveTo(r, 'failed', now, { reason, code });
    if (moved) r.error = { code, message: reason };
    return moved || !r.etag;
  });
  if (changed.length > 0) {
    await deps.messages.saveAll(changed);
    await deps.events.statusChanged(changed, { since: loaded });
  }
  await deps.deadLetters.add({ reason, body: JSON.stringify(job), jobId: job.jobId, batchId: job.batchId });
  return reason;
}

/** The queue message as text, for the dead letter; hostile nesting can defeat JSON.stringify. */
function rawText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  try {
    return JSON.stringify(body) ?? String(body);
  } catch {
    return '[a queue message too deeply nested to keep as text]';
  }
}
