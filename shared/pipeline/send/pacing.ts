// The sender number's pace: one ACS request carries at most its burst, and a job waits for its
// slot — inline when the wait is short, back on the queue when it is not.
import type { MessageRecord } from '../../domain/message.js';
import type { Sender } from '../../domain/sender.js';
import type { SendJob } from '../../domain/sendJob.js';
import type { SendDeps } from './deps.js';
import { subJob } from './retry.js';

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

/** Splits off what one ACS request may not carry (the sender's burst) as a job of its own. */
export async function splitToBurst(
  deps: SendDeps,
  job: SendJob,
  sender: Sender,
  candidates: MessageRecord[],
): Promise<MessageRecord[]> {
  const chunkSize = Math.min(100, sender.burst);
  if (candidates.length <= chunkSize) return candidates;
  await deps.queue.enqueue([subJob(job, candidates.slice(chunkSize), { attempt: job.attempt })]);
  return candidates.slice(0, chunkSize);
}

/** When the job's slot is: the one it reserved earlier when it is on time for it, else a new one. */
export async function slotFor(deps: SendDeps, job: SendJob, sender: Sender, count: number): Promise<number> {
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
  return onTime ? reserved : (await deps.rateLimiter.reserve(sender, count)).getTime();
}

/** Puts the job back on the queue for its slot, a little early: queue visibility and polling are coarse. */
export async function deferToSlot(deps: SendDeps, job: SendJob, candidates: MessageRecord[], startAt: number): Promise<string> {
  const until = new Date(startAt).toISOString();
  const notBefore = new Date(startAt - EARLY_WAKE_MS).toISOString();
  await deps.queue.enqueue([subJob(job, candidates, { attempt: job.attempt, reservedAt: until, notBefore })]);
  return until;
}
