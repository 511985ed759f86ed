// Idempotency-Key entries as the stores keep them, and the one rule every store applies to an
// existing entry: replay it, refuse a different body, wait for it, or take it over.
//
// A key means one operation, fixed by the first attempt: the entry keeps the operation's id (for a
// submit, its batch id) from the moment the key is reserved, and whoever finishes the work —
// the first attempt or a retry that took the key over — does it under that id. The owner of a
// reservation renews a short lease while it works; one that stopped renewing (its process died,
// its storage calls fail) is taken over by the next retry within seconds, not minutes. Taking
// over is safe because the work itself is idempotent under its id.
import { createHash } from 'node:crypto';

/** How long a key and its response are kept. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** A reservation whose owner has not renewed it for this long is taken over by the next retry. */
export const IDEMPOTENCY_LEASE_MS = 10_000;
/** How often the owner renews its lease while it works. */
export const IDEMPOTENCY_HEARTBEAT_MS = 3_000;

/** A response as kept for replay. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

/** An entry as a store found it, for the decision every store shares. */
export interface IdempotencyEntry {
  state: 'pending' | 'completed';
  fingerprint: string;
  /** When the key was reserved: the 24 hours count from here. */
  reservedAt: Date;
  /** Pending: the owner holds the key until then, unless it renews. */
  leaseUntil: Date;
  /** The operation the key stands for (a submit's batch id), fixed by the first attempt. */
  operationId: string;
  /** Present when completed. */
  response?: StoredResponse;
}

export interface IdempotencyPolicy {
  ttlMs: number;
  leaseMs: number;
}

export const DEFAULT_IDEMPOTENCY_POLICY: IdempotencyPolicy = { ttlMs: IDEMPOTENCY_TTL_MS, leaseMs: IDEMPOTENCY_LEASE_MS };

/** What an existing entry means for a new request. */
export type IdempotencyVerdict =
  /** A request with this key and body completed: answer with its response. */
  | { kind: 'completed'; response: StoredResponse }
  /** A request with this key is running, its owner alive (whatever the body): ask again after `retryAfterMs`. */
  | { kind: 'inProgress'; retryAfterMs: number }
  /** The key was used with another body: a new body needs a new key. */
  | { kind: 'mismatch' }
  /**
   * The store replaces the entry, conditionally on its version: expired (a new operation, no id),
   * or abandoned by its owner (the same operation: `operationId` is kept and the work resumed).
   */
  | { kind: 'takeOver'; operationId?: string };

export function judgeEntry(
  entry: IdempotencyEntry,
  fingerprint: string,
  now: Date,
  policy: IdempotencyPolicy = DEFAULT_IDEMPOTENCY_POLICY,
): IdempotencyVerdict {
  const age = now.getTime() - entry.reservedAt.getTime();
  if (!(age < policy.ttlMs)) return { kind: 'takeOver' }; // NaN (a corrupt date) counts as expired
  const leaseLeft = entry.leaseUntil.getTime() - now.getTime();
  if (entry.state === 'pending') {
    if (leaseLeft > 0) return { kind: 'inProgress', retryAfterMs: leaseLeft };
    // The owner is gone. Its work may be half done under the first body: a different body must
    // not continue it, nor start a second operation under the same key.
    if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
    return { kind: 'takeOver', ...(entry.operationId ? { operationId: entry.operationId } : {}) };
  }
  if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
  // A completed entry without its response is useless: finish the same operation again.
  if (!entry.response) return { kind: 'takeOver', ...(entry.operationId ? { operationId: entry.operationId } : {}) };
  return { kind: 'completed', response: entry.response };
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/** sha256 (hex) of the canonical JSON of a validated body. */
export function fingerprintOf(body: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(body) ?? 'undefined')
    .digest('hex');
}
