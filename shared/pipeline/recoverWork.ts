// The recovery timer: finishes work whose process stopped half way — a host killed, an instance
// recycled, storage that failed mid-request — without waiting for a queue's redelivery, which on
// the Storage queue transport comes only after the host's 10-minute message lease.
//
// 1. Submissions stored at their point of no return but never finished: their records and jobs
//    are written (pipeline/submitMessages.ts completeSubmission), so a request that died leaves a
//    complete batch, never a partial one.
// 2. Hand-overs still in flight: their process stopped between recording the hand-over and
//    recording ACS's answer (or sending a paused or held job back to wait). Inside ACS's
//    repeatability window they are sent again under the same repeatability id — ACS sends each
//    once whether or not the first request reached it. Past the window the uncertain policy
//    decides (send/uncertain.ts). Either way nothing stays "sending".
//
// Everything here is safe to run while the original process is merely slow: a repeat under the
// same repeatability id is one text, and records only move forward.
import { randomBytes } from 'node:crypto';
import { parseMessageId } from '../domain/ids.js';
import type { MessageRecord } from '../domain/message.js';
import { buildSendJob, jobChunks, type SendJob } from '../domain/sendJob.js';
import { groupBy } from '../lib/collections.js';
import type { SubmissionStore } from '../ports/submissions.js';
import { REPLY_TAG } from './replies.js';
import type { SendDeps } from './send/deps.js';
import { updateWithRetry } from './send/records.js';
import { insideWindow, REPEATABILITY_WINDOW_MS } from './send/triage.js';
import { decideUncertain } from './send/uncertain.js';
import { completeSubmission } from './submitMessages.js';

export interface RecoveryDeps extends SendDeps {
  submissions: SubmissionStore;
  /** Work untouched for this long has lost its process (well above a normal submit or hand-over). */
  staleAfterMs: number;
}

export interface RecoverySummary {
  submissionsCompleted: number;
  handOversResumed: number;
  handOversDecided: number;
}

/** Most submissions and hand-overs looked at per run; the rest wait for the next. */
const PER_RUN = 500;

export async function recoverWork(deps: RecoveryDeps): Promise<RecoverySummary> {
  const summary: RecoverySummary = { submissionsCompleted: 0, handOversResumed: 0, handOversDecided: 0 };
  const now = deps.clock.now();
  const staleBefore = new Date(now.getTime() - deps.staleAfterMs);

  for (const submission of await deps.submissions.unfinished(staleBefore, PER_RUN)) {
    await completeSubmission(deps, submission, { recovering: true });
    summary.submissionsCompleted++;
  }

  // Hand-overs older than twice the window are the queue's and the reconciler's to finish.
  const stuck = await deps.tracker.inFlight(new Date(now.getTime() - 2 * REPEATABILITY_WINDOW_MS), staleBefore, PER_RUN);
  for (const [batchId, tracked] of groupBy(stuck, (t) => parseMessageId(t.messageId)?.batchId ?? '')) {
    if (batchId === '') continue;
    const records = await deps.messages.getMany(
      batchId,
      tracked.map((t) => t.messageId),
    );
    const resume: MessageRecord[] = [];
    const decide: MessageRecord[] = [];
    for (const record of records.values()) {
      if (record.status === 'queued' || record.status === 'scheduled' || record.status === 'held') resume.push(record);
      else if (record.status === 'sending' && record.repeatabilityFirstSent && insideWindow(record, now)) resume.push(record);
      else if (record.status === 'sending') decide.push(record);
    }
    const again: MessageRecord[] = [];
    await updateWithRetry(deps, batchId, decide, (record, fromStore) => {
      const target = fromStore ?? record;
      if (
        target.status === 'sending' &&
        decideUncertain(
          target,
          now,
          deps.uncertainPolicy,
          'the hand-over was interrupted and ACS can no longer tell a repeat from a new message',
        )
      ) {
        again.push(target);
      }
      return target;
    });
    const jobs = redriveJobs([...resume, ...new Map(again.map((r) => [r.messageId, r])).values()], now);
    if (jobs.length > 0) await deps.queue.enqueue(jobs);
    // Their "sending" may never have been announced: the process stopped first (same event id if it was).
    const sending = resume.filter((r) => r.status === 'sending');
    if (sending.length > 0) await deps.events.statusChanged(sending);
    // Sent on their way again (or decided): no longer this run's to find. The jobs track them anew.
    for (const [sentAt, group] of groupBy(tracked, (t) => t.sentAt))
      await deps.tracker.settle(
        group.map((t) => t.messageId),
        new Date(sentAt),
      );
    summary.handOversResumed += resume.length + again.length;
    summary.handOversDecided += decide.length;
    if (resume.length + decide.length > 0) {
      deps.log.warn('interrupted hand-overs recovered', {
        batchId,
        resumed: resume.length,
        decided: decide.length,
        policy: deps.uncertainPolicy,
      });
    }
  }
  return summary;
}

/**
 * Send jobs for records whose hand-over must go on: one per sender, options and template, of at
 * most 100, each recipient with its own text (recipients with the same text share an ACS request).
 * The sender paces them, looks at opt-outs again, and repeats a recorded hand-over under its
 * first-sent time.
 */
export function redriveJobs(records: readonly MessageRecord[], now: Date): SendJob[] {
  const shape = (r: MessageRecord) =>
    JSON.stringify([
      r.from,
      r.tag,
      r.deliveryReport,
      r.expiresAt,
      r.scheduledAt,
      r.template?.name,
      r.template?.version,
      r.template?.locale,
      r.tag === REPLY_TAG && r.metadata?.reply === 'stop',
    ]);
  const jobs: SendJob[] = [];
  for (const group of groupBy(
    records.filter((r) => !r.erasedAt && r.body !== ''),
    shape,
  ).values()) {
    const first = group[0]!;
    const byId = new Map(group.map((r) => [r.messageId, r]));
    const recipients = group.map((r) => ({
      messageId: r.messageId,
      to: r.to,
      text: r.body,
      ...(r.reference ? { reference: r.reference } : {}),
      ...(r.metadata ? { metadata: r.metadata } : {}),
    }));
    for (const chunk of jobChunks(recipients, 100)) {
      jobs.push(
        buildSendJob(
          {
            jobId: `${first.batchId}.recover.${randomBytes(4).toString('hex')}`,
            batchId: first.batchId,
            ...(first.app ? { app: first.app } : {}),
            from: first.from,
            deliveryReport: first.deliveryReport,
            ...(first.tag ? { tag: first.tag } : {}),
            ...(first.template ? { template: first.template } : {}),
            ...(first.scheduledAt && Date.parse(first.scheduledAt) > now.getTime() ? { notBefore: first.scheduledAt } : {}),
            ...(first.expiresAt ? { expiresAt: first.expiresAt } : {}),
            attempt: 1 + Math.max(0, ...chunk.map((r) => byId.get(r.messageId)!.attempts)),
            // A STOP confirmation is the one message allowed to an opted-out recipient.
            kind: first.tag === REPLY_TAG && first.metadata?.reply === 'stop' ? 'optOutConfirmation' : 'message',
          },
          chunk,
        ),
      );
    }
  }
  return jobs;
}
