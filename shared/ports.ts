// The ports: what the use cases in shared/pipeline need from the outside world. Adapters in
// shared/adapters implement them on Azure services; unit tests implement them with fakes.
import type { Sender } from './config.js';
import type { DeliveryAttempt, MessageRecord } from './domain/message.js';
import type { PipelineEvent } from './domain/events.js';
import type { OutboxMessage } from './domain/outbox.js';
import type { SendJob } from './domain/sendJob.js';

/** Time, so tests can move it. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/** Structured logging. Never pass full phone numbers or message bodies. */
export interface Logger {
  info(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
}

/** A conditional write lost a race: someone changed the record since it was read. */
export class ConcurrencyError extends Error {
  constructor(message = 'the record changed since it was read') {
    super(message);
    this.name = 'ConcurrencyError';
  }
}

/** A dependency (storage, queue, ACS) cannot be reached; the caller may retry later. */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: 'storage' | 'queue' | 'acs' | 'eventgrid',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DependencyUnavailableError';
  }
}

/** One page of a listing. */
export interface Page<T> {
  items: T[];
  /** Opaque token for the next page; absent on the last page. */
  continuationToken?: string;
}

/** Message records, partitioned by batch. */
export interface MessageStore {
  /**
   * Inserts the records of one batch (any number; written in transactions of up to 100).
   * A record that already exists is left untouched, so inserting twice is harmless.
   */
  insertBatch(records: MessageRecord[]): Promise<void>;
  /** One record by message id, with its etag; undefined when unknown. */
  get(messageId: string): Promise<MessageRecord | undefined>;
  /** The records of one batch with the given ids (one round trip); missing ids are absent from the map. */
  getMany(batchId: string, messageIds: readonly string[]): Promise<Map<string, MessageRecord>>;
  /** The record of `to` within a batch (recipients are unique per batch). */
  findInBatchByRecipient(batchId: string, to: string): Promise<MessageRecord | undefined>;
  /** Pages through a batch in message id order. */
  listBatch(batchId: string, options: { limit: number; continuationToken?: string }): Promise<Page<MessageRecord>>;
  /**
   * Writes records of ONE batch, each conditional on its etag (records without an etag are
   * inserted), all or nothing. Throws ConcurrencyError when any of them changed meanwhile.
   * Updates each record's etag in place on success.
   */
  saveAll(records: MessageRecord[]): Promise<void>;
  /** Writes one record conditionally on its etag; throws ConcurrencyError when it changed. */
  save(record: MessageRecord): Promise<void>;
  /** Remembers which message an ACS message id belongs to. */
  indexAcsMessageIds(entries: ReadonlyArray<{ acsMessageId: string; messageId: string }>): Promise<void>;
  /** The message id an ACS message id belongs to, if known. */
  messageIdForAcsMessageId(acsMessageId: string): Promise<string | undefined>;
  /** Cheap reachability check. */
  ping(): Promise<void>;
}

/** The outbound queue of send jobs (Service Bus in Azure, a Storage queue locally). */
export interface OutboundQueue {
  /**
   * Enqueues jobs. A job with `notBefore` in the future becomes visible then (Service Bus:
   * scheduled message; Storage queue: visibility timeout, at most 7 days — the sender puts an
   * early job back with the remaining delay).
   */
  enqueue(jobs: readonly SendJob[]): Promise<void>;
  ping(): Promise<void>;
}

/** One recipient of an ACS send request. */
export interface GatewayRecipient {
  to: string;
  messageId: string;
  /** Same for every try of this message, so ACS refuses a repeat. */
  repeatabilityRequestId: string;
  /** RFC 1123 time of the first try with that id. */
  repeatabilityFirstSent: string;
}

export interface GatewaySendRequest {
  from: string;
  message: string;
  recipients: readonly GatewayRecipient[];
  deliveryReport: boolean;
  /** Echoed by ACS in delivery reports; the pipeline puts the batch id here. */
  tag?: string;
}

/** ACS's verdict for one recipient of a request that ACS answered with 202. */
export type GatewayRecipientResult =
  | {
      to: string;
      outcome: 'accepted';
      /** Without the "Outgoing_" prefix; absent when ACS did not return one. */
      acsMessageId?: string;
      /** ACS had already accepted this repeatability id: nothing was sent again. */
      repeated: boolean;
    }
  | {
      to: string;
      outcome: 'rejected';
      /** HTTP-style status ACS gave this recipient, e.g. "400". */
      code: string;
      message: string;
      /** True for per-recipient 429/5xx: worth another try. */
      transient: boolean;
      /**
       * ACS refused because the repeatability first-sent time is outside its window: an earlier
       * try may or may not have sent the message, so it must not be sent again.
       */
      outsideRepeatabilityWindow?: boolean;
    };

