// Where status changes go once they are recorded: the app is told as it happens.
import type { MessageRecord } from '../domain/message.js';

/** Receives records right after a status change of theirs was saved. */
export interface StatusEventSink {
  statusChanged(records: readonly MessageRecord[]): Promise<void>;
}
