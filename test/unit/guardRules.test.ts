// The guard's pure rules: which countries each number type reaches, how budgets are charged and
// announced, what the pumping watch calls a burst or a collapse, and which pause or hold stops a
// message.
import { describe, expect, it } from 'vitest';
import {
  budgetRules,
  counterKey,
  flagOf,
  periodEnd,
  periodKey,
  planCharge,
  type BudgetCounter,
  type BudgetPolicy,
} from '../../shared/domain/budget.js';
import {
  DEFAULT_PUMPING_POLICY,
  observationsOf,
  observe,
  prefixOf,
  shardOf,
  shardsOf,
  trimShard,
  MAX_PREFIXES_PER_SHARD,
  type PrefixState,
  type WatchState,
} from '../../shared/domain/fraudWatch.js';
import { defaultAllowedCountries, geoVerdict, reachOf, sendersReaching } from '../../shared/domain/geo.js';
import { batchTimeOf, newBatchId } from '../../shared/domain/ids.js';
import { canTransition } from '../../shared/domain/messageStatus.js';
import {
  holdFor,
  holdOf,
  mayPlaceOver,
  pauseFor,
  releaseHold,
  type Hold,
  type Pause,
} from '../../shared/domain/sendingControls.js';
import type { Sender } from '../../shared/domain/sender.js';

const at = new Date('2026-11-25T10:00:00Z');

describe('geo permissions', () => {
  const sender = (type: Sender['type'], number = '+18005550100') => ({ number, type });

  it('by default allows the countries the senders reach, as Microsoft documents them', () => {
    expect(reachOf(sender('tollFree'))).toEqual(['US', 'CA', 'PR']);
    expect(reachOf(sender('tenDlc', '+14255550100'))).toEqual(['US']);
    expect(reachOf(sender('alphanumeric', 'CONTOSO'))).toContain('GB');
    expect(reachOf(sender('alphanumeric', 'CONTOSO'))).not.toContain('US');
    expect(reachOf(sender('mobile', '+447700900123'))).toEqual(['GB']);
    expect(reachOf(sender('shortCode', '+18005550199'))).toEqual(['US']);
    expect([...defaultAllowedCountries([sender('tollFree'), sender('alphanumeric', 'CONTOSO')])]).toEqual(
      expect.arrayContaining(['US', 'CA', 'PR', 'GB', 'DE']),
    );
  });

  it('refuses other countries with a reason naming the rule and the country, never the number', () => {
    const allowed = new Set(['US', 'CA', 'PR']);
    expect(geoVerdict(allowed, '+14255550123')).toEqual({ allowed: true, country: 'US' });
    expect(geoVerdict(allowed, '+14165550123')).toMatchObject({ allowed: true, country: 'CA' });
    const jamaica = geoVerdict(allowed, '+18765550123'); // +1 876 is Jamaica, a classic pumping destination
    expect(jamaica).toMatchObject({ allowed: false, country: 'JM' });
    if (jamaica.allowed) return;
    expect(jamaica.reason).toMatch(/JM.*not permitted.*CA, PR, US.*SMS_ALLOWED_COUNTRIES/);
    expect(jamaica.reason).not.toContain('5550123');
    expect(geoVerdict('any', '+447700900123')).toMatchObject({ allowed: true, country: 'GB' });
  });

  it('gives a recipient a sender of the pool that can reach it', () => {
    const pool = [sender('tollFree'), sender('alphanumeric', 'CONTOSO')];
    expect(sendersReaching(pool, '+447700900123').map((s) => s.type)).toEqual(['alphanumeric']);
    expect(sendersReaching(pool, '+14255550123').map((s) => s.type)).toEqual(['tollFree']);
    expect(sendersReaching(pool, '+8613800138000')).toHaveLength(2); // none can: ACS says why
  });
});

