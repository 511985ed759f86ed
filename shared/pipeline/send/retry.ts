// Trying again later: recipients ACS did not take go back on the queue as a smaller job, with
// backoff, keeping the repeatability window of a hand-over that may have reached ACS.
import { randomBytes } from 'node:crypto';
import type { MessageRecord } from '../../domain/message.js';
import { withRecipients, type SendJob } from '../../domain/sendJob.js';
import type { GatewayError } from '../../ports/gateway.js';
import type { SendDeps } from './deps.js';
import { updateWithRetry } from './records.js';
import { REPEATABILITY_MARGIN_MS, REPEATABILITY_WINDOW_MS } from './triage.js';

const BASE_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 10 * 60_000;

/** Puts recipients back on the queue with backoff; a certain failure gets a fresh repeatability window. */
export async function retryLater(deps: SendDeps, job: SendJob, records: MessageRecord[], error: GatewayError): Promise<void> {
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

/** The part of `job` that `records` are, as a job of its own. */
export function subJob(
  job: SendJob,
  records: readonly Pick<MessageRecord, 'messageId' | 'to'>[],
  changes: { attempt: number; notBefore?: string; reservedAt?: string; lastError?: string },
): SendJob {
  const { reservedAt: _reserved, notBefore: _notBefore, ...rest } = job;
  // Each recipient keeps what the job gave it (a version 2 job's text, reference and metadata).
  const ids = new Set(records.map((r) => r.messageId));
  return {
    ...withRecipients(rest as SendJob, (id) => ids.has(id)),
    jobId: nextJobId(job),
    attempt: changes.attempt,
    ...(changes.notBefore ? { notBefore: changes.notBefore } : {}),
    ...(changes.reservedAt ? { reservedAt: changes.reservedAt } : {}),
    ...(changes.lastError ? { lastError: changes.lastError } : {}),
  };
}

/** Re-enqueued jobs need a fresh id, or Service Bus duplicate detection would drop them. */
export function nextJobId(job: SendJob): string {
  return `${job.batchId}.${randomBytes(6).toString('hex')}`;
}
