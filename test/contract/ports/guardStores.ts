// The guard's port contracts — SendingControlStore, BudgetLedger, FraudWatchStore — run against the
// fakes (test/unit) and the Table Storage adapters on Azurite (test/integration). Each test uses keys
// of its own (a random tag, prefix or hold id), so suites can share one account.
import { randomInt, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { budgetRules, counterKey, type BudgetPolicy } from '../../../shared/domain/budget.js';
import { DEFAULT_PUMPING_POLICY, type Observation } from '../../../shared/domain/fraudWatch.js';
import { holdOf, releaseHold, type Hold } from '../../../shared/domain/sendingControls.js';
import { ConcurrencyError } from '../../../shared/ports/errors.js';
import type { BudgetLedger, FraudWatchStore, SendingControlStore } from '../../../shared/ports/guard.js';

const at = new Date('2026-11-25T10:00:00Z');
const tag = () => `t${randomUUID().slice(0, 8)}`;
const prefix = () => `+4477${String(randomInt(100_000, 999_999))}`;
const burstHold = (p = prefix(), when = at): Hold =>
  holdOf('GB', { rule: 'burst', prefix: p, requestsPerMinute: 30, baselinePerMinute: 0 }, ['otp'], when);

export function sendingControlStoreContract(name: string, make: () => Promise<SendingControlStore>) {
  describe(`SendingControlStore contract: ${name}`, () => {
    it('keeps a pause until it is lifted; pausing again keeps its time and answers the pause in force', async () => {
      const store = await make();
      const scope = { kind: 'tag' as const, tag: tag() };
      expect(await store.setPause(scope, { scope, since: '2026-11-25T10:00:00.000Z', reason: 'incident' })).toBeUndefined();
      const again = await store.setPause(scope, { scope, since: '2026-11-25T11:00:00.000Z' });
      expect(again).toMatchObject({ since: '2026-11-25T10:00:00.000Z', reason: 'incident' });
      expect((await store.snapshot(0)).pauses).toContainEqual(
        expect.objectContaining({ scope, since: '2026-11-25T10:00:00.000Z' }),
      );
      expect(await store.setPause(scope, undefined)).toMatchObject({ scope });
      expect((await store.snapshot(0)).pauses.filter((p) => p.scope.kind === 'tag' && p.scope.tag === scope.tag)).toEqual([]);
      expect(await store.setPause(scope, undefined)).toBeUndefined();
    });

    it('answers from what it read within the age asked for, and reads again when its own change made that stale', async () => {
      const store = await make();
      const first = await store.snapshot(60_000);
      expect(await store.snapshot(60_000)).toEqual(first);
      const scope = { kind: 'tag' as const, tag: tag() };
      await store.setPause(scope, { scope, since: at.toISOString() });
      expect((await store.snapshot(60_000)).pauses.some((p) => p.scope.kind === 'tag' && p.scope.tag === scope.tag)).toBe(true);
      await store.setPause(scope, undefined);
    });

    it('places a hold once; an active one or a release still exempt stands; later a new one replaces it', async () => {
      const store = await make();
      const hold = burstHold();
      expect(await store.placeHold(hold, at)).toMatchObject({ placed: true, hold: { id: hold.id, state: 'active' } });
      expect(await store.placeHold({ ...hold, detail: 'again' }, at)).toMatchObject({
        placed: false,
        hold: { detail: hold.detail },
      });
      expect((await store.snapshot(0)).holds.map((h) => h.id)).toContain(hold.id);
      const stored = (await store.getHold(hold.id))!;
      expect(stored).toMatchObject({ id: hold.id, country: 'GB', prefix: hold.prefix, rule: 'burst', reason: 'fraudSuspected' });
      expect(stored.tags).toBeUndefined();
      await store.saveHold(releaseHold(stored, at, { heldMessages: 'send', exemptHours: 24 }));
      expect((await store.snapshot(0)).holds.map((h) => h.id)).not.toContain(hold.id);
      expect(
        (await store.placeHold(burstHold(hold.prefix, new Date(at.getTime() + 3600_000)), new Date(at.getTime() + 3600_000)))
          .placed,
      ).toBe(false);
      const later = new Date(at.getTime() + 25 * 3600_000);
      expect(await store.placeHold(burstHold(hold.prefix, later), later)).toMatchObject({
        placed: true,
        hold: { state: 'active', placedAt: later.toISOString() },
      });
    });

    it('saves a hold only at the version it was read at, and lists active and released ones newest first', async () => {
      const store = await make();
      const a = burstHold();
      const b = holdOf(
        'JM',
        { rule: 'conversions', conversionRate: 0, baselineConversionRate: 0.5, otpVolume: 40 },
        ['otp', 'login'],
        new Date(at.getTime() + 1000),
      );
      b.id = `JM-${randomInt(1_000_000, 9_999_999)}`;
      await store.placeHold(a, at);
      await store.placeHold(b, at);
      const read = (await store.getHold(a.id))!;
      await store.saveHold(releaseHold(read, new Date(), { heldMessages: 'cancel', exemptHours: 1, note: 'ok' }));
      await expect(
        store.saveHold(releaseHold(read, new Date(), { heldMessages: 'send', exemptHours: 1 })),
      ).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await store.getHold(a.id)).toMatchObject({ state: 'released', heldMessages: 'cancel', releaseNote: 'ok' });
      expect((await store.getHold(b.id))!.tags).toEqual(['otp', 'login']);
      const active = (await store.listHolds({ state: 'active', limit: 1000 })).map((h) => h.id);
      expect(active).toContain(b.id);
      expect(active).not.toContain(a.id);
      const all = (await store.listHolds({ limit: 1000 })).filter((h) => h.id === a.id || h.id === b.id);
      expect(all.map((h) => h.id)).toEqual([b.id, a.id]);
      // Released with "cancel" (now): still in the snapshot, so the messages it held are canceled when they come back.
      expect((await store.snapshot(0)).holds.find((h) => h.id === a.id)).toMatchObject({
        state: 'released',
        heldMessages: 'cancel',
      });
      expect(await store.getHold('GB-0')).toBeUndefined();
    });
  });
}

