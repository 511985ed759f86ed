// A batch from its submission: the records and the send jobs, the same whoever makes them and
// however often — the request itself, a retry with its Idempotency-Key, or the recovery timer.
import { appOf } from '../../domain/apps.js';
import { DEFAULT_CATEGORY } from '../../domain/category.js';
import { FREQUENCY_CAP_CODE } from '../../domain/frequencyCap.js';
import { messageIdOf } from '../../domain/ids.js';
import { QUIET_HOURS_CODE } from '../../domain/quietHours.js';
import { newMessageRecord, type MessageRecord } from '../../domain/message.js';
import type { Sender } from '../../domain/sender.js';
import { buildSendJob, jobChunks, type JobRecipient, type SendJob } from '../../domain/sendJob.js';
import type { Submission, SubmissionRecipient } from '../../domain/submission.js';
import { groupBy } from '../../lib/collections.js';
import type { SubmitRequest } from './forms.js';
import type { PlannedMessage, SubmitPlan } from './plan.js';

/** What is kept of a plan at its point of no return. */
export function submissionOf(plan: SubmitPlan, request: SubmitRequest, now: Date): Submission {
  const shared = plan.text !== undefined;
  return {
    batchId: plan.batchId,
    app: plan.app,
    acceptedAt: now.toISOString(),
    ...(shared ? { text: plan.text!, encoding: plan.encoding!, segments: plan.segments! } : {}),
    recipients: plan.recipients.map((r): SubmissionRecipient => ({
      to: r.to,
      from: r.from.number,
      optedOut: r.optedOut,
      ...(shared ? {} : { text: r.text, encoding: r.encoding, segments: r.segments }),
      ...(r.reference ? { reference: r.reference } : {}),
      ...(r.metadata && r.metadata !== request.metadata ? { metadata: r.metadata } : {}),
      ...(r.scheduledAt && r.scheduledAt.getTime() !== plan.scheduledAt?.getTime()
        ? { scheduledAt: r.scheduledAt.toISOString() }
        : {}),
      ...(r.expiresAt && r.expiresAt.getTime() !== plan.expiresAt?.getTime() ? { expiresAt: r.expiresAt.toISOString() } : {}),
      ...(r.quietHours ? { quietHours: r.quietHours } : {}),
      ...(r.expired ? { expired: true } : {}),
      ...(r.capped ? { capped: r.capped } : {}),
    })),
    rejected: plan.rejected,
    ...(request.tag ? { tag: request.tag } : {}),
    ...(request.metadata ? { metadata: request.metadata } : {}),
    ...(plan.template ? { template: plan.template } : {}),
    ...(plan.category !== DEFAULT_CATEGORY ? { category: plan.category } : {}),
    deliveryReport: request.deliveryReport,
    ...(plan.scheduledAt ? { scheduledAt: plan.scheduledAt.toISOString() } : {}),
    ...(plan.expiresAt ? { expiresAt: plan.expiresAt.toISOString() } : {}),
  };
}

/** A recipient of a submission with everything it inherits filled in. */
function messageOf(submission: Submission, r: SubmissionRecipient) {
  const scheduledAt = r.scheduledAt ?? submission.scheduledAt;
  const expiresAt = r.expiresAt ?? submission.expiresAt;
  const metadata = r.metadata ?? submission.metadata;
  return {
    text: r.text ?? submission.text ?? '',
    encoding: r.encoding ?? submission.encoding ?? 'GSM-7',
    segments: r.segments ?? submission.segments ?? 1,
    ...(r.reference ? { reference: r.reference } : {}),
    ...(metadata ? { metadata } : {}),
    ...(scheduledAt ? { scheduledAt } : {}),
    ...(expiresAt ? { expiresAt } : {}),
  };
}

/** A stored submission as a plan again (senders that left the pool keep their number and the defaults of a toll-free one). */
export function planOf(submission: Submission, senders: readonly Sender[]): SubmitPlan {
  const shared = submission.text !== undefined && submission.recipients.every((r) => r.text === undefined);
  return {
    batchId: submission.batchId,
    app: appOf(submission),
    form: shared ? 'text' : submission.template ? 'template' : 'messages',
    ...(shared ? { text: submission.text!, encoding: submission.encoding!, segments: submission.segments! } : {}),
    ...(submission.template ? { template: { category: 'transactional' as const, ...submission.template } } : {}),
    category: submission.category ?? DEFAULT_CATEGORY,
    recipients: submission.recipients.map((r, i): PlannedMessage => {
      const m = messageOf(submission, r);
      return {
        to: r.to,
        from: senderOf(senders, r.from),
        messageId: messageIdOf(submission.batchId, i),
        optedOut: r.optedOut,
        text: m.text,
        encoding: m.encoding,
        segments: m.segments,
        textChanged: false,
        ...(m.reference ? { reference: m.reference } : {}),
        ...(m.metadata ? { metadata: m.metadata } : {}),
        ...(m.scheduledAt ? { scheduledAt: new Date(m.scheduledAt) } : {}),
        ...(m.expiresAt ? { expiresAt: new Date(m.expiresAt) } : {}),
        ...(r.quietHours ? { quietHours: r.quietHours } : {}),
        ...(r.expired ? { expired: true } : {}),
        ...(r.capped ? { capped: r.capped } : {}),
      };
    }),
    rejected: submission.rejected,
    ...(submission.scheduledAt ? { scheduledAt: new Date(submission.scheduledAt) } : {}),
    ...(submission.expiresAt ? { expiresAt: new Date(submission.expiresAt) } : {}),
  };
}

