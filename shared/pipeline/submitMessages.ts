// Accepting messages: validate recipients and text, choose senders, drop opted-out recipients,
// and hand the rest to the outbound queue as send jobs of at most one ACS request each.
//
// Order matters for "nothing accepted is lost": jobs are enqueued first, records written second.
// A job carries everything its records hold, so if the record write fails after the enqueue the
// sender creates the records itself; and if the enqueue fails nothing was written at all.
import { analyzeMessage } from '../domain/encoding.js';
import { messageIdOf, newBatchId } from '../domain/ids.js';
import { MAX_SCHEDULE_AHEAD_MS, newMessageRecord, type MessageRecord } from '../domain/message.js';
import { normalizePhoneNumber } from '../domain/phoneNumber.js';
import { stickySender, type Sender } from '../domain/sender.js';
import { SEND_JOB_SCHEMA_VERSION, type SendJob } from '../domain/sendJob.js';
import type { FieldError } from '../domain/validation.js';
import { groupBy } from '../lib/collections.js';
import type { OptOutStore } from '../ports/consent.js';
import type { StatusEventSink } from '../ports/events.js';
import type { MessageStore } from '../ports/messages.js';
import type { OutboundQueue } from '../ports/queue.js';
import type { Clock, Logger } from '../ports/runtime.js';

/** What the app asks for (POST /api/messages, validated). */
export interface SubmitRequest {
  /** One recipient or several, as the app wrote them. */
  to: string | string[];
  message: string;
  /** A sender of the pool; without it, each recipient gets its sticky sender. */
  from?: string;
  tag?: string;
  metadata?: Record<string, string>;
  deliveryReport: boolean;
  /** ISO 8601; not handed to ACS before then. */
  scheduledAt?: string;
  /** Seconds after scheduledAt (or now) by which the message must be handed to ACS. */
  validFor?: number;
  smartEncoding: boolean;
  /** Accept the valid recipients and report the invalid ones. */
  partial: boolean;
}

export interface PlanDeps {
  optOuts: OptOutStore;
  clock: Clock;
  senders: readonly Sender[];
  maxSegments: number;
}

export interface SubmitDeps extends PlanDeps {
  messages: MessageStore;
  queue: OutboundQueue;
  log: Logger;
  events: StatusEventSink;
}

/** What a submit would do, without doing it: shared by submit and preview. */
export interface SubmitPlan {
  batchId: string;
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  recipients: Array<{ to: string; from: Sender; messageId: string; optedOut: boolean }>;
  rejected: Array<{ to: string; reason: string }>;
  scheduledAt?: Date;
  expiresAt?: Date;
}

export type PlanResult = { kind: 'plan'; plan: SubmitPlan } | { kind: 'invalid'; errors: FieldError[] };

export type SubmitResult =
  | { kind: 'accepted'; plan: SubmitPlan; records: MessageRecord[] }
  | { kind: 'invalid'; errors: FieldError[] };

