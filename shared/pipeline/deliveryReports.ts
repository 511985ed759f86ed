// Records ACS delivery reports: finds the message (by the message or batch id ACS echoes as the tag, else by
// the ACS message id), moves its status forward, and keeps every delivery attempt in its history.
// Duplicates and out-of-order reports change nothing; a report for a message the pipeline does
// not know yet is acknowledged and parked for the reconciler, never a crash, so Event Grid does
// not retry it all day. A Failed report with 4007 means the recipient opted out at the carrier:
// that is recorded as an opt-out of the sender, so the pipeline stops texting them too.
import { CARRIER_OPT_OUT_CODE, parseDeliveryReport, type DeliveryReport } from '../domain/acsEvents.js';
import { acsMessageKey, BATCH_ID_PATTERN, parseMessageId } from '../domain/ids.js';
import { applyDeliveryOutcome, type DeliveryOutcome, type MessageRecord } from '../domain/message.js';
import { PENDING_STATUSES } from '../domain/messageStatus.js';
import { isE164, maskPhoneNumber } from '../domain/phoneNumber.js';
import type { EventPublisher, StatusEventSink } from '../ports/events.js';
import type { MessageStore } from '../ports/messages.js';
import type { Clock, Logger } from '../ports/runtime.js';
import type { DeliveryTracker } from '../ports/tracking.js';
import { recordConsentChange, type ConsentDeps } from './consent.js';
import { retryOnConflict } from './optimistic.js';

export interface DeliveryReportDeps {
  messages: MessageStore;
  clock: Clock;
  log: Logger;
  events: StatusEventSink;
  /** Where reports for not-yet-known messages wait for the reconciler. */
  tracker: DeliveryTracker;
  /** Where a carrier opt-out (a Failed report with code 4007) is recorded, logged and announced. */
  consent: CarrierConsentDeps;
}

/** The consent path (consent.ts) and where its events go. */
export type CarrierConsentDeps = ConsentDeps & { publisher: EventPublisher };

/** `traceparent`: the message's trace (set at submit), which the report's span joins. */
export type DeliveryReportOutcome =
  | { kind: 'applied'; messageId: string; status: 'delivered' | 'failed'; traceparent?: string }
  | { kind: 'duplicate'; messageId: string; traceparent?: string }
  | { kind: 'unknownMessage'; acsMessageId: string }
  | { kind: 'malformed'; reason: string };

/**
 * Handles one Event Grid event; never throws for bad input, only when storage is unavailable. A
 * report for a message not known (yet) is parked for the reconciler, and acknowledged: Event Grid
 * would retry it for a day.
 */
export async function recordDeliveryReport(deps: DeliveryReportDeps, event: unknown): Promise<DeliveryReportOutcome> {
  const outcome = await applyDeliveryReport(deps, event);
  if (outcome.kind === 'unknownMessage') {
    await deps.tracker.park(event, deps.clock.now());
    deps.log.warn('delivery report for an unknown message; parked', { acsMessageId: outcome.acsMessageId });
  }
  return outcome;
}

