// Message records in Table Storage: PartitionKey = batch id, RowKey = message id. A batch is one
// partition, so 100 records are written by one transaction and a job's records read by one query.
// The app's references are indexed in `messageReferences` (referenceIndex.ts).
// ACS message ids are indexed in `acsMessageIds` by their key (the GUID every published form
// carries), partitioned by its first hex digit: at most 16 transactions per ACS request, however
// the ids are decorated (the regional form has no send-time prefix to group them by).
import { createHash } from 'node:crypto';
import type { TableClient, TableEntity, TableEntityResult, TransactionAction } from '@azure/data-tables';
import type { MessageRecord } from '../../domain/message.js';
import { acsMessageKey, parseMessageId } from '../../domain/ids.js';
import { ConcurrencyError } from '../../ports/errors.js';
import { type MessageStore } from '../../ports/messages.js';
import type { Page, PageRequest } from '../../ports/paging.js';
import { forEachLimited } from '../../lib/concurrency.js';
import { groupBy } from '../../lib/collections.js';
import { escapeKey, odataString } from './keys.js';
import { ReferenceIndex } from './referenceIndex.js';
import { RetentionIndex } from './retentionStore.js';
import { storageCall } from '../outage.js';
import type { ClientFor } from './tableClients.js';

type Row = Record<string, unknown>;

const JSON_FIELDS = ['history', 'metadata', 'error', 'template'] as const;

function toEntity(record: MessageRecord): TableEntity<Row> {
  const { etag: _etag, ...rest } = record;
  const entity: TableEntity<Row> = { partitionKey: record.batchId, rowKey: record.messageId };
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) continue;
    entity[key] = (JSON_FIELDS as readonly string[]).includes(key) ? JSON.stringify(value) : value;
  }
  return entity;
}

function fromEntity(entity: TableEntityResult<Row>): MessageRecord {
  const record: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entity)) {
    if (['partitionKey', 'rowKey', 'etag', 'timestamp', 'odata.metadata'].includes(key)) continue;
    record[key] = (JSON_FIELDS as readonly string[]).includes(key) && typeof value === 'string' ? JSON.parse(value) : value;
  }
  record.etag = entity.etag;
  return record as unknown as MessageRecord;
}

/** Index partition of an ACS message key: the GUID's first hex digit, or a hash digit for a key that is no GUID. */
export function acsIndexPartition(key: string): string {
  return /^[0-9a-f]{8}-/.test(key) ? key[0]! : `h${createHash('sha256').update(key).digest('hex').slice(0, 1)}`;
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number })?.statusCode;
}

export class TableMessageStore implements MessageStore {
  readonly references: ReferenceIndex;
  private readonly retention: RetentionIndex;

  constructor(private readonly client: ClientFor) {
    this.references = new ReferenceIndex(() => this.client('messageReferences'));
    this.retention = new RetentionIndex(client);
  }

  private messages() {
    return this.client('messages');
  }

  async insertBatch(records: MessageRecord[]): Promise<void> {
    // The indexes before the records: a stored record is always findable by its reference, and by retention.
    await Promise.all([this.references.add(records), this.retention.messages(records)]);
    const client = await this.messages();
    const chunks: MessageRecord[][] = [];
    for (const group of groupBy(records, (r) => r.batchId).values())
      for (let i = 0; i < group.length; i += 100) chunks.push(group.slice(i, i + 100));
    await forEachLimited(chunks, 4, async (chunk) => {
      await storageCall('insert messages', async () => {
        try {
          const response = await client.submitTransaction(chunk.map((r): TransactionAction => ['create', toEntity(r)]));
          response.subResponses.forEach((sub, i) => {
            if (sub.etag && chunk[i]) chunk[i].etag = sub.etag;
          });
        } catch (error) {
          // One existing record fails the whole transaction: insert one by one, keeping what exists.
          if (statusOf(error) !== 409) throw error;
          for (const r of chunk) {
            try {
              const created = await client.createEntity(toEntity(r));
              if (created.etag) r.etag = created.etag;
            } catch (e) {
              if (statusOf(e) !== 409) throw e;
            }
          }
        }
      });
    });
  }