export async function planSubmit(deps: PlanDeps, request: SubmitRequest): Promise<PlanResult> {
  const now = deps.clock.now();
  const errors: FieldError[] = [];

  const list = Array.isArray(request.to) ? request.to : [request.to];
  const fieldOf = (i: number) => (Array.isArray(request.to) ? `to[${i}]` : 'to');
  const valid: string[] = [];
  const seen = new Set<string>();
  const rejected: Array<{ to: string; reason: string }> = [];
  list.forEach((raw, i) => {
    const result = normalizePhoneNumber(raw);
    if (!result.ok) {
      rejected.push({ to: raw.slice(0, 32), reason: result.reason });
      errors.push({ field: fieldOf(i), message: result.reason });
    } else if (!seen.has(result.e164)) {
      seen.add(result.e164);
      valid.push(result.e164);
    }
  });
  if (errors.length > 0 && (!request.partial || valid.length === 0)) {
    return { kind: 'invalid', errors: valid.length === 0 && request.partial ? [...errors, { field: 'to', message: 'no valid recipient' }] : errors };
  }
  errors.length = 0;

  const analysis = analyzeMessage(request.message, { smartEncoding: request.smartEncoding });
  if (analysis.segments > deps.maxSegments) {
    errors.push({
      field: 'message',
      message: `needs ${analysis.segments} segments (${analysis.encoding}); at most ${deps.maxSegments} are allowed`,
    });
  }

  let fixedSender: Sender | undefined;
  if (request.from !== undefined) {
    fixedSender = deps.senders.find((s) => s.number === request.from);
    if (!fixedSender) errors.push({ field: 'from', message: `is not one of the configured senders (${deps.senders.map((s) => s.number).join(', ')})` });
  }

  let scheduledAt: Date | undefined;
  if (request.scheduledAt) {
    scheduledAt = new Date(request.scheduledAt);
    if (scheduledAt.getTime() < now.getTime() - 60_000) errors.push({ field: 'scheduledAt', message: 'is in the past' });
    else if (scheduledAt.getTime() > now.getTime() + MAX_SCHEDULE_AHEAD_MS) errors.push({ field: 'scheduledAt', message: 'is more than 35 days ahead' });
    if (scheduledAt.getTime() <= now.getTime()) scheduledAt = undefined;
  }
  const expiresAt = request.validFor ? new Date((scheduledAt ?? now).getTime() + request.validFor * 1000) : undefined;
  if (errors.length > 0) return { kind: 'invalid', errors };

  const batchId = newBatchId(now);
  const recipients = valid.map((to, i) => ({
    to,
    from: fixedSender ?? stickySender(deps.senders, to),
    messageId: messageIdOf(batchId, i),
    optedOut: false,
  }));

  // The cheap opt-out check: the sender checks again, authoritatively, right before the hand-over.
  await Promise.all(
    [...groupBy(recipients, (r) => r.from.number)].map(async ([sender, group]) => {
      const optedOut = await deps.optOuts.optedOut(sender, group.map((r) => r.to));
      for (const r of group) r.optedOut = optedOut.has(r.to);
    }),
  );

  return {
    kind: 'plan',
    plan: {
      batchId,
      text: analysis.text,
      encoding: analysis.encoding,
      segments: analysis.segments,
      recipients,
      rejected,
      ...(scheduledAt ? { scheduledAt } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    },
  };
}

export async function submitMessages(deps: SubmitDeps, request: SubmitRequest): Promise<SubmitResult> {
  const planned = await planSubmit(deps, request);
  if (planned.kind === 'invalid') return planned;
  const plan = planned.plan;
  const now = deps.clock.now();

  const records = plan.recipients.map((r) =>
    newMessageRecord(
      {
        messageId: r.messageId,
        batchId: plan.batchId,
        from: r.from.number,
        to: r.to,
        body: plan.text,
        analysis: plan,
        ...(request.tag ? { tag: request.tag } : {}),
        ...(request.metadata ? { metadata: request.metadata } : {}),
        deliveryReport: request.deliveryReport,
        ...(plan.scheduledAt ? { scheduledAt: plan.scheduledAt.toISOString() } : {}),
        ...(plan.expiresAt ? { expiresAt: plan.expiresAt.toISOString() } : {}),
        status: r.optedOut ? 'suppressed' : plan.scheduledAt ? 'scheduled' : 'queued',
        ...(r.optedOut ? { reason: 'recipient opted out of this sender' } : {}),
      },
      now,
    ),
  );

  const jobs = sendJobs(plan, request);
  if (jobs.length > 0) await deps.queue.enqueue(jobs);
  try {
    await deps.messages.insertBatch(records);
  } catch (error) {
    // The jobs are on the queue and carry everything: the sender will create the records.
    // The messages are accepted, so the caller must not be invited to send them again.
    deps.log.error('message records not written after enqueue; the sender will create them', {
      batchId: plan.batchId,
      error: String(error),
    });
  }
  try {
    await deps.events.statusChanged(records);
  } catch (error) {
    // Accepted is accepted: a failed notification must not invite the caller to send again.
    // The outbox lives on the same storage account as the records, so this is rare; the next
    // change of each message is still published.
    deps.log.error('queued events not published', { batchId: plan.batchId, error: String(error) });
  }
  return { kind: 'accepted', plan, records };
}

/** The plan's sendable recipients as send jobs: one per ACS request, of at most 100 and the sender's burst. */
function sendJobs(plan: SubmitPlan, request: SubmitRequest): SendJob[] {
  const jobs: SendJob[] = [];
  const sendable = plan.recipients.filter((r) => !r.optedOut);
  for (const [sender, group] of groupBy(sendable, (r) => r.from.number)) {
    const size = Math.min(100, group[0]!.from.burst);
    for (let i = 0; i < group.length; i += size) {
      jobs.push({
        schema: SEND_JOB_SCHEMA_VERSION,
        jobId: `${plan.batchId}.${jobs.length}`,
        batchId: plan.batchId,
        from: sender,
        message: plan.text,
        recipients: group.slice(i, i + size).map((r) => ({ messageId: r.messageId, to: r.to })),
        deliveryReport: request.deliveryReport,
        ...(request.tag ? { tag: request.tag } : {}),
        ...(request.metadata ? { metadata: request.metadata } : {}),
        ...(plan.scheduledAt ? { notBefore: plan.scheduledAt.toISOString() } : {}),
        ...(plan.expiresAt ? { expiresAt: plan.expiresAt.toISOString() } : {}),
        attempt: 1,
        kind: 'message',
      });
    }
  }
  return jobs;
}
