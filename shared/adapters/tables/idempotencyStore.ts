// The IdempotencyStore on Table Storage (table "idempotency"): one entity per key, reserved by an
// insert (atomic: of concurrent inserts exactly one succeeds), completed and released
// conditionally on the entity's etag, which is the reservation token.
//
// PartitionKey is sha256(key) in hex: client keys may hold characters table keys forbid (/ \ # ?)
// and spreading keys over partitions keeps every operation a point operation. Responses are kept
// gzip-compressed in Binary properties of at most 64 KiB each (a 1,000-recipient submit answers
// with ~150 KB of JSON); an entity holds at most 1 MiB, so a response may compress to ~900 KiB.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { ConcurrencyError } from '../../ports/errors.js';
import { TABLES } from '../../resourceNames.js';
import { storageCall as reportOutage } from '../outage.js';
import type { ClientFor } from './tableClients.js';
import {
  DEFAULT_IDEMPOTENCY_POLICY,
  judgeEntry,
  type IdempotencyEntry,
  type IdempotencyPolicy,
  type StoredResponse,
} from '../../domain/idempotency.js';
import type { IdempotencyStore, Reservation } from '../../ports/idempotency.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Largest Binary property value Table Storage accepts. */
export const MAX_CHUNK_BYTES = 64 * 1024;
/** Chunks per entity: 14 x 64 KiB leaves room for the other properties within the 1 MiB entity limit. */
export const MAX_CHUNKS = 14;
const ROW_KEY = 'key';

interface IdempotencyEntity {
  state: 'pending' | 'completed';
  fingerprint: string;
  reservedAt: string;
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

  async reserve(key: string, fingerprint: string, now: Date): Promise<Reservation> {
    const client = await this.client();
    const partitionKey = partitionKeyOf(key);
    const pending = { partitionKey, rowKey: ROW_KEY, state: 'pending', fingerprint, reservedAt: now.toISOString() };
    // Each round ends in a decision unless the entity changed under us (released, taken over);
    // a handful of rounds is plenty, and "in progress" is the honest answer after that.
    for (let round = 0; round < 5; round++) {
      try {
        const created = await storageCall(() => client.createEntity(pending));
        return { kind: 'reserved', token: created.etag ?? (await this.etagOf(client, partitionKey)) };
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
      const verdict = judgeEntry(await toEntry(existing), fingerprint, now, this.policy);
      if (verdict.kind !== 'takeOver') return verdict;
      try {
        // Replace (not merge) drops the old response's chunks; the etag makes the take-over atomic.
        const replaced = await storageCall(() => client.updateEntity(pending, 'Replace', { etag: existing.etag }));
        return { kind: 'reserved', token: replaced.etag ?? (await this.etagOf(client, partitionKey)) };
      } catch (error) {
        const status = statusOf(error);
        if (status !== 412 && status !== 404) throw error;
      }
    }
    return { kind: 'inProgress' };
  }

  async complete(key: string, token: string, response: StoredResponse): Promise<void> {
    const client = await this.client();
    const chunks = await compressBody(response.body);
    const entity: Record<string, unknown> = {
      partitionKey: partitionKeyOf(key),
      rowKey: ROW_KEY,
      state: 'completed',
      status: response.status,
      headers: JSON.stringify(response.headers),
      bodyChunks: chunks ? chunks.length : -1,
    };
    chunks?.forEach((chunk, i) => (entity[`body${i}`] = chunk));
    try {
      // Merge keeps the fingerprint and reservedAt of the reservation.
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

/** Splits a body into gzip chunks of at most 64 KiB; undefined for no body. */
export async function compressBody(body: string | undefined): Promise<Uint8Array[] | undefined> {
  if (body === undefined) return undefined;
  const zipped = await gzipAsync(Buffer.from(body, 'utf8'));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < zipped.length; i += MAX_CHUNK_BYTES) chunks.push(new Uint8Array(zipped.subarray(i, i + MAX_CHUNK_BYTES)));
  if (chunks.length === 0) chunks.push(new Uint8Array(0));
  if (chunks.length > MAX_CHUNKS) {
    throw new Error(
      `response too large to keep for idempotency: ${zipped.length} bytes compressed, at most ${MAX_CHUNKS * MAX_CHUNK_BYTES}`,
    );
  }
  return chunks;
}

async function toEntry(entity: TableEntityResult<IdempotencyEntity>): Promise<IdempotencyEntry> {
  const entry: IdempotencyEntry = {
    state: entity.state === 'completed' ? 'completed' : 'pending',
    fingerprint: entity.fingerprint,
    reservedAt: new Date(entity.reservedAt),
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
    const count = entity.bodyChunks ?? -1;
    if (count < 0) return { status: entity.status!, headers };
    const parts: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const part = entity[`body${i}`];
      if (!(part instanceof Uint8Array)) return undefined;
      parts.push(part);
    }
    const body = (await gunzipAsync(Buffer.concat(parts))).toString('utf8');
    return { status: entity.status!, headers, body };
  } catch {
    return undefined; // unreadable: judgeEntry treats it as absent
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
