// The message record: one per recipient, from submit to its final status, with its history.
import { canTransition, type MessageStatus } from './messageStatus.js';

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
  /** When the text (and metadata) were erased at the person's request (DELETE /api/subjects/{phone}). */
  erasedAt?: string;
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
