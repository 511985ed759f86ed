// The guard's shared counting against a real Azurite, raced by two instances (two sets of Table
// adapters, as two function app instances have): a budget is never overspent and a batch never
// charged twice; no request to a prefix is lost from the pumping watch; a pause written by one
// instance stops the other's next look.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../../local/azurite.js';
import { createTableAdapters, type TableAdapters } from '../../shared/adapters/tables/tableAdapters.js';
import { budgetRules, counterKey, type BudgetPolicy } from '../../shared/domain/budget.js';
import { TableClient } from '@azure/data-tables';
import { DEFAULT_PUMPING_POLICY, MAX_PREFIXES_PER_SHARD, type Observation } from '../../shared/domain/fraudWatch.js';

let azurite: Azurite;
let a: TableAdapters;
let b: TableAdapters;

beforeAll(async () => {
  azurite = await startAzurite({ silent: true });
  const instance = () => createTableAdapters({ kind: 'connectionString', connectionString: azurite.connectionString });
  a = instance();
  b = instance();
  await a.ensureTables();
});

afterAll(async () => {
  await azurite?.stop();
});

describe('two instances charging one budget', () => {
  it('5 clients x 50 requests against a daily budget of 100: exactly 100 charged, and retries charge nothing more', async () => {
    const at = new Date('2026-11-25T10:00:00Z');
    const policy: BudgetPolicy = { rules: budgetRules({ daily: { messages: 100 } }), whenReached: 'refuse' };
    const batches = Array.from({ length: 5 }, (_, c) =>
      Array.from({ length: 50 }, (_, i) => `race${c}x${i}${randomUUID().slice(0, 6)}`),
    );
    const charge = (ledger: TableAdapters, batchId: string) =>
      ledger.budgets.charge(policy, { batchId, at, amounts: { messages: 1, costMicros: 7_500 } });
    // Each client alternates instances, as a load balancer would spread its requests.
    const run = () =>
      Promise.all(
        batches.map(async (client, c) => {
          const kinds: string[] = [];
          for (const [i, batchId] of client.entries()) kinds.push((await charge((c + i) % 2 ? a : b, batchId)).kind);
          return kinds;
        }),
      );
    const first = (await run()).flat();
    expect(first.filter((k) => k === 'fits')).toHaveLength(100);
    expect(first.filter((k) => k === 'exceeded')).toHaveLength(150);
    expect((await a.budgets.counters(at)).get(counterKey({ scope: '*', period: 'day' }, at))?.messages).toBe(100);

    // Every request again, as clients retrying with their Idempotency-Key (same batch ids) would.
    const again = (await run()).flat();
    expect(again.filter((k) => k === 'fits')).toHaveLength(100);
    expect((await b.budgets.counters(at)).get(counterKey({ scope: '*', period: 'day' }, at))?.messages).toBe(100);
  }, 120_000);
});

describe('two instances charging one budget with many charges in flight each', () => {
  it('400 charges, 32 at once per instance, against 100: exactly 100 fit; all again at once, mixed with new ones, charge nothing more', async () => {
    const at = new Date('2026-11-26T10:00:00Z');
    const policy: BudgetPolicy = { rules: budgetRules({ daily: { messages: 100 } }), whenReached: 'refuse' };
    const ids = Array.from({ length: 400 }, (_, i) => `flood${i}x${randomUUID().slice(0, 6)}`);
    const charge = (batchId: string, i: number) =>
      (i % 2 ? a : b).budgets.charge(policy, { batchId, at, amounts: { messages: 1, costMicros: 7_500 } });
    const inFlight = async (work: ReadonlyArray<() => Promise<{ kind: string; repeated?: boolean }>>) => {
      const results: Array<{ kind: string; repeated?: boolean }> = new Array(work.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < work.length) {
            const i = next++;
            results[i] = await work[i]!();
          }
        }),
      );
      return results;
    };
    const first = await inFlight(ids.map((id, i) => () => charge(id, i)));
    const fitted = ids.filter((_, i) => first[i]!.kind === 'fits');
    expect(fitted).toHaveLength(100);
    expect((await a.budgets.counters(at)).get(counterKey({ scope: '*', period: 'day' }, at))?.messages).toBe(100);

    // The accepted ones retried at once (from the other instance), among new ones that must not fit.
    const fresh = Array.from({ length: 100 }, (_, i) => `late${i}x${randomUUID().slice(0, 6)}`);
    const mixed = fitted.flatMap((id, i) => [id, fresh[i]!]);
    const again = await inFlight(mixed.map((id, i) => () => charge(id, i + 1)));
    mixed.forEach((id, i) => {
      if (fitted.includes(id)) expect(again[i], id).toMatchObject({ kind: 'fits', repeated: true });
      else expect(again[i]!.kind, id).toBe('exceeded');
    });
    expect((await b.budgets.counters(at)).get(counterKey({ scope: '*', period: 'day' }, at))?.messages).toBe(100);
  }, 120_000);

  it('a retry that still fits, written together with new charges, is answered as the first charge and charged once', async () => {
    const at = new Date('2026-11-27T10:00:00Z');
    const policy: BudgetPolicy = { rules: budgetRules({ daily: { messages: 1000 } }), whenReached: 'refuse' };
    const charge = (batchId: string, i: number) =>
      (i % 2 ? a : b).budgets.charge(policy, { batchId, at, amounts: { messages: 1, costMicros: 7_500 } });
    const first = Array.from({ length: 50 }, (_, i) => `once${i}x${randomUUID().slice(0, 6)}`);
    expect((await Promise.all(first.map((id, i) => charge(id, i)))).map((o) => o.kind)).toEqual(first.map(() => 'fits'));
    expect((await a.budgets.counters(at)).get(counterKey({ scope: '*', period: 'day' }, at))?.messages).toBe(50);
    const fresh = Array.from({ length: 50 }, (_, i) => `more${i}x${randomUUID().slice(0, 6)}`);
    const mixed = first.flatMap((id, i) => [id, fresh[i]!]);
    const outcomes = await Promise.all(mixed.map((id, i) => charge(id, i)));
    mixed.forEach((id, i) => expect(outcomes[i], id).toMatchObject({ kind: 'fits', repeated: first.includes(id) }));
    expect((await a.budgets.counters(at)).get(counterKey({ scope: '*', period: 'day' }, at))?.messages).toBe(100);
  }, 60_000);
});

