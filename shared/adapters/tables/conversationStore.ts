// Conversations in Table Storage. PartitionKey = our number; RowKey =
// "<their number>|<inverted time>|<o|i>|<message id>". So:
//   - a thread (our number, their number) is one contiguous key range, newest first: a page is one
//     range query;
//   - every outbound entry of a send job (one sender, up to 100 recipients) is in the same
//     partition: the job's entries are one transaction, one storage request per job, not one per
//     message;
//   - an inbound entry's key is derived from its ACS id and receive time, so a redelivered event
//     finds its entry with a point read.
// A busy number's partition takes at most a few writes per second: one per send job and one per
// inbound text, far below a partition's 2,000 operations per second.
import type { TableEntityResult, TransactionAction } from '@azure/data-tables';
import { type ThreadEntry } from '../../domain/conversation.js';
import { type ConversationStore } from '../../ports/conversations.js';
import { InvalidContinuationTokenError } from '../../ports/errors.js';
import { type Page } from '../../ports/paging.js';
import { decodeContinuation, encodeContinuation, escapeKey, odataString, unescapeKey } from './keys.js';
import { storageCall } from '../outage.js';
import { RetentionIndex } from './retentionStore.js';
import type { ClientFor } from './tableClients.js';

type Row = Omit<ThreadEntry, 'ourNumber' | 'inReplyTo' | 'keyword'> & { inReplyTo?: string; keyword?: string };

/** Milliseconds since 1970 counted down from a far date: ascending keys list the newest first. */
function invertedTime(at: string): string {
  const ms = Date.parse(at);
  return String(9_999_999_999_999 - (Number.isFinite(ms) ? ms : 0)).padStart(13, '0');
}

function rowKey(entry: Pick<ThreadEntry, 'theirNumber' | 'at' | 'direction' | 'messageId' | 'inboundMessageId'>): string {
  const id = entry.direction === 'outbound' ? entry.messageId : entry.inboundMessageId;
  return `${escapeKey(entry.theirNumber)}|${invertedTime(entry.at)}|${entry.direction === 'outbound' ? 'o' : 'i'}|${escapeKey(id ?? '')}`;
}

function toEntity(entry: ThreadEntry) {
  const { ourNumber, inReplyTo, keyword, ...rest } = entry;
  const row: Record<string, unknown> = { partitionKey: escapeKey(ourNumber), rowKey: rowKey(entry) };
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) row[k] = v;
  if (inReplyTo) row.inReplyTo = JSON.stringify(inReplyTo);
  if (entry.direction === 'inbound') row.keyword = keyword ?? 'none';
  return row as { partitionKey: string; rowKey: string } & Record<string, unknown>;
}

function fromEntity(e: TableEntityResult<Row>): ThreadEntry {
  const entry: ThreadEntry = {
    ourNumber: unescapeKey(e.partitionKey ?? ''),
    theirNumber: e.theirNumber,
    direction: e.direction,
    at: e.at,
    body: e.body ?? '',
  };
  if (e.app) entry.app = e.app;
  if (e.messageId) entry.messageId = e.messageId;
  if (e.batchId) entry.batchId = e.batchId;
  if (e.tag) entry.tag = e.tag;
  if (e.template) entry.template = e.template;
  if (e.inboundMessageId) entry.inboundMessageId = e.inboundMessageId;
  if (e.direction === 'inbound') entry.keyword = e.keyword && e.keyword !== 'none' ? (e.keyword as ThreadEntry['keyword']) : null;
  if (e.inReplyTo) entry.inReplyTo = JSON.parse(e.inReplyTo) as ThreadEntry['inReplyTo'];
  if (e.processed !== undefined) entry.processed = e.processed;
  return entry;
}

const statusOf = (error: unknown) => (error as { statusCode?: number })?.statusCode;

export class TableConversationStore implements ConversationStore {
  private readonly retention: RetentionIndex;

  constructor(private readonly client: ClientFor) {
    this.retention = new RetentionIndex(client);
  }

