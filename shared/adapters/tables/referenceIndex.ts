// The app's references → message ids (table "messageReferences"), so GET /api/messages?reference=
// reads one partition range instead of the messages table whole (records are partitioned by batch).
// A reference's entries live in one of 16 shard partitions (FNV-1a of the reference), RowKey
// "<length>:<reference>:<messageId>": one reference is one key range, and a request's references
// are written in at most 16 transactions of up to 100, whatever their number. The entries are
// written before their records, so every stored record is findable; an entry whose record was never
// written (the insert failed after it) is skipped when read.
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { parseMessageId } from '../../domain/ids.js';
import { forEachLimited } from '../../lib/concurrency.js';
import { groupBy } from '../../lib/collections.js';
import { InvalidContinuationTokenError } from '../../ports/errors.js';
import { storageCall } from '../outage.js';
import { decodeContinuation, encodeContinuation, escapeKey, odataString } from './keys.js';

const SHARDS = 16;

/** FNV-1a: stable, so a reference is always looked up where it was written. */
function shardOf(reference: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < reference.length; i++) {
    h ^= reference.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `ref-${String(h % SHARDS).padStart(2, '0')}`;
}

/** The key prefix of a reference: its escaped form with its length first, so no reference's range holds another's. */
function prefixOf(reference: string): string {
  const key = escapeKey(reference);
  return `${String(key.length).padStart(3, '0')}:${key}:`;
}

export class ReferenceIndex {
  constructor(private readonly client: () => Promise<TableClient>) {}

  /** Indexes the messages that have a reference; idempotent (upserts). */
  async add(entries: ReadonlyArray<{ reference?: string; messageId: string }>): Promise<void> {
    const indexed = entries.filter((e): e is { reference: string; messageId: string } => e.reference !== undefined);
    if (indexed.length === 0) return;
    const client = await this.client();
    const chunks: Array<{ partitionKey: string; rows: typeof indexed }> = [];
    for (const [partitionKey, rows] of groupBy(indexed, (e) => shardOf(e.reference))) {
      for (let i = 0; i < rows.length; i += 100) chunks.push({ partitionKey, rows: rows.slice(i, i + 100) });
    }
    await forEachLimited(chunks, 4, async ({ partitionKey, rows }) => {
      const actions = rows.map((e): TransactionAction => [
        'upsert',
        { partitionKey, rowKey: prefixOf(e.reference) + e.messageId, messageId: e.messageId },
        'Replace',
      ]);
      await storageCall('index message references', () => client.submitTransaction(actions));
    });
  }

  /** Removes the entries of messages deleted (retention); entries already gone are skipped. */
  async remove(entries: ReadonlyArray<{ reference: string; messageId: string }>): Promise<void> {
    if (entries.length === 0) return;
    const client = await this.client();
    await forEachLimited(entries, 8, (e) =>
      storageCall('remove message references', async () => {
        try {
          await client.deleteEntity(shardOf(e.reference), prefixOf(e.reference) + e.messageId);
        } catch (error) {
          if ((error as { statusCode?: number })?.statusCode !== 404) throw error;
        }
      }),
    );
  }

  /** Message ids of a reference in key (message id) order, a page at a time, with a token of our own. */
  async find(
    reference: string,
    options: { limit: number; continuationToken?: string },
  ): Promise<{ ids: string[]; continuationToken?: string }> {
    const listing = `references:${reference}`;
    const prefix = prefixOf(reference);
    let from = `RowKey ge ${odataString(prefix)}`;
    if (options.continuationToken !== undefined) {
      const after = decodeContinuation(listing, options.continuationToken, ['r'] as const);
      if (!after) throw new InvalidContinuationTokenError();
      from = `RowKey gt ${odataString(after.r)}`;
    }
    // ';' follows ':' in key order: the range is exactly this reference's entries.
    const filter = `PartitionKey eq ${odataString(shardOf(reference))} and ${from} and RowKey lt ${odataString(`${prefix.slice(0, -1)};`)}`;
    const client = await this.client();
    return storageCall('find message references', async () => {
      const ids: string[] = [];
      let last = '';
      for await (const page of client
        .listEntities<{ messageId: string }>({ queryOptions: { filter } })
        .byPage({ maxPageSize: Math.min(1000, options.limit + 1) })) {
        for (const entity of page) {
          if (ids.length === options.limit) return { ids, continuationToken: encodeContinuation(listing, { r: last }) };
          if (parseMessageId(entity.messageId)) ids.push(entity.messageId);
          last = entity.rowKey!;
        }
      }
      return { ids };
    });
  }
}
