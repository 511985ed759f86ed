// Accepting messages: validate recipients and text, choose senders, drop opted-out recipients,
// and hand the rest to the outbound queue as send jobs of at most one ACS request each.
//
// A submit is all or nothing, whatever stops it. Each request has one point of no return — one
// atomic write — after which the batch is complete or will be; before it, nothing was done:
// - a batch of one send job: the job is that write. It carries everything its records hold, so
//   if the record write fails after it, the sender creates the records itself;
// - a larger batch: the whole submission (submission.ts) is stored first, in one entity; then its
//   records and jobs are written and the submission removed. Whoever finds a submission left
//   behind — a retry with the same Idempotency-Key, or the recovery timer — finishes it alike.
// A retry with a key works under the batch id of the key's first request (resumed), so records,
// jobs and ACS repeatability all recognise what the first attempt already did.
// The fraud and spend guard comes before the point of no return: geo permissions in the plan, then
// pumping detection and the budget charge, once per batch id (guard/).
import { analyzeMessage } from '../domain/encoding.js';
import { sendersReaching, type AllowedCountries } from '../domain/geo.js';
import { messageIdOf, newBatchId } from '../domain/ids.js';
import { MAX_SCHEDULE_AHEAD_MS, type MessageRecord } from '../domain/message.js';
import { normalizePhoneNumber } from '../domain/phoneNumber.js';
import { stickySender, type Sender } from '../domain/sender.js';
import type { FieldError } from '../domain/validation.js';
import { groupBy } from '../lib/collections.js';
import { recordsOf, senderOf, sendJobs, type Submission } from '../domain/submission.js';
import type { OptOutStore } from '../ports/consent.js';
import { DependencyUnavailableError, SubmitInterruptedError } from '../ports/errors.js';
import type { StatusEventSink } from '../ports/events.js';
import type { MessageStore } from '../ports/messages.js';
import type { OutboundQueue } from '../ports/queue.js';
import type { Clock, Logger } from '../ports/runtime.js';
import type { SubmissionStore } from '../ports/submissions.js';
import { permitDestinations, type GeoRefused } from './guard/geoPermissions.js';
import {
  guardSubmit,
  publishQuietly,
  refuseDestinations,
  type BudgetExceeded,
  type SubmitGuardDeps,
} from './guard/submitGuard.js';

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
  /** Geo permissions: recipients in other countries are refused. */
  allowedCountries: AllowedCountries;
}

export interface SubmitDeps extends PlanDeps, SubmitGuardDeps {
  messages: MessageStore;
  queue: OutboundQueue;
  submissions: SubmissionStore;
  log: Logger;
  events: StatusEventSink;
}

/** Which batch a submit is: a new one, or (resumed) one an earlier attempt with the same key began. */
export interface SubmitOperation {
  batchId?: string;
  resumed?: boolean;
}

/** What a submit would do, without doing it: shared by submit and preview. */
export interface SubmitPlan {
  batchId: string;
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  recipients: Array<{ to: string; from: Sender; messageId: string; optedOut: boolean }>;
  rejected: Array<{ to: string; reason: string }>;
  /** Of `rejected`, those the geo permissions refused, by country (partial requests). */
  geoRefused?: Record<string, number>;
  scheduledAt?: Date;
  expiresAt?: Date;
}

export type PlanResult = { kind: 'plan'; plan: SubmitPlan } | { kind: 'invalid'; errors: FieldError[] } | GeoRefused;

export type SubmitResult =
  /** `deferredUntil`: a budget is reached and SMS_BUDGET_WHEN_REACHED=queue scheduled the batch for its next period. */
  | { kind: 'accepted'; plan: SubmitPlan; records: MessageRecord[]; deferredUntil?: Date }
  | { kind: 'invalid'; errors: FieldError[] }
  | GeoRefused
  | BudgetExceeded;