  async recordOutbound(entries: readonly ThreadEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const client = await this.client('conversations');
    const byPartition = new Map<string, Map<string, ReturnType<typeof toEntity>>>();
    for (const entry of entries) {
      const entity = toEntity(entry);
      const group = byPartition.get(entity.partitionKey) ?? new Map<string, ReturnType<typeof toEntity>>();
      group.set(entity.rowKey, entity); // a transaction may not name one entity twice
      byPartition.set(entity.partitionKey, group);
    }
    const chunks: Array<Array<ReturnType<typeof toEntity>>> = [];
    for (const group of byPartition.values()) {
      const all = [...group.values()];
      for (let i = 0; i < all.length; i += 100) chunks.push(all.slice(i, i + 100));
    }
    await Promise.all([
      this.retention.conversations(
        chunks.flat().map((e) => ({ partitionKey: e.partitionKey, rowKey: e.rowKey, at: String(e.at) })),
      ),
      storageCall('record conversation entries', () =>
        Promise.all(
          chunks.map((chunk) => client.submitTransaction(chunk.map((e): TransactionAction => ['upsert', e, 'Replace']))),
        ),
      ),
    ]);
  }

  async saveInbound(entry: ThreadEntry): Promise<void> {
    const client = await this.client('conversations');
    const entity = toEntity(entry);
    await Promise.all([
      this.retention.conversations([{ partitionKey: entity.partitionKey, rowKey: entity.rowKey, at: entry.at }]),
      storageCall('record an inbound text', () => client.upsertEntity(entity, 'Replace')),
    ]);
  }

  async getInbound(
    ourNumber: string,
    theirNumber: string,
    at: string,
    inboundMessageId: string,
  ): Promise<ThreadEntry | undefined> {
    const client = await this.client('conversations');
    const key = rowKey({ theirNumber, at, direction: 'inbound', inboundMessageId });
    return storageCall('read an inbound text', async () => {
      try {
        return fromEntity(await client.getEntity<Row>(escapeKey(ourNumber), key));
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async lastOutbound(ourNumber: string, theirNumber: string, at: string): Promise<ThreadEntry | undefined> {
    const client = await this.client('conversations');
    const their = escapeKey(theirNumber);
    const filter =
      `PartitionKey eq ${odataString(escapeKey(ourNumber))} and RowKey ge ${odataString(`${their}|${invertedTime(at)}`)}` +
      ` and RowKey lt ${odataString(`${their}}`)} and direction eq 'outbound'`;
    return storageCall('find the message a text answers', async () => {
      for await (const e of client.listEntities<Row>({ queryOptions: { filter } })) return fromEntity(e);
      return undefined;
    });
  }

  async thread(
    ourNumber: string,
    theirNumber: string,
    options: { limit: number; continuationToken?: string },
  ): Promise<Page<ThreadEntry>> {
    const client = await this.client('conversations');
    const listing = `thread:${ourNumber}:${theirNumber}`;
    const their = escapeKey(theirNumber);
    let from = `RowKey gt ${odataString(`${their}|`)}`;
    if (options.continuationToken !== undefined) {
      const after = decodeContinuation(listing, options.continuationToken, ['r'] as const);
      if (!after) throw new InvalidContinuationTokenError();
      from = `RowKey gt ${odataString(after.r)}`;
    }
    const filter = `PartitionKey eq ${odataString(escapeKey(ourNumber))} and ${from} and RowKey lt ${odataString(`${their}}`)}`;
    return storageCall('read a conversation', async () => {
      const items: ThreadEntry[] = [];
      let lastKey = '';
      for await (const e of client.listEntities<Row>({ queryOptions: { filter } })) {
        if (items.length === options.limit) return { items, continuationToken: encodeContinuation(listing, { r: lastKey }) };
        items.push(fromEntity(e));
        lastKey = e.rowKey!;
      }
      return { items };
    });
  }

  async eraseThreads(theirNumber: string, ourNumbers: readonly string[]): Promise<number> {
    const client = await this.client('conversations');
    const their = escapeKey(theirNumber);
    const counts = await storageCall('erase conversations', () =>
      Promise.all(
        [...new Set(ourNumbers)].map(async (ourNumber) => {
          const partitionKey = escapeKey(ourNumber);
          const filter = `PartitionKey eq ${odataString(partitionKey)} and RowKey gt ${odataString(`${their}|`)} and RowKey lt ${odataString(`${their}}`)}`;
          const keys: string[] = [];
          for await (const e of client.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) keys.push(e.rowKey!);
          for (let i = 0; i < keys.length; i += 100) {
            await client.submitTransaction(
              keys.slice(i, i + 100).map((rowKey): TransactionAction => ['delete', { partitionKey, rowKey }]),
            );
          }
          return keys.length;
        }),
      ),
    );
    return counts.reduce((a, b) => a + b, 0);
  }
}
