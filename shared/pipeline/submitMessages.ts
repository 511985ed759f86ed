// Accepting messages: validate recipients and texts, choose senders, drop opted-out recipients,
// and hand the rest to the outbound queue as send jobs of at most 100 recipients each.
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
import { withAppDefaults } from '../domain/apps.js';
import { DEFAULT_APP } from '../domain/caller.js';
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
import type { GeoRefused } from './guard/geoPermissions.js';
import {
  guardSubmit,
  publishQuietly,
  refuseDestinations,
  type BudgetExceeded,
  type SubmitGuardDeps,
} from './guard/submitGuard.js';
import { planOf, recordsOf, sendJobs, submissionOf } from './submit/batch.js';
import { storeLinks } from './submit/links.js';
import { applyFrequencyCaps, type FrequencyCapDeps } from './submit/frequencyCaps.js';
import type { SubmitRequest } from './submit/forms.js';
import { deferPlan, planSubmit, type PlanDeps, type SubmitPlan } from './submit/plan.js';

export type { SubmitRequest, TextRequest, MessagesRequest, TemplateRequest, SubmitOptions } from './submit/forms.js';
export type { PlanDeps, PlanResult, PlannedMessage, RejectedMessage, SubmitPlan } from './submit/plan.js';
export { planSubmit } from './submit/plan.js';
export { recordsOf, sendJobs } from './submit/batch.js';

export interface SubmitDeps extends PlanDeps, SubmitGuardDeps, FrequencyCapDeps {
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
  /** The app the request is attributed to (caller.app): its pool, defaults and budgets apply. */
  app?: string;
}

export type SubmitResult =
  /** `deferredUntil`: a budget is reached and SMS_BUDGET_WHEN_REACHED=queue scheduled the batch for its next period. */
  | { kind: 'accepted'; plan: SubmitPlan; records: MessageRecord[]; deferredUntil?: Date }
  | { kind: 'invalid'; errors: FieldError[] }
  | GeoRefused
  | BudgetExceeded;

export async function submitMessages(
  deps: SubmitDeps,
  request: SubmitRequest,
  operation: SubmitOperation = {},
): Promise<SubmitResult> {
  // The app's defaults (its tag, its category) count as the request's own from here on.
  request = withAppDefaults(request, deps.apps?.get(operation.app ?? DEFAULT_APP));
  const planned = await planSubmit(deps, request, operation.batchId, operation.app);
  if (planned.kind === 'refused') return refuseDestinations(deps, planned, request.tag);
  if (planned.kind === 'invalid') return planned;
  const capped = await applyFrequencyCaps(deps, planned.plan);
  const guarded = await guardSubmit(deps, capped.plan, request.tag, Boolean(operation.resumed));
  if (guarded.kind !== 'go') {
    await undoQuietly(deps, capped.release);
    return guarded;
  }
  // A batch certainly not accepted takes back its budget charge and its frequency-cap counts.
  const refund =
    guarded.refund || capped.release
      ? async () => {
          await guarded.refund?.();
          await undoQuietly(deps, capped.release);
        }
      : undefined;
  const deferred = guarded.deferredUntil ? { deferredUntil: guarded.deferredUntil } : {};
  const plan = guarded.deferredUntil ? deferPlan(capped.plan, guarded.deferredUntil) : capped.plan;
  // Tracked links are stored before the point of no return: a sent short link always leads somewhere.
  await storeLinks(deps, plan.recipients).catch(async (error: unknown) => {
    if (!operation.resumed) await refund?.();
    throw error;
  });
  const submission = submissionOf(plan, request, deps.clock.now());

  if (!operation.resumed && sendJobs(submission, deps.senders).length <= 1) {
    // One job: enqueueing it is the point of no return.
    await beforeNoReturn(submission.batchId, () => deps.queue.enqueue(sendJobs(submission, deps.senders)), refund);
    const records = recordsOf(submission);
    await finishQuietly(deps, submission.batchId, () => recordAndAnnounce(deps, records));
    await publishQuietly(deps, guarded.announce);
    return { kind: 'accepted', plan: planOf(submission, deps.senders), records, ...deferred };
  }

  // Storing the submission is the point of no return; an earlier attempt's, when there is one, wins.
  const stored = await beforeNoReturn(
    submission.batchId,
    () => deps.submissions.create(submission),
    operation.resumed ? undefined : refund,
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

/** Takes back the counts of a batch not accepted; a failure leaves them counted (never under a cap). */
async function undoQuietly(deps: Pick<SubmitDeps, 'log'>, undo: (() => Promise<void>) | undefined): Promise<void> {
  try {
    await undo?.();
  } catch (error) {
    deps.log.warn('frequency-cap counts of a refused batch not taken back; they stay counted', { error: String(error) });
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
