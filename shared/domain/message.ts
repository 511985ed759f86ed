// The message record: one per recipient, from submit to its final status, with its history —
// the one way a record is made, and the one way its status moves.
import type { MessageCategory } from './category.js';
import type { CodeSource } from './deliveryStatusDetails.js';
import { analyzeMessage, type MessageAnalysis } from './encoding.js';
import { canTransition, type MessageStatus } from './messageStatus.js';
import type { TemplateRef } from './template.js';

/** The app's own id of a message: 1-128 printable ASCII characters without spaces. */
export const REFERENCE_PATTERN = /^[\x21-\x7E]{1,128}$/;

/**
 * The code of the change to `unknown` of a hand-over whose outcome cannot be known (its process
 * stopped mid-request and ACS can no longer recognise a repeat): counted apart in analytics.
 */
export const UNCERTAIN_HANDOVER_CODE = 'handover-uncertain';

/** Messages can be scheduled up to this far ahead (Service Bus and ACS both allow it). */
export const MAX_SCHEDULE_AHEAD_MS = 35 * 24 * 3600_000;

/** One step of a message's life, in the order it happened. */
export interface StatusChange {
  /** The status the message moved to. */
  status: MessageStatus;
  /** When the pipeline recorded the change (ISO 8601). */
  at: string;
  /** Why, in words: an ACS error text, "opted out", "past its validity" … */
  reason?: string;
  /** A machine-readable code: the ACS deliveryStatusDetails code or HTTP status, when there is one. */
  code?: string;
  /** Where a delivery report's code came from: a leading "<code>:", a published text, or a field of its own. */
  codeSource?: CodeSource;
  /** ACS delivery attempts reported with this change. */
  deliveryAttempts?: DeliveryAttempt[];
  /** When the event behind the change happened at its source (e.g. the carrier's report time). */
  eventTime?: string;
}

/** One delivery attempt as ACS reports it. */
export interface DeliveryAttempt {
  timestamp: string;
  segmentsSucceeded: number;
  segmentsFailed: number;
}

/** What the pipeline knows about one message to one recipient. */
export interface MessageRecord {
  messageId: string;
  batchId: string;
  /** The app the message was sent for (domain/apps.ts); absent on records older than apps: the default app. */
  app?: string;
  /** Sender number or alphanumeric id. */
  from: string;
  /** Recipient, E.164. */
  to: string;
  /** The text as sent (after smart encoding). Erased by a privacy request. */
  body: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  tag?: string;
  metadata?: Record<string, string>;
  /** The app's own id of the message, echoed in every event and findable (GET /api/messages?reference=). */
  reference?: string;
  /** The template the text was rendered from, and which version of it. */
  template?: TemplateRef;
  /** Its category (send rules, docs/sending.md); absent on records older than categories: transactional. */
  category?: MessageCategory;
  deliveryReport: boolean;
  status: MessageStatus;
  history: StatusChange[];
  createdAt: string;
  updatedAt: string;
  /** Not handed to ACS before this time. */
  scheduledAt?: string;
  /** Not handed to ACS after this time: it becomes "expired" instead. */
  expiresAt?: string;
  /** The id ACS gave the message, without the "Outgoing_" prefix. */
  acsMessageId?: string;
  /** Time of the first hand-over attempt for the current repeatability id (RFC 1123, as ACS wants it). */
  repeatabilityFirstSent?: string;
  /**
   * A hand-over under the current first-sent time ended without an answer (timeout, 5xx, reset),
   * so ACS may have the message: that first-sent time is kept from then on, whatever later tries
   * say, because a new one would let ACS take a repeat as a new message once the window closes.
   */
  handoverUncertain?: boolean;
  /** Hand-over attempts so far. */
  attempts: number;
  /** The last error, for failed messages. */
  error?: { code: string; message: string };
  /**
   * W3C traceparent of the operation that created the record (the submit, or the send of a job
   * enqueued directly): its delivery report joins that trace. Set by the telemetry adapters.
   */
  traceparent?: string;
  /** When the text (and metadata) were erased at the person's request (DELETE /api/subjects/{phone}). */
  erasedAt?: string;
  /** When the text was erased because its retention ended (SMS_RETENTION_TEXT_DAYS); the rest is kept. */
  textErasedAt?: string;
  /** When the app reported the message used (an OTP entered: POST /api/messages/{id}/conversion). */
  convertedAt?: string;
  /** Optimistic concurrency token of the stored entity. */
  etag?: string;
}

/**
 * Moves a record to `status` when the status machine allows it, appending to its history.
 * Returns false (and changes nothing) for a step backwards or a repeat, which is how
 * duplicate and out-of-order events end up changing nothing.
 */
export function moveTo(
  record: MessageRecord,
  status: MessageStatus,
  at: Date,
  details: Omit<StatusChange, 'status' | 'at'> = {},
): boolean {
  if (!canTransition(record.status, status)) return false;
  record.status = status;
  record.updatedAt = at.toISOString();
  record.history.push({ status, at: record.updatedAt, ...details });
  return true;
}

