// Opt-outs in Table Storage: PartitionKey = sender number (or "*" for the whole pool), RowKey =
// recipient, so the per-send check of one recipient is a point read per scope — and a job's
// recipients are checked with a few filtered queries on two partitions (Table queries allow 15
// comparisons per filter). Only opt-outs in force are here; their history is the consent log.
import type { TableEntityResult } from '@azure/data-tables';
import { type ConsentChange, type OptOutEntry } from '../../domain/consent.js';
import { type OptOutStore } from '../../ports/consent.js';
import { InvalidContinuationTokenError } from '../../ports/errors.js';
import { type Page } from '../../ports/paging.js';
import { decodeContinuation, encodeContinuation, escapeKey, odataString, unescapeKey } from './keys.js';
import { storageCall } from '../outage.js';
import type { ClientFor } from './tableClients.js';

/** Recipients per query: 15 comparisons, two of which select the partitions. */
const PER_QUERY = 13;

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
          for await (const e of client.listEntities<Row>({ queryOptions: { filter, select: ['recipient'] } }))
            out.add(e.recipient);
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

  async find(recipient: string, senders: readonly string[]): Promise<OptOutEntry[]> {
    const client = await this.client('optOuts');
    const found = await storageCall('read opt-outs', () =>
      Promise.all(
        [...new Set(senders)].map(async (sender) => {
          try {
            return toEntry(await client.getEntity<Row>(escapeKey(sender), escapeKey(recipient)));
          } catch (error) {
            if ((error as { statusCode?: number }).statusCode === 404) return undefined;
            throw error;
          }
        }),
      ),
    );
    return found.filter((e): e is OptOutEntry => e !== undefined);
  }

  /** Key order, with a token of our own (the last key), so a page boundary never depends on the service's paging. */
  async list(options: { sender?: string; limit: number; continuationToken?: string }): Promise<Page<OptOutEntry>> {
    const client = await this.client('optOuts');
    const listing = `optouts:${options.sender ?? ''}`;
    let after: { p: string; r: string } | undefined;
    if (options.continuationToken !== undefined) {
      after = decodeContinuation(listing, options.continuationToken, ['p', 'r'] as const);
      if (!after) throw new InvalidContinuationTokenError();
    }
    const clauses: string[] = [];
    if (options.sender !== undefined) clauses.push(`PartitionKey eq ${odataString(escapeKey(options.sender))}`);
    if (after) {
      clauses.push(
        `(PartitionKey gt ${odataString(after.p)} or (PartitionKey eq ${odataString(after.p)} and RowKey gt ${odataString(after.r)}))`,
      );
    }
    const queryOptions = clauses.length > 0 ? { filter: clauses.join(' and ') } : {};
    return storageCall('list opt-outs', async () => {
      const items: OptOutEntry[] = [];
      let last: TableEntityResult<Row> | undefined;
      // One more than asked for tells whether there is a next page.
      for await (const e of client
        .listEntities<Row>({ queryOptions })
        .byPage({ maxPageSize: Math.min(1000, options.limit + 1) })) {
        for (const entity of e) {
          if (items.length === options.limit) {
            return { items, continuationToken: encodeContinuation(listing, { p: last!.partitionKey!, r: last!.rowKey! }) };
          }
          items.push(toEntry(entity));
          last = entity;
        }
      }
      return { items };
    });
  }
}

function toEntry(e: TableEntityResult<Row>): OptOutEntry {
  return {
    sender: unescapeKey(e.partitionKey ?? ''),
    recipient: e.recipient,
    source: e.source,
    at: e.at,
    ...(e.keyword ? { keyword: e.keyword } : {}),
    ...(e.reason ? { reason: e.reason } : {}),
    ...(e.inboundMessageId ? { inboundMessageId: e.inboundMessageId } : {}),
  };
}
