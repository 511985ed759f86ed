// The hand-over: recorded before it happens (the first-sent time is what makes a retry a repeat),
// then one ACS request per distinct text of the job, then ACS's verdict per recipient recorded.
import { outboundEntry } from '../../domain/conversation.js';
import { repeatabilityRequestIdOf } from '../../domain/ids.js';
import { moveTo, type MessageRecord } from '../../domain/message.js';
import { maskPhoneNumber } from '../../domain/phoneNumber.js';
import { jobRecipients, type SendJob } from '../../domain/sendJob.js';
import { groupBy } from '../../lib/collections.js';
import { forEachLimited } from '../../lib/concurrency.js';
import { GatewayError, type GatewayRecipientResult } from '../../ports/gateway.js';
import type { SendDeps, Tally } from './deps.js';
import { updateWithRetry } from './records.js';
import { retryLater } from './retry.js';
import { decideUncertain } from './uncertain.js';

/**
 * Records the hand-over before it happens: first in flight (the recovery timer finds it should
 * this process stop), then each message `sending` with its first-sent time — what makes any later
 * try a repeat that ACS recognises. Saved in one write with the job's other changes, which are
 * announced now; the hand-over itself is announced after the last look (announceHandOver), since
 * the last look may still take it back.
 */
export async function recordHandOver(
  deps: SendDeps,
  candidates: MessageRecord[],
  changed: Set<MessageRecord>,
  announced: Map<string, number>,
  handoverAt: Date,
): Promise<void> {
  await deps.tracker.track(
    candidates.map((r) => r.messageId),
    handoverAt,
  );
  const others = [...changed].filter((r) => !candidates.includes(r));
  for (const record of candidates) {
    if (record.status !== 'sending') moveTo(record, 'sending', handoverAt);
    record.repeatabilityFirstSent ??= handoverAt.toUTCString();
    record.attempts += 1;
    changed.add(record);
  }
  await deps.messages.saveAll([...changed]);
  changed.clear();
  if (others.length > 0) {
    await deps.events.statusChanged(others, { since: announced });
    for (const r of others) announced.set(r.messageId, r.history.length);
  }
}

/**
 * After the last look: saves what it changed (nothing, mostly) and announces the hand-over's
 * changes — `sending` for those that go to ACS, the taken-back ones as suppressed or expired.
 * `reannounce`: retries whose `sending` may never have been announced (the job was redelivered
 * after its invocation stopped); announced again, under the same event id.
 */
export async function announceHandOver(
  deps: SendDeps,
  candidates: MessageRecord[],
  reannounce: readonly MessageRecord[],
  changed: Set<MessageRecord>,
  announced: Map<string, number>,
): Promise<void> {
  if (changed.size > 0) await deps.messages.saveAll([...changed]);
  changed.clear();
  for (const r of reannounce) {
    const sending = r.history.findLastIndex((h) => h.status === 'sending');
    if (sending >= 0) announced.set(r.messageId, Math.min(announced.get(r.messageId) ?? sending, sending));
  }
  await deps.events.statusChanged(candidates, { since: announced });
  for (const r of candidates) announced.set(r.messageId, r.history.length);
}

/**
 * How many ACS requests of one job may be in flight at once. A job is paced as a whole (its slot
 * covers all its recipients), so its requests — one per distinct text — may go together.
 */
export const PARALLEL_REQUESTS = 16;

/**
 * Asks ACS to send — one request per distinct text, recipients with the same text together — and
 * records what it said for each recipient: the answers of all requests in one write.
 */
export async function handOver(deps: SendDeps, job: SendJob, candidates: MessageRecord[], tally: Tally): Promise<void> {
  const texts = new Map(jobRecipients(job).map((r) => [r.messageId, r.text]));
  const requests = [...groupBy(candidates, (r) => texts.get(r.messageId) ?? r.body)];
  const answered: Array<{ records: MessageRecord[]; results: GatewayRecipientResult[] }> = [];
  const failed: Array<{ records: MessageRecord[]; error: GatewayError }> = [];
  await forEachLimited(requests, PARALLEL_REQUESTS, async ([message, records]) => {
    try {
      const results = await deps.gateway.send({
        from: job.from,
        message,
        deliveryReport: job.deliveryReport,
        // ACS echoes the tag in the delivery report: a request to one recipient (every request of
        // a personalised batch) carries that message's id, so the report finds its record by one
        // point read instead of searching the batch for the recipient.
        tag: records.length === 1 ? records[0]!.messageId : job.batchId,
        recipients: records.map((r) => ({
          to: r.to,
          messageId: r.messageId,
          repeatabilityRequestId: repeatabilityRequestIdOf(r.messageId),
          repeatabilityFirstSent: r.repeatabilityFirstSent!,
        })),
      });
      answered.push({ records, results });
    } catch (error) {
      failed.push({
        records,
        error: error instanceof GatewayError ? error : new GatewayError(String(error), { transient: true, uncertain: true }),
      });
    }
  });
  if (answered.length > 0) {
    await recordVerdicts(
      deps,
      job,
      answered.flatMap((a) => a.records),
      answered.flatMap((a) => a.results),
      tally,
    );
  }
  // Requests that failed alike are decided together: one retry job per kind of failure, not per text.
  for (const same of groupBy(failed, (f) => failureKind(f.error)).values()) {
    const retryAfterMs = Math.max(-1, ...same.map((f) => f.error.details.retryAfterMs ?? -1));
    const first = same[0]!.error;
    const error = retryAfterMs >= 0 ? new GatewayError(first.message, { ...first.details, retryAfterMs }) : first;
    await requestFailed(
      deps,
      job,
      same.flatMap((f) => f.records),
      error,
      tally,
    );
  }
}

