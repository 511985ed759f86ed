// Opt-outs in Table Storage: PartitionKey = sender number (or "*" for the whole pool), RowKey =
// recipient, so the per-send check is a point read — and a job's recipients are checked with a
// few filtered queries on two partitions (Table queries allow 15 comparisons per filter).
import type { TableEntityResult } from '@azure/data-tables';
import type { ConsentChange, OptOutStore } from '../../ports.js';
import { escapeKey, odataString } from './keys.js';
import { storageCall, type ClientFor } from './tableClients.js';

/** Recipients per query: 15 comparisons, two of which select the partitions. */
const PER_QUERY = 13;

export interface OptOutEntry {
  sender: string;
  recipient: string;
  source: ConsentChange['source'];
  keyword?: string;
  reason?: string;
  inboundMessageId?: string;
  at: string;
}

type Row = Omit<OptOutEntry, 'sender' | 'recipient'> & { recipient: string };

export class TableOptOutStore implements OptOutStore {
  constructor(private readonly client: ClientFor) {}

  async optedOut(sender: string, recipients: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    if (recipients.length === 0) return out;
    const client = await this.client('optOuts');
    const unique = [...new Set(recipients)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += PER_QUERY) chunks.push(unique.slice(i, i + PER_QUERY));
    await storageCall('check opt-outs', () =>
      Promise.all(
        chunks.map(async (chunk) => {
          const filter =
            `(PartitionKey eq ${odataString(escapeKey(sender))} or PartitionKey eq '*') and (` +
            chunk.map((r) => `RowKey eq ${odataString(escapeKey(r))}`).join(' or ') +
            ')';
          for await (const e of client.listEntities<Row>({ queryOptions: { filter, select: ['recipient'] } })) out.add(e.recipient);
        }),
      ),
    );
    return out;
  }

  async add(change: ConsentChange): Promise<void> {
    const client = await this.client('optOuts');
    await storageCall('add opt-out', () =>
      client.upsertEntity(
        {
          partitionKey: escapeKey(change.sender),
          rowKey: escapeKey(change.recipient),
          recipient: change.recipient,
          source: change.source,
          at: change.at,
          ...(change.keyword ? { keyword: change.keyword } : {}),
          ...(change.reason ? { reason: change.reason } : {}),
          ...(change.inboundMessageId ? { inboundMessageId: change.inboundMessageId } : {}),
        },
        'Replace',
      ),
    );
  }

  async remove(change: ConsentChange): Promise<void> {
    const client = await this.client('optOuts');
    await storageCall('remove opt-out', async () => {
      try {
        await client.deleteEntity(escapeKey(change.sender), escapeKey(change.recipient));
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      }
    });
  }

  /** Every opt-out of one recipient (per sender and pool-wide). A cross-partition query: fine for an admin lookup, not for the send path. */
  async get(recipient: string): Promise<OptOutEntry[]> {
    const client = await this.client('optOuts');
    const filter = `RowKey eq ${odataString(escapeKey(recipient))}`;
    const out: OptOutEntry[] = [];
    await storageCall('read opt-outs', async () => {
      for await (const e of client.listEntities<Row>({ queryOptions: { filter } })) out.push(toEntry(e));
    });
    return out;
  }

  /** Pages through opt-outs, optionally of one sender. */
  async list(options: { sender?: string; limit: number; continuationToken?: string }): Promise<{ items: OptOutEntry[]; continuationToken?: string }> {
    const client = await this.client('optOuts');
    const queryOptions = options.sender ? { filter: `PartitionKey eq ${odataString(escapeKey(options.sender))}` } : {};
    return storageCall('list opt-outs', async () => {
      const pages = client.listEntities<Row>({ queryOptions }).byPage({ maxPageSize: options.limit, ...(options.continuationToken ? { continuationToken: options.continuationToken } : {}) });
      for await (const page of pages) return { items: page.map(toEntry), ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) };
      return { items: [] };
    });
  }
}

function toEntry(e: TableEntityResult<Row>): OptOutEntry {
  return {
    sender: decodeURIComponent(e.partitionKey ?? ''),
    recipient: e.recipient,
    source: e.source,
    at: e.at,
    ...(e.keyword ? { keyword: e.keyword } : {}),
    ...(e.reason ? { reason: e.reason } : {}),
    ...(e.inboundMessageId ? { inboundMessageId: e.inboundMessageId } : {}),
  };
}
