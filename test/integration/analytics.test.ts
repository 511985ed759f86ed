// The analytics destination and its Table Storage store against a real Azurite: every fact counted
// exactly once under duplicates and concurrent writers, and the inbound and opt-out figures
// (sms.inbound.received, sms.optout.*) fed to the destination as dispatchEvents would.
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite } from '../../local/azurite.js';
import { createTableAdapters } from '../../shared/adapters/tables/tableAdapters.js';
import { ANALYTICS_SHARDS, TableAnalyticsStore } from '../../shared/adapters/tables/analyticsStore.js';
import type { AnalyticsFact } from '../../shared/domain/analytics.js';
import type { ConsentEventData, InboundEventData, MessageEventData, PipelineEvent } from '../../shared/domain/events.js';
import { DEFAULT_PRICES } from '../../shared/domain/pricing.js';
import { analyticsDestination, readAnalytics } from '../../shared/pipeline/analytics.js';
import { TABLES } from '../../shared/resourceNames.js';

let azurite: Awaited<ReturnType<typeof startAzurite>>;
let store: TableAnalyticsStore;
let client: TableClient;

beforeAll(async () => {
  azurite = await startAzurite({ silent: true });
  const storage = { kind: 'connectionString' as const, connectionString: azurite.connectionString };
  const tables = createTableAdapters(storage);
  await tables.ensureTables();
  store = new TableAnalyticsStore(tables.clientFor);
  client = TableClient.fromConnectionString(azurite.connectionString, TABLES.analytics, { allowInsecureConnection: true });
});

afterAll(async () => {
  await azurite?.stop();
});

const day = (d: string) => ({ from: new Date(`${d}T00:00:00Z`), to: new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000) });

