// Processes one send job from the outbound queue: the place where "never lose, never send twice,
// never exceed a number's rate, never text someone who said STOP" is decided.
//
// Exactly-once hand-over rests on three things: (1) each message's ACS repeatability id is
// derived from its message id and its first-sent time is stored BEFORE the first try, so a
// redelivered job repeats both and ACS refuses the duplicate; (2) the record's own status says
// what was already handed over, which outlives ACS's repeatability window; (3) a message whose
// hand-over outcome is uncertain and whose window has passed is never sent again — it waits for
// its delivery report (the batch id travels as the ACS tag) or ends "unknown".
import { randomBytes } from 'node:crypto';
import type { Sender } from '../config.js';
import { EXTERNAL_BATCH_ID_PATTERN, MESSAGE_ID_PATTERN, repeatabilityRequestIdOf } from '../domain/ids.js';
import { moveTo, type MessageRecord } from '../domain/message.js';
import { isFinal, PENDING_STATUSES } from '../domain/messageStatus.js';
import { parseSendJob, type SendJob } from '../domain/sendJob.js';
import {
  ConcurrencyError,
  GatewayError,
  type Clock,
  type ConversationStore,
  type DeadLetterStore,
  type DeliveryTracker,
  type GatewayRecipientResult,
  type Logger,
  type MessageStore,
  type OptOutStore,
  type OutboundQueue,
  type RateLimiter,
  type SmsGateway,
} from '../ports.js';
import { maskPhoneNumber } from '../domain/phoneNumber.js';
import type { StatusEventSink } from './statusEvents.js';
import { outboundEntry, storedOutboundEntry } from './conversations.js';

/** ACS honours a repeatability id for five minutes after its first-sent time; keep a margin. */
export const REPEATABILITY_WINDOW_MS = 5 * 60_000;
const REPEATABILITY_MARGIN_MS = 30_000;
/** A pacing wait up to this long happens inside the invocation; a longer one goes back on the queue. */
export const MAX_INLINE_WAIT_MS = 5_000;
/**
 * A deferred job is made visible this long before its slot. A Storage queue's visibility is in
 * whole seconds (up to 1 s later than asked) and the host polls a quiet queue every 2 s, so the
 * job is seen 1-4 s early and waits the rest inline (under MAX_INLINE_WAIT_MS) — rather than
 * coming back late, losing its slot and queueing again behind everyone else.
 */
const EARLY_WAKE_MS = 4_000;
/** A job later than this for its reserved slot reserves a new one. */
const LATE_SLOT_MS = 1_000;
const BASE_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 10 * 60_000;

export interface SendDeps {
  messages: MessageStore;
  optOuts: OptOutStore;
  queue: OutboundQueue;
  gateway: SmsGateway;
  rateLimiter: RateLimiter;
  deadLetters: DeadLetterStore;
  clock: Clock;
  log: Logger;
  senders: readonly Sender[];
  maxAttempts: number;
  events?: StatusEventSink;
  /** Follows handed-over messages to a final status (reconciliation). */
  tracker?: DeliveryTracker;
  /** Conversations: each message handed over becomes an entry of its thread (one write per job). */
  conversations?: ConversationStore;
  random?: () => number;
}

/** What happened to a job, for logs and tests. */
export type SendOutcome =
  | { kind: 'deadLettered'; reason: string }
  | { kind: 'deferred'; until: string; reason: 'notBefore' | 'pacing' }
  | { kind: 'processed'; sent: number; failed: number; suppressed: number; expired: number; skipped: number; retrying: number; uncertain: number };