/**
 * Takes back a hand-over that was recorded but never made: the pipeline marks a message `sending`
 * before it waits for the pacing slot, and a last look after the wait (a STOP, an ended validity)
 * may stop it before ACS is asked. The entry goes, and the first-sent time with it: nothing of
 * this hand-over ever reached ACS, and nothing of it was announced. Only for that case.
 */
export function unrecordHandOver(record: MessageRecord): void {
  if (record.status !== 'sending' || record.history.at(-1)?.status !== 'sending' || record.history.length < 2) return;
  record.history.pop();
  record.status = record.history.at(-1)!.status;
  record.updatedAt = record.history.at(-1)!.at;
  delete record.repeatabilityFirstSent;
  record.attempts = Math.max(0, record.attempts - 1);
}

/** What a new record is made of. */
export interface NewMessage {
  messageId: string;
  batchId: string;
  app?: string;
  from: string;
  to: string;
  /** The text as it will be sent (already smart-encoded). */
  body: string;
  /** Its encoding and segments, when already known (a batch shares one analysis). */
  analysis?: Pick<MessageAnalysis, 'encoding' | 'segments'>;
  tag?: string;
  metadata?: Record<string, string>;
  reference?: string;
  template?: TemplateRef;
  category?: MessageCategory;
  deliveryReport: boolean;
  scheduledAt?: string;
  expiresAt?: string;
  /** Where it starts: waiting to be sent, waiting for its time, or not to be sent at all (or not in time). */
  status: 'queued' | 'scheduled' | 'suppressed' | 'expired';
  /** Why it starts there, when that needs saying (an opt-out, a job enqueued directly, a reply, quiet hours). */
  reason?: string;
  /** The reason's code: "quietHours", "frequencyCap". */
  code?: string;
}

/** A new record, its history starting with its first status at `at`. */
export function newMessageRecord(message: NewMessage, at: Date): MessageRecord {
  const when = at.toISOString();
  const { encoding, segments } = message.analysis ?? analyzeMessage(message.body, { smartEncoding: false });
  return {
    messageId: message.messageId,
    batchId: message.batchId,
    ...(message.app ? { app: message.app } : {}),
    from: message.from,
    to: message.to,
    body: message.body,
    encoding,
    segments,
    ...(message.tag ? { tag: message.tag } : {}),
    ...(message.metadata ? { metadata: message.metadata } : {}),
    ...(message.reference ? { reference: message.reference } : {}),
    ...(message.template ? { template: message.template } : {}),
    ...(message.category ? { category: message.category } : {}),
    deliveryReport: message.deliveryReport,
    status: message.status,
    history: [
      {
        status: message.status,
        at: when,
        ...(message.reason ? { reason: message.reason } : {}),
        ...(message.code ? { code: message.code } : {}),
      },
    ],
    createdAt: when,
    updatedAt: when,
    ...(message.scheduledAt ? { scheduledAt: message.scheduledAt } : {}),
    ...(message.expiresAt ? { expiresAt: message.expiresAt } : {}),
    attempts: 0,
  };
}

/** What ACS says became of a message handed to it: from a delivery report, or looked up later. */
export interface DeliveryOutcome {
  status: 'delivered' | 'failed';
  /** ACS's id of the message, when the record does not have it yet. */
  acsMessageId?: string;
  /** The deliveryStatusDetails code, when there is one. */
  code?: string;
  codeSource?: CodeSource;
  /** The deliveryStatusDetails text, exactly as received. */
  detail?: string;
  deliveryAttempts?: DeliveryAttempt[];
  /** When the carrier reported it. */
  eventTime?: string;
  /** How it was learned when not from the report event itself, e.g. "GET /deliveryReports". */
  via?: string;
}

/**
 * The one rule for a delivery outcome: the status moves forward (a duplicate or a step backwards
 * changes nothing and returns false), the report's details go into the history, and a failure
 * becomes the record's error.
 */
export function applyDeliveryOutcome(record: MessageRecord, outcome: DeliveryOutcome, now: Date): boolean {
  if (!record.acsMessageId && outcome.acsMessageId) record.acsMessageId = outcome.acsMessageId;
  const reason = outcome.via
    ? outcome.detail
      ? `${outcome.detail} (from ${outcome.via})`
      : `from ${outcome.via}`
    : outcome.detail;
  const moved = moveTo(record, outcome.status, now, {
    ...(reason ? { reason } : {}),
    ...(outcome.code ? { code: outcome.code } : {}),
    ...(outcome.code && outcome.codeSource ? { codeSource: outcome.codeSource } : {}),
    ...(outcome.deliveryAttempts?.length ? { deliveryAttempts: outcome.deliveryAttempts } : {}),
    ...(outcome.eventTime ? { eventTime: outcome.eventTime } : {}),
  });
  if (moved && outcome.status === 'failed') {
    record.error = { code: outcome.code ?? 'delivery-failed', message: outcome.detail ?? 'ACS reported the delivery failed' };
  }
  return moved;
}