/** Plans a submit under `batchId` (a new id when absent); nothing is written. */
export async function planSubmit(deps: PlanDeps, request: SubmitRequest, batchId?: string): Promise<PlanResult> {
  const now = deps.clock.now();
  const errors: FieldError[] = [];

  const list = Array.isArray(request.to) ? request.to : [request.to];
  const fieldOf = (i: number) => (Array.isArray(request.to) ? `to[${i}]` : 'to');
  const normalized: Array<{ to: string; field: string }> = [];
  const seen = new Set<string>();
  const rejected: Array<{ to: string; reason: string }> = [];
  list.forEach((raw, i) => {
    const result = normalizePhoneNumber(raw);
    if (!result.ok) {
      rejected.push({ to: raw.slice(0, 32), reason: result.reason });
      errors.push({ field: fieldOf(i), message: result.reason });
    } else if (!seen.has(result.e164)) {
      seen.add(result.e164);
      normalized.push({ to: result.e164, field: fieldOf(i) });
    }
  });
  if (errors.length > 0 && (!request.partial || normalized.length === 0)) {
    return {
      kind: 'invalid',
      errors: normalized.length === 0 && request.partial ? [...errors, { field: 'to', message: 'no valid recipient' }] : errors,
    };
  }
  errors.length = 0;

  // Geo permissions: a recipient in a country not allowed is refused, like an invalid number.
  const { valid, refusals, byCountry } = permitDestinations(deps.allowedCountries, normalized, rejected);
  if (refusals.length > 0 && (!request.partial || valid.length === 0)) return { kind: 'refused', refusals };

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
    if (!fixedSender)
      errors.push({
        field: 'from',
        message: `is not one of the configured senders (${deps.senders.map((s) => s.number).join(', ')})`,
      });
  }

  let scheduledAt: Date | undefined;
  if (request.scheduledAt) {
    scheduledAt = new Date(request.scheduledAt);
    if (scheduledAt.getTime() < now.getTime() - 60_000) errors.push({ field: 'scheduledAt', message: 'is in the past' });
    else if (scheduledAt.getTime() > now.getTime() + MAX_SCHEDULE_AHEAD_MS)
      errors.push({ field: 'scheduledAt', message: 'is more than 35 days ahead' });
    if (scheduledAt.getTime() <= now.getTime()) scheduledAt = undefined;
  }
  const expiresAt = request.validFor ? new Date((scheduledAt ?? now).getTime() + request.validFor * 1000) : undefined;
  if (errors.length > 0) return { kind: 'invalid', errors };

  const id = batchId ?? newBatchId(now);
  const recipients = valid.map((to, i) => ({
    to,
    // Of the pool, the senders that can reach the recipient's country (all, when none can).
    from: fixedSender ?? stickySender(sendersReaching(deps.senders, to), to),
    messageId: messageIdOf(id, i),
    optedOut: false,
  }));

  // The cheap opt-out check: the sender checks again, authoritatively, right before the hand-over.
  await Promise.all(
    [...groupBy(recipients, (r) => r.from.number)].map(async ([sender, group]) => {
      const optedOut = await deps.optOuts.optedOut(
        sender,
        group.map((r) => r.to),
      );
      for (const r of group) r.optedOut = optedOut.has(r.to);
    }),
  );

  return {
    kind: 'plan',
    plan: {
      batchId: id,
      text: analysis.text,
      encoding: analysis.encoding,
      segments: analysis.segments,
      recipients,
      rejected,
      ...(refusals.length > 0 ? { geoRefused: byCountry } : {}),
      ...(scheduledAt ? { scheduledAt } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    },
  };
}

export async function submitMessages(
  deps: SubmitDeps,
  request: SubmitRequest,
  operation: SubmitOperation = {},
): Promise<SubmitResult> {
  const planned = await planSubmit(deps, request, operation.batchId);
  if (planned.kind === 'refused') return refuseDestinations(deps, planned, request.tag);
  if (planned.kind === 'invalid') return planned;
  const guarded = await guardSubmit(deps, planned.plan, request.tag, Boolean(operation.resumed));
  if (guarded.kind !== 'go') return guarded;
  const deferred = guarded.deferredUntil ? { deferredUntil: guarded.deferredUntil } : {};
  const submission = submissionOf(guarded.plan, request, deps.clock.now());

  if (!operation.resumed && sendJobs(submission, deps.senders).length <= 1) {
    // One job: enqueueing it is the point of no return.
    await beforeNoReturn(submission.batchId, () => deps.queue.enqueue(sendJobs(submission, deps.senders)), guarded.refund);
    const records = recordsOf(submission);
    await finishQuietly(deps, submission.batchId, () => recordAndAnnounce(deps, records));
    await publishQuietly(deps, guarded.announce);
    return { kind: 'accepted', plan: planOf(submission, deps.senders), records, ...deferred };
  }

  // Storing the submission is the point of no return; an earlier attempt's, when there is one, wins.
  const stored = await beforeNoReturn(
    submission.batchId,
    () => deps.submissions.create(submission),
    operation.resumed ? undefined : guarded.refund,
  );
  await finishQuietly(deps, stored.batchId, () => completeSubmission(deps, stored, { recovering: Boolean(operation.resumed) }));
  await publishQuietly(deps, guarded.announce);
  // A resumed batch answers with what its records say: the first attempt may have written them
  // (with its own opt-out verdicts) before this one looked.
  const records = operation.resumed ? await acceptedRecords(deps, stored) : recordsOf(stored);
  return { kind: 'accepted', plan: planOf(stored, deps.senders), records, ...deferred };
}