/** Handles one queue message; throws only when storage or the queue is unavailable (the trigger then retries). */
export async function processSendJob(deps: SendDeps, body: unknown): Promise<SendOutcome> {
  const parsed = parseSendJob(body);
  if (!parsed.ok) {
    // Never retried: the same body fails the same way every time. The messages it names, when
    // they can be identified, show `failed` with the reason, so whoever enqueued it can see why.
    const reason = `invalid send job: ${parsed.reason}`;
    const named = identifyMessages(body);
    await deps.deadLetters.add({
      reason,
      body: rawText(body),
      ...(named?.jobId ? { jobId: named.jobId } : {}),
      ...(named ? { batchId: named.batchId } : {}),
    });
    if (named) await failInvalidJob(deps, named, reason);
    deps.log.warn('send job dead-lettered: invalid', { reason: parsed.reason, messages: named?.recipients.length ?? 0 });
    return { kind: 'deadLettered', reason: parsed.reason };
  }
  const job = parsed.job;
  const now = deps.clock.now();

  if (job.notBefore && Date.parse(job.notBefore) > now.getTime() + 1000) {
    // Storage queues cap visibility at 7 days; a job scheduled further out comes back early.
    await deps.queue.enqueue([{ ...job, jobId: nextJobId(job) }]);
    return { kind: 'deferred', until: job.notBefore, reason: 'notBefore' };
  }

  const sender = deps.senders.find((s) => s.number === job.from);
  if (!sender) {
    const reason = `from ${job.from} is not one of the configured senders`;
    await failAll(deps, job, 'sender-not-configured', reason);
    await deps.deadLetters.add({ reason, body: JSON.stringify(job), jobId: job.jobId, batchId: job.batchId });
    return { kind: 'deadLettered', reason };
  }

  for (let round = 1; ; round++) {
    try {
      return await processOnce(deps, job, sender);
    } catch (error) {
      // Someone else (a delivery report, a cancel, a second copy of this job) changed a record
      // between our read and our write; read again and decide again.
      if (!(error instanceof ConcurrencyError) || round >= 5) throw error;
    }
  }
}

