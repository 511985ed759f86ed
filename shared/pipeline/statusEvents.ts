// Where status changes go once they are recorded: the app is told as it happens. Each saved
// record becomes the CloudEvent of its latest change, published to the outbox.
import { messageEvent } from '../domain/events.js';
import type { MessageRecord } from '../domain/message.js';
import type { EventPublisher } from '../ports.js';

/** Receives records right after a status change of theirs was saved. */
export interface StatusEventSink {
  statusChanged(records: readonly MessageRecord[]): Promise<void>;
}

/** Publishes the latest change of each record (deterministic ids: publishing twice is harmless). */
export function publishingSink(publisher: EventPublisher, source: string): StatusEventSink {
  return {
    async statusChanged(records) {
      if (records.length > 0) await publisher.publish(records.filter((r) => r.history.length > 0).map((r) => messageEvent(source, r)));
    },
  };
}
