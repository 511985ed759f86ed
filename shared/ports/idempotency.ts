// Idempotency-Key reservations, their operation and lease, and the responses they answered with.
import type { IdempotencyVerdict, StoredResponse } from '../domain/idempotency.js';

/** What `reserve` found. */
export type Reservation =
  /**
   * The key is ours, with this token, until `leaseUntil` unless renewed: run the operation
   * `operationId` (a new one, or — `resumed` — one whose earlier owner stopped), then complete.
   */
  | { kind: 'reserved'; token: string; operationId: string; resumed: boolean; leaseUntil: Date }
  | Exclude<IdempotencyVerdict, { kind: 'takeOver' }>;

/**
 * `reserve` must be atomic (insert if absent): of concurrent reservations of one key exactly one
 * gets "reserved". Entries past their time to live count as absent and are replaced atomically.
 * Every write after the reservation is conditional on the token, and returns the next token.
 */
export interface IdempotencyStore {
  /** Reserves the key for a new operation `operationId`, or takes over an abandoned one (keeping its id). */
  reserve(key: string, fingerprint: string, now: Date, operationId: string): Promise<Reservation>;
  /** Extends the lease; returns the new token. Throws ConcurrencyError when the key was taken over. */
  renew(key: string, token: string, leaseUntil: Date): Promise<string>;
  /** Keeps the response. Throws ConcurrencyError when the key was taken over. */
  complete(key: string, token: string, response: StoredResponse): Promise<void>;
  /** Forgets the reservation (nothing was done), so a retry starts afresh; nothing when no longer ours. */
  release(key: string, token: string): Promise<void>;
}