async function processOnce(deps: SendDeps, job: SendJob, sender: Sender): Promise<SendOutcome> {
  const now = deps.clock.now();
  const ids = job.recipients.map((r) => r.messageId);
  const stored = await deps.messages.getMany(job.batchId, ids);
  const records = job.recipients.map((r) => stored.get(r.messageId) ?? recordFromJob(job, r, now));
  // How much of each history is already stored: what lies beyond is new and gets its events.
  const loaded = new Map(records.map((r) => [r.messageId, r.etag ? r.history.length : 0]));

  const changed = new Set<MessageRecord>();
  const fresh: MessageRecord[] = [];
  const retries: MessageRecord[] = [];
  let skipped = 0;
  let uncertain = 0;
  let expired = 0;

  const done: MessageRecord[] = [];
  for (const record of records) {
    if (!record.etag) changed.add(record); // created from a job enqueued directly by another app
    if (isFinal(record.status) || record.status === 'sent' || record.status === 'unknown') {
      skipped++;
      done.push(record);
      continue;
    }
    if (record.status === 'sending' && record.repeatabilityFirstSent) {
      const age = now.getTime() - Date.parse(record.repeatabilityFirstSent);
      if (age < REPEATABILITY_WINDOW_MS - REPEATABILITY_MARGIN_MS) {
        retries.push(record);
      } else {
        // ACS may have sent it and would no longer recognise the id: sending again could text
        // the person twice. Its delivery report (tagged with the batch id) or the reconciler decides.
        uncertain++;
        deps.log.warn('hand-over outcome uncertain and outside the repeatability window; not sent again', {
          messageId: record.messageId,
        });
      }
      continue;
    }
    const expiresAt = record.expiresAt ?? job.expiresAt;
    if (expiresAt && Date.parse(expiresAt) <= now.getTime()) {
      if (moveTo(record, 'expired', now, { reason: 'not handed to ACS before its validity ended' })) {
        changed.add(record);
        expired++;
      }
      continue;
    }
    fresh.push(record);
  }

  // A redelivered job: its changes are stored, but their events and thread entries may not have
  // been written (the invocation failed after the save). Writing again is harmless: same event
  // ids, same entries (keyed by the stored hand-over time).
  if (done.length > 0) {
    const entries = done.map(storedOutboundEntry).filter((e) => e !== undefined);
    await Promise.all([deps.events?.statusChanged(done), entries.length > 0 ? deps.conversations?.recordOutbound(entries) : undefined]);
  }

  // The opt-out check comes later, immediately before the hand-over: after any pacing wait, so a
  // STOP recorded while the job waited for its slot still wins.
  let suppressed = 0;

  let candidates = [...retries, ...fresh];
  if (candidates.length === 0) {
    await saveChanged(deps, loaded, changed);
    return { kind: 'processed', sent: 0, failed: 0, suppressed, expired, skipped, retrying: 0, uncertain };
  }

  // Out of attempts: give up loudly rather than retry for ever.
  if (job.attempt > deps.maxAttempts) {
    const reason = `gave up after ${deps.maxAttempts} attempts${job.lastError ? `: ${job.lastError}` : ''}`;
    for (const record of candidates) {
      if (moveTo(record, 'failed', now, { reason, code: 'max-attempts' })) {
        record.error = { code: 'max-attempts', message: reason };
        changed.add(record);
      }
    }
    await saveChanged(deps, loaded, changed);
    await deps.deadLetters.add({ reason, body: JSON.stringify(job), jobId: job.jobId, batchId: job.batchId });
    deps.log.warn('send job dead-lettered after max attempts', { jobId: job.jobId, recipients: candidates.length });
    return { kind: 'processed', sent: 0, failed: candidates.length, suppressed, expired, skipped, retrying: 0, uncertain };
  }

  // One ACS request carries at most the sender's burst: a larger job is split and the rest goes
  // straight back on the queue, where it waits for its own pacing slot.
  const chunkSize = Math.min(100, sender.burst);
  if (candidates.length > chunkSize) {
    const rest = candidates.slice(chunkSize);
    candidates = candidates.slice(0, chunkSize);
    await deps.queue.enqueue([subJob(job, rest, { attempt: job.attempt })]);
  }

  // A job that comes back late for its reserved slot reserves again: sending it late could put
  // it on top of the slots reserved after it, and the rate would no longer hold.
  const reserved = job.reservedAt ? Date.parse(job.reservedAt) : undefined;
  const onTime = reserved !== undefined && reserved >= deps.clock.now().getTime() - LATE_SLOT_MS;
  if (reserved !== undefined && !onTime) {
    deps.log.info('send job came back too late for its pacing slot; reserving a new one', {
      jobId: job.jobId,
      lateMs: deps.clock.now().getTime() - reserved,
    });
  }
  const startAt = onTime ? reserved : (await deps.rateLimiter.reserve(sender, candidates.length)).getTime();
  const wait = startAt - deps.clock.now().getTime();
  if (wait > MAX_INLINE_WAIT_MS) {
    await saveChanged(deps, loaded, changed);
    const until = new Date(startAt).toISOString();
    // Wake a little early: queue visibility and polling are coarse; the rest is waited inline.
    const notBefore = new Date(startAt - EARLY_WAKE_MS).toISOString();
    await deps.queue.enqueue([subJob(job, candidates, { attempt: job.attempt, reservedAt: until, notBefore })]);
    return { kind: 'deferred', until, reason: 'pacing' };
  }

  if (wait > 0) await deps.clock.sleep(wait);

  // The authoritative checks, immediately before the hand-over: a STOP recorded while this job
  // waited for its slot (inline or on the queue) wins, and so does a validity that ended meanwhile.
  const beforeHandover = deps.clock.now();
  const last = await lastLook(deps, job, sender, candidates, changed, beforeHandover);
  suppressed += last.suppressed;
  expired += last.expired;
  uncertain += last.uncertain;
  candidates = last.candidates;
  if (candidates.length === 0) {
    await saveChanged(deps, loaded, changed);
    return { kind: 'processed', sent: 0, failed: 0, suppressed, expired, skipped, retrying: 0, uncertain };
  }

  // Record the hand-over before it happens: the first-sent time is what makes a retry a repeat.
  const handoverAt = deps.clock.now();
  for (const record of candidates) {
    if (record.status !== 'sending') {
      moveTo(record, 'sending', handoverAt);
    }
    record.repeatabilityFirstSent ??= handoverAt.toUTCString();
    record.attempts += 1;
    changed.add(record);
  }
  await saveChanged(deps, loaded, changed);
  changed.clear();
  await deps.tracker?.track(candidates.map((r) => r.messageId), handoverAt);

  let results: GatewayRecipientResult[];
  try {
    results = await deps.gateway.send({
      from: job.from,
      message: job.message,
      deliveryReport: job.deliveryReport,
      tag: job.batchId,
      recipients: candidates.map((r) => ({
        to: r.to,
        messageId: r.messageId,
        repeatabilityRequestId: repeatabilityRequestIdOf(r.messageId),
        repeatabilityFirstSent: r.repeatabilityFirstSent!,
      })),
    });
  } catch (error) {
    const gatewayError = error instanceof GatewayError ? error : new GatewayError(String(error), { transient: true, uncertain: true });
    const status = gatewayError.details.status;
    // A refused request (400 and the like) fails the same way every time. Authentication and
    // authorisation failures are configuration problems that get fixed, so those are retried
    // and, when attempts run out, dead-lettered for replay.
    if (!gatewayError.details.transient && status !== undefined && status !== 401 && status !== 403) {
      const after = deps.clock.now();
      const code = `acs-${status}`;
      await updateWithRetry(deps, job.batchId, candidates, (record, fromStore) => {
        const target = fromStore ?? record;
        if (moveTo(target, 'failed', after, { reason: gatewayError.message, code })) target.error = { code, message: gatewayError.message };
        return target;
      });
      deps.log.warn('ACS refused the request', { jobId: job.jobId, status });
      return { kind: 'processed', sent: 0, failed: candidates.length, suppressed, expired, skipped, retrying: 0, uncertain };
    }
    await retryLater(deps, job, candidates, gatewayError);
    deps.log.warn('ACS request failed; will retry', {
      jobId: job.jobId,
      status: gatewayError.details.status,
      uncertain: gatewayError.details.uncertain,
      attempt: job.attempt,
    });
    return { kind: 'processed', sent: 0, failed: 0, suppressed, expired, skipped, retrying: candidates.length, uncertain };
  }

  const byTo = new Map(results.map((r) => [r.to, r]));
  const after = deps.clock.now();
  const accepted: MessageRecord[] = [];
  const failed: MessageRecord[] = [];
  const transient: MessageRecord[] = [];
  const unanswered: MessageRecord[] = [];
  for (const record of candidates) {
    const result = byTo.get(record.to);
    if (result?.outcome === 'rejected' && result.outsideRepeatabilityWindow) {
      // Left "sending": its report (found by the batch tag) or the reconciler settles it.
      uncertain++;
      deps.log.warn('ACS no longer knows the repeatability id; not sent again', { messageId: record.messageId });
      continue;
    }
    if (!result) {
      // ACS answered without this recipient: outcome unknown, treat like an uncertain failure.
      unanswered.push(record);
    } else if (result.outcome === 'accepted') {
      if (result.acsMessageId) record.acsMessageId = result.acsMessageId;
      accepted.push(record);
    } else if (result.transient) {
      transient.push(record);
    } else {
      record.error = { code: result.code, message: result.message };
      failed.push(record);
    }
  }

  await updateWithRetry(deps, job.batchId, [...accepted, ...failed], (record, fromStore) => {
    const target = fromStore ?? record;
    if (record.acsMessageId) target.acsMessageId = record.acsMessageId;
    if (accepted.includes(record)) {
      moveTo(target, 'sent', after, record.acsMessageId ? {} : { reason: 'accepted by ACS on an earlier try' });
    } else {
      target.error = record.error;
      moveTo(target, 'failed', after, { reason: record.error!.message, code: record.error!.code });
    }
    return target;
  });

  // The ACS id index and the conversation entries: one transaction each, side by side, so the
  // thread costs one storage request per job and no extra latency.
  const indexed = accepted.filter((r) => r.acsMessageId).map((r) => ({ acsMessageId: r.acsMessageId!, messageId: r.messageId }));
  const sentAt = after.toISOString();
  await Promise.all([
    indexed.length > 0 ? deps.messages.indexAcsMessageIds(indexed) : undefined,
    accepted.length > 0 ? deps.conversations?.recordOutbound(accepted.map((r) => outboundEntry(r, r.history.findLast((h) => h.status === 'sent')?.at ?? sentAt))) : undefined,
  ]);

  if (transient.length > 0) {
    await retryLater(deps, job, transient, new GatewayError('ACS refused some recipients for now', { transient: true, uncertain: false }));
  }
  if (unanswered.length > 0) {
    await retryLater(deps, job, unanswered, new GatewayError('ACS answered without some recipients', { transient: true, uncertain: true }));
  }
  if (failed.length > 0) {
    deps.log.warn('ACS refused recipients permanently', {
      jobId: job.jobId,
      recipients: failed.map((r) => ({ messageId: r.messageId, to: maskPhoneNumber(r.to), code: r.error?.code })),
    });
  }
  return {
    kind: 'processed',
    sent: accepted.length,
    failed: failed.length,
    suppressed,
    expired,
    skipped,
    retrying: transient.length + unanswered.length,
    uncertain,
  };
}