describe('the Table Storage analytics store', () => {
  it('counts every fact exactly once when duplicates arrive from concurrent writers', async () => {
    const facts: AnalyticsFact[] = Array.from({ length: 300 }, (_, i) => ({
      key: `e:load-${i}`,
      at: `2026-10-01T${String(10 + (i % 3)).padStart(2, '0')}:15:00.000Z`,
      tag: 'load',
      sender: '+18005550100',
      template: '',
      tally: { submitted: 1, segmentsSent: 2, fc_4005: i % 10 === 0 ? 1 : 0 },
    }));
    // Eight writers, each with every fact in its own order, plus partial repeats: 3,000+ attempts, 300 facts.
    const shuffled = (seed: number) =>
      [...facts].sort(
        (a, b) =>
          ((a.key.length * 31 + seed * a.key.charCodeAt(a.key.length - 1)) % 7) -
          ((b.key.length * 31 + seed * b.key.charCodeAt(b.key.length - 1)) % 7),
      );
    await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => store.record(shuffled(i))),
      store.record(facts.slice(0, 50)),
      store.record(facts.slice(250)),
    ]);
    await store.record(facts);

    const byDay = await readAnalytics(store, { ...day('2026-10-01'), groupBy: 'day', tag: 'load' });
    expect(byDay.totals).toMatchObject({ submitted: 300, segmentsSent: 600, failedByCode: { '4005': 30 } });
    const byHour = await readAnalytics(store, { ...day('2026-10-01'), groupBy: 'hour', tag: 'load' });
    expect(byHour.groups.filter((g) => g.submitted > 0).map((g) => [g.key, g.submitted])).toEqual([
      ['2026-10-01T10:00:00Z', 100],
      ['2026-10-01T11:00:00Z', 100],
      ['2026-10-01T12:00:00Z', 100],
    ]);
    // Part of a day reads the hourly counters.
    const afternoon = await readAnalytics(store, {
      from: new Date('2026-10-01T11:00:00Z'),
      to: new Date('2026-10-01T12:00:00Z'),
      groupBy: 'tag',
    });
    expect(afternoon.groups).toHaveLength(1);
    expect(afternoon.totals.submitted).toBe(100);
  });

  it('stays exact when instances write the same counters, each remembering rows the other has changed since', async () => {
    const tables = createTableAdapters({ kind: 'connectionString', connectionString: azurite.connectionString });
    const instances = [store, new TableAnalyticsStore(tables.clientFor), new TableAnalyticsStore(tables.clientFor)];
    const fact = (i: number): AnalyticsFact => ({
      key: `e:multi-${i}`,
      at: '2026-10-02T09:30:00.000Z',
      tag: 'multi',
      sender: '+18005550100',
      template: '',
      tally: { delivered: 1, segmentsDelivered: 1 },
    });
    // Rounds of one fact per call, every instance at once, each round a duplicate of the last one
    // too: every instance's remembered ETags are stale by its next round.
    for (let round = 0; round < 12; round++) {
      await Promise.all(
        instances.flatMap((s, n) => [
          s.record([fact(round * 10 + n)]),
          s.record([fact(round * 10 + n), ...(round > 0 ? [fact((round - 1) * 10 + n)] : [])]),
        ]),
      );
    }
    const report = await readAnalytics(store, { ...day('2026-10-02'), groupBy: 'day', tag: 'multi' });
    expect(report.totals).toMatchObject({ delivered: 36, segmentsDelivered: 36 });
  });

  it("keeps each template version's counters apart and reads one version, every version of a name, or all", async () => {
    const fact = (i: number, template: string): AnalyticsFact => ({
      key: `e:tpl-${i}`,
      at: '2026-10-03T08:10:00.000Z',
      tag: 'tpl',
      sender: '+18005550100',
      template,
      tally: { submitted: 1 },
    });
    // reminder@1 ×40, reminder@2 ×25, reminder-x@1 ×10 (a name that "reminder" must not match), none ×5.
    const facts = [
      ...Array.from({ length: 40 }, (_, i) => fact(i, 'reminder@1')),
      ...Array.from({ length: 25 }, (_, i) => fact(100 + i, 'reminder@2')),
      ...Array.from({ length: 10 }, (_, i) => fact(200 + i, 'reminder-x@1')),
      ...Array.from({ length: 5 }, (_, i) => fact(300 + i, '')),
    ];
    await Promise.all([store.record(facts), store.record([...facts].reverse())]);
    for (const groupBy of ['day', 'hour'] as const) {
      const range =
        groupBy === 'day' ? day('2026-10-03') : { from: new Date('2026-10-03T08:00:00Z'), to: new Date('2026-10-03T09:00:00Z') };
      const read = async (template?: string) =>
        (await readAnalytics(store, { ...range, groupBy, tag: 'tpl', ...(template ? { template } : {}) })).totals.submitted;
      expect([
        await read(),
        await read('reminder'),
        await read('reminder@2'),
        await read('reminder-x'),
        await read('reminder@3'),
      ]).toEqual([80, 65, 25, 10, 0]);
      const versions = await readAnalytics(store, { ...range, groupBy: 'templateVersion', tag: 'tpl' });
      expect(versions.groups.map((g) => [g.key, g.submitted])).toEqual([
        [null, 5],
        ['reminder-x@1', 10],
        ['reminder@1', 40],
        ['reminder@2', 25],
      ]);
    }
  });

  it("keeps each app's counters apart (the default app's in the rows it had before apps) and reads one app, or all", async () => {
    const fact = (i: number, app: string | undefined, template = ''): AnalyticsFact => ({
      key: `e:app-${i}`,
      at: '2026-10-04T09:10:00.000Z',
      tag: 'apps',
      sender: '+18005550100',
      template,
      ...(app ? { app } : {}),
      tally: { submitted: 1 },
    });
    // booking ×30 (10 of them from a template), login ×20, the default app ×7: one tag, one sender, one hour.
    const facts = [
      ...Array.from({ length: 20 }, (_, i) => fact(i, 'booking')),
      ...Array.from({ length: 10 }, (_, i) => fact(50 + i, 'booking', 'reminder@1')),
      ...Array.from({ length: 20 }, (_, i) => fact(100 + i, 'login')),
      ...Array.from({ length: 7 }, (_, i) => fact(200 + i, undefined)),
    ];
    await Promise.all([store.record(facts), store.record([...facts].reverse())]);
    for (const groupBy of ['day', 'hour'] as const) {
      const range =
        groupBy === 'day' ? day('2026-10-04') : { from: new Date('2026-10-04T09:00:00Z'), to: new Date('2026-10-04T10:00:00Z') };
      const read = async (app?: string) =>
        (await readAnalytics(store, { ...range, groupBy, tag: 'apps', ...(app ? { app } : {}) })).totals.submitted;
      expect([await read(), await read('booking'), await read('login'), await read('default'), await read('other')]).toEqual([
        57, 30, 20, 7, 0,
      ]);
      const byApp = await readAnalytics(store, { ...range, groupBy: 'app', tag: 'apps' });
      expect(byApp.groups.map((g) => [g.key, g.submitted])).toEqual([
        ['booking', 30],
        ['default', 7],
        ['login', 20],
      ]);
    }
  });

  it('spreads a day over its shards: no counter row is written by every message', async () => {
    const partitions = new Set<string>();
    let facts = 0;
    for await (const e of client.listEntities({
      queryOptions: { filter: `PartitionKey ge '20261001' and PartitionKey lt '20261002'` },
    })) {
      partitions.add(e.partitionKey!);
      if (e.rowKey!.startsWith('f|')) facts++;
    }
    expect(facts).toBe(300);
    expect(partitions.size).toBe(ANALYTICS_SHARDS);
    // Each shard's day counter holds only its share of the 300.
    for await (const e of client.listEntities<{ submitted: number }>({
      queryOptions: { filter: `PartitionKey ge '20261001' and PartitionKey lt '20261002' and RowKey ge 'd|' and RowKey lt 'd}'` },
    })) {
      expect(e.submitted).toBeLessThan(60);
    }
  });
});

