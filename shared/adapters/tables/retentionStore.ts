// Retention in Table Storage (table "retention"), so the timer never scans the messages or
// conversations tables: the stores index what they create by the UTC day it was made —
//   "m|<day>" / <batchId>: a batch of message records (records are partitioned by batch), written
//     before the records, one upsert per batch;
//   "c|<day>" / <partition>|<row>: a conversation entry, written with the entries: every entry of a
//     day is in one index partition, so a send job's entries are one more transaction, not one each;
//   "done" / <stage>|<day>: a stage finished for a day.
// A stage for a day reads its day's index partition and works by key: texts erased by Merge (only
// body and textErasedAt change, so a concurrent status update is not lost, and a save of an older
// read fails its etag and reads again), records and entries deleted in transactions of 100.
import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { MessageRecord } from '../../domain/message.js';
import { retentionDay, type RetentionStage } from '../../domain/retention.js';
import { forEachLimited } from '../../lib/concurrency.js';
import { groupBy } from '../../lib/collections.js';
import type { RetentionStore } from '../../ports/sendRules.js';
import { storageCall } from '../outage.js';
import { odataString } from './keys.js';
import type { ReferenceIndex } from './referenceIndex.js';
import type { ClientFor } from './tableClients.js';

type Row = Record<string, unknown>;
type Key = { partitionKey: string; rowKey: string };

const statusOf = (error: unknown) => (error as { statusCode?: number })?.statusCode;

/** What the stores write as they create: the day index. */
export class RetentionIndex {
  constructor(private readonly client: ClientFor) {}

  /** Indexes batches of message records by the day they were made (before the records are written). */
  async messages(records: readonly MessageRecord[]): Promise<void> {
    const rows = new Map<string, Key>();
    for (const r of records) {
      const row = { partitionKey: `m|${retentionDay(r.createdAt)}`, rowKey: r.batchId };
      rows.set(`${row.partitionKey}/${row.rowKey}`, row);
    }
    await this.upsert([...rows.values()]);
  }

  /** Indexes conversation entries (their table keys) by the day they were made. */
  async conversations(entries: ReadonlyArray<Key & { at: string }>): Promise<void> {
    await this.upsert(
      entries.map((e) => ({
        partitionKey: `c|${retentionDay(Number.isFinite(Date.parse(e.at)) ? e.at : new Date())}`,
        rowKey: `${e.partitionKey}|${e.rowKey}`,
        pk: e.partitionKey,
        rk: e.rowKey,
      })),
    );
  }

  private async upsert(rows: ReadonlyArray<Key & Row>): Promise<void> {
    if (rows.length === 0) return;
    const client = await this.client('retention');
    const chunks = [...groupBy(rows, (r) => r.partitionKey).values()].flatMap((group) =>
      Array.from({ length: Math.ceil(group.length / 100) }, (_, i) => group.slice(i * 100, i * 100 + 100)),
    );
    await forEachLimited(chunks, 4, (chunk) =>
      storageCall('index for retention', async () => {
        await client.submitTransaction(chunk.map((row): TransactionAction => ['upsert', row, 'Replace']));
      }),
    );
  }
}

export class TableRetentionStore implements RetentionStore {
  constructor(
    private readonly client: ClientFor,
    private readonly references: ReferenceIndex,
  ) {}

  async doneDays(stage: RetentionStage, days: readonly string[]): Promise<Set<string>> {
    const done = new Set<string>();
    if (days.length === 0) return done;
    const client = await this.client('retention');
    const sorted = [...days].sort();
    const filter = `PartitionKey eq 'done' and RowKey ge ${odataString(`${stage}|${sorted[0]}`)} and RowKey le ${odataString(`${stage}|${sorted.at(-1)}`)}`;
    await storageCall('read retention progress', async () => {
      for await (const e of client.listEntities<Row>({ queryOptions: { filter } })) done.add(e.rowKey!.slice(stage.length + 1));
    });
    return done;
  }

  async apply(stage: RetentionStage, day: string, now: Date): Promise<number> {
    const index = await this.client('retention');
    const rows = await this.list(index, `${stage === 'conversations' ? 'c' : 'm'}|${day}`);
    let changed = 0;
    if (stage === 'conversations') {
      changed = await this.deleteKeys(
        await this.client('conversations'),
        rows.map((r) => ({ partitionKey: String(r.pk), rowKey: String(r.rk) })),
      );
      await this.deleteKeys(index, rows.map(keyOf));
    } else {
      const messages = await this.client('messages');
      await forEachLimited(rows, 4, async (row) => {
        const records = await this.list(messages, row.rowKey!);
        if (stage === 'text') changed += await this.eraseTexts(messages, records, now);
        else {
          await this.references.remove(
            records
              .filter((r) => typeof r.reference === 'string')
              .map((r) => ({ reference: String(r.reference), messageId: r.rowKey! })),
          );
          changed += await this.deleteKeys(messages, records.map(keyOf));
        }
      });
      if (stage === 'records') await this.deleteKeys(index, rows.map(keyOf));
    }
    await storageCall('mark retention progress', () =>
      index.upsertEntity({ partitionKey: 'done', rowKey: `${stage}|${day}`, at: now.toISOString(), changed }, 'Replace'),
    );
    return changed;
  }

  private async list(client: TableClient, partitionKey: string): Promise<Array<Row & Partial<Key>>> {
    const rows: Array<Row & Partial<Key>> = [];
    await storageCall('read for retention', async () => {
      const filter = `PartitionKey eq ${odataString(partitionKey)}`;
      for await (const e of client.listEntities<Row>({ queryOptions: { filter } })) rows.push(e);
    });
    return rows;
  }

  /** Erases the texts still there; returns how many. */
  private async eraseTexts(client: TableClient, records: ReadonlyArray<Row & Partial<Key>>, now: Date): Promise<number> {
    const withText = records.filter((r) => typeof r.body === 'string' && r.body !== '');
    for (let i = 0; i < withText.length; i += 100) {
      const actions = withText
        .slice(i, i + 100)
        .map((r): TransactionAction => ['update', { ...keyOf(r), body: '', textErasedAt: now.toISOString() }, 'Merge']);
      await storageCall('erase message texts', () => client.submitTransaction(actions));
    }
    return withText.length;
  }

  /** Deletes entities by key, 100 per transaction of a partition; one gone already is skipped. Returns how many were there. */
  private async deleteKeys(client: TableClient, keys: readonly Key[]): Promise<number> {
    let deleted = 0;
    const chunks = [...groupBy(keys, (k) => k.partitionKey).values()].flatMap((group) =>
      Array.from({ length: Math.ceil(group.length / 100) }, (_, i) => group.slice(i * 100, i * 100 + 100)),
    );
    await forEachLimited(chunks, 4, async (chunk) => {
      try {
        await storageCall('delete for retention', () =>
          client.submitTransaction(chunk.map((k): TransactionAction => ['delete', k])),
        );
        deleted += chunk.length;
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
        for (const k of chunk) {
          try {
            await storageCall('delete for retention', () => client.deleteEntity(k.partitionKey, k.rowKey));
            deleted++;
          } catch (e) {
            if (statusOf(e) !== 404) throw e;
          }
        }
      }
    });
    return deleted;
  }
}

const keyOf = (r: Partial<Key>): Key => ({ partitionKey: r.partitionKey!, rowKey: r.rowKey! });