/**
 * The last look before the hand-over. A message never handed over whose recipient has opted out
 * becomes `suppressed`, one past its validity `expired`. A retry of an uncertain hand-over to a
 * recipient who opted out meanwhile is not sent again either; since the earlier try may have
 * reached ACS, it is left `sending` for its delivery report or the reconciler to settle.
 */
async function lastLook(
  deps: SendDeps,
  job: SendJob,
  sender: Sender,
  candidates: MessageRecord[],
  changed: Set<MessageRecord>,
  now: Date,
): Promise<{ candidates: MessageRecord[]; suppressed: number; expired: number; uncertain: number }> {
  const isRetry = (r: MessageRecord) => r.status === 'sending' && r.repeatabilityFirstSent !== undefined;
  let expired = 0;
  const live = candidates.filter((record) => {
    const expiresAt = record.expiresAt ?? job.expiresAt;
    if (isRetry(record) || !expiresAt || Date.parse(expiresAt) > now.getTime()) return true;
    if (moveTo(record, 'expired', now, { reason: 'not handed to ACS before its validity ended' })) {
      changed.add(record);
      expired++;
    }
    return false;
  });
  if (live.length === 0 || job.kind === 'optOutConfirmation') return { candidates: live, suppressed: 0, expired, uncertain: 0 };

  const optedOut = await deps.optOuts.optedOut(sender.number, live.map((r) => r.to));
  let suppressed = 0;
  let uncertain = 0;
  const kept = live.filter((record) => {
    if (!optedOut.has(record.to)) return true;
    if (isRetry(record)) {
      deps.log.warn('recipient opted out after an uncertain hand-over; not sent again', { messageId: record.messageId });
      uncertain++;
    } else if (moveTo(record, 'suppressed', now, { reason: 'recipient opted out of this sender' })) {
      changed.add(record);
      suppressed++;
    }
    return false;
  });
  return { candidates: kept, suppressed, expired, uncertain };
}