describe('inbound and opt-out figures through the analytics destination', () => {
  const US = '+18005550100';
  const CA = '+18005550101';
  const destination = () =>
    analyticsDestination(store, { prices: DEFAULT_PRICES, responseWindowMs: 72 * 3600_000 }, [
      { number: US, type: 'tollFree', ratePerMinute: 200, burst: 3 },
      { number: CA, type: 'tollFree', ratePerMinute: 200, burst: 3 },
    ]);
  const base = { specversion: '1.0' as const, source: '/sms-pipeline/test', datacontenttype: 'application/json' as const };

  const delivered = (n: number, tag: string, from: string, sentAt: string): PipelineEvent<MessageEventData> => ({
    ...base,
    id: `m${n}.delivered`,
    type: 'sms.message.delivered',
    subject: `messages/m${n}`,
    time: new Date(Date.parse(sentAt) + 3000).toISOString(),
    data: {
      messageId: `m${n}`,
      batchId: 'b',
      status: 'delivered',
      previousStatus: 'sent',
      from,
      to: `+1425555${String(n).padStart(4, '0')}`,
      tag,
      encoding: 'GSM-7',
      segments: 1,
      sentAt,
      eventTime: new Date(Date.parse(sentAt) + 1500).toISOString(),
    },
  });
  const inbound = (
    id: string,
    from: string,
    keyword: InboundEventData['keyword'],
    time: string,
    inReplyTo?: InboundEventData['inReplyTo'],
    to = US,
  ): PipelineEvent<InboundEventData> => ({
    ...base,
    id: `inbound.${id}`,
    type: 'sms.inbound.received',
    subject: `inbound/${id}`,
    time,
    data: {
      inboundMessageId: id,
      from,
      to,
      message: keyword ? keyword.toUpperCase() : 'Thanks!',
      keyword,
      receivedAt: time,
      ...(inReplyTo ? { inReplyTo } : {}),
    },
  });
  const consent = (
    id: string,
    type: 'sms.optout.added' | 'sms.optout.removed',
    source: ConsentEventData['source'],
    sender: string,
    time: string,
  ): PipelineEvent<ConsentEventData> => ({
    ...base,
    id,
    type,
    subject: `opt-outs/${sender}`,
    time,
    data: { recipient: '+14255559999', sender, source },
  });

  it('counts inbound messages, replies, answers, keywords and consent changes exactly, duplicates once', async () => {
    const sentAt = '2026-10-05T09:00:00.000Z';
    const reply = (n: number, tag: string) => ({ messageId: `m${n}`, batchId: 'b', tag, sentAt });
    const h = (n: number) => `+1425555${String(n).padStart(4, '0')}`;
    const events: PipelineEvent[] = [
      // Five delivered "spring" messages from US, two "news" messages from CA.
      ...[1, 2, 3, 4, 5].map((n) => delivered(n, 'spring', US, sentAt)),
      ...[6, 7].map((n) => delivered(n, 'news', CA, sentAt)),
      // m1 is answered twice (counts once), m2 once, m3 only after the window (a reply, not an answer).
      inbound('r1', h(1), null, '2026-10-05T09:30:00.000Z', reply(1, 'spring')),
      inbound('r2', h(1), null, '2026-10-05T10:30:00.000Z', reply(1, 'spring')),
      inbound('r3', h(2), null, '2026-10-06T08:00:00.000Z', reply(2, 'spring')),
      inbound('r4', h(3), null, '2026-10-08T09:00:01.000Z', reply(3, 'spring')),
      // STOP from m4 and m6 (with their consent events, which are not counted again), HELP from m5.
      inbound('s1', h(4), 'optOut', '2026-10-05T11:00:00.000Z', reply(4, 'spring')),
      consent('c1', 'sms.optout.added', 'keyword', US, '2026-10-05T11:00:00.000Z'),
      inbound('s2', h(6), 'optOut', '2026-10-05T11:05:00.000Z', reply(6, 'news'), CA),
      inbound('hp', h(5), 'help', '2026-10-05T12:00:00.000Z', reply(5, 'spring')),
      // START later, and an opt-out and an opt-in recorded through the API, for the whole pool.
      inbound('st', h(4), 'optIn', '2026-10-06T12:00:00.000Z', reply(4, 'spring')),
      consent('c2', 'sms.optout.removed', 'keyword', US, '2026-10-06T12:00:00.000Z'),
      consent('c3', 'sms.optout.added', 'api', '*', '2026-10-06T13:00:00.000Z'),
      consent('c4', 'sms.optout.removed', 'carrier', '*', '2026-10-06T14:00:00.000Z'),
      // Not a reply to anything.
      inbound('x1', '+14255558888', null, '2026-10-06T15:00:00.000Z'),
    ];
    const d = destination();
    // At least once: everything twice, in separate deliveries and concurrently, then some again.
    await Promise.all([d.deliver(events), d.deliver([...events].reverse())]);
    await d.deliver(events.slice(5, 12));

    const range = { from: new Date('2026-10-05T00:00:00Z'), to: new Date('2026-10-09T00:00:00Z') };
    const all = await readAnalytics(store, { ...range, groupBy: 'day' });
    expect(all.totals).toMatchObject({
      delivered: 7,
      inbound: 9,
      replies: 8,
      answered: 2,
      optOuts: 3,
      optIns: 2,
      helpRequests: 1,
      responseRate: 0.2857,
      optOutRate: 0.4286,
      latencyCount: 7,
      latencyP50Ms: 1500,
      latencyP95Ms: 1950,
    });
    expect(all.groups.map((g) => [g.key, g.inbound, g.optOuts, g.optIns, g.answered])).toEqual([
      ['2026-10-05', 5, 2, 0, 2],
      ['2026-10-06', 3, 1, 2, 0],
      ['2026-10-07', 0, 0, 0, 0],
      ['2026-10-08', 1, 0, 0, 0],
    ]);

    const byTag = await readAnalytics(store, { ...range, groupBy: 'tag' });
    expect(byTag.groups.map((g) => [g.key, g.delivered, g.answered, g.optOuts, g.responseRate, g.optOutRate])).toEqual([
      [null, 0, 0, 1, null, null],
      ['news', 2, 0, 1, 0, 0.5],
      ['spring', 5, 2, 1, 0.4, 0.2],
    ]);
    const bySender = await readAnalytics(store, { ...range, groupBy: 'sender' });
    expect(bySender.groups.map((g) => [g.key, g.inbound, g.optOuts, g.optIns, g.deliveryRate])).toEqual([
      ['*', 0, 1, 1, null],
      [US, 8, 1, 1, 1],
      [CA, 1, 1, 0, 1],
    ]);
    const spring = await readAnalytics(store, { ...range, groupBy: 'day', tag: 'spring', sender: US });
    expect(spring.totals).toMatchObject({ delivered: 5, replies: 7, answered: 2, optOuts: 1, optIns: 1, helpRequests: 1 });
  });
});
