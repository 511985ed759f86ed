// Send jobs that cannot be processed: the pipeline's own dead letters and the transport's.
import type { DeadLetter } from '../domain/deadLetter.js';

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
