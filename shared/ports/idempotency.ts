// Idempotency-Key reservations and the responses they answered with.
import type { IdempotencyVerdict, StoredResponse } from '../domain/idempotency.js';

/** What `reserve` found. */
export type Reservation =
  /** The key is ours: run the request, then complete or release with this token. */
  | { kind: 'reserved'; token: string }
  | Exclude<IdempotencyVerdict, { kind: 'takeOver' }>;

/**
 * `reserve` must be atomic (insert if absent): of concurrent reservations of one key exactly one
 * gets "reserved". Entries older than the policy's time to live count as absent and are replaced
 * atomically.
 */
export interface IdempotencyStore {
  reserve(key: string, fingerprint: string, now: Date): Promise<Reservation>;
  /** Keeps the response. Throws ConcurrencyError when the reservation was lost (taken over after its lease). */
  complete(key: string, token: string, response: StoredResponse): Promise<void>;
  /** Forgets the reservation, so a retry can run; does nothing when it is no longer ours. */
  release(key: string, token: string): Promise<void>;
}
