import { describe, expect, it } from 'vitest';
import { messageIdOf } from '../../shared/domain/ids.js';
import type { MessageRecord } from '../../shared/domain/message.js';
import { MESSAGE_STATUSES, type MessageStatus } from '../../shared/domain/messageStatus.js';
import { batchResponse, batchView } from '../../shared/http/batches.js';
import { messageView, toMessageView } from '../../shared/http/messages.js';
import type { StatusEventSink } from '../../shared/ports/events.js';
import type { Page } from '../../shared/ports/paging.js';
import { CANCEL_REASON, cancelMessage as cancelRecord } from '../../shared/pipeline/cancelMessage.js';
import { getBatch as readBatch, type GetBatchResult } from '../../shared/pipeline/getBatch.js';
import { FakeClock, FakeMessageStore, RecordingSink, silentLogger } from '../support/fakes.js';

/** The cancel use case with its result as the API shows it. */
async function cancelMessage(deps: { messages: FakeMessageStore; clock: FakeClock; events?: StatusEventSink }, id: string) {
  const result = await cancelRecord({ log: silentLogger, events: new RecordingSink(), ...deps }, id);
  return result.kind === 'notFound' ? result : { ...result, message: toMessageView(result.message) };
}

/** getBatch with the batch as the API shows it. */
async function getBatch(...args: Parameters<typeof readBatch>) {
  const result: GetBatchResult = await readBatch(...args);
  return result.kind === 'found' ? { kind: 'found' as const, batch: batchView(result.batch) } : result;
}

const BATCH = '01kmx3f2g0abcdefghjkmn';

function record(index: number, status: MessageStatus, batchId = BATCH): MessageRecord {
  const at = '2026-11-25T09:59:00.000Z';
  return {
    messageId: messageIdOf(batchId, index),
    batchId,
    from: '+18005550100',
    to: `+1425555${String(index).padStart(4, '0')}`,
    body: 'Hello',
    encoding: 'GSM-7',
    segments: 1,
    deliveryReport: true,
    status,
    history: [{ status, at }],
    createdAt: at,
    updatedAt: at,
    attempts: 0,
  };
}

/** The fake store, paging like Table Storage: at most `limit` (and at most `pageCap`) per page. */
class PagingStore extends FakeMessageStore {
  listCalls = 0;
  constructor(private readonly pageCap = 1000) {
    super();
  }
  override async listBatch(
    batchId: string,
    options?: { limit: number; continuationToken?: string },
  ): Promise<Page<MessageRecord>> {
    this.listCalls++;
    const all = (await super.listBatch(batchId, { limit: Number.MAX_SAFE_INTEGER })).items.sort((a, b) =>
      a.messageId < b.messageId ? -1 : 1,
    );
    const start = Number(options?.continuationToken ?? 0);
    const size = Math.min(options?.limit ?? 1000, this.pageCap);
    const items = all.slice(start, start + size);
    return { items, ...(start + size < all.length ? { continuationToken: String(start + size) } : {}) };
  }
}

async function storeWith(...records: MessageRecord[]) {
  const store = new PagingStore();
  await store.insertBatch(records);
  return store;
}

describe('cancelMessage', () => {
  const clock = new FakeClock();

  it.each(['queued', 'scheduled', 'held'] as const)(
    'cancels a %s message: canceled, with the reason, never to be sent',
    async (status) => {
      const store = await storeWith(record(0, status));
      const result = await cancelMessage({ messages: store, clock }, messageIdOf(BATCH, 0));
      expect(result.kind).toBe('canceled');
      if (result.kind !== 'canceled') return;
      expect(result.alreadyCanceled).toBe(false);
      expect(result.message.status).toBe('canceled');
      expect(messageView.safeParse(result.message).success).toBe(true);
      const stored = store.rows.get(messageIdOf(BATCH, 0))!;
      expect(stored.status).toBe('canceled');
      expect(stored.history.at(-1)).toEqual({ status: 'canceled', at: clock.now().toISOString(), reason: CANCEL_REASON });
    },
  );

  it('answers a repeated cancel the same way, changing nothing', async () => {
    const store = await storeWith(record(0, 'queued'));
    await cancelMessage({ messages: store, clock }, messageIdOf(BATCH, 0));
    const etag = store.rows.get(messageIdOf(BATCH, 0))!.etag;
    const again = await cancelMessage({ messages: store, clock }, messageIdOf(BATCH, 0));
    expect(again).toMatchObject({ kind: 'canceled', alreadyCanceled: true, message: { status: 'canceled' } });
    expect(store.rows.get(messageIdOf(BATCH, 0))!.etag).toBe(etag);
  });

  const tooLate = MESSAGE_STATUSES.filter((s) => s !== 'queued' && s !== 'scheduled' && s !== 'held' && s !== 'canceled');
  it.each(tooLate)('refuses a %s message, naming its status, and changes nothing', async (status) => {
    const store = await storeWith(record(0, status));
    const before = structuredClone(store.rows.get(messageIdOf(BATCH, 0)));
    const result = await cancelMessage({ messages: store, clock }, messageIdOf(BATCH, 0));
    expect(result).toMatchObject({ kind: 'notCancelable', status });
    expect(store.rows.get(messageIdOf(BATCH, 0))).toEqual(before);
  });

  it('answers notFound for an unknown message', async () => {
    const store = await storeWith(record(0, 'queued'));
    expect(await cancelMessage({ messages: store, clock }, messageIdOf(BATCH, 7))).toEqual({ kind: 'notFound' });
    expect(await cancelMessage({ messages: store, clock }, 'nonsense')).toEqual({ kind: 'notFound' });
  });

  it('loses to a sender that wrote first: reads again and answers with the new status', async () => {
    const store = await storeWith(record(0, 'queued'));
    const id = messageIdOf(BATCH, 0);
    // Between the cancel's read and its write, the sender records the hand-over.
    store.beforeSave = () => {
      const current = store.rows.get(id)!;
      store.rows.set(id, { ...current, status: 'sending', etag: 'sender-wrote' });
    };
    const result = await cancelMessage({ messages: store, clock }, id);
    expect(result).toMatchObject({ kind: 'notCancelable', status: 'sending' });
    expect(store.rows.get(id)!.status).toBe('sending');
  });

  it('wins when it writes first: a sender holding the old version cannot overwrite it', async () => {
    const store = await storeWith(record(0, 'queued'));
    const id = messageIdOf(BATCH, 0);
    const senderCopy = (await store.get(id))!;
    await cancelMessage({ messages: store, clock }, id);
    senderCopy.status = 'sending';
    await expect(store.save(senderCopy)).rejects.toThrow(/changed/);
    expect(store.rows.get(id)!.status).toBe('canceled');
  });

  it('tells the status event sink about the cancel', async () => {
    const store = await storeWith(record(0, 'scheduled'));
    const seen: string[] = [];
    await cancelMessage(
      {
        messages: store,
        clock,
        events: { statusChanged: async (rs) => void seen.push(...rs.map((r) => `${r.messageId}:${r.status}`)) },
      },
      messageIdOf(BATCH, 0),
    );
    expect(seen).toEqual([`${messageIdOf(BATCH, 0)}:canceled`]);
  });
});