/** A whole ACS request failed. */
export class GatewayError extends Error {
  constructor(
    message: string,
    readonly details: {
      /** 429, 5xx, timeouts and network errors are transient; other 4xx are not. */
      transient: boolean;
      /** True when ACS may have processed the request (timeout, 5xx, connection reset). */
      uncertain: boolean;
      /** HTTP status, when there was a response. */
      status?: number;
      /** From Retry-After, when present. */
      retryAfterMs?: number;
    },
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

/** A delivery report fetched from ACS on demand (reconciliation). */
export interface GatewayDeliveryReport {
  acsMessageId: string;
  status: 'delivered' | 'failed' | 'pending';
  code?: string;
  detail?: string;
  deliveryAttempts?: DeliveryAttempt[];
  receivedAt?: string;
}

/** ACS SMS. */
export interface SmsGateway {
  /** Sends one request of up to 100 recipients; per-recipient results are returned, not thrown. */
  send(request: GatewaySendRequest): Promise<GatewayRecipientResult[]>;
  /** GET /deliveryReports/{id}; undefined when ACS does not know the id. */
  getDeliveryReport(acsMessageId: string): Promise<GatewayDeliveryReport | undefined>;
  ping(): Promise<void>;
}

/** A change of consent: who, for which sender, how, and when. */
export interface ConsentChange {
  /** Our number, or "*" for the whole pool. */
  sender: string;
  /** The person, E.164. */
  recipient: string;
  source: 'keyword' | 'api' | 'carrier';
  keyword?: string;
  reason?: string;
  inboundMessageId?: string;
  /** ISO 8601. */
  at: string;
}

/** Opt-outs, keyed (sender, recipient); "*" as sender means the whole pool. */
export interface OptOutStore {
  /** Of `recipients`, those opted out of `sender` or of the whole pool. */
  optedOut(sender: string, recipients: readonly string[]): Promise<Set<string>>;
  /** Records an opt-out (idempotent). */
  add(change: ConsentChange): Promise<void>;
  /** Removes an opt-out (idempotent). */
  remove(change: ConsentChange): Promise<void>;
}

/** Pacing per sender number, shared by every instance (a token bucket in storage). */
export interface RateLimiter {
  /**
   * Reserves `count` sends on `sender` and returns when the first of them may go; the rest
   * follow at the sender's rate. Reservations are never returned: an unused one costs a slot.
   */
  reserve(sender: Sender, count: number): Promise<Date>;
}

/** A send job that cannot be processed, kept with its reason for inspection and replay. */
export interface DeadLetter {
  id: string;
  at: string;
  reason: string;
  /** The job as received (raw text when it did not parse). */
  body: string;
  jobId?: string;
  batchId?: string;
  /**
   * Where it is kept when not in the pipeline's own `deadLetters` table: the transport's dead
   * letters (the Storage queue's poison queue, the Service Bus queue's dead-letter sub-queue).
   */
  source?: string;
}

export interface DeadLetterStore {
  add(letter: Omit<DeadLetter, 'id' | 'at'>): Promise<DeadLetter>;
  list(options?: { limit?: number }): Promise<DeadLetter[]>;
  remove(id: string): Promise<void>;
}

/**
 * Send jobs the queue transport gave up on by itself — those the function failed on at every
 * delivery: the Storage queue's poison queue, or the Service Bus queue's dead-letter sub-queue.
 */
export interface TransportDeadLetters {
  /** The queue they are kept in, as shown to operators (`DeadLetter.source`). */
  readonly name: string;
  /** Up to `limit` of them, oldest first; an empty list when the queue does not exist. */
  list(limit: number): Promise<DeadLetter[]>;
  /** Deletes the ones with these ids (from `list`); ids no longer there are ignored. */
  remove(ids: readonly string[]): Promise<void>;
}

/** A message handed to ACS whose final status is not known yet. */
export interface TrackedMessage {
  messageId: string;
  /** When it was handed to ACS. */
  sentAt: string;
  /** Don't ask ACS about it again before this time. */
  nextCheckAt: string;
  /** Opaque handle for untrack/reschedule. */
  handle: string;
}

/** A delivery report that arrived before its message was known. */
export interface ParkedReport {
  /** The event as received, for another try. */
  event: unknown;
  parkedAt: string;
  handle: string;
}

/**
 * Follows messages from the hand-over until their final status, so none stays pending for ever:
 * the reconciler asks ACS about the overdue ones and gives up ("unknown") at the deadline.
 */
export interface DeliveryTracker {
  /** Starts following messages handed over at `at` (one write per send job). */
  track(messageIds: readonly string[], at: Date): Promise<void>;
  /** Messages handed over before `sentBefore` whose next check is due at `now`, oldest first. */
  due(sentBefore: Date, now: Date, limit: number): Promise<TrackedMessage[]>;
  untrack(messages: readonly TrackedMessage[]): Promise<void>;
  reschedule(message: TrackedMessage, nextCheckAt: Date): Promise<void>;
  park(event: unknown, at: Date): Promise<void>;
  parked(limit: number): Promise<ParkedReport[]>;
  unpark(reports: readonly ParkedReport[]): Promise<void>;
}

/**
 * Where the pipeline's events go once the change behind them is stored. An outbox: publish()
 * only has to keep them durably; delivery to webhooks, the Event Grid topic and analytics
 * happens later and is retried there. Events carry deterministic ids, so publishing one twice
 * is harmless.
 */
export interface EventPublisher {
  publish(events: readonly PipelineEvent[]): Promise<void>;
}

/** The queue behind EventPublisher, as the dispatcher sees it: retries and give-ups. */
export interface EventOutbox extends EventPublisher {
  /** Puts a message (back) on the outbox, visible after `delayMs`. */
  enqueue(message: OutboxMessage, delayMs?: number): Promise<void>;
  /** Gives up on a message: kept with its last error in the poison queue, for inspection. */
  poison(message: OutboxMessage): Promise<void>;
}

/**
 * Somewhere events are delivered: a webhook, the Event Grid topic, analytics. deliver() must be
 * safe to repeat (receivers dedupe on the event id) and throws when the events did not arrive.
 */
export interface EventDestination {
  /** Stable and unique among destinations: a retry names the destination it is for. */
  readonly name: string;
  /** Only these event types go to this destination; all when absent. */
  readonly types?: ReadonlySet<string>;
  deliver(events: readonly PipelineEvent[]): Promise<void>;
}
