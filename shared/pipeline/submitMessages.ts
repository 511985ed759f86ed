// Accepting messages: validate recipients and text, choose senders, drop opted-out recipients,
// and hand the rest to the outbound queue as send jobs of at most one ACS request each.
//
// Order matters for "nothing accepted is lost": jobs are enqueued first, records written second.
// A job carries everything its records hold, so if the record write fails after the enqueue the
// sender creates the records itself; and if the enqueue fails nothing was written at all.
import type { StatusEventSink } from './statusEvents.js';
import { createHash } from 'node:crypto';
import type { Sender } from '../config.js';
import { analyzeMessage } from '../domain/encoding.js';
import { messageIdOf, newBatchId } from '../domain/ids.js';
import type { MessageRecord } from '../domain/message.js';
import { normalizePhoneNumber } from '../domain/phoneNumber.js';
import { SEND_JOB_SCHEMA_VERSION, type SendJob } from '../domain/sendJob.js';
import type { FieldError } from '../http/problem.js';
import { MAX_SCHEDULE_AHEAD_MS, type SubmitMessagesBody, type SubmitMessagesResponse } from '../http/schemas.js';
import type { Clock, Logger, MessageStore, OptOutStore, OutboundQueue } from '../ports.js';

export interface SubmitDeps {
  messages: MessageStore;
  optOuts: OptOutStore;
  queue: OutboundQueue;
  clock: Clock;
  log: Logger;
  senders: readonly Sender[];
  maxSegments: number;
  events?: StatusEventSink;
}

export type SubmitResult =
  | { kind: 'accepted'; response: SubmitMessagesResponse; records: MessageRecord[] }
  | { kind: 'invalid'; errors: FieldError[] };

