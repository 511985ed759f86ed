// Reconciliation, run by a timer: no message stays pending for ever. Reports that arrived before
// their message was known are tried again; messages handed to ACS without a report for longer
// than `reconcileAfterMs` are looked up with GET /deliveryReports/{id}; and at `deadlineMs`
// (72 hours, as AWS End User Messaging does) a message still without a final status ends "unknown".
import { CARRIER_OPT_OUT_CODE } from '../domain/acsEvents.js';
import { parseMessageId } from '../domain/ids.js';
import { applyDeliveryOutcome, moveTo, type MessageRecord } from '../domain/message.js';
import { isFinal } from '../domain/messageStatus.js';
import { forEachLimited } from '../lib/concurrency.js';
import { groupBy } from '../lib/collections.js';
import { ConcurrencyError } from '../ports/errors.js';
import { GatewayError, type SmsGateway } from '../ports/gateway.js';
import type { OutboundQueue } from '../ports/queue.js';
import type { TrackedMessage } from '../ports/tracking.js';
import { applyDeliveryReport, recordCarrierOptOut, type DeliveryReportDeps } from './deliveryReports.js';
import { retryOnConflict } from './optimistic.js';
import { redriveJobs } from './recoverWork.js';
import { insideWindow } from './send/triage.js';
import { decideUncertain, type UncertainPolicy } from './send/uncertain.js';

export interface ReconcileDeps extends DeliveryReportDeps {
  gateway: SmsGateway;
  /** Where a stuck hand-over goes when the policy sends it again. */
  queue: OutboundQueue;
  uncertainPolicy: UncertainPolicy;
  /** Ask ACS about a message this long after its hand-over without a report. */
  reconcileAfterMs: number;
  /** Give up ("unknown") this long after the hand-over. */
  deadlineMs: number;
  /** Most messages looked up at ACS per run (default 500); the others wait for the next run. */
  limit?: number;
  /** No new page of tracked messages is started after this long (default 4 min; the function timeout is 5). */
  timeBudgetMs?: number;
}

/** Tracked messages read at once (a Table Storage page). */
const DUE_PAGE = 1000;
const DEFAULT_TIME_BUDGET_MS = 4 * 60_000;
/** Batches whose records are read and settled at the same time. */
const BATCHES_IN_PARALLEL = 8;

export interface ReconcileSummary {
  parkedApplied: number;
  parkedDropped: number;
  checked: number;
  delivered: number;
  failed: number;
  unknown: number;
  stillPending: number;
  resolvedAlready: number;
  /** Hand-overs found stuck in "sending" past ACS's repeatability window, decided by the policy. */
  uncertain: number;
}

export async function reconcileDeliveries(deps: ReconcileDeps): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = {
    parkedApplied: 0,
    parkedDropped: 0,
    checked: 0,
    delivered: 0,
    failed: 0,
    unknown: 0,
    stillPending: 0,
    resolvedAlready: 0,
    uncertain: 0,
  };
  const limit = deps.limit ?? 500;
  const now = deps.clock.now();

  // 1. Parked reports: the message may be known by now.
  const parked = await deps.tracker.parked(limit);
  const done = [];
  for (const report of parked) {
    const outcome = await applyDeliveryReport(deps, report.event);
    if (outcome.kind === 'unknownMessage') {
      if (now.getTime() - Date.parse(report.parkedAt) > deps.deadlineMs) {
        // Not ours (another app on the same ACS resource) or long gone: stop trying.
        done.push(report);
        summary.parkedDropped++;
      }
    } else {
      done.push(report);
      summary.parkedApplied++;
    }
  }
  if (done.length > 0) await deps.tracker.unpark(done);

  // 2. Messages without a final status past the reconcile delay, a page at a time until none is
  // left, the ACS lookups of the run are spent or its time is up. Most of them have their report
  // by now and only need untracking; a run that stopped after a fixed number of messages would
  // fall behind for good once more messages are sent per interval than that number.
  const sentBefore = new Date(now.getTime() - deps.reconcileAfterMs);
  const budgetEnds = now.getTime() + (deps.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS);
  let lookups = 0;
  for (;;) {
    const due = await deps.tracker.due(sentBefore, now, DUE_PAGE);
    // A tracked id that is not a message id the pipeline issues has nothing to look up, ever.
    const byBatch = groupBy(due, (t) => parseMessageId(t.messageId)?.batchId ?? '');
    const resolved: TrackedMessage[] = byBatch.get('') ?? [];
    byBatch.delete('');
    let leftForLater = 0;
    await forEachLimited([...byBatch], BATCHES_IN_PARALLEL, async ([batchId, tracked]) => {
      const records = await deps.messages.getMany(
        batchId,
        tracked.map((t) => t.messageId),
      );
      for (const t of tracked) {
        const record = records.get(t.messageId);
        if (!record || isFinal(record.status) || record.status === 'unknown') {
          summary.checked++;
          summary.resolvedAlready++;
          resolved.push(t);
          continue;
        }
        if (record.status === 'sending' && record.repeatabilityFirstSent && !insideWindow(record, now)) {
          // A hand-over the recovery timer did not finish in time: decided now, not after the deadline.
          summary.checked++;
          summary.uncertain++;
          await decideStuckHandOver(deps, record, now);
          resolved.push(t);
          continue;
        }
        if (asksAcs(record)) {
          if (lookups >= limit) {
            leftForLater++;
            continue;
          }
          lookups++;
        }
        summary.checked++;
        const verdict = await lookUp(deps, record);
        const age = now.getTime() - Date.parse(t.sentAt);
        if (verdict === 'delivered' || verdict === 'failed') {
          summary[verdict]++;
          resolved.push(t);
        } else if (age >= deps.deadlineMs) {
          if (
            await settle(deps, record, (r) =>
              moveTo(r, 'unknown', deps.clock.now(), {
                reason: `no delivery report within ${Math.round(deps.deadlineMs / 3600_000)} hours`,
              }),
            )
          ) {
            summary.unknown++;
          }
          resolved.push(t);
        } else {
          summary.stillPending++;
          // Look again later, less often as time passes: a quarter of its age, between 5 min (or the
          // reconcile delay, when shorter) and 6 h.
          const wait = Math.min(6 * 3600_000, Math.max(Math.min(5 * 60_000, deps.reconcileAfterMs), age / 4));
          await deps.tracker.reschedule(t, new Date(Math.min(now.getTime() + wait, Date.parse(t.sentAt) + deps.deadlineMs)));
        }
      }
    });
    if (resolved.length > 0) await deps.tracker.untrack(resolved);
    // Every message of the page is now untracked or rescheduled past `now`, except those left
    // for the next run, so the next page holds new ones.
    if (due.length < DUE_PAGE || leftForLater > 0 || deps.clock.now().getTime() >= budgetEnds) break;
  }
  if (summary.checked + summary.parkedApplied + summary.parkedDropped > 0) deps.log.info('reconciliation', { ...summary });
  return summary;
}

