// Where status changes go once they are recorded: the app is told as it happens. Each saved
// record becomes the CloudEvent of its latest change (or of each change since `since`), published.
import { messageEvent, messageEventsSince } from '../domain/events.js';
import type { EventPublisher, StatusEventSink } from '../ports/events.js';

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