/** Failures that requestFailed treats the same: a refusal by its status; anything else by whether ACS may have it. */
function failureKind(error: GatewayError): string {
  const { transient, uncertain, status } = error.details;
  const refused = !transient && status !== undefined && status !== 401 && status !== 403;
  return refused ? `refused:${status}` : `retry:${uncertain}`;
}

/** The whole request failed: a refusal fails the messages, anything else is tried again later. */
async function requestFailed(
  deps: SendDeps,
  job: SendJob,
  candidates: MessageRecord[],
  gatewayError: GatewayError,
  tally: Tally,
): Promise<void> {
  const status = gatewayError.details.status;
  // A refused request (400 and the like) fails the same way every time. Authentication and
  // authorisation failures are configuration problems that get fixed, so those are retried
  // and, when attempts run out, dead-lettered for replay.
  if (!gatewayError.details.transient && status !== undefined && status !== 401 && status !== 403) {
    const after = deps.clock.now();
    const code = `acs-${status}`;
    await updateWithRetry(deps, job.batchId, candidates, (record, fromStore) => {
      const target = fromStore ?? record;
      if (moveTo(target, 'failed', after, { reason: gatewayError.message, code }))
        target.error = { code, message: gatewayError.message };
      return target;
    });
    deps.log.warn('ACS refused the request', { jobId: job.jobId, status });
    tally.failed += candidates.length;
    return;
  }
  await retryLater(deps, job, candidates, gatewayError);
  deps.log.warn('ACS request failed; will retry', {
    jobId: job.jobId,
    status: gatewayError.details.status,
    uncertain: gatewayError.details.uncertain,
    attempt: job.attempt,
  });
  tally.retrying += candidates.length;
}

/** ACS answered: accepted ones are `sent`, refused ones `failed`, the rest tried again. */
async function recordVerdicts(
  deps: SendDeps,
  job: SendJob,
  candidates: MessageRecord[],
  results: GatewayRecipientResult[],
  tally: Tally,
): Promise<void> {
  const byTo = new Map(results.map((r) => [r.to, r]));
  const after = deps.clock.now();
  const accepted: MessageRecord[] = [];
  const failed: MessageRecord[] = [];
  const transient: MessageRecord[] = [];
  const unanswered: MessageRecord[] = [];
  const outsideWindow: MessageRecord[] = [];
  for (const record of candidates) {
    const result = byTo.get(record.to);
    if (result?.outcome === 'rejected' && result.outsideRepeatabilityWindow) {
      // ACS no longer knows whether it sent it: decided now, by the policy.
      tally.uncertain++;
      outsideWindow.push(record);
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

  // The ACS id index and the conversation entries: one transaction each, side by side, so the
  // thread costs one storage request per job and no extra latency. The index is written before the
  // records say `sent`: a report that comes as soon as they do (untagged, its id decorated unlike
  // the send's) finds its message through it instead of being parked.
  const indexed = accepted.filter((r) => r.acsMessageId).map((r) => ({ acsMessageId: r.acsMessageId!, messageId: r.messageId }));
  const sentAt = after.toISOString();
  await Promise.all([
    indexed.length > 0 ? deps.messages.indexAcsMessageIds(indexed) : undefined,
    accepted.length > 0 ? deps.conversations.recordOutbound(accepted.map((r) => outboundEntry(r, sentAt))) : undefined,
  ]);

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

  const sendAgain = new Map<string, MessageRecord>();
  await updateWithRetry(deps, job.batchId, outsideWindow, (record, fromStore) => {
    const target = fromStore ?? record;
    if (
      target.status === 'sending' &&
      decideUncertain(
        target,
        after,
        deps.uncertainPolicy,
        'ACS no longer recognises the repeatability id of an earlier hand-over',
      )
    ) {
      sendAgain.set(target.messageId, target);
    }
    return target;
  });
  if (sendAgain.size > 0) {
    await retryLater(
      deps,
      job,
      [...sendAgain.values()],
      new GatewayError('sent again under a new repeatability id (SEND_UNCERTAIN_POLICY=atLeastOnce)', {
        transient: true,
        uncertain: false,
      }),
    );
  }
  if (transient.length > 0) {
    await retryLater(
      deps,
      job,
      transient,
      new GatewayError('ACS refused some recipients for now', { transient: true, uncertain: false }),
    );
  }
  if (unanswered.length > 0) {
    await retryLater(
      deps,
      job,
      unanswered,
      new GatewayError('ACS answered without some recipients', { transient: true, uncertain: true }),
    );
  }
  if (failed.length > 0) {
    deps.log.warn('ACS refused recipients permanently', {
      jobId: job.jobId,
      recipients: failed.map((r) => ({ messageId: r.messageId, to: maskPhoneNumber(r.to), code: r.error?.code })),
    });
  }
  tally.sent += accepted.length;
  tally.failed += failed.length;
  tally.retrying += transient.length + unanswered.length;
}