/** What an invalid job still says about the messages it carries. */
interface NamedMessages {
  jobId?: string;
  batchId: string;
  from: string;
  recipients: Array<{ messageId: string; to: string }>;
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
  for (let round = 1; ; round++) {
    const now = deps.clock.now();
    const at = now.toISOString();
    const stored = await deps.messages.getMany(named.batchId, named.recipients.map((r) => r.messageId));
    const changed: MessageRecord[] = [];
    for (const r of named.recipients) {
      const record: MessageRecord = stored.get(r.messageId) ?? {
        messageId: r.messageId,
        batchId: named.batchId,
        from: named.from,
        to: r.to,
        body: '',
        encoding: 'GSM-7',
        segments: 0,
        deliveryReport: false,
        status: 'queued',
        history: [{ status: 'queued', at, reason: 'enqueued directly on the outbound queue' }],
        createdAt: at,
        updatedAt: at,
        attempts: 0,
      };
      // A message already handed over (an earlier, valid copy of the job) keeps its status.
      if (PENDING_STATUSES.has(record.status) && moveTo(record, 'failed', now, { reason: message, code })) {
        record.error = { code, message };
        changed.push(record);
      }
    }
    try {
      if (changed.length > 0) {
        await deps.messages.saveAll(changed);
        await deps.events?.statusChanged(changed);
      }
      return;
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || round >= 5) throw error;
    }
  }
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

/** Puts recipients back on the queue with backoff; a certain failure gets a fresh repeatability window. */
async function retryLater(deps: SendDeps, job: SendJob, records: MessageRecord[], error: GatewayError): Promise<void> {
  const now = deps.clock.now().getTime();
  const random = deps.random ?? Math.random;
  let delay = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (job.attempt - 1));
  delay = delay / 2 + random() * (delay / 2); // jitter: spread retries of many jobs apart
  if (error.details.retryAfterMs !== undefined) delay = Math.max(delay, error.details.retryAfterMs);
  if (error.details.uncertain) {
    // The retry must repeat the request inside ACS's window, or it could no longer be deduplicated.
    const firstSent = Math.min(...records.map((r) => Date.parse(r.repeatabilityFirstSent ?? new Date(now).toUTCString())));
    const windowLeft = firstSent + REPEATABILITY_WINDOW_MS - REPEATABILITY_MARGIN_MS - now - 5_000;
    delay = Math.max(0, Math.min(delay, windowLeft));
    // Remember that ACS may have it, so a later certain failure keeps this window.
    const unmarked = records.filter((r) => !r.handoverUncertain);
    await updateWithRetry(deps, job.batchId, unmarked, (record, fromStore) => {
      const target = fromStore ?? record;
      if (target.status === 'sending') target.handoverUncertain = true;
      return target;
    });
  } else {
    // ACS certainly did not take these on this try: the next may open a new window — unless an
    // earlier try under the current window may have reached ACS.
    const reopen = records.filter((r) => !r.handoverUncertain);
    await updateWithRetry(deps, job.batchId, reopen, (record, fromStore) => {
      const target = fromStore ?? record;
      if (target.status === 'sending' && !target.handoverUncertain) delete target.repeatabilityFirstSent;
      return target;
    });
  }
  const lastError = `${error.message}${error.details.status ? ` (HTTP ${error.details.status})` : ''}`;
  await deps.queue.enqueue([
    subJob(job, records, { attempt: job.attempt + 1, notBefore: new Date(now + delay).toISOString(), lastError }),
  ]);
}

