// Following handed-over messages until their final status, so none stays pending for ever.

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

/** The reconciler asks ACS about the overdue ones and gives up ("unknown") at the deadline. */
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