describe('getBatch', () => {
  it('counts every status over the whole batch and lists messages without history', async () => {
    const statuses: MessageStatus[] = ['queued', 'queued', 'sent', 'delivered', 'failed', 'suppressed', 'canceled'];
    const store = await storeWith(...statuses.map((s, i) => record(i, s)), record(0, 'queued', '01kmx3f2g0zzzzzzzzzzzz'));
    const result = await getBatch(store, BATCH, { limit: 100 });
    expect(result.kind).toBe('found');
    if (result.kind !== 'found') return;
    const batch = result.batch;
    expect(batchResponse.safeParse(batch).success).toBe(true);
    expect(batch.total).toBe(7);
    expect(batch.counts).toEqual({
      queued: 2,
      scheduled: 0,
      held: 0,
      sending: 0,
      sent: 1,
      delivered: 1,
      failed: 1,
      suppressed: 1,
      canceled: 1,
      expired: 0,
      unknown: 0,
    });
    expect(batch.messages.map((m) => m.messageId)).toEqual(statuses.map((_, i) => messageIdOf(BATCH, i)));
    expect(batch.messages[0]).not.toHaveProperty('history');
    expect(batch.messages[0]).not.toHaveProperty('body');
    expect(batch.continuationToken).toBeUndefined();
  });

  it('pages the messages with its own continuation token while the counts stay whole', async () => {
    const store = await storeWith(...Array.from({ length: 5 }, (_, i) => record(i, i < 2 ? 'delivered' : 'queued')));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const result = await getBatch(store, BATCH, { limit: 2, ...(token ? { continuationToken: token } : {}) });
      if (result.kind !== 'found') throw new Error(result.kind);
      expect(result.batch.total).toBe(5);
      expect(result.batch.counts.delivered).toBe(2);
      expect(result.batch.messages.length).toBeLessThanOrEqual(2);
      seen.push(...result.batch.messages.map((m) => m.messageId));
      token = result.batch.continuationToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 5 }, (_, i) => messageIdOf(BATCH, i)));
  });

  it('reads every store page of a 1,000-recipient batch to count it', async () => {
    const store = new PagingStore(300);
    await store.insertBatch(Array.from({ length: 1000 }, (_, i) => record(i, i % 4 === 0 ? 'failed' : 'delivered')));
    const result = await getBatch(store, BATCH, { limit: 1000 });
    if (result.kind !== 'found') throw new Error(result.kind);
    expect(store.listCalls).toBe(4);
    expect(result.batch.total).toBe(1000);
    expect(result.batch.counts).toMatchObject({ failed: 250, delivered: 750 });
    expect(result.batch.messages).toHaveLength(1000);
    expect(result.batch.continuationToken).toBeUndefined();
  });

  it('refuses a continuation token that is not one of this batch', async () => {
    const store = await storeWith(
      record(0, 'queued'),
      record(1, 'queued'),
      record(0, 'queued', 'otherbatch'),
      record(1, 'queued', 'otherbatch'),
    );
    const other = await getBatch(store, 'otherbatch', { limit: 1 });
    if (other.kind !== 'found') throw new Error(other.kind);
    expect(other.batch.continuationToken).toBeDefined();
    expect(await getBatch(store, BATCH, { limit: 1, continuationToken: other.batch.continuationToken! })).toMatchObject({
      kind: 'invalidToken',
    });
    expect(await getBatch(store, BATCH, { limit: 1, continuationToken: 'garbage!' })).toMatchObject({ kind: 'invalidToken' });
  });

  it('answers notFound for an unknown batch or an id no batch can have', async () => {
    const store = await storeWith(record(0, 'queued'));
    expect(await getBatch(store, '01kmx3f2g0yyyyyyyyyyyy', { limit: 10 })).toEqual({ kind: 'notFound' });
    expect(await getBatch(store, "x' or PartitionKey ne '", { limit: 10 })).toEqual({ kind: 'notFound' });
    expect(store.listCalls).toBe(1);
  });
});