function subJob(
  job: SendJob,
  records: readonly MessageRecord[],
  changes: { attempt: number; notBefore?: string; reservedAt?: string; lastError?: string },
): SendJob {
  const { reservedAt: _reserved, notBefore: _notBefore, ...rest } = job;
  return {
    ...rest,
    jobId: nextJobId(job),
    recipients: records.map((r) => ({ messageId: r.messageId, to: r.to })),
    attempt: changes.attempt,
    ...(changes.notBefore ? { notBefore: changes.notBefore } : {}),
    ...(changes.reservedAt ? { reservedAt: changes.reservedAt } : {}),
    ...(changes.lastError ? { lastError: changes.lastError } : {}),
  };
}

/** Re-enqueued jobs need a fresh id, or Service Bus duplicate detection would drop them. */
function nextJobId(job: SendJob): string {
  return `${job.batchId}.${randomBytes(6).toString('hex')}`;
}

/**
 * Saves the records and announces the changes they gained since they were read: every change of
 * a record this write creates (a job enqueued directly by another app, queued and sent at once),
 * none for a record saved only for its bookkeeping (a retry's attempt count).
 */
async function saveChanged(deps: SendDeps, loaded: ReadonlyMap<string, number>, changed: Set<MessageRecord>): Promise<void> {
  if (changed.size === 0) return;
  const records = [...changed];
  await deps.messages.saveAll(records);
  await deps.events?.statusChanged(records, { since: loaded });
}

/**
 * Applies `mutate` to records and saves them; when a record changed meanwhile (a delivery report
 * overtook the sender), reads it again and re-applies to the stored version.
 */
async function updateWithRetry(
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
  let applied = records.map((r) => apply(r));
  for (let round = 1; ; round++) {
    try {
      await deps.messages.saveAll(applied.map((a) => a.target));
      await deps.events?.statusChanged(applied.filter((a) => a.moved).map((a) => a.target));
      return;
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || round >= 5) throw error;
      const fresh = await deps.messages.getMany(batchId, records.map((r) => r.messageId));
      applied = records.map((r) => apply(r, fresh.get(r.messageId)));
    }
  }
}

async function failAll(deps: SendDeps, job: SendJob, code: string, reason: string): Promise<void> {
  const now = deps.clock.now();
  const stored = await deps.messages.getMany(job.batchId, job.recipients.map((r) => r.messageId));
  const records = job.recipients.map((r) => stored.get(r.messageId) ?? recordFromJob(job, r, now));
  const loaded = new Map(records.map((r) => [r.messageId, r.etag ? r.history.length : 0]));
  const changed = records.filter((r) => {
    const moved = moveTo(r, 'failed', now, { reason, code });
    if (moved) r.error = { code, message: reason };
    return moved || !r.etag;
  });
  if (changed.length > 0) {
    await deps.messages.saveAll(changed);
    await deps.events?.statusChanged(changed, { since: loaded });
  }
}

/** A record for a job another app enqueued directly, without going through the HTTP API. */
function recordFromJob(job: SendJob, recipient: SendJob['recipients'][number], now: Date): MessageRecord {
  const at = now.toISOString();
  return {
    messageId: recipient.messageId,
    batchId: job.batchId,
    from: job.from,
    to: recipient.to,
    body: job.message,
    encoding: /^[\x20-\x7e\n\r]*$/.test(job.message) ? 'GSM-7' : 'UCS-2',
    segments: 0,
    ...(job.tag ? { tag: job.tag } : {}),
    ...(job.metadata ? { metadata: job.metadata } : {}),
    deliveryReport: job.deliveryReport,
    status: 'queued',
    history: [{ status: 'queued', at, reason: 'enqueued directly on the outbound queue' }],
    createdAt: at,
    updatedAt: at,
    ...(job.expiresAt ? { expiresAt: job.expiresAt } : {}),
    attempts: 0,
  };
}
