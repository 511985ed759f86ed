// Where status changes go once they are recorded: the app is told as it happens. Each saved
// record becomes the CloudEvent of its latest change, published to the outbox.
import { messageEvent, messageEventsSince } from '../domain/events.js';
import type { MessageRecord } from '../domain/message.js';
import type { EventPublisher } from '../ports.js';

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

/** Publishes the latest change of each record (deterministic ids: publishing twice is harmless). */
export function publishingSink(publisher: EventPublisher, source: string): StatusEventSink {
  return {
    async statusChanged(records, options) {
      const events = records
        .filter((r) => r.history.length > 0)
        .flatMap((r) => {
          const from = options?.since?.get(r.messageId);
          return from === undefined ? [messageEvent(source, r)] : messageEventsSince(source, r, from);
        });
      if (events.length > 0) await publisher.publish(events);
    },
  };
}