  async get(messageId: string): Promise<MessageRecord | undefined> {
    const parsed = parseMessageId(messageId);
    if (!parsed) return undefined;
    const client = await this.messages();
    return storageCall('read message', async () => {
      try {
        return fromEntity(await client.getEntity<Row>(parsed.batchId, messageId));
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async getMany(batchId: string, messageIds: readonly string[]): Promise<Map<string, MessageRecord>> {
    const out = new Map<string, MessageRecord>();
    if (messageIds.length === 0) return out;
    const sorted = [...messageIds].sort();
    const wanted = new Set(messageIds);
    const client = await this.messages();
    const filter = `PartitionKey eq ${odataString(batchId)} and RowKey ge ${odataString(sorted[0]!)} and RowKey le ${odataString(sorted.at(-1)!)}`;
    await storageCall('read messages', async () => {
      for await (const entity of client.listEntities<Row>({ queryOptions: { filter } })) {
        if (wanted.has(entity.rowKey!)) out.set(entity.rowKey!, fromEntity(entity));
      }
    });
    return out;
  }

  async findInBatchByRecipient(batchId: string, to: string): Promise<MessageRecord | undefined> {
    const client = await this.messages();
    const filter = `PartitionKey eq ${odataString(batchId)} and to eq ${odataString(to)}`;
    return storageCall('find message', async () => {
      for await (const entity of client.listEntities<Row>({ queryOptions: { filter } })) return fromEntity(entity);
      return undefined;
    });
  }

  async listBatch(batchId: string, options: { limit: number; continuationToken?: string }): Promise<Page<MessageRecord>> {
    const client = await this.messages();
    const filter = `PartitionKey eq ${odataString(batchId)}`;
    return storageCall('list batch', async () => {
      const pages = client.listEntities<Row>({ queryOptions: { filter } }).byPage({
        maxPageSize: options.limit,
        ...(options.continuationToken ? { continuationToken: options.continuationToken } : {}),
      });
      for await (const page of pages) {
        return {
          items: page.map(fromEntity),
          ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
        };
      }
      return { items: [] };
    });
  }

  async saveAll(records: MessageRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.references.add(records.filter((r) => !r.etag));
    const client = await this.messages();
    for (const group of groupBy(records, (r) => r.batchId).values()) {
      for (let i = 0; i < group.length; i += 100) {
        const chunk = group.slice(i, i + 100);
        await storageCall('save messages', async () => {
          try {
            const actions = chunk.map((r): TransactionAction =>
              r.etag ? ['update', toEntity(r), 'Replace', { etag: r.etag }] : ['create', toEntity(r)],
            );
            const response = await client.submitTransaction(actions);
            response.subResponses.forEach((sub, j) => {
              if (sub.etag && chunk[j]) chunk[j].etag = sub.etag;
            });
          } catch (error) {
            const status = statusOf(error);
            if (status === 412 || status === 409 || status === 404) throw new ConcurrencyError();
            throw error;
          }
        });
      }
    }
  }

  async save(record: MessageRecord): Promise<void> {
    if (!record.etag) await this.references.add([record]);
    const client = await this.messages();
    await storageCall('save message', async () => {
      try {
        const response = record.etag
          ? await client.updateEntity(toEntity(record), 'Replace', { etag: record.etag })
          : await client.createEntity(toEntity(record));
        if (response.etag) record.etag = response.etag;
      } catch (error) {
        const status = statusOf(error);
        if (status === 412 || status === 409 || status === 404) throw new ConcurrencyError();
        throw error;
      }
    });
  }

  async findByReference(reference: string, options: PageRequest): Promise<Page<MessageRecord>> {
    const { ids, continuationToken } = await this.references.find(reference, options);
    const found = new Map<string, MessageRecord>();
    await Promise.all(
      [...groupBy(ids, (id) => parseMessageId(id)!.batchId)].map(async ([batchId, group]) => {
        for (const [id, record] of await this.getMany(batchId, group)) found.set(id, record);
      }),
    );
    return { items: ids.flatMap((id) => found.get(id) ?? []), ...(continuationToken ? { continuationToken } : {}) };
  }

  async indexAcsMessageIds(entries: ReadonlyArray<{ acsMessageId: string; messageId: string }>): Promise<void> {
    if (entries.length === 0) return;
    const client = await this.client('acsMessageIds');
    const keyed = entries.map((e) => ({ key: acsMessageKey(e.acsMessageId), messageId: e.messageId }));
    const byPartition = groupBy(keyed, (e) => acsIndexPartition(e.key));
    await storageCall('index ACS message ids', async () => {
      // A request's keys spread over up to 16 partitions: written side by side, not one after another.
      await forEachLimited([...byPartition], 4, async ([partitionKey, group]) => {
        for (let i = 0; i < group.length; i += 100) {
          await client.submitTransaction(
            group
              .slice(i, i + 100)
              .map((e): TransactionAction => [
                'upsert',
                { partitionKey, rowKey: escapeKey(e.key), messageId: e.messageId },
                'Replace',
              ]),
          );
        }
      });
    });
  }

  async messageIdForAcsMessageId(acsMessageId: string): Promise<string | undefined> {
    const client = await this.client('acsMessageIds');
    const key = acsMessageKey(acsMessageId);
    return storageCall('look up ACS message id', async () => {
      try {
        const entity = await client.getEntity<{ messageId: string }>(acsIndexPartition(key), escapeKey(key));
        return entity.messageId;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async listByRecipient(to: string): Promise<MessageRecord[]> {
    const client = await this.messages();
    const filter = `to eq ${odataString(to)}`;
    return storageCall('find messages of a recipient', async () => {
      const out: MessageRecord[] = [];
      for await (const entity of client.listEntities<Row>({ queryOptions: { filter } })) out.push(fromEntity(entity));
      return out;
    });
  }

  async ping(): Promise<void> {
    const client: TableClient = await this.messages();
    await storageCall('ping', async () => {
      try {
        await client.getEntity('health', 'health');
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
    });
  }
}