function senderOf(senders: readonly Sender[], number: string): Sender {
  return senders.find((s) => s.number === number) ?? { number, type: 'tollFree', ratePerMinute: 200, burst: 1 };
}

/** The records of a submission: the same, whoever makes them, since they start at its acceptance time. */
export function recordsOf(submission: Submission): MessageRecord[] {
  const at = new Date(submission.acceptedAt);
  const template = submission.template
    ? {
        name: submission.template.name,
        version: submission.template.version,
        ...(submission.template.locale ? { locale: submission.template.locale } : {}),
      }
    : undefined;
  return submission.recipients.map((r, i) => {
    const m = messageOf(submission, r);
    return newMessageRecord(
      {
        messageId: messageIdOf(submission.batchId, i),
        batchId: submission.batchId,
        app: appOf(submission),
        from: r.from,
        to: r.to,
        body: m.text,
        analysis: { encoding: m.encoding, segments: m.segments },
        ...(submission.tag ? { tag: submission.tag } : {}),
        ...(m.metadata ? { metadata: m.metadata } : {}),
        ...(m.reference ? { reference: m.reference } : {}),
        ...(template ? { template } : {}),
        ...(submission.category ? { category: submission.category } : {}),
        deliveryReport: submission.deliveryReport,
        ...(m.scheduledAt ? { scheduledAt: m.scheduledAt } : {}),
        ...(m.expiresAt ? { expiresAt: m.expiresAt } : {}),
        ...startOf(r, m.scheduledAt),
      },
      at,
    );
  });
}

/** Where a recipient's record starts, and why. */
function startOf(r: SubmissionRecipient, scheduledAt: string | undefined) {
  if (r.optedOut) return { status: 'suppressed' as const, reason: 'recipient opted out of this sender' };
  if (r.capped) return { status: 'suppressed' as const, reason: r.capped, code: FREQUENCY_CAP_CODE };
  if (r.expired)
    return { status: 'expired' as const, reason: `${r.quietHours}: past its validity by then`, code: QUIET_HOURS_CODE };
  if (r.quietHours) return { status: 'scheduled' as const, reason: r.quietHours, code: QUIET_HOURS_CODE };
  return { status: scheduledAt ? ('scheduled' as const) : ('queued' as const) };
}

/**
 * The sendable recipients as send jobs: per sender and time, in request order, each of at most 100
 * recipients and the sender's burst (and small enough for a queue message). Job ids follow from
 * the batch, so every attempt makes the same jobs. A job's recipients with the same text share one
 * ACS request.
 */
export function sendJobs(submission: Submission, senders: readonly Sender[]): SendJob[] {
  const jobs: SendJob[] = [];
  const sendable = submission.recipients
    .map((r, i) => ({ r, m: messageOf(submission, r), messageId: messageIdOf(submission.batchId, i) }))
    .filter((x) => !x.r.optedOut && !x.r.expired && !x.r.capped);
  const template = submission.template
    ? {
        name: submission.template.name,
        version: submission.template.version,
        ...(submission.template.locale ? { locale: submission.template.locale } : {}),
      }
    : undefined;
  const shape = (x: (typeof sendable)[number]) => JSON.stringify([x.r.from, x.m.scheduledAt ?? null, x.m.expiresAt ?? null]);
  for (const group of groupBy(sendable, shape).values()) {
    const { r: first, m } = group[0]!;
    const recipients = group.map((x): JobRecipient => ({
      messageId: x.messageId,
      to: x.r.to,
      text: x.m.text,
      ...(x.m.reference ? { reference: x.m.reference } : {}),
      ...(x.m.metadata ? { metadata: x.m.metadata } : {}),
    }));
    for (const chunk of jobChunks(recipients, Math.min(100, senderOf(senders, first.from).burst))) {
      jobs.push(
        buildSendJob(
          {
            jobId: `${submission.batchId}.${jobs.length}`,
            batchId: submission.batchId,
            app: appOf(submission),
            from: first.from,
            deliveryReport: submission.deliveryReport,
            ...(submission.tag ? { tag: submission.tag } : {}),
            ...(template ? { template } : {}),
            ...(m.scheduledAt ? { notBefore: m.scheduledAt } : {}),
            ...(m.expiresAt ? { expiresAt: m.expiresAt } : {}),
            attempt: 1,
            kind: 'message',
          },
          chunk,
        ),
      );
    }
  }
  return jobs;
}
