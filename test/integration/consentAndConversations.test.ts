// The consent log, conversation and opt-out Table Storage adapters against a real Azurite: key
// order and paging, the range of one thread (and not its neighbour's), idempotent writes, and
// conditional state writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite } from '../../local/azurite.js';
import { createTableAdapters, type TableAdapters } from '../../shared/adapters/tables/tableAdapters.js';
import { type ThreadEntry } from '../../shared/domain/conversation.js';
import { ConcurrencyError, InvalidContinuationTokenError } from '../../shared/ports/errors.js';

let azurite: Awaited<ReturnType<typeof startAzurite>>;
let tables: TableAdapters;

beforeAll(async () => {
  azurite = await startAzurite({ silent: true });
  tables = createTableAdapters({ kind: 'connectionString', connectionString: azurite.connectionString });
  await tables.ensureTables();
});

afterAll(async () => {
  await azurite?.stop();
});

const OUR = '+18005550100';
const PERSON = '+14255550123';
const NEIGHBOUR = '+142555501234'; // the person's number is a prefix of this one

function outbound(their: string, at: string, id: string): ThreadEntry {
  return {
    ourNumber: OUR,
    theirNumber: their,
    direction: 'outbound',
    at,
    body: `text ${id}`,
    messageId: `${id}-000`,
    batchId: id,
  };
}

describe('conversations', () => {
  it('a thread is its own key range, newest first, paged; the last outbound before a time is found', async () => {
    const store = tables.conversations;
    await store.recordOutbound([
      outbound(PERSON, '2026-11-25T10:00:00.000Z', 'a'),
      outbound(PERSON, '2026-11-25T10:02:00.000Z', 'b'),
      outbound(NEIGHBOUR, '2026-11-25T10:01:00.000Z', 'n'),
      outbound(PERSON, '2026-11-25T10:02:00.000Z', 'b'), // the same entry twice is one entry
    ]);
    await store.saveInbound({
      ourNumber: OUR,
      theirNumber: PERSON,
      direction: 'inbound',
      at: '2026-11-25T10:01:00.000Z',
      body: 'reply',
      inboundMessageId: 'in-1',
      keyword: null,
      inReplyTo: { messageId: 'a-000', batchId: 'a', sentAt: '2026-11-25T10:00:00.000Z' },
      processed: true,
    });

    const first = await store.thread(OUR, PERSON, { limit: 2 });
    expect(first.items.map((e) => e.body)).toEqual(['text b', 'reply']);
    const second = await store.thread(OUR, PERSON, { limit: 2, continuationToken: first.continuationToken! });
    expect(second.items.map((e) => e.body)).toEqual(['text a']);
    expect(second.continuationToken).toBeUndefined();
    expect(first.items[1]).toEqual({
      ourNumber: OUR,
      theirNumber: PERSON,
      direction: 'inbound',
      at: '2026-11-25T10:01:00.000Z',
      body: 'reply',
      inboundMessageId: 'in-1',
      keyword: null,
      inReplyTo: { messageId: 'a-000', batchId: 'a', sentAt: '2026-11-25T10:00:00.000Z' },
      processed: true,
    });
    await expect(store.thread(OUR, NEIGHBOUR, { limit: 2, continuationToken: first.continuationToken! })).rejects.toBeInstanceOf(
      InvalidContinuationTokenError,
    );

    expect((await store.lastOutbound(OUR, PERSON, '2026-11-25T10:01:30.000Z'))?.messageId).toBe('a-000');
    expect((await store.lastOutbound(OUR, PERSON, '2026-11-25T10:02:00.000Z'))?.messageId).toBe('b-000');
    expect(await store.lastOutbound(OUR, PERSON, '2026-11-25T09:00:00.000Z')).toBeUndefined();
    expect((await store.getInbound(OUR, PERSON, '2026-11-25T10:01:00.000Z', 'in-1'))?.processed).toBe(true);

    expect(await store.eraseThreads(PERSON, [OUR, '+18005550101'])).toBe(3);
    expect((await store.thread(OUR, PERSON, { limit: 10 })).items).toEqual([]);
    expect((await store.thread(OUR, NEIGHBOUR, { limit: 10 })).items).toHaveLength(1);
  });

  it('writes a job of 100 entries in one transaction', async () => {
    const entries = Array.from({ length: 100 }, (_, i) =>
      outbound(`+1303555${String(i).padStart(4, '0')}`, '2026-11-25T11:00:00.000Z', `j${i}`),
    );
    await tables.conversations.recordOutbound(entries);
    expect((await tables.conversations.thread(OUR, '+13035550042', { limit: 5 })).items.map((e) => e.messageId)).toEqual([
      'j42-000',
    ]);
  });
});

