// Where the pipeline's events go once the change behind them is stored: the publisher, the outbox
// behind it, the destinations (webhooks, the Event Grid topic, analytics), and the sink that turns
// saved status changes into events.
import type { PipelineEvent } from '../domain/events.js';
import type { MessageRecord } from '../domain/message.js';
import type { OutboxMessage } from '../domain/outbox.js';

/**
 * publish() resolves once every destination has the events or they are kept durably in the
 * outbox for it; delivery from there happens later and is retried. Events carry deterministic
 * ids, so publishing one twice is harmless. A caller whose publish() throws must make its trigger
 * try again (the change is stored, the events may not be).
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
   * Only events of this app (their data.app: an app's own webhook, SMS_APPS); every event when
   * absent. Events of no app (the guard's) never go to an app's destination.
   */
  readonly app?: string;
  /**
   * In the pipeline's own storage (analytics): delivered the moment the change is recorded, by
   * whoever records it, and through the outbox only when that fails. Others (webhooks, the Event
   * Grid topic) are always reached through the outbox, so no caller waits on an app's endpoint.
   */
  readonly immediate?: boolean;
  deliver(events: readonly PipelineEvent[]): Promise<void>;
}

/** What a destination's failure may carry: when to try again (an HTTP Retry-After). */
export interface RetryAfterHint {
  retryAfterMs?: number;
}

export interface StatusChangedOptions {
  /**
   * By message id, how many history entries were already stored before this write: the entries
   * after them are the new changes, each announced. A record created and moved on in one write (0:
   * a job another app enqueued directly, then sent) gets every event; a record saved without a new
   * change gets none. Without it, the latest change of each record is announced.
   */
  since?: ReadonlyMap<string, number>;
}

/** Receives records right after a status change of theirs was saved. */
export interface StatusEventSink {
  statusChanged(records: readonly MessageRecord[], options?: StatusChangedOptions): Promise<void>;
}