/** A stuck hand-over under the uncertain policy: `unknown`, or sent again under a new repeatability id. */
async function decideStuckHandOver(deps: ReconcileDeps, record: MessageRecord, now: Date): Promise<void> {
  let again = false;
  await settle(deps, record, (r) => {
    if (r.status !== 'sending') return false;
    again = decideUncertain(
      r,
      now,
      deps.uncertainPolicy,
      'the hand-over was interrupted and ACS can no longer tell a repeat from a new message',
    );
    // atLeastOnce changes no status (it stays "sending"); the record is saved all the same.
    return true;
  });
  if (again) await deps.queue.enqueue(redriveJobs([record], now));
}

/** Whether looking a message up means a request to ACS (only a handed-over message has an ACS id). */
function asksAcs(record: MessageRecord): boolean {
  return record.status === 'sent' && Boolean(record.acsMessageId);
}

/**
 * Asks ACS for the report of one message — by the id exactly as the send returned it, the form GET
 * is published for — and records it; 'pending' when there is none yet.
 */
async function lookUp(deps: ReconcileDeps, record: MessageRecord): Promise<'delivered' | 'failed' | 'pending'> {
  if (!asksAcs(record)) return 'pending';
  let report;
  try {
    report = await deps.gateway.getDeliveryReport(record.acsMessageId!);
  } catch (error) {
    if (error instanceof GatewayError && error.details.transient) return 'pending';
    throw error;
  }
  if (!report || report.status === 'pending') return 'pending';
  const status = report.status;
  if (status === 'failed' && report.code === CARRIER_OPT_OUT_CODE) {
    await recordCarrierOptOut(deps, record, report.detail, report.receivedAt ?? deps.clock.now().toISOString());
  }
  const applied = await settle(deps, record, (r) =>
    applyDeliveryOutcome(
      r,
      {
        status,
        ...(report.code ? { code: report.code } : {}),
        ...(report.codeSource ? { codeSource: report.codeSource } : {}),
        ...(report.detail ? { detail: report.detail } : {}),
        ...(report.deliveryAttempts ? { deliveryAttempts: report.deliveryAttempts } : {}),
        ...(report.receivedAt ? { eventTime: report.receivedAt } : {}),
        via: 'GET /deliveryReports',
      },
      deps.clock.now(),
    ),
  );
  return applied ? status : 'pending';
}

/** Applies a change with a conditional write, re-reading on a lost race. */
async function settle(deps: ReconcileDeps, record: MessageRecord, change: (r: MessageRecord) => boolean): Promise<boolean> {
  return retryOnConflict(async (round) => {
    const current = round === 1 ? record : await deps.messages.get(record.messageId);
    if (!current || !change(current)) return false;
    await deps.messages.save(current);
    await deps.events.statusChanged([current]);
    return true;
  }).catch((error: unknown) => {
    // Still contended after every round: the next run decides.
    if (error instanceof ConcurrencyError) return false;
    throw error;
  });
}
