// The send path's writes to message records: creating the record of a job another app enqueued
// directly, and saving changes with their status events.
import { appOf } from '../../domain/apps.js';
import { newMessageRecord, type MessageRecord } from '../../domain/message.js';
import { jobRecipients, jobTemplate, type JobRecipient, type SendJob } from '../../domain/sendJob.js';
import { retryOnConflict } from '../optimistic.js';
import type { SendDeps } from './deps.js';

/** A record for a job another app enqueued directly, without going through the HTTP API. */
export function recordFromJob(job: SendJob, recipient: JobRecipient, now: Date): MessageRecord {
  const template = jobTemplate(job);
  return newMessageRecord(
    {
      messageId: recipient.messageId,
      batchId: job.batchId,
      app: appOf(job),
      from: job.from,
      to: recipient.to,
      body: recipient.text,
      ...(job.tag ? { tag: job.tag } : {}),
      ...(recipient.metadata ? { metadata: recipient.metadata } : {}),
      ...(recipient.reference ? { reference: recipient.reference } : {}),
      ...(template ? { template } : {}),
      deliveryReport: job.deliveryReport,
      ...(job.expiresAt ? { expiresAt: job.expiresAt } : {}),
      status: 'queued',
      reason: 'enqueued directly on the outbound queue',
    },
    now,
  );
}

/** The records of a job's recipients: as stored, or made from the job when it was enqueued directly. */
export async function loadRecords(deps: SendDeps, job: SendJob, now: Date): Promise<MessageRecord[]> {
  const recipients = jobRecipients(job);
  const stored = await deps.messages.getMany(
    job.batchId,
    recipients.map((r) => r.messageId),
  );
  return recipients.map((r) => stored.get(r.messageId) ?? recordFromJob(job, r, now));
}

/** By message id, how much of each history is already stored: what lies beyond is new and gets its events. */
export function storedHistoryLengths(records: readonly MessageRecord[]): Map<string, number> {
  return new Map(records.map((r) => [r.messageId, r.etag ? r.history.length : 0]));
}

/**
 * Saves the changed records and announces the changes they gained since they were last stored
 * (`stored`, updated here): every change of a record this write creates (a job enqueued directly
 * by another app, queued and sent at once), none for a record saved only for its bookkeeping (a
 * retry's attempt count). `changed` is emptied.
 */
export async function saveChanged(deps: SendDeps, stored: Map<string, number>, changed: Set<MessageRecord>): Promise<void> {
  if (changed.size === 0) return;
  const records = [...changed];
  await deps.messages.saveAll(records);
  await deps.events.statusChanged(records, { since: stored });
  for (const r of records) stored.set(r.messageId, r.history.length);
  changed.clear();
}

/**
 * Applies `mutate` to records and saves them; when a record changed meanwhile (a delivery report
 * overtook the sender), reads it again and re-applies to the stored version.
 */
export async function updateWithRetry(
  deps: SendDeps,
  batchId: string,
  records: MessageRecord[],
  mutate: (record: MessageRecord, fromStore?: MessageRecord) => MessageRecord,
): Promise<void> {
  if (records.length === 0) return;
  // Only records whose status moved get an event: one a delivery report already took further
  // (delivered before the sender recorded "sent") is saved for its ACS id, but its change is not
  // the sender's to announce again.
  const apply = (record: MessageRecord, fromStore?: MessageRecord) => {
    const before = (fromStore ?? record).history.length;
    const target = mutate(record, fromStore);
    return { target, moved: target.history.length > before };
  };
  await retryOnConflict(async (round) => {
    const fresh =
      round === 1
        ? undefined
        : await deps.messages.getMany(
            batchId,
            records.map((r) => r.messageId),
          );
    const applied = records.map((r) => apply(r, fresh?.get(r.messageId)));
    await deps.messages.saveAll(applied.map((a) => a.target));
    await deps.events.statusChanged(applied.filter((a) => a.moved).map((a) => a.target));
  });
}
