// Retention on a real Azurite, through the stores' day index (table "retention"): a message past
// its text retention has no text in storage nor in GET's view, and keeps its status, metadata and
// analytics; records and conversation entries go after their days; messages and entries of other
// days are not touched; the timer reads only the index partitions of the days due.
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../../local/azurite.js';
import { createTableAdapters, type TableAdapters } from '../../shared/adapters/tables/tableAdapters.js';
import { factsOf } from '../../shared/domain/analytics.js';
import { messageEventsSince } from '../../shared/domain/events.js';
import { messageIdOf, newBatchId } from '../../shared/domain/ids.js';
import { newMessageRecord } from '../../shared/domain/message.js';
import { mergePrices } from '../../shared/domain/pricing.js';
import { toMessageView } from '../../shared/http/messages.js';
import { applyRetention } from '../../shared/pipeline/applyRetention.js';
import { FakeClock, silentLogger } from '../support/fakes.js';

let azurite: Azurite;
let tables: TableAdapters;

beforeAll(async () => {
  azurite = await startAzurite({ silent: true });
  tables = createTableAdapters({ kind: 'connectionString', connectionString: azurite.connectionString });
  await tables.ensureTables();
}, 60_000);

afterAll(async () => {
  await azurite?.stop();
});

const DAY = 86_400_000;
const raw = (table: string) =>
  TableClient.fromConnectionString(azurite.connectionString, table, { allowInsecureConnection: true });

function record(batchId: string, i: number, at: Date, text: string) {
  return newMessageRecord(
    {
      messageId: messageIdOf(batchId, i),
      batchId,
      from: '+18005550100',
      to: `+1425555${String(1000 + i)}`,
      body: text,
      reference: `order-${batchId}-${i}`,
      metadata: { order: String(i) },
      deliveryReport: true,
      status: 'queued',
    },
    at,
  );
}

describe('retention through the day index', () => {
  it('erases texts past their days in storage (status, metadata, analytics kept), then deletes records and entries', async () => {
    const old = new Date('2026-01-10T12:00:00Z');
    const recent = new Date('2026-02-20T12:00:00Z');
    const oldBatch = newBatchId(old);
    const newBatch = newBatchId(recent);
    const olds = [0, 1, 2].map((i) => record(oldBatch, i, old, `Your code ${i} is 4242`));
    const news = [record(newBatch, 0, recent, 'Recent text')];
    await tables.messages.insertBatch([...olds, ...news]);
    // A status change after creation, and the analytics of the old messages.
    olds[0]!.status = 'sent';
    olds[0]!.history.push({ status: 'sent', at: new Date(old.getTime() + 1000).toISOString() });
    await tables.messages.saveAll([olds[0]!]);
    const facts = olds.flatMap((r) =>
      messageEventsSince('/test', r, 0).flatMap((e) =>
        factsOf(e, { prices: mergePrices(), senderType: () => 'tollFree', responseWindowMs: 1 }),
      ),
    );
    await tables.analytics.record(facts);
    const analyticsBefore = await tables.analytics.read({
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2026-03-01T00:00:00Z'),
      resolution: 'day',
    });
    expect(analyticsBefore.length).toBeGreaterThan(0);
    await tables.conversations.recordOutbound(
      olds.map((r) => ({
        ourNumber: r.from,
        theirNumber: r.to,
        direction: 'outbound' as const,
        at: r.createdAt,
        body: r.body,
        messageId: r.messageId,
      })),
    );

    const clock = new FakeClock(old.getTime() + 46 * DAY);
    const deps = {
      retention: tables.retention,
      clock,
      log: silentLogger,
      policy: { textDays: 45, recordDays: 100, conversationDays: 60 },
    };
    const first = await applyRetention(deps);
    expect(first.text.changed).toBe(3);
    expect(first.records.changed + first.conversations.changed).toBe(0);

    // In storage: no text; status, history and metadata as they were.
    for (const r of olds) {
      const entity = await raw('messages').getEntity<Record<string, unknown>>(r.batchId, r.messageId);
      expect(entity.body).toBe('');
      expect(JSON.stringify(entity)).not.toContain('4242');
      expect(entity.textErasedAt).toBe(clock.now().toISOString());
      expect(JSON.parse(String(entity.metadata))).toEqual({ order: String(olds.indexOf(r)) });
    }
    const stored = (await tables.messages.get(olds[0]!.messageId))!;
    expect(stored).toMatchObject({ status: 'sent', body: '' });
    expect(JSON.stringify(toMessageView(stored))).not.toContain('4242');
    // Analytics unchanged; the recent message untouched.
    expect(
      await tables.analytics.read({
        from: new Date('2026-01-01T00:00:00Z'),
        to: new Date('2026-03-01T00:00:00Z'),
        resolution: 'day',
      }),
    ).toEqual(analyticsBefore);
    expect((await tables.messages.get(news[0]!.messageId))!.body).toBe('Recent text');
    // Found by reference still.
    expect((await tables.messages.findByReference(olds[1]!.reference!, { limit: 10 })).items).toHaveLength(1);
    // A second run does nothing again.
    expect((await applyRetention(deps)).text).toEqual({ days: 0, changed: 0 });

    // 61 days: the conversation entries; 101 days: the records, and their references.
    clock.time = old.getTime() + 61 * DAY;
    expect((await applyRetention(deps)).conversations.changed).toBe(3);
    const thread = await tables.conversations.thread(olds[0]!.from, olds[0]!.to, { limit: 10 });
    expect(thread.items).toEqual([]);
    clock.time = old.getTime() + 101 * DAY;
    expect((await applyRetention(deps)).records.changed).toBe(3);
    expect(await tables.messages.get(olds[2]!.messageId)).toBeUndefined();
    expect((await tables.messages.findByReference(olds[1]!.reference!, { limit: 10 })).items).toEqual([]);
    expect(await tables.messages.get(news[0]!.messageId)).toBeDefined();
  }, 60_000);
});