/** Chooses the same sender of the pool for a recipient every time, so a conversation stays on one thread. */
export function stickySender(senders: readonly Sender[], to: string): Sender {
  const hash = createHash('sha256').update(to).digest().readUInt32BE(0);
  return senders[hash % senders.length]!;
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

export async function planSubmit(
  deps: Pick<SubmitDeps, 'optOuts' | 'clock' | 'senders' | 'maxSegments'>,
  body: SubmitMessagesBody,
): Promise<{ kind: 'plan'; plan: SubmitPlan } | { kind: 'invalid'; errors: FieldError[] }> {
  const now = deps.clock.now();
  const errors: FieldError[] = [];

  const list = Array.isArray(body.to) ? body.to : [body.to];
  const fieldOf = (i: number) => (Array.isArray(body.to) ? `to[${i}]` : 'to');
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
  if (errors.length > 0 && (!body.partial || valid.length === 0)) {
    return { kind: 'invalid', errors: valid.length === 0 && body.partial ? [...errors, { field: 'to', message: 'no valid recipient' }] : errors };
  }
  errors.length = 0;

  const analysis = analyzeMessage(body.message, { smartEncoding: body.smartEncoding });
  if (analysis.segments > deps.maxSegments) {
    errors.push({
      field: 'message',
      message: `needs ${analysis.segments} segments (${analysis.encoding}); at most ${deps.maxSegments} are allowed`,
    });
  }

  let fixedSender: Sender | undefined;
  if (body.from !== undefined) {
    fixedSender = deps.senders.find((s) => s.number === body.from);
    if (!fixedSender) errors.push({ field: 'from', message: `is not one of the configured senders (${deps.senders.map((s) => s.number).join(', ')})` });
  }

  let scheduledAt: Date | undefined;
  if (body.scheduledAt) {
    scheduledAt = new Date(body.scheduledAt);
    if (scheduledAt.getTime() < now.getTime() - 60_000) errors.push({ field: 'scheduledAt', message: 'is in the past' });
    else if (scheduledAt.getTime() > now.getTime() + MAX_SCHEDULE_AHEAD_MS) errors.push({ field: 'scheduledAt', message: 'is more than 35 days ahead' });
    if (scheduledAt.getTime() <= now.getTime()) scheduledAt = undefined;
  }
  const expiresAt = body.validFor ? new Date((scheduledAt ?? now).getTime() + body.validFor * 1000) : undefined;
  if (errors.length > 0) return { kind: 'invalid', errors };

  const batchId = newBatchId(now);
  const recipients = valid.map((to, i) => ({
    to,
    from: fixedSender ?? stickySender(deps.senders, to),
    messageId: messageIdOf(batchId, i),
    optedOut: false,
  }));

  // The cheap opt-out check: the sender checks again, authoritatively, right before the hand-over.
  const bySender = groupBy(recipients, (r) => r.from.number);
  await Promise.all(
    [...bySender].map(async ([sender, group]) => {
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

export async function submitMessages(deps: SubmitDeps, body: SubmitMessagesBody): Promise<SubmitResult> {
  const planned = await planSubmit(deps, body);
  if (planned.kind === 'invalid') return planned;
  const plan = planned.plan;
  const now = deps.clock.now();
  const at = now.toISOString();

  const records: MessageRecord[] = plan.recipients.map((r) => {
    const status = r.optedOut ? 'suppressed' : plan.scheduledAt ? 'scheduled' : 'queued';
    return {
      messageId: r.messageId,
      batchId: plan.batchId,
      from: r.from.number,
      to: r.to,
      body: plan.text,
      encoding: plan.encoding,
      segments: plan.segments,
      ...(body.tag ? { tag: body.tag } : {}),
      ...(body.metadata ? { metadata: body.metadata } : {}),
      deliveryReport: body.deliveryReport,
      status,
      history: [{ status, at, ...(r.optedOut ? { reason: 'recipient opted out of this sender' } : {}) }],
      createdAt: at,
      updatedAt: at,
      ...(plan.scheduledAt ? { scheduledAt: plan.scheduledAt.toISOString() } : {}),
      ...(plan.expiresAt ? { expiresAt: plan.expiresAt.toISOString() } : {}),
      attempts: 0,
    };
  });

  const jobs: SendJob[] = [];
  const sendable = plan.recipients.filter((r) => !r.optedOut);
  for (const [sender, group] of groupBy(sendable, (r) => r.from.number)) {
    // One job is one ACS request: at most 100 recipients, and no more than the sender may send at once.
    const size = Math.min(100, group[0]!.from.burst);
    for (let i = 0; i < group.length; i += size) {
      const chunk = group.slice(i, i + size);
      jobs.push({
        schema: SEND_JOB_SCHEMA_VERSION,
        jobId: `${plan.batchId}.${jobs.length}`,
        batchId: plan.batchId,
        from: sender,
        message: plan.text,
        recipients: chunk.map((r) => ({ messageId: r.messageId, to: r.to })),
        deliveryReport: body.deliveryReport,
        ...(body.tag ? { tag: body.tag } : {}),
        ...(body.metadata ? { metadata: body.metadata } : {}),
        ...(plan.scheduledAt ? { notBefore: plan.scheduledAt.toISOString() } : {}),
        ...(plan.expiresAt ? { expiresAt: plan.expiresAt.toISOString() } : {}),
        attempt: 1,
        kind: 'message',
      });
    }
  }

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
    await deps.events?.statusChanged(records);
  } catch (error) {
    // Accepted is accepted: a failed notification must not invite the caller to send again.
    // The outbox lives on the same storage account as the records, so this is rare; the next
    // change of each message is still published.
    deps.log.error('queued events not published', { batchId: plan.batchId, error: String(error) });
  }

  return {
    kind: 'accepted',
    records,
    response: {
      batchId: plan.batchId,
      statusUrl: `/api/batches/${plan.batchId}`,
      messages: records.map((r) => ({
        messageId: r.messageId,
        to: r.to,
        from: r.from,
        status: r.status as 'queued' | 'scheduled' | 'suppressed',
        segments: r.segments,
        encoding: r.encoding,
      })),
      rejected: plan.rejected,
      segments: plan.segments,
      encoding: plan.encoding,
    },
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
