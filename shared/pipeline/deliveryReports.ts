// Records ACS delivery reports: finds the message (by the batch id ACS echoes as the tag, else by
// the ACS message id), moves its status forward, and keeps every delivery attempt in its history.
// Duplicates and out-of-order reports change nothing; a report for a message the pipeline does
// not know yet is acknowledged and logged, never a crash, so Event Grid does not retry it all day.
// A Failed report with 4007 means the recipient opted out at the carrier: that is recorded as an
// opt-out of the sender, so the pipeline stops texting them too.
import { recordConsentChange, type ConsentDeps } from './optOuts.js';
import { parseDeliveryReport, type DeliveryReport } from '../domain/acsEvents.js';
import { BATCH_ID_PATTERN } from '../domain/ids.js';
import { moveTo, type MessageRecord } from '../domain/message.js';
import { maskPhoneNumber } from '../domain/phoneNumber.js';
import { ConcurrencyError, type Clock, type DeliveryTracker, type Logger, type MessageStore, type OptOutStore, type EventPublisher } from '../ports.js';
import type { StatusEventSink } from './statusEvents.js';

export interface DeliveryReportDeps {
  messages: MessageStore;
  clock: Clock;
  log: Logger;
  events?: StatusEventSink;
  /** Where reports for not-yet-known messages wait for the reconciler. */
  tracker?: DeliveryTracker;
  /** Where a carrier opt-out (a Failed report with code 4007) is recorded. */
  optOuts?: OptOutStore;
  /** With it, a carrier opt-out also goes to the consent log and out as sms.optout.added. */
  consent?: CarrierConsentDeps;
}

/** The consent path (shared/pipeline/optOuts.ts) and where its events go. */
export type CarrierConsentDeps = ConsentDeps & { publisher: EventPublisher };

/** ACS deliveryStatusDetails code "sender blocked for given recipient": the recipient opted out at the carrier. */
export const CARRIER_OPT_OUT_CODE = '4007';

export type DeliveryReportOutcome =
  | { kind: 'applied'; messageId: string; status: 'delivered' | 'failed' }
  | { kind: 'duplicate'; messageId: string }
  | { kind: 'unknownMessage'; acsMessageId: string }
  | { kind: 'malformed'; reason: string };

/** Handles one Event Grid event; never throws for bad input, only when storage is unavailable. */
export async function recordDeliveryReport(deps: DeliveryReportDeps, event: unknown): Promise<DeliveryReportOutcome> {
  const parsed = parseDeliveryReport(event);
  if (!parsed.ok) {
    deps.log.warn('delivery report rejected', { reason: parsed.reason });
    return { kind: 'malformed', reason: parsed.reason };
  }
  const report = parsed.value;

  for (let round = 1; ; round++) {
    const record = await findMessage(deps.messages, report);
    if (!record) {
      // Acknowledged, not thrown: Event Grid would retry for a day. The reconciler tries again.
      await deps.tracker?.park(event, deps.clock.now());
      deps.log.warn('delivery report for an unknown message; parked', { acsMessageId: report.acsMessageId, to: maskPhoneNumber(report.to) });
      return { kind: 'unknownMessage', acsMessageId: report.acsMessageId };
    }
    // The sender indexes the ACS message ids it is given. Only a report that brings an id the
    // record did not have yet (it overtook the sender, or the hand-over's outcome was uncertain)
    // has one to add; indexing every report again would cost a storage write per message.
    const learnedAcsMessageId = !record.acsMessageId && Boolean(report.acsMessageId);
    const changed = applyReport(record, report, deps.clock.now());
    // Before the status is saved: if this fails, the report is redelivered and tried again whole.
    if (changed && report.status === 'failed' && report.code === CARRIER_OPT_OUT_CODE) {
      await recordCarrierOptOut(deps, record, report.detail, report.receivedAt ?? deps.clock.now().toISOString());
    }
    if (!changed) {
      // A redelivery may follow a publish that failed after the save: publish again (same id).
      if (record.status === report.status) await deps.events?.statusChanged([record]);
      return { kind: 'duplicate', messageId: record.messageId };
    }
    try {
      await deps.messages.save(record);
    } catch (error) {
      if (error instanceof ConcurrencyError && round < 5) continue;
      throw error;
    }
    if (learnedAcsMessageId) await deps.messages.indexAcsMessageIds([{ acsMessageId: report.acsMessageId, messageId: record.messageId }]);
    await deps.events?.statusChanged([record]);
    return { kind: 'applied', messageId: record.messageId, status: report.status };
  }
}

async function findMessage(messages: MessageStore, report: DeliveryReport): Promise<MessageRecord | undefined> {
  // The sender puts the batch id in the ACS tag, so a report can be matched even when it
  // overtakes the sender's own record of the ACS message id.
  if (report.tag && BATCH_ID_PATTERN.test(report.tag)) {
    const record = await messages.findInBatchByRecipient(report.tag, report.to);
    if (record && (!record.acsMessageId || record.acsMessageId === report.acsMessageId)) return record;
  }
  const messageId = await messages.messageIdForAcsMessageId(report.acsMessageId);
  return messageId ? messages.get(messageId) : undefined;
}

/** Applies a report to a record; false when it changes nothing (a duplicate or a step backwards). */
export function applyReport(record: MessageRecord, report: DeliveryReport, now: Date): boolean {
  if (!record.acsMessageId) record.acsMessageId = report.acsMessageId;
  const details = {
    ...(report.detail ? { reason: report.detail } : {}),
    ...(report.code ? { code: report.code } : {}),
    ...(report.deliveryAttempts.length > 0 ? { deliveryAttempts: report.deliveryAttempts } : {}),
    ...(report.receivedAt ? { eventTime: report.receivedAt } : report.eventTime ? { eventTime: report.eventTime } : {}),
  };
  const moved = moveTo(record, report.status, now, details);
  if (moved && report.status === 'failed') {
    record.error = { code: report.code ?? 'delivery-failed', message: report.detail ?? 'ACS reported the delivery failed' };
  }
  return moved;
}

/**
 * Records that `record`'s recipient opted out of its sender at the carrier (ACS code 4007), unless
 * an opt-out is already there: a STOP recorded from the keyword keeps its own details.
 */
export async function recordCarrierOptOut(
  deps: { optOuts?: OptOutStore; consent?: CarrierConsentDeps; log: Logger },
  record: MessageRecord,
  detail: string | undefined,
  at: string,
): Promise<void> {
  const optOuts = deps.consent?.optOuts ?? deps.optOuts;
  if (!optOuts) return;
  if ((await optOuts.optedOut(record.from, [record.to])).has(record.to)) return;
  const reason = detail ? `${CARRIER_OPT_OUT_CODE}: ${detail.replace(/^4007:\s*/, '')}`.slice(0, 200) : `${CARRIER_OPT_OUT_CODE}: the recipient opted out at the carrier`;
  if (deps.consent) {
    // Through the consent path: the opt-out, its consent-log entry and its event, all keyed by
    // the message, so a duplicate report records nothing twice.
    const outcome = await recordConsentChange(deps.consent, {
      id: `carrier:${record.messageId}`,
      action: 'optOut',
      sender: record.from,
      recipient: record.to,
      source: 'carrier',
      reason,
      at,
    });
    if (outcome.events.length > 0) await deps.consent.publisher.publish(outcome.events);
  } else {
    await optOuts.add({ sender: record.from, recipient: record.to, source: 'carrier', reason, at });
  }
  deps.log.info('carrier opt-out recorded', { messageId: record.messageId, from: maskPhoneNumber(record.from), to: maskPhoneNumber(record.to) });
}