describe('two instances watching one prefix', () => {
  it('counts every request of a burst that both instances take at once', async () => {
    const now = new Date('2026-11-25T10:00:00Z');
    const prefix = '+44770091';
    const observe = (instance: TableAdapters) =>
      instance.fraudWatch.observe(
        { ...DEFAULT_PUMPING_POLICY, burstPerMinute: 1000 },
        'GB',
        [{ kind: 'sent', prefix, count: 1, otp: 1 }],
        now,
      );
    await Promise.all(Array.from({ length: 40 }, (_, i) => observe(i % 2 ? a : b)));
    // With a floor of 40, the 41st request is the burst — only if none of the 40 was lost.
    const strict = { ...DEFAULT_PUMPING_POLICY, burstPerMinute: 40 };
    const suspicions = await a.fraudWatch.observe(strict, 'GB', [{ kind: 'sent', prefix, count: 1, otp: 1 }], now);
    expect(suspicions).toEqual([expect.objectContaining({ rule: 'burst', prefix, requestsPerMinute: 41 })]);
  }, 60_000);
});

describe('a pause written by one instance', () => {
  it('is seen by the other at its next look older than the age it allows', async () => {
    const tag = `t${randomUUID().slice(0, 8)}`;
    const before = await a.sendingControls.snapshot(200);
    expect(before.pauses.some((p) => p.scope.kind === 'tag' && p.scope.tag === tag)).toBe(false);
    await b.sendingControls.setPause({ kind: 'tag', tag }, { scope: { kind: 'tag', tag }, since: new Date().toISOString() });
    await new Promise((r) => setTimeout(r, 250));
    const after = await a.sendingControls.snapshot(200);
    expect(after.pauses.some((p) => p.scope.kind === 'tag' && p.scope.tag === tag)).toBe(true);
    await b.sendingControls.setPause({ kind: 'tag', tag }, undefined);
  });
});

describe('a country whose traffic spreads over many prefixes', () => {
  it('keeps each row of the watch within a Table property (64 KiB), at most 400 prefixes a row', async () => {
    const country = `Y${randomUUID().slice(0, 6)}`;
    const at = Date.parse('2026-11-25T10:00:00Z');
    for (let chunk = 0; chunk < 20; chunk++) {
      const observations = Array.from({ length: 1000 }, (_, i): Observation => ({
        kind: 'sent',
        prefix: `+1${3_000_000 + chunk * 1000 + i}`,
        count: 1,
        otp: 0,
      }));
      await (chunk % 2 ? a : b).fraudWatch.observe(DEFAULT_PUMPING_POLICY, country, observations, new Date(at + chunk * 100));
    }
    const client = TableClient.fromConnectionString(azurite.connectionString, 'fraudWatch', { allowInsecureConnection: true });
    let rows = 0;
    for await (const row of client.listEntities<{ state: string }>({
      queryOptions: { filter: `PartitionKey eq '${country}'` },
    })) {
      rows++;
      expect(row.state.length).toBeLessThan(32_768 / 2);
      expect(Object.keys(JSON.parse(row.state) as object).length).toBeLessThanOrEqual(MAX_PREFIXES_PER_SHARD);
    }
    expect(rows).toBe(16);
  });
});
