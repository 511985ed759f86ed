// A submission: what an accepted request asked for, once validated and planned — the batch id,
// the text, and each recipient with its sender and its opt-out verdict at submit. Stored before
// any message is recorded or queued (when the batch needs more than one send job), it is the
// point from which the batch is complete or nothing: whoever finds it — the request itself, a
// retry with its Idempotency-Key, or the recovery timer — finishes it the same way.

import { messageIdOf } from './ids.js';
import { newMessageRecord, type MessageRecord } from './message.js';
import type { Sender } from './sender.js';
import { SEND_JOB_SCHEMA_VERSION, type SendJob } from './sendJob.js';

export interface Submission {
  batchId: string;
  /** When it was accepted: every record of the batch starts at this time, whoever writes it. */
  acceptedAt: string;
  /** The text as it is sent (after smart encoding), its encoding and segments. */
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  /** In request order; a recipient's message id is the batch id and its position. */
  recipients: Array<{ to: string; from: string; optedOut: boolean }>;
  /** Invalid numbers of a partial request, answered back to the app. */
  rejected: Array<{ to: string; reason: string }>;
  tag?: string;
  metadata?: Record<string, string>;
  deliveryReport: boolean;
  scheduledAt?: string;
  expiresAt?: string;
}

/** A sender of the pool by number; one that left the pool keeps its number and the defaults of a toll-free one. */
export function senderOf(senders: readonly Sender[], number: string): Sender {
  return senders.find((s) => s.number === number) ?? { number, type: 'tollFree', ratePerMinute: 200, burst: 1 };
}

/** The records of a submission: the same, whoever makes them, since they start at its acceptance time. */
export function recordsOf(submission: Submission): MessageRecord[] {
  const at = new Date(submission.acceptedAt);
  return submission.recipients.map((r, i) =>
    newMessageRecord(
      {
        messageId: messageIdOf(submission.batchId, i),
        batchId: submission.batchId,
        from: r.from,
        to: r.to,
        body: submission.text,
        analysis: submission,
        ...(submission.tag ? { tag: submission.tag } : {}),
        ...(submission.metadata ? { metadata: submission.metadata } : {}),
        deliveryReport: submission.deliveryReport,
        ...(submission.scheduledAt ? { scheduledAt: submission.scheduledAt } : {}),
        ...(submission.expiresAt ? { expiresAt: submission.expiresAt } : {}),
        status: r.optedOut ? 'suppressed' : submission.scheduledAt ? 'scheduled' : 'queued',
        ...(r.optedOut ? { reason: 'recipient opted out of this sender' } : {}),
      },
      at,
    ),
  );
}

/**
 * The sendable recipients as send jobs: one per ACS request, of at most 100 and the sender's
 * burst. Job ids follow from the batch, so every attempt makes the same jobs.
 */
export function sendJobs(submission: Submission, senders: readonly Sender[]): SendJob[] {
  const jobs: SendJob[] = [];
  const sendable = submission.recipients
    .map((r, i) => ({ ...r, messageId: messageIdOf(submission.batchId, i) }))
    .filter((r) => !r.optedOut);
  const bySender = new Map<string, typeof sendable>();
  for (const r of sendable) bySender.set(r.from, [...(bySender.get(r.from) ?? []), r]);
  for (const [sender, group] of bySender) {
    const size = Math.min(100, senderOf(senders, sender).burst);
    for (let i = 0; i < group.length; i += size) {
      jobs.push({
        schema: SEND_JOB_SCHEMA_VERSION,
        jobId: `${submission.batchId}.${jobs.length}`,
        batchId: submission.batchId,
        from: sender,
        message: submission.text,
        recipients: group.slice(i, i + size).map((r) => ({ messageId: r.messageId, to: r.to })),
        deliveryReport: submission.deliveryReport,
        ...(submission.tag ? { tag: submission.tag } : {}),
        ...(submission.metadata ? { metadata: submission.metadata } : {}),
        ...(submission.scheduledAt ? { notBefore: submission.scheduledAt } : {}),
        ...(submission.expiresAt ? { expiresAt: submission.expiresAt } : {}),
        attempt: 1,
        kind: 'message',
      });
    }
  }
  return jobs;
}