describe('consent log', () => {
  it('is insert-only and idempotent by id, oldest first, paged', async () => {
    const log = tables.consentLog;
    const entry = (id: string, at: string) => ({
      id,
      action: 'optOut' as const,
      sender: OUR,
      recipient: PERSON,
      source: 'keyword' as const,
      keyword: 'STOP',
      at,
      applied: true,
    });
    await log.append(entry('c2', '2026-11-25T10:02:00.000Z'));
    await log.append(entry('c1', '2026-11-25T10:01:00.000Z'));
    await log.append(entry('c1', '2026-11-25T10:01:00.000Z'));
    const page = await log.history(PERSON, { limit: 1 });
    expect(page.items.map((e) => e.id)).toEqual(['c1']);
    const rest = await log.history(PERSON, { limit: 5, continuationToken: page.continuationToken! });
    expect(rest.items.map((e) => e.id)).toEqual(['c2']);
    expect(rest.items[0]).toEqual(entry('c2', '2026-11-25T10:02:00.000Z'));
  });

  it('state writes are conditional', async () => {
    const log = tables.consentLog;
    await log.saveState(PERSON, OUR, { at: '2026-11-25T10:00:00.000Z', optedOut: true, changeId: 'x' });
    await expect(
      log.saveState(PERSON, OUR, { at: '2026-11-25T10:00:01.000Z', optedOut: false, changeId: 'y' }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    const state = (await log.state(PERSON, OUR))!;
    expect(state).toMatchObject({ optedOut: true, changeId: 'x' });
    await log.saveState(PERSON, OUR, { ...state, optedOut: false, changeId: 'y' });
    await expect(log.saveState(PERSON, OUR, { ...state, changeId: 'z' })).rejects.toBeInstanceOf(ConcurrencyError);
    // The state rows are not part of the history.
    expect((await log.history(PERSON, { limit: 10 })).items.every((e) => e.id.startsWith('c'))).toBe(true);
  });
});

describe('opt-outs', () => {
  it('finds by point reads and lists in key order across partitions, paged', async () => {
    const store = tables.optOuts;
    const at = '2026-11-25T10:00:00.000Z';
    for (const sender of ['*', '+18005550100', '+18005550101']) {
      for (const r of ['+14255550001', '+14255550002'])
        await store.add({ sender, recipient: r, source: 'api', reason: 'test', at });
    }
    expect((await store.find('+14255550001', ['*', '+18005550101', '+19995550100'])).map((e) => e.sender)).toEqual([
      '*',
      '+18005550101',
    ]);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await store.list({ limit: 4, ...(token ? { continuationToken: token } : {}) });
      seen.push(...page.items.map((e) => `${e.sender}|${e.recipient}`));
      token = page.continuationToken;
    } while (token);
    expect(seen).toHaveLength(6);
    expect(seen[0]).toBe('*|+14255550001');
    expect((await store.list({ sender: '+18005550101', limit: 10 })).items.map((e) => e.recipient)).toEqual([
      '+14255550001',
      '+14255550002',
    ]);
    expect(await store.optedOut('+18005550100', ['+14255550002', '+14255550003'])).toEqual(new Set(['+14255550002']));
    await expect(store.list({ sender: '*', limit: 1, continuationToken: 'garbage' })).rejects.toBeInstanceOf(
      InvalidContinuationTokenError,
    );
  });
});
