// The IdempotencyStore on Table Storage (table "idempotency"): one entity per key, reserved by an
// insert (atomic: of concurrent inserts exactly one succeeds), completed and released
// conditionally on the entity's etag, which is the reservation token.
//
// PartitionKey is sha256(key) in hex: client keys may hold characters table keys forbid (/ \ # ?)
// and spreading keys over partitions keeps every operation a point operation. Responses are kept
// gzip-compressed (compressedText.ts; a 1,000-recipient submit answers with ~150 KB of JSON).
import { createHash } from 'node:crypto';
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { ConcurrencyError } from '../../ports/errors.js';
import { TABLES } from '../../resourceNames.js';
import { storageCall as reportOutage } from '../outage.js';
import { compressedProperties, readCompressed } from './compressedText.js';
import type { ClientFor } from './tableClients.js';
import {
  DEFAULT_IDEMPOTENCY_POLICY,
  judgeEntry,
  type IdempotencyEntry,
  type IdempotencyPolicy,
  type StoredResponse,
} from '../../domain/idempotency.js';
import type { IdempotencyStore, Reservation } from '../../ports/idempotency.js';

const ROW_KEY = 'key';

interface IdempotencyEntity {
  state: 'pending' | 'completed';
  fingerprint: string;
  reservedAt: string;
  leaseUntil?: string;
  operationId?: string;
  status?: number;
  headers?: string;
  /** -1 when the response had no body. */
  bodyChunks?: number;
  [chunk: `body${number}`]: Uint8Array | undefined;
}

export class TableIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly client: () => Promise<TableClient>,
    private readonly policy: IdempotencyPolicy = DEFAULT_IDEMPOTENCY_POLICY,
  ) {}

  /** The store on the clients the other table adapters share (createTableAdapters().clientFor). */
  static fromClientFor(clientFor: ClientFor, policy?: IdempotencyPolicy): TableIdempotencyStore {
    return new TableIdempotencyStore(() => clientFor(TABLES.idempotency), policy);
  }

  /** Creates the table when missing (infra creates it in Azure). */
  async ensureTable(): Promise<void> {
    const client = await this.client();
    await storageCall(() => client.createTable());
  }

  async reserve(key: string, fingerprint: string, now: Date, operationId: string): Promise<Reservation> {
    const client = await this.client();
    const partitionKey = partitionKeyOf(key);
    const leaseUntil = new Date(now.getTime() + this.policy.leaseMs);
    const pending = (id: string) => ({
      partitionKey,
      rowKey: ROW_KEY,
      state: 'pending',
      fingerprint,
      reservedAt: now.toISOString(),
      leaseUntil: leaseUntil.toISOString(),
      operationId: id,
    });
    // Each round ends in a decision unless the entity changed under us (released, taken over);
    // a handful of rounds is plenty, and "in progress" is the honest answer after that.
    for (let round = 0; round < 5; round++) {
      try {
        const created = await storageCall(() => client.createEntity(pending(operationId)));
        return {
          kind: 'reserved',
          token: created.etag ?? (await this.etagOf(client, partitionKey)),
          operationId,
          resumed: false,
          leaseUntil,
        };
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
      let existing: TableEntityResult<IdempotencyEntity>;
      try {
        existing = await storageCall(() => client.getEntity<IdempotencyEntity>(partitionKey, ROW_KEY));
      } catch (error) {
        if (statusOf(error) === 404) continue; // released meanwhile: try the insert again
        throw error;
      }
      const entry = await toEntry(existing);
      const verdict = judgeEntry(entry, fingerprint, now, this.policy);
      if (verdict.kind !== 'takeOver') return verdict;
      const resumed = verdict.operationId !== undefined;
      const id = verdict.operationId ?? operationId;
      // A resumed operation keeps its first reservation time: its 24 hours count from the first request.
      const replacement = resumed ? { ...pending(id), reservedAt: existing.reservedAt } : pending(id);
      try {
        // Replace (not merge) drops the old response's chunks; the etag makes the take-over atomic.
        const replaced = await storageCall(() => client.updateEntity(replacement, 'Replace', { etag: existing.etag }));
        return {
          kind: 'reserved',
          token: replaced.etag ?? (await this.etagOf(client, partitionKey)),
          operationId: id,
          resumed,
          leaseUntil,
        };
      } catch (error) {
        const status = statusOf(error);
        if (status !== 412 && status !== 404) throw error;
      }
    }
    return { kind: 'inProgress', retryAfterMs: 1000 };
  }

  async renew(key: string, token: string, leaseUntil: Date): Promise<string> {
    const client = await this.client();
    try {
      const entity = { partitionKey: partitionKeyOf(key), rowKey: ROW_KEY, leaseUntil: leaseUntil.toISOString() };
      const updated = await storageCall(() => client.updateEntity(entity, 'Merge', { etag: token }));
      return updated.etag ?? (await this.etagOf(client, entity.partitionKey));
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 404) throw new ConcurrencyError('the idempotency reservation was taken over');
      throw error;
    }
  }

  async complete(key: string, token: string, response: StoredResponse): Promise<void> {
    const client = await this.client();
    const entity: Record<string, unknown> = {
      partitionKey: partitionKeyOf(key),
      rowKey: ROW_KEY,
      state: 'completed',
      status: response.status,
      headers: JSON.stringify(response.headers),
      ...(await compressedProperties('body', response.body, 'response')),
    };
    try {
      // Merge keeps the fingerprint, reservedAt and operation of the reservation.
      await storageCall(() => client.updateEntity(entity as never, 'Merge', { etag: token }));
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 404)
        throw new ConcurrencyError('the idempotency reservation was taken over after its lease');
      throw error;
    }
  }

  async release(key: string, token: string): Promise<void> {
    const client = await this.client();
    try {
      await storageCall(() => client.deleteEntity(partitionKeyOf(key), ROW_KEY, { etag: token }));
    } catch (error) {
      const status = statusOf(error);
      if (status !== 412 && status !== 404) throw error;
    }
  }

  /**
   * Deletes entries reserved before `olderThan` (at most `limit`), so the table does not grow
   * for ever: expired entries are already ignored, this only reclaims their space. A full scan
   * with a filter; run it from a timer, not on the request path.
   */
  async purgeExpired(olderThan: Date, limit = 1000): Promise<number> {
    const client = await this.client();
    const filter = `reservedAt lt '${olderThan.toISOString()}'`;
    let deleted = 0;
    const pages = client
      .listEntities({ queryOptions: { filter, select: ['PartitionKey', 'RowKey', 'reservedAt'] } })
      .byPage({ maxPageSize: 100 });
    for await (const page of pages) {
      for (const e of page) {
        try {
          await client.deleteEntity(e.partitionKey!, e.rowKey!, e.etag ? { etag: e.etag } : {});
          deleted++;
        } catch (error) {
          const status = statusOf(error);
          if (status !== 412 && status !== 404) throw error; // re-reserved meanwhile: keep it
        }
        if (deleted >= limit) return deleted;
      }
    }
    return deleted;
  }

  private async etagOf(client: TableClient, partitionKey: string): Promise<string> {
    // Table Storage returns the etag of an insert or update; this is a fallback for a proxy that drops it.
    const entity = await storageCall(() =>
      client.getEntity(partitionKey, ROW_KEY, { queryOptions: { select: ['PartitionKey'] } }),
    );
    return entity.etag;
  }
}