/**
 * Writes a stored submission's records and send jobs, then forgets it. Safe to repeat and to run
 * twice at once: records are inserted where missing, jobs keep their ids (a second copy of a job
 * sends nothing twice: the sender goes by the records and ACS repeatability), events keep theirs.
 */
export async function completeSubmission(
  deps: Pick<SubmitDeps, 'messages' | 'events' | 'queue' | 'submissions' | 'senders'>,
  submission: Submission,
  options: { recovering: boolean },
): Promise<void> {
  const records = recordsOf(submission);
  if (options.recovering) {
    // Some may be written already: insert only the missing ones (inserting existing ones costs a request each).
    const existing = await deps.messages.getMany(
      submission.batchId,
      records.map((r) => r.messageId),
    );
    await recordAndAnnounce(
      deps,
      records.filter((r) => !existing.has(r.messageId)),
    );
  } else {
    await recordAndAnnounce(deps, records);
  }
  await deps.queue.enqueue(sendJobs(submission, deps.senders));
  await deps.submissions.remove(submission.batchId);
}

/** Runs the write that is the point of no return: a failure there may or may not have taken effect; one that did not is undone. */
async function beforeNoReturn<T>(batchId: string, write: () => Promise<T>, undo?: () => Promise<void>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof DependencyUnavailableError && error.uncertain) throw new SubmitInterruptedError(batchId, error);
    await undo?.();
    throw error;
  }
}

/** After the point of no return the batch is accepted: a failure here is finished later, never reported as a refusal. */
async function finishQuietly(deps: Pick<SubmitDeps, 'log'>, batchId: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    // Single job: the sender writes the records from the job. Submission: a retry with the key or
    // the recovery timer completes it. The app must not be invited to send again.
    deps.log.error('accepted batch not fully written yet; it is completed later', { batchId, error: String(error) });
  }
}

async function recordAndAnnounce(deps: Pick<SubmitDeps, 'messages' | 'events'>, records: MessageRecord[]): Promise<void> {
  if (records.length === 0) return;
  await deps.messages.insertBatch(records);
  await deps.events.statusChanged(records);
}

/** The batch's records as stored, in order; a record not written yet is made from the submission. */
async function acceptedRecords(deps: Pick<SubmitDeps, 'messages'>, submission: Submission): Promise<MessageRecord[]> {
  const made = recordsOf(submission);
  const stored = await deps.messages.getMany(
    submission.batchId,
    made.map((r) => r.messageId),
  );
  return made.map((r) => stored.get(r.messageId) ?? r);
}

/** What is kept of a plan at its point of no return. */
function submissionOf(plan: SubmitPlan, request: SubmitRequest, now: Date): Submission {
  return {
    batchId: plan.batchId,
    acceptedAt: now.toISOString(),
    text: plan.text,
    encoding: plan.encoding,
    segments: plan.segments,
    recipients: plan.recipients.map((r) => ({ to: r.to, from: r.from.number, optedOut: r.optedOut })),
    rejected: plan.rejected,
    ...(request.tag ? { tag: request.tag } : {}),
    ...(request.metadata ? { metadata: request.metadata } : {}),
    deliveryReport: request.deliveryReport,
    ...(plan.scheduledAt ? { scheduledAt: plan.scheduledAt.toISOString() } : {}),
    ...(plan.expiresAt ? { expiresAt: plan.expiresAt.toISOString() } : {}),
  };
}

/** A stored submission as a plan again (senders that left the pool keep their number and the defaults of a toll-free one). */
function planOf(submission: Submission, senders: readonly Sender[]): SubmitPlan {
  return {
    batchId: submission.batchId,
    text: submission.text,
    encoding: submission.encoding,
    segments: submission.segments,
    recipients: submission.recipients.map((r, i) => ({
      to: r.to,
      from: senderOf(senders, r.from),
      messageId: messageIdOf(submission.batchId, i),
      optedOut: r.optedOut,
    })),
    rejected: submission.rejected,
    ...(submission.scheduledAt ? { scheduledAt: new Date(submission.scheduledAt) } : {}),
    ...(submission.expiresAt ? { expiresAt: new Date(submission.expiresAt) } : {}),
  };
}
