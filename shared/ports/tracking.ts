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

/**
 * The reconciler asks ACS about the overdue ones and gives up ("unknown") at the deadline. The
 * recovery timer finds hand-overs that never finished — their process stopped between recording
 * the hand-over and recording ACS's answer — while ACS can still tell a repeat from a new message.
 */
export interface DeliveryTracker {
  /** Starts following messages whose hand-over starts at `at`, as in flight (one write per send job). */
  track(messageIds: readonly string[], at: Date): Promise<void>;
  /** The hand-over that started at `at` is recorded (ACS's answer saved, or a retry queued): no longer in flight. */
  settle(messageIds: readonly string[], at: Date): Promise<void>;
  /** Messages whose hand-over started in [from, to) and is still in flight, oldest first. */
  inFlight(from: Date, to: Date, limit: number): Promise<TrackedMessage[]>;
  /** Messages handed over before `sentBefore` whose next check is due at `now`, oldest first. */
  due(sentBefore: Date, now: Date, limit: number): Promise<TrackedMessage[]>;
  untrack(messages: readonly TrackedMessage[]): Promise<void>;
  reschedule(message: TrackedMessage, nextCheckAt: Date): Promise<void>;
  park(event: unknown, at: Date): Promise<void>;
  parked(limit: number): Promise<ParkedReport[]>;
  unpark(reports: readonly ParkedReport[]): Promise<void>;
}