describe('budgets', () => {
  const policy = (whenReached: 'refuse' | 'queue' = 'refuse'): BudgetPolicy => ({
    rules: budgetRules({ daily: { messages: 100 }, monthly: { cost: 1 }, tags: { otp: { daily: { messages: 10 } } } }),
    whenReached,
  });
  const request = (messages: number, extra: { tag?: string; costMicros?: number; batchId?: string } = {}) => ({
    batchId: extra.batchId ?? 'b1',
    at,
    ...(extra.tag ? { tag: extra.tag } : {}),
    amounts: { messages, costMicros: extra.costMicros ?? messages * 7_500 },
  });
  const apply = (counters: Map<string, BudgetCounter>, plan: ReturnType<typeof planCharge>) => {
    for (const [k, c] of plan.counters) counters.set(k, c);
  };

  it('reads SMS_BUDGETS into rules, cost in millionths', () => {
    expect(policy().rules).toEqual([
      { scope: '*', period: 'day', messages: 100 },
      { scope: '*', period: 'month', costMicros: 1_000_000 },
      { scope: 'otp', period: 'day', messages: 10 },
    ]);
  });

  it('charges whole requests, never past a limit, and says which limit refused and when it frees up', () => {
    const counters = new Map<string, BudgetCounter>();
    for (let i = 0; i < 3; i++) {
      const plan = planCharge(policy(), request(30), counters);
      expect(plan.kind).toBe('fits');
      apply(counters, plan);
    }
    const refused = planCharge(policy(), request(30), counters);
    expect(refused).toMatchObject({ kind: 'exceeded', binding: { metric: 'messages', limit: 100, spent: 90, requested: 30 } });
    if (refused.kind !== 'exceeded') return;
    expect(refused.binding.resetsAt.toISOString()).toBe('2026-11-26T00:00:00.000Z');
    apply(counters, refused);
    // Exactly the rest still fits.
    const last = planCharge(policy(), request(10), counters);
    expect(last.kind).toBe('fits');
    apply(counters, last);
    expect(counters.get(counterKey({ scope: '*', period: 'day' }, at))?.messages).toBe(100);
  });

  it('announces 80 % and 100 % once per limit and period; a refusal announces 100 % once', () => {
    const counters = new Map<string, BudgetCounter>();
    const thresholds: number[] = [];
    const kinds: string[] = [];
    for (const n of [50, 29, 1, 5, 16, 16]) {
      const plan = planCharge(policy(), request(n), counters);
      apply(counters, plan);
      kinds.push(plan.kind);
      thresholds.push(...plan.crossings.filter((c) => c.metric === 'messages').map((c) => c.threshold));
    }
    // 80 % when the 1 makes 80; the 5 fits (85); the first 16 is refused, announcing 100 %; the second says nothing.
    expect(kinds).toEqual(['fits', 'fits', 'fits', 'fits', 'exceeded', 'exceeded']);
    expect(thresholds).toEqual([80, 100]);
    const fill = planCharge(
      policy(),
      request(15),
      new Map([[counterKey({ scope: '*', period: 'day' }, at), { messages: 85, costMicros: 0, flags: flagOf('messages', 80) }]]),
    );
    expect(fill.kind).toBe('fits');
    expect(fill.crossings.map((c) => c.threshold)).toEqual([100]);
  });

  it('first refusal of a full period announces it reached', () => {
    const counters = new Map<string, BudgetCounter>([
      [counterKey({ scope: '*', period: 'day' }, at), { messages: 95, costMicros: 0, flags: flagOf('messages', 80) }],
    ]);
    const refused = planCharge(policy(), request(10), counters);
    expect(refused.kind).toBe('exceeded');
    expect(refused.crossings.map((c) => [c.threshold, c.spent, c.limit])).toEqual([[100, 95, 100]]);
    apply(counters, refused);
    expect(planCharge(policy(), request(10), counters).crossings).toEqual([]);
  });

  it("counts a tag against its own limits and the pool's", () => {
    const counters = new Map<string, BudgetCounter>();
    apply(counters, planCharge(policy(), request(8, { tag: 'otp' }), counters));
    expect(planCharge(policy(), request(3, { tag: 'otp' }), counters)).toMatchObject({
      kind: 'exceeded',
      binding: { rule: { scope: 'otp' } },
    });
    expect(planCharge(policy(), request(3, { tag: 'news' }), counters).kind).toBe('fits');
    expect(counters.get(counterKey({ scope: '*', period: 'day' }, at))?.messages).toBe(8);
  });

  it('limits cost too, in millionths, exactly', () => {
    const counters = new Map<string, BudgetCounter>();
    apply(counters, planCharge(policy(), request(1, { costMicros: 999_999 }), counters));
    expect(planCharge(policy(), request(1, { costMicros: 2 }), counters)).toMatchObject({
      kind: 'exceeded',
      binding: { metric: 'cost' },
    });
    expect(planCharge(policy(), request(1, { costMicros: 1 }), counters).kind).toBe('fits');
  });

  it('queues for the next period that takes the request when asked to, and never one that cannot', () => {
    const counters = new Map<string, BudgetCounter>([
      [counterKey({ scope: '*', period: 'day' }, at), { messages: 100, costMicros: 0, flags: 0 }],
    ]);
    const queued = planCharge(policy('queue'), request(20), counters);
    expect(queued).toMatchObject({ kind: 'fits' });
    if (queued.kind !== 'fits') return;
    expect(queued.at.toISOString()).toBe('2026-11-26T00:00:00.000Z');
    expect([...queued.counters.keys()]).toContain(counterKey({ scope: '*', period: 'day' }, queued.at));
    // The full day is announced as reached as it queues.
    expect(queued.crossings.find((c) => c.threshold === 100 && c.periodKey === periodKey('day', at))).toBeDefined();
    expect(planCharge(policy('queue'), request(101), counters).kind).toBe('exceeded');
    expect(periodEnd('month', at).toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });

  it('reads the time back from a batch id, so every retry charges the same period', () => {
    const created = new Date('2026-11-30T23:59:59.123Z');
    expect(batchTimeOf(newBatchId(created))?.toISOString()).toBe(created.toISOString());
    expect(batchTimeOf('partner_feed_1')).toBeUndefined();
  });
});

describe('pumping watch', () => {
  const policy = DEFAULT_PUMPING_POLICY;
  const run = (state: WatchState, prefix: string, requests: number, startMs: number, spacingMs: number) => {
    let s = state;
    const found: string[] = [];
    for (let i = 0; i < requests; i++) {
      const r = observe(policy, s, [{ kind: 'sent', prefix, count: 1, otp: 1 }], startMs + i * spacingMs);
      s = r.state;
      found.push(...r.suspicions.map((x) => `${i}:${x.rule}`));
    }
    return { state: s, found };
  };

  it('takes the last 4 digits off: one block of 10,000 numbers', () => {
    expect(prefixOf('+447700900123')).toBe('+44770090');
    expect(prefixOf('+14255550123')).toBe('+1425555');
  });

  it('calls more than 20 requests to one prefix in a minute a burst, from the 21st on', () => {
    const { found } = run({ prefixes: {} }, '+44770090', 30, at.getTime(), 1_000);
    expect(found[0]).toBe('20:burst');
    expect(found).toHaveLength(10);
  });

  it('counts requests, not recipients: one bulk request to a range is one', () => {
    const observations = observationsOf(
      Array.from({ length: 500 }, (_, i) => `+44770090${String(i).padStart(4, '0')}`),
      'otp',
      policy,
    );
    expect(observations.get('GB')).toEqual([{ kind: 'sent', prefix: '+44770090', count: 500, otp: 500 }]);
    expect(observe(policy, { prefixes: {} }, observations.get('GB')!, at.getTime()).suspicions).toEqual([]);
  });

  it('slides its window: 15 at the end of one minute and 15 at the start of the next are 30 in a minute', () => {
    const end = Date.parse('2026-11-25T10:00:59Z');
    const s = run({ prefixes: {} }, '+44770090', 15, end - 15 * 100, 100).state;
    const next = run(s, '+44770090', 15, Date.parse('2026-11-25T10:01:00.500Z'), 100);
    expect(next.found[0]).toBe('5:burst'); // 6 now + 15 × (59/60) of the previous minute > 20
  });

  it("compares with the prefix's own baseline: a steady 5 a minute for hours makes 50 a minute its threshold", () => {
    let s: WatchState = { prefixes: {} };
    const start = at.getTime();
    for (let minute = 0; minute < 240; minute++) s = run(s, '+1425555', 5, start + minute * 60_000, 10_000).state;
    const later = start + 240 * 60_000;
    expect(run(s, '+1425555', 40, later, 1_000).found).toEqual([]);
    expect(run(s, '+1425555', 60, later, 500).found.length).toBeGreaterThan(0);
    // An idle prefix whose baseline cannot raise the floor is forgotten.
    const quiet = run({ prefixes: {} }, '+1503555', 1, start, 0).state;
    expect(Object.keys(observe(policy, quiet, [], start + 3 * 60_000).state.prefixes)).toEqual([]);
  });

  it("holds a country's OTPs when their conversions collapse against its own rate, never without a baseline", () => {
    let s: WatchState = { prefixes: {} };
    const start = at.getTime();
    // A day of normal OTP traffic to many prefixes, 60 % used.
    for (let i = 0; i < 600; i++) {
      const t = start + i * 120_000;
      s = observe(policy, s, [{ kind: 'sent', prefix: `+4477${String(i).padStart(6, '0')}`, count: 1, otp: 1 }], t).state;
      if (i % 5 < 3) s = observe(policy, s, [{ kind: 'converted' }], t + 30_000).state;
    }
    const attack = start + 600 * 120_000;
    const found: string[] = [];
    for (let i = 0; i < 60; i++) {
      const r = observe(
        policy,
        s,
        [{ kind: 'sent', prefix: `+4479${String(i).padStart(6, '0')}`, count: 1, otp: 1 }],
        attack + i * 10_000,
      );
      s = r.state;
      found.push(...r.suspicions.map((x) => x.rule));
    }
    expect(found).toContain('conversions');
    // Without conversions ever reported, the rule never applies.
    let fresh: WatchState = { prefixes: {} };
    const none: string[] = [];
    for (let i = 0; i < 200; i++) {
      const r = observe(
        policy,
        fresh,
        [{ kind: 'sent', prefix: `+4478${String(i).padStart(6, '0')}`, count: 1, otp: 1 }],
        start + i * 10_000,
      );
      fresh = r.state;
      none.push(...r.suspicions.map((x) => x.rule));
    }
    expect(none).toEqual([]);
  });

  it('spreads prefixes over shards and keeps conversions in their own row', () => {
    expect(shardOf('+44770090')).toMatch(/^s\d\d$/);
    expect(shardsOf([{ kind: 'sent', prefix: '+44770090', count: 1, otp: 1 }, { kind: 'converted' }])).toEqual(
      ['conv', shardOf('+44770090')].sort(),
    );
  });

  it('keeps a row within its size: the prefixes a request touched first, then those nearest to a burst', () => {
    const now = Date.parse('2026-11-25T10:00:30Z');
    const minute = Math.floor(now / 60_000);
    const row: Record<string, PrefixState> = {};
    for (let i = 0; i < 1000; i++) row[`+1${2_000_000 + i}`] = [minute, 1, 0, 0];
    row['+12999998'] = [minute, 0, 0, 0.5]; // usual 0.5 a minute: threshold raised to its 10 times
    row['+12999999'] = [minute, 7, 0, 0]; // 7 requests this minute
    row['+13000000'] = [minute, 1, 0, 0]; // new, touched by this request
    const kept = trimShard(policy, row, now, new Set(['+13000000']));
    expect(Object.keys(kept)).toHaveLength(MAX_PREFIXES_PER_SHARD);
    expect(Object.keys(kept).slice(0, 3)).toEqual(['+13000000', '+12999999', '+12999998']);
    expect(trimShard(policy, { '+1425555': [minute, 1, 0, 0] }, now, new Set())).toEqual({ '+1425555': [minute, 1, 0, 0] });
  });
});

describe('pauses and holds', () => {
  const pause = (scope: Pause['scope']): Pause => ({ scope, since: at.toISOString() });
  const burst: Hold = holdOf(
    'GB',
    { rule: 'burst', prefix: '+44770090', requestsPerMinute: 41, baselinePerMinute: 0.2 },
    ['otp'],
    at,
  );
  const country: Hold = holdOf(
    'JM',
    { rule: 'conversions', conversionRate: 0.01, baselineConversionRate: 0.6, otpVolume: 40 },
    ['otp'],
    at,
  );

  it('stops a job paused for the pool, its sender or its tag', () => {
    expect(pauseFor([pause({ kind: 'tag', tag: 'news' })], '+18005550100', 'otp')).toBeUndefined();
    expect(pauseFor([pause({ kind: 'tag', tag: 'otp' })], '+18005550100', 'otp')).toBeDefined();
    expect(pauseFor([pause({ kind: 'sender', sender: '+18005550100' })], '+18005550100', undefined)).toBeDefined();
    expect(pauseFor([pause({ kind: 'pool' })], 'CONTOSO', undefined)).toBeDefined();
  });

  it("holds the numbers of a prefix, or a country's OTP traffic only", () => {
    expect(burst).toMatchObject({ id: 'GB-44770090', prefix: '+44770090', reason: 'fraudSuspected', state: 'active' });
    expect(burst.detail).toMatch(/41 requests in the last minute to numbers starting \+44770090/);
    expect(holdFor([burst], '+447700900123', undefined)?.id).toBe('GB-44770090');
    expect(holdFor([burst], '+447700910123', undefined)).toBeUndefined();
    expect(holdFor([country], '+18765550123', 'otp')?.id).toBe('JM');
    expect(holdFor([country], '+18765550123', 'news')).toBeUndefined();
  });

  it('is not placed again over an active hold, nor while a release exempts it', () => {
    expect(mayPlaceOver(burst, at)).toBe(false);
    const released = releaseHold(burst, at, { heldMessages: 'send', exemptHours: 24 });
    expect(holdFor([released], '+447700900123', undefined)).toBeUndefined();
    expect(mayPlaceOver(released, new Date(at.getTime() + 3600_000))).toBe(false);
    expect(mayPlaceOver(released, new Date(at.getTime() + 25 * 3600_000))).toBe(true);
  });

  it('lets a held message wait, then go on, or be canceled, expire or be suppressed', () => {
    for (const to of ['sending', 'canceled', 'expired', 'suppressed'] as const) expect(canTransition('held', to)).toBe(true);
    expect(canTransition('queued', 'held')).toBe(true);
    expect(canTransition('sent', 'held')).toBe(false);
    expect(canTransition('held', 'queued')).toBe(false);
  });
});
