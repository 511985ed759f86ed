// Per-sender token buckets: a sender may send `ratePerMinute` messages a minute, `burst` of them
// at once. Messages (recipients) are counted, not requests, as ACS counts "message units".

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export class SenderRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /**
   * Takes `count` tokens or refuses. A request larger than the burst is let through from a full
   * bucket (leaving it in debt) so that a 100-recipient request can never be refused forever.
   */
  take(sender: string, count: number, limit: { ratePerMinute: number; burst: number }, now: number): RateDecision {
    const perMs = limit.ratePerMinute / 60_000;
    const bucket = this.buckets.get(sender) ?? { tokens: limit.burst, updatedAt: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + (now - bucket.updatedAt) * perMs);
    bucket.updatedAt = now;
    this.buckets.set(sender, bucket);
    const full = bucket.tokens >= limit.burst - 1e-9;
    if (bucket.tokens >= count || full) {
      bucket.tokens -= count;
      return { ok: true };
    }
    const needed = Math.min(count, limit.burst) - bucket.tokens;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(needed / perMs / 1000)) };
  }

  reset(): void {
    this.buckets.clear();
  }
}
