// The ports: what the use cases in shared/pipeline need from the outside world. Adapters in
// shared/adapters implement them on Azure services; unit tests implement them with fakes.
import type { Sender } from './config.js';
import type { DeliveryAttempt, MessageRecord } from './domain/message.js';
import type { InboundKeyword, PipelineEvent } from './domain/events.js';
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

/** A continuation token that this store did not issue (or that belongs to another listing). */
export class InvalidContinuationTokenError extends Error {
  constructor(message = 'is not a continuation token of this listing') {
    super(message);
    this.name = 'InvalidContinuationTokenError';
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
  /**
   * Every record sent to `to`, across batches. Records are partitioned by batch, so this reads
   * the whole table: for rare requests (erasure), never for the send path.
   */
  listByRecipient(to: string): Promise<MessageRecord[]>;
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
  /**
   * Adds a recipient to, or removes one from, ACS's own opt-out list for `from`
   * (POST /sms/optouts:add|remove). Throws GatewayError when ACS refuses or cannot be reached.
   */
  setOptOut?(action: 'add' | 'remove', from: string, to: string): Promise<void>;
  /**
   * Proves ACS answers, and, given one of our numbers, that it accepts our credentials for SMS: a
   * refusal (401/403) throws GatewayError with that status. Sends nothing.
   */
  ping(from?: string): Promise<void>;
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

/** An opt-out in force: the change that made it. */
export interface OptOutEntry {
  /** Our number, or "*" for the whole pool. */
  sender: string;
  recipient: string;
  source: ConsentChange['source'];
  keyword?: string;
  reason?: string;
  inboundMessageId?: string;
  /** Since when (ISO 8601). */
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
  /** The opt-outs of `recipient` for each of `senders` ("*" for the pool-wide one): point reads. */
  find(recipient: string, senders: readonly string[]): Promise<OptOutEntry[]>;
  /** Opt-outs in key order (sender, then recipient), of one sender ("*" included) or all. */
  list(options: { sender?: string; limit: number; continuationToken?: string }): Promise<Page<OptOutEntry>>;
}

/** One entry of the consent log: a change of consent as it was asked for, kept for ever. */
export interface ConsentLogEntry extends ConsentChange {
  /** Unique per change; derived from the inbound message id for keywords, so a redelivery is the same entry. */
  id: string;
  action: 'optOut' | 'optIn';
  /**
   * False when the change was not applied because a later one had already been recorded (texts
   * can arrive out of order); the entry is kept as evidence all the same.
   */
  applied: boolean;
  /** Why it was not applied, or what else it did. */
  note?: string;
}

/** The latest change of consent of one (recipient, sender): what orders late or repeated changes. */
export interface ConsentState {
  at: string;
  optedOut: boolean;
  changeId: string;
  /** The change asked for what was already so (a START from someone not opted out): it lifted nothing. */
  quiet?: boolean;
  etag?: string;
}

/** The consent log (for ever, per person) and the latest change per (person, sender). */
export interface ConsentLog {
  /** Adds an entry; an entry with the same id is left as it is (a redelivery). */
  append(entry: ConsentLogEntry): Promise<void>;
  /** The person's log, oldest first. */
  history(recipient: string, options: { limit: number; continuationToken?: string }): Promise<Page<ConsentLogEntry>>;
  state(recipient: string, sender: string): Promise<ConsentState | undefined>;
  /** Writes the state conditionally (on its etag, or as new); throws ConcurrencyError when it changed. */
  saveState(recipient: string, sender: string, state: ConsentState): Promise<void>;
}

/** One message of a conversation: a text sent or received on one of our numbers. */
export interface ThreadEntry {
  /** Our number. */
  ourNumber: string;
  /** The person's number. */
  theirNumber: string;
  direction: 'inbound' | 'outbound';
  /** When it was sent (outbound: handed to ACS) or received (inbound). */
  at: string;
  /** The text. */
  body: string;
  /** Outbound: the message id. */
  messageId?: string;
  batchId?: string;
  tag?: string;
  /** Inbound: ACS's id of the message. */
  inboundMessageId?: string;
  keyword?: InboundKeyword;
  /** Inbound: the outbound message it answers. */
  inReplyTo?: { messageId: string; batchId: string; tag?: string; sentAt: string };
  /** Inbound: everything the message asked for is done (idempotency under redelivery). */
  processed?: boolean;
}

/** Conversations: one thread per (our number, their number), newest first. */
export interface ConversationStore {
  /** Writes outbound entries (idempotent: the same message, the same entry); one request per sender and 100 entries. */
  recordOutbound(entries: readonly ThreadEntry[]): Promise<void>;
  /** Writes (or replaces) an inbound entry. */
  saveInbound(entry: ThreadEntry): Promise<void>;
  /** The inbound entry of an ACS message id received at `at`, if recorded. */
  getInbound(ourNumber: string, theirNumber: string, at: string, inboundMessageId: string): Promise<ThreadEntry | undefined>;
  /** The newest outbound entry of the thread sent at or before `at`. */
  lastOutbound(ourNumber: string, theirNumber: string, at: string): Promise<ThreadEntry | undefined>;
  /** A page of the thread, newest first. */
  thread(
    ourNumber: string,
    theirNumber: string,
    options: { limit: number; continuationToken?: string },
  ): Promise<Page<ThreadEntry>>;
  /** Deletes every entry of `theirNumber` on each of `ourNumbers`; returns how many there were. */
  eraseThreads(theirNumber: string, ourNumbers: readonly string[]): Promise<number>;
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
 * Where the pipeline's events go once the change behind them is stored. publish() resolves once
 * every destination has them or they are kept durably in the outbox for it; delivery from there
 * happens later and is retried. Events carry deterministic ids, so publishing one twice is
 * harmless. A caller whose publish() throws must make its trigger try again (the change is
 * stored, the events may not be).
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
  /**
   * In the pipeline's own storage (analytics): delivered the moment the change is recorded, by
   * whoever records it, and through the outbox only when that fails. Others (webhooks, the Event
   * Grid topic) are always reached through the outbox, so no caller waits on an app's endpoint.
   */
  readonly immediate?: boolean;
  deliver(events: readonly PipelineEvent[]): Promise<void>;
}
