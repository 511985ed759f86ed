// The consent log in Table Storage: one partition per person (PartitionKey = their number), so the
// history of a number is one partition query, oldest first. Entries (RowKey "log|<at>|<id>") are
// only ever inserted, never changed or deleted — erasure keeps them, as the evidence of consent.
// Beside them, one "state|<sender>" row per sender holds the latest change, which is what puts
// late and repeated changes in order.
import type { TableEntityResult } from '@azure/data-tables';
import { type ConsentLogEntry, type ConsentState } from '../../domain/consent.js';
import { type ConsentLog } from '../../ports/consent.js';
import { ConcurrencyError, InvalidContinuationTokenError } from '../../ports/errors.js';
import { type Page } from '../../ports/paging.js';
import { decodeContinuation, encodeContinuation, escapeKey, odataString } from './keys.js';
import { storageCall } from '../outage.js';
import type { ClientFor } from './tableClients.js';

type EntryRow = Omit<ConsentLogEntry, 'applied'> & { applied: boolean };
type StateRow = { at: string; optedOut: boolean; changeId: string; quiet?: boolean };

const statusOf = (error: unknown) => (error as { statusCode?: number })?.statusCode;

export class TableConsentLog implements ConsentLog {
  constructor(private readonly client: ClientFor) {}

  async append(entry: ConsentLogEntry): Promise<void> {
    const client = await this.client('consentLog');
    await storageCall('append to the consent log', async () => {
      try {
        await client.createEntity({
          partitionKey: escapeKey(entry.recipient),
          rowKey: `log|${entry.at}|${escapeKey(entry.id)}`,
          ...withoutUndefined(entry),
        });
      } catch (error) {
        if (statusOf(error) !== 409) throw error; // the same change, recorded before
      }
    });
  }

  async history(recipient: string, options: { limit: number; continuationToken?: string }): Promise<Page<ConsentLogEntry>> {
    const client = await this.client('consentLog');
    const listing = `consent:${recipient}`;
    let from = `RowKey gt 'log|'`;
    if (options.continuationToken !== undefined) {
      const after = decodeContinuation(listing, options.continuationToken, ['r'] as const);
      if (!after) throw new InvalidContinuationTokenError();
      from = `RowKey gt ${odataString(after.r)}`;
    }
    const filter = `PartitionKey eq ${odataString(escapeKey(recipient))} and ${from} and RowKey lt 'log}'`;
    return storageCall('read the consent log', async () => {
      const items: ConsentLogEntry[] = [];
      let lastKey = '';
      for await (const e of client.listEntities<EntryRow>({ queryOptions: { filter } })) {
        if (items.length === options.limit) return { items, continuationToken: encodeContinuation(listing, { r: lastKey }) };
        items.push(toEntry(e));
        lastKey = e.rowKey!;
      }
      return { items };
    });
  }

  async state(recipient: string, sender: string): Promise<ConsentState | undefined> {
    const client = await this.client('consentLog');
    return storageCall('read consent state', async () => {
      try {
        const e = await client.getEntity<StateRow>(escapeKey(recipient), `state|${escapeKey(sender)}`);
        return {
          at: e.at,
          optedOut: e.optedOut,
          changeId: e.changeId,
          ...(e.quiet ? { quiet: true } : {}),
          ...(e.etag ? { etag: e.etag } : {}),
        };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async saveState(recipient: string, sender: string, state: ConsentState): Promise<void> {
    const client = await this.client('consentLog');
    const entity = {
      partitionKey: escapeKey(recipient),
      rowKey: `state|${escapeKey(sender)}`,
      at: state.at,
      optedOut: state.optedOut,
      changeId: state.changeId,
      ...(state.quiet ? { quiet: true } : {}),
    };
    await storageCall('save consent state', async () => {
      try {
        const response = state.etag
          ? await client.updateEntity(entity, 'Replace', { etag: state.etag })
          : await client.createEntity(entity);
        if (response.etag) state.etag = response.etag;
      } catch (error) {
        const status = statusOf(error);
        if (status === 409 || status === 412 || status === 404) throw new ConcurrencyError();
        throw error;
      }
    });
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function toEntry(e: TableEntityResult<EntryRow>): ConsentLogEntry {
  return {
    id: e.id,
    action: e.action,
    sender: e.sender,
    recipient: e.recipient,
    source: e.source,
    at: e.at,
    applied: e.applied,
    ...(e.keyword ? { keyword: e.keyword } : {}),
    ...(e.reason ? { reason: e.reason } : {}),
    ...(e.inboundMessageId ? { inboundMessageId: e.inboundMessageId } : {}),
    ...(e.note ? { note: e.note } : {}),
  };
}
