// An in-memory IdempotencyStore with the race semantics of the Table Storage one: reserve is an
// insert-if-absent, take-overs, renewals and completions are conditional on the entry's version.
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_IDEMPOTENCY_POLICY,
  judgeEntry,
  type IdempotencyEntry,
  type IdempotencyPolicy,
  type StoredResponse,
} from '../../shared/domain/idempotency.js';
import { ConcurrencyError } from '../../shared/ports/errors.js';
import type { IdempotencyStore, Reservation } from '../../shared/ports/idempotency.js';

interface Row extends IdempotencyEntry {
  token: string;
}

export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly rows = new Map<string, Row>();
  reserveCalls = 0;

  constructor(
    private readonly policy: IdempotencyPolicy = DEFAULT_IDEMPOTENCY_POLICY,
    /** Simulated storage latency, so concurrent callers really interleave. */
    private readonly latencyMs = 0,
  ) {}

  private async io() {
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    else await Promise.resolve();
  }

  async reserve(key: string, fingerprint: string, now: Date, operationId: string): Promise<Reservation> {
    this.reserveCalls++;
    await this.io();
    // Check and write with no await in between: that is the atomic insert-if-absent.
    const existing = this.rows.get(key);
    let id = operationId;
    let resumed = false;
    let reservedAt = now;
    if (existing) {
      const verdict = judgeEntry(existing, fingerprint, now, this.policy);
      if (verdict.kind !== 'takeOver') return structuredClone(verdict);
      if (verdict.operationId) {
        id = verdict.operationId;
        resumed = true;
        reservedAt = existing.reservedAt;
      }
    }
    const token = randomUUID();
    const leaseUntil = new Date(now.getTime() + this.policy.leaseMs);
    this.rows.set(key, { state: 'pending', fingerprint, reservedAt, leaseUntil, operationId: id, token });
    return { kind: 'reserved', token, operationId: id, resumed, leaseUntil };
  }

  async renew(key: string, token: string, leaseUntil: Date): Promise<string> {
    await this.io();
    const row = this.rows.get(key);
    if (!row || row.token !== token) throw new ConcurrencyError('reservation lost');
    row.leaseUntil = leaseUntil;
    row.token = randomUUID();
    return row.token;
  }

  async complete(key: string, token: string, response: StoredResponse): Promise<void> {
    await this.io();
    const row = this.rows.get(key);
    if (!row || row.token !== token) throw new ConcurrencyError('reservation lost');
    row.state = 'completed';
    row.response = structuredClone(response);
    row.token = randomUUID();
  }

  async release(key: string, token: string): Promise<void> {
    await this.io();
    if (this.rows.get(key)?.token === token) this.rows.delete(key);
  }
}