export function budgetLedgerContract(name: string, make: () => Promise<BudgetLedger>) {
  describe(`BudgetLedger contract: ${name}`, () => {
    const policyFor = (t: string, whenReached: 'refuse' | 'queue' = 'refuse'): BudgetPolicy => ({
      rules: budgetRules({ tags: { [t]: { daily: { messages: 10 }, monthly: { cost: 1 } } } }),
      whenReached,
    });
    const charge = (
      ledger: BudgetLedger,
      policy: BudgetPolicy,
      t: string,
      messages: number,
      batchId = randomUUID().replace(/-/g, ''),
    ) => ledger.charge(policy, { batchId, at, tag: t, amounts: { messages, costMicros: messages * 7_500 } });

    it('charges until a limit, refuses what does not fit, and counts', async () => {
      const ledger = await make();
      const t = tag();
      expect(await charge(ledger, policyFor(t), t, 6)).toMatchObject({ kind: 'fits', repeated: false });
      expect(await charge(ledger, policyFor(t), t, 5)).toMatchObject({
        kind: 'exceeded',
        binding: { spent: 6, limit: 10, requested: 5 },
      });
      expect(await charge(ledger, policyFor(t), t, 4)).toMatchObject({ kind: 'fits' });
      const counters = await ledger.counters(at);
      expect(counters.get(counterKey({ scope: t, period: 'day' }, at))).toMatchObject({ messages: 10, costMicros: 75_000 });
      expect(counters.get(counterKey({ scope: t, period: 'month' }, at))).toMatchObject({ messages: 10 });
    });

    it('answers a repeated charge of a batch with the first one, and charges nothing more, full budget or not', async () => {
      const ledger = await make();
      const t = tag();
      const first = await charge(ledger, policyFor(t), t, 3, 'batch01kmx3f2g0');
      const crossings = first.crossings;
      expect(await charge(ledger, policyFor(t), t, 3, 'batch01kmx3f2g0')).toMatchObject({
        kind: 'fits',
        repeated: true,
        crossings,
      });
      expect((await ledger.counters(at)).get(counterKey({ scope: t, period: 'day' }, at))?.messages).toBe(3);
      // Even once the budget is full, a repeat of a batch it took is answered as charged, not refused.
      await charge(ledger, policyFor(t), t, 7);
      expect(await charge(ledger, policyFor(t), t, 3, 'batch01kmx3f2g0')).toMatchObject({ kind: 'fits', repeated: true });
      expect((await ledger.counters(at)).get(counterKey({ scope: t, period: 'day' }, at))?.messages).toBe(10);
    });

    it('announces a threshold once; a refusal of a full budget once', async () => {
      const ledger = await make();
      const t = tag();
      expect((await charge(ledger, policyFor(t), t, 8)).crossings.map((c) => [c.metric, c.threshold])).toEqual([
        ['messages', 80],
      ]);
      expect((await charge(ledger, policyFor(t), t, 5)).crossings.map((c) => c.threshold)).toEqual([100]);
      expect((await charge(ledger, policyFor(t), t, 5)).crossings).toEqual([]);
    });

    it('takes a charge back, once', async () => {
      const ledger = await make();
      const t = tag();
      await charge(ledger, policyFor(t), t, 4, 'refund1');
      await charge(ledger, policyFor(t), t, 2, 'refund2');
      await ledger.refund('refund1');
      await ledger.refund('refund1');
      await ledger.refund('never-charged');
      expect((await ledger.counters(at)).get(counterKey({ scope: t, period: 'day' }, at))?.messages).toBe(2);
      // Refunded, the batch may be charged again.
      expect(await charge(ledger, policyFor(t), t, 4, 'refund1')).toMatchObject({ kind: 'fits', repeated: false });
    });

    it('queues into the next period that takes the request, counted there', async () => {
      const ledger = await make();
      const t = tag();
      await charge(ledger, policyFor(t, 'queue'), t, 9);
      const queued = await charge(ledger, policyFor(t, 'queue'), t, 3);
      expect(queued).toMatchObject({ kind: 'fits', at: new Date('2026-11-26T00:00:00Z') });
      const tomorrow = new Date('2026-11-26T00:00:00Z');
      expect((await ledger.counters(tomorrow)).get(counterKey({ scope: t, period: 'day' }, tomorrow))?.messages).toBe(3);
    });
  });
}