/** Applies one report event to its message, when the message is known; parks nothing. */
export async function applyDeliveryReport(
  deps: Omit<DeliveryReportDeps, 'tracker'>,
  event: unknown,
): Promise<DeliveryReportOutcome> {
  const parsed = parseDeliveryReport(event);
  if (!parsed.ok) {
    deps.log.warn('delivery report rejected', { reason: parsed.reason });
    return { kind: 'malformed', reason: parsed.reason };
  }
  const report = parsed.value;
  if (!isE164(report.to)) {
    deps.log.warn('delivery report rejected', { reason: 'to is not a phone number' });
    return { kind: 'malformed', reason: 'to is not a phone number' };
  }
  const outcome = outcomeOf(report);

  return retryOnConflict(async (): Promise<DeliveryReportOutcome> => {
    const record = await findMessage(deps.messages, report);
    // Only a message handed to ACS can have a report. One that is not (yet) is parked like an
    // unknown message: a report must never finalise a message that was never sent.
    if (!record || PENDING_STATUSES.has(record.status)) return { kind: 'unknownMessage', acsMessageId: report.acsMessageId };
    // The sender indexes the ACS message ids it is given. Only a report that brings an id the
    // record did not have yet (it overtook the sender, or the hand-over's outcome was uncertain)
    // has one to add; indexing every report again would cost a storage write per message.
    const learnedAcsMessageId = !record.acsMessageId && Boolean(report.acsMessageId);
    const changed = applyDeliveryOutcome(record, outcome, deps.clock.now());
    // Before the status is saved: if this fails, the report is redelivered and tried again whole.
    if (changed && report.status === 'failed' && report.code === CARRIER_OPT_OUT_CODE) {
      await recordCarrierOptOut(deps, record, report.detail, report.receivedAt ?? deps.clock.now().toISOString());
    }
    if (!changed) {
      // A redelivery may follow a publish that failed after the save: publish again (same id).
      if (record.status === report.status) await deps.events.statusChanged([record]);
      return { kind: 'duplicate', messageId: record.messageId, ...traceOf(record) };
    }
    await deps.messages.save(record);
    if (learnedAcsMessageId)
      await deps.messages.indexAcsMessageIds([{ acsMessageId: report.acsMessageId, messageId: record.messageId }]);
    await deps.events.statusChanged([record]);
    return { kind: 'applied', messageId: record.messageId, status: report.status, ...traceOf(record) };
  });
}

function traceOf(record: MessageRecord): { traceparent?: string } {
  return record.traceparent ? { traceparent: record.traceparent } : {};
}

/** What a report says became of its message. */
export function outcomeOf(report: DeliveryReport): DeliveryOutcome {
  const eventTime = report.receivedAt ?? report.eventTime;
  return {
    status: report.status,
    acsMessageId: report.acsMessageId,
    ...(report.code ? { code: report.code } : {}),
    ...(report.codeSource ? { codeSource: report.codeSource } : {}),
    ...(report.detail ? { detail: report.detail } : {}),
    deliveryAttempts: report.deliveryAttempts,
    ...(eventTime ? { eventTime } : {}),
  };
}

async function findMessage(messages: MessageStore, report: DeliveryReport): Promise<MessageRecord | undefined> {
  // The sender puts the message id (a request to one recipient) or the batch id in the ACS tag, so
  // a report can be matched even when it overtakes the sender's own record of the ACS message id.
  // Ids are compared by their key: the report may decorate the id differently from the send
  // response (acsFacts.ts MESSAGE_ID_FORMS).
  const matches = (record: MessageRecord | undefined): record is MessageRecord =>
    record !== undefined &&
    record.to === report.to &&
    (!record.acsMessageId || acsMessageKey(record.acsMessageId) === report.acsMessageKey);
  if (report.tag && parseMessageId(report.tag)) {
    const record = await messages.get(report.tag);
    if (matches(record)) return record;
  } else if (report.tag && BATCH_ID_PATTERN.test(report.tag)) {
    const record = await messages.findInBatchByRecipient(report.tag, report.to);
    if (matches(record)) return record;
  }
  const messageId = await messages.messageIdForAcsMessageId(report.acsMessageId);
  return messageId ? messages.get(messageId) : undefined;
}

/**
 * Records that `record`'s recipient opted out of its sender at the carrier (ACS code 4007), unless
 * an opt-out is already there: a STOP recorded from the keyword keeps its own details. Through the
 * consent path: the opt-out, its consent-log entry and its event, all keyed by the message, so a
 * duplicate report records nothing twice.
 */
export async function recordCarrierOptOut(
  deps: { consent: CarrierConsentDeps; log: Logger },
  record: MessageRecord,
  detail: string | undefined,
  at: string,
): Promise<void> {
  if ((await deps.consent.optOuts.optedOut(record.from, [record.to])).has(record.to)) return;
  const reason = detail
    ? `${CARRIER_OPT_OUT_CODE}: ${detail.replace(/^4007:\s*/, '')}`.slice(0, 200)
    : `${CARRIER_OPT_OUT_CODE}: the recipient opted out at the carrier`;
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
  deps.log.info('carrier opt-out recorded', {
    messageId: record.messageId,
    from: maskPhoneNumber(record.from),
    to: maskPhoneNumber(record.to),
  });
}
