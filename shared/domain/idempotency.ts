// Idempotency-Key entries as the stores keep them, and the one rule every store applies to an
// existing entry: replay it, refuse a different body, wait for it, or take it over.
import { createHash } from 'node:crypto';

/** How long a key and its response are kept. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** A pending reservation older than this was abandoned: longer than the 5-minute function timeout. */
export const IDEMPOTENCY_LEASE_MS = 6 * 60_000;

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
  /** When the key was reserved: the 24 hours and the lease count from here. */
  reservedAt: Date;
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
  /** A request with this key is running (whatever its body: it may still be released). */
  | { kind: 'inProgress' }
  /** A request with this key but another body completed. */
  | { kind: 'mismatch' }
  /** Expired, or abandoned by its owner: the store replaces it, conditionally on its version. */
  | { kind: 'takeOver' };

export function judgeEntry(
  entry: IdempotencyEntry,
  fingerprint: string,
  now: Date,
  policy: IdempotencyPolicy = DEFAULT_IDEMPOTENCY_POLICY,
): IdempotencyVerdict {
  const age = now.getTime() - entry.reservedAt.getTime();
  if (!(age < policy.ttlMs)) return { kind: 'takeOver' }; // NaN (a corrupt date) counts as expired
  if (entry.state === 'pending') return age >= policy.leaseMs ? { kind: 'takeOver' } : { kind: 'inProgress' };
  if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (!entry.response) return { kind: 'takeOver' }; // a completed entry without its response is useless
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