/** The partition of a key: sha256 hex, valid in a table key whatever the key holds. */
export function partitionKeyOf(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

async function toEntry(entity: TableEntityResult<IdempotencyEntity>): Promise<IdempotencyEntry> {
  const reservedAt = new Date(entity.reservedAt);
  const entry: IdempotencyEntry = {
    state: entity.state === 'completed' ? 'completed' : 'pending',
    fingerprint: entity.fingerprint,
    reservedAt,
    // Entries written before leases existed: their reservation time stands in.
    leaseUntil: entity.leaseUntil ? new Date(entity.leaseUntil) : reservedAt,
    operationId: entity.operationId ?? '',
  };
  if (entry.state === 'completed' && typeof entity.status === 'number') {
    const response = await readResponse(entity);
    if (response) entry.response = response;
  }
  return entry;
}

async function readResponse(entity: TableEntityResult<IdempotencyEntity>): Promise<StoredResponse | undefined> {
  try {
    const headers = JSON.parse(entity.headers ?? '{}') as Record<string, string>;
    const body = await readCompressed(entity as unknown as Record<string, unknown>, 'body');
    if (body === undefined) return undefined; // unreadable: judgeEntry treats it as absent
    return { status: entity.status!, headers, ...(body !== null ? { body } : {}) };
  } catch {
    return undefined;
  }
}

/** HTTP status of a storage error; undefined for network failures. */
function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Runs a storage call; an unreachable account becomes DependencyUnavailableError (a 503 for the client). */
function storageCall<T>(call: () => Promise<T>): Promise<T> {
  return reportOutage('idempotency table', call);
}
