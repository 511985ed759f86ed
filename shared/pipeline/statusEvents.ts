// Where status changes go once they are recorded: the app is told as it happens. Each saved
// record becomes the CloudEvent of its latest change, published to the outbox.
import { messageEvent, messageEventsSince } from '../domain/events.js';
import type { MessageRecord } from '../domain/message.js';
import type { EventPublisher } from '../ports.js';

export interface StatusChangedOptions {
  /**
   * Ids of records this write created. A record created and moved on in the same write (a job
   * another app enqueued directly, then sent or expired) has more than one new change: each gets
   * its event, not only the latest.
   */
  created?: ReadonlySet<string>;
}

/** Receives records right after a status change of theirs was saved. */
export interface StatusEventSink {
  statusChanged(records: readonly MessageRecord[], options?: StatusChangedOptions): Promise<void>;
}

/** Publishes the latest change of each record (deterministic ids: publishing twice is harmless). */
export function publishingSink(publisher: EventPublisher, source: string): StatusEventSink {
  return {
    async statusChanged(records, options) {
      const events = records
        .filter((r) => r.history.length > 0)
        .flatMap((r) => (options?.created?.has(r.messageId) ? messageEventsSince(source, r, 0) : [messageEvent(source, r)]));
      if (events.length > 0) await publisher.publish(events);
    },
  };
}
