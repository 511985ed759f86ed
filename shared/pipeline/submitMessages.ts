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
import { messageIdOf } from '../domain/ids.js';
import type { MessageRecord } from '../domain/message.js';
import type { Submission } from '../domain/submission.js';
import type { FieldError } from '../domain/validation.js';
import { DependencyUnavailableError, SubmitInterruptedError } from '../ports/errors.js';
import type { StatusEventSink } from '../ports/events.js';
import type { MessageStore } from '../ports/messages.js';
import type { OutboundQueue } from '../ports/queue.js';
import type { Logger } from '../ports/runtime.js';
import type { SubmissionStore } from '../ports/submissions.js';
import { planOf, recordsOf, sendJobs, submissionOf } from './submit/batch.js';
import { planSubmit, type PlanDeps, type SubmitPlan } from './submit/plan.js';
import type { SubmitRequest } from './submit/forms.js';

export type { SubmitRequest, TextRequest, MessagesRequest, TemplateRequest, SubmitOptions } from './submit/forms.js';
export type { PlanDeps, PlanResult, PlannedMessage, RejectedMessage, SubmitPlan } from './submit/plan.js';
export { planSubmit } from './submit/plan.js';
export { recordsOf, sendJobs } from './submit/batch.js';

export interface SubmitDeps extends PlanDeps {
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

export type SubmitResult =
  | { kind: 'accepted'; plan: SubmitPlan; records: MessageRecord[] }
  | { kind: 'invalid'; errors: FieldError[] };

export async function submitMessages(deps: SubmitDeps, request: SubmitRequest, operation: SubmitOperation = {}): Promise<SubmitResult> {
  const planned = await planSubmit(deps, request, operation.batchId);
  if (planned.kind === 'invalid') return planned;
  const submission = submissionOf(planned.plan, request, deps.clock.now());

  if (!operation.resumed && sendJobs(submission, deps.senders).length <= 1) {
    // One job: enqueueing it is the point of no return.
    await beforeNoReturn(submission.batchId, () => deps.queue.enqueue(sendJobs(submission, deps.senders)));
    const records = recordsOf(submission);
    await finishQuietly(deps, submission.batchId, () => recordAndAnnounce(deps, records));
    return { kind: 'accepted', plan: planOf(submission, deps.senders), records };
  }

  // Storing the submission is the point of no return; an earlier attempt's, when there is one, wins.
  const stored = await beforeNoReturn(submission.batchId, () => deps.submissions.create(submission));
  await finishQuietly(deps, stored.batchId, () => completeSubmission(deps, stored, { recovering: Boolean(operation.resumed) }));
  // A resumed batch answers with what its records say: the first attempt may have written them
  // (with its own opt-out verdicts) before this one looked.
  const records = operation.resumed ? await acceptedRecords(deps, stored) : recordsOf(stored);
  return { kind: 'accepted', plan: planOf(stored, deps.senders), records };
}

/**
 * Writes a stored submission's records and send jobs, then forgets it. Safe to repeat and to run
 * twice at once: records are inserted where missing, jobs keep their ids (a second copy of a job
 * sends nothing twice: the sender goes by the records and ACS repeatability), events keep theirs.
 */
export async function completeSubmission(deps: Omit<SubmitDeps, keyof PlanDeps> & Pick<PlanDeps, 'senders'>, submission: Submission, options: { recovering: boolean }): Promise<void> {
  const records = recordsOf(submission);
  if (options.recovering) {
    // Some may be written already: insert only the missing ones (inserting existing ones costs a request each).
    const existing = await deps.messages.getMany(submission.batchId, records.map((r) => r.messageId));
    await recordAndAnnounce(deps, records.filter((r) => !existing.has(r.messageId)));
    // A record written by an earlier attempt keeps its text (a template may have changed since), and its job says the same.
    submission = withStoredTexts(submission, existing);
  } else {
    await recordAndAnnounce(deps, records);
  }
  await deps.queue.enqueue(sendJobs(submission, deps.senders));
  await deps.submissions.remove(submission.batchId);
}

/** The submission with the text of each recipient whose record is stored as that record has it. */
function withStoredTexts(submission: Submission, stored: ReadonlyMap<string, MessageRecord>): Submission {
  const recipients = submission.recipients.map((r, i) => {
    const record = stored.get(messageIdOf(submission.batchId, i));
    const text = r.text ?? submission.text;
    return record && !record.erasedAt && record.body !== '' && record.body !== text
      ? { ...r, text: record.body, encoding: record.encoding, segments: record.segments }
      : r;
  });
  return { ...submission, recipients };
}

/** Runs the write that is the point of no return: a failure there may or may not have taken effect. */
async function beforeNoReturn<T>(batchId: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof DependencyUnavailableError && error.uncertain) throw new SubmitInterruptedError(batchId, error);
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
  const stored = await deps.messages.getMany(submission.batchId, made.map((r) => r.messageId));
  return made.map((r) => stored.get(r.messageId) ?? r);
}