export function fraudWatchStoreContract(name: string, make: () => Promise<FraudWatchStore>) {
  describe(`FraudWatchStore contract: ${name}`, () => {
    it('counts requests to a prefix and calls the 21st in a minute a burst', async () => {
      const store = await make();
      const p = prefix();
      const sent: Observation[] = [{ kind: 'sent', prefix: p, count: 1, otp: 1 }];
      const found: number[] = [];
      for (let i = 0; i < 25; i++) {
        const suspicions = await store.observe(DEFAULT_PUMPING_POLICY, 'GB', sent, new Date(at.getTime() + i * 100));
        if (suspicions.some((s) => s.rule === 'burst' && s.prefix === p)) found.push(i);
      }
      expect(found).toEqual([20, 21, 22, 23, 24]);
    });

    it('takes traffic spread over 20,000 prefixes in a minute, and still finds a burst among them', async () => {
      const store = await make();
      const country = `X${randomUUID().slice(0, 6)}`;
      const t = at.getTime();
      for (let chunk = 0; chunk < 20; chunk++) {
        const observations = Array.from({ length: 1000 }, (_, i): Observation => ({
          kind: 'sent',
          prefix: `+1${2_000_000 + chunk * 1000 + i}`,
          count: 1,
          otp: 0,
        }));
        expect(await store.observe(DEFAULT_PUMPING_POLICY, country, observations, new Date(t + chunk * 100))).toEqual([]);
      }
      const p = '+19999999';
      const found: number[] = [];
      for (let i = 0; i < 22; i++) {
        const suspicions = await store.observe(
          DEFAULT_PUMPING_POLICY,
          country,
          [{ kind: 'sent', prefix: p, count: 1, otp: 0 }],
          new Date(t + 3_000 + i * 10),
        );
        if (suspicions.some((x) => x.rule === 'burst' && x.prefix === p)) found.push(i);
      }
      expect(found).toEqual([20, 21]);
    }, 60_000);

    it('counts every one of many requests at once, and tells a burst only to the requests that reached the prefix', async () => {
      const store = await make();
      const p = prefix();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store
            .observe(DEFAULT_PUMPING_POLICY, 'GB', [{ kind: 'sent', prefix: i % 2 ? prefix() : p, count: 1, otp: 0 }], at)
            .then((suspicions) => ({ toP: i % 2 === 0, suspicions })),
        ),
      );
      const others = results.filter((r) => !r.toP);
      expect(others.every((r) => r.suspicions.length === 0)).toBe(true);
      const told = results.filter((r) => r.toP && r.suspicions.some((x) => x.rule === 'burst' && x.prefix === p));
      expect(told.length).toBeGreaterThanOrEqual(5); // the 21st to the 25th request, at least
      // Every request was counted: the next one sees all 26.
      const next = await store.observe(DEFAULT_PUMPING_POLICY, 'GB', [{ kind: 'sent', prefix: p, count: 1, otp: 0 }], at);
      expect(next).toEqual([expect.objectContaining({ rule: 'burst', prefix: p, requestsPerMinute: 26 })]);
    });

    it('keeps countries and prefixes apart', async () => {
      const store = await make();
      const p = prefix();
      for (let i = 0; i < 15; i++)
        await store.observe(DEFAULT_PUMPING_POLICY, 'GB', [{ kind: 'sent', prefix: p, count: 1, otp: 0 }], at);
      for (let i = 0; i < 15; i++)
        await store.observe(DEFAULT_PUMPING_POLICY, 'GB', [{ kind: 'sent', prefix: prefix(), count: 1, otp: 0 }], at);
      expect(await store.observe(DEFAULT_PUMPING_POLICY, 'DE', [{ kind: 'sent', prefix: p, count: 1, otp: 0 }], at)).toEqual([]);
      expect(await store.observe(DEFAULT_PUMPING_POLICY, 'GB', [{ kind: 'converted' }], at)).toEqual([]);
    });
  });
}
