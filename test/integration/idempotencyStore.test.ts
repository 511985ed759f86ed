// The Table Storage IdempotencyStore against a real Azurite: atomic reservation under
// concurrency, responses larger than one property, expiry and take-over.
import { randomBytes, randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite } from '../../local/azurite.js';
import { ConcurrencyError } from '../../shared/ports/errors.js';
import { MAX_CHUNK_BYTES } from '../../shared/adapters/tables/compressedText.js';
import { TableIdempotencyStore, partitionKeyOf } from '../../shared/adapters/tables/idempotencyStore.js';
import { IDEMPOTENCY_LEASE_MS, IDEMPOTENCY_TTL_MS, fingerprintOf, type StoredResponse } from '../../shared/domain/idempotency.js';
import { withIdempotency } from '../../shared/http/idempotency.js';
import { systemClock } from '../../shared/adapters/systemClock.js';
import { createTableClientFactory } from '../../shared/adapters/tables/tableClients.js';
import { silentLogger } from '../support/fakes.js';
import { TABLES } from '../../shared/resourceNames.js';

let azurite: Awaited<ReturnType<typeof startAzurite>>;
let store: TableIdempotencyStore;
let client: TableClient;

beforeAll(async () => {
  azurite = await startAzurite({ silent: true });
  store = TableIdempotencyStore.fromClientFor(
    createTableClientFactory({ kind: 'connectionString', connectionString: azurite.connectionString }),
  );
  await store.ensureTable();
  client = TableClient.fromConnectionString(azurite.connectionString, TABLES.idempotency, { allowInsecureConnection: true });
});

afterAll(async () => {
  await azurite?.stop();
});

const fp = fingerprintOf({ to: '+14255550123', message: 'Hello' });
const otherFp = fingerprintOf({ to: '+14255550123', message: 'Bye' });
/** The Binary body properties of a key's entity, as stored. */
async function storedChunks(key: string): Promise<Uint8Array[]> {
  const entity = await client.getEntity<Record<string, unknown>>(partitionKeyOf(key), 'key');
  return Object.keys(entity)
    .filter((k) => /^body\d+$/.test(k))
    .map((k) => entity[k] as Uint8Array);
}

const newKey = () => `submitMessages\n${randomUUID()}`;

/** What POST /api/messages answers for 1,000 recipients: ~150 KB of JSON. */
function bigSubmitResponse(): StoredResponse {
  const batchId = '01kmx3f2g0abcdefghjkmn';
  const messages = Array.from({ length: 1000 }, (_, i) => ({
    messageId: `${batchId}-${String(i).padStart(3, '0')}`,
    to: `+1425${String(5550000 + i)}`,
    from: i % 2 ? '+18005550100' : '+18005550199',
    status: 'queued',
    segments: 1,
    encoding: 'GSM-7',
    note: randomBytes(24).toString('base64'), // defeats compression, like real-world variety would
  }));
  const body = JSON.stringify({
    batchId,
    statusUrl: `/api/batches/${batchId}`,
    messages,
    rejected: [],
    segments: 1,
    encoding: 'GSM-7',
  });
  return {
    status: 202,
    headers: { 'content-type': 'application/json; charset=utf-8', location: `/api/batches/${batchId}` },
    body,
  };
}

describe('TableIdempotencyStore on Azurite', () => {
  it('gives exactly one of 10 concurrent reservations of a key', async () => {
    const key = newKey();
    const now = new Date();
    const results = await Promise.all(Array.from({ length: 10 }, () => store.reserve(key, fp, now, 'op-1')));
    expect(results.filter((r) => r.kind === 'reserved')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'inProgress')).toHaveLength(9);
  });

  it('keeps a 150 KB response in chunks of at most 64 KiB and gives it back intact', async () => {
    const key = newKey();
    const response = bigSubmitResponse();
    expect(Buffer.byteLength(response.body!)).toBeGreaterThan(150_000);
    const reserved = await store.reserve(key, fp, new Date(), 'op-1');
    if (reserved.kind !== 'reserved') throw new Error(reserved.kind);
    await store.complete(key, reserved.token, response);

    const again = await store.reserve(key, fp, new Date(), 'op-1');
    expect(again).toEqual({ kind: 'completed', response });

    for (const chunk of await storedChunks(key)) expect(chunk.length).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
  });

  it('splits a response that compresses to more than 64 KiB over several properties', async () => {
    const key = newKey();
    // Random text hardly compresses: ~150 KB of it needs at least two 64 KiB chunks.
    const response: StoredResponse = {
      status: 202,
      headers: {},
      body: JSON.stringify({ noise: randomBytes(112_000).toString('base64') }),
    };
    const reserved = await store.reserve(key, fp, new Date(), 'op-1');
    if (reserved.kind !== 'reserved') throw new Error(reserved.kind);
    await store.complete(key, reserved.token, response);
    const chunks = await storedChunks(key);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
    expect(await store.reserve(key, fp, new Date(), 'op-1')).toEqual({ kind: 'completed', response });
  });

  it('refuses to keep a response larger than an entity can hold', async () => {
    const key = newKey();
    const reserved = await store.reserve(key, fp, new Date(), 'op-1');
    if (reserved.kind !== 'reserved') throw new Error(reserved.kind);
    const huge = { status: 202, headers: {}, body: randomBytes(1_100_000).toString('base64') };
    await expect(store.complete(key, reserved.token, huge)).rejects.toThrow(/too large/);
  });

  it('keeps a response without a body', async () => {
    const key = newKey();
    const reserved = await store.reserve(key, fp, new Date(), 'op-1');
    if (reserved.kind !== 'reserved') throw new Error(reserved.kind);
    await store.complete(key, reserved.token, { status: 204, headers: {} });
    expect(await store.reserve(key, fp, new Date(), 'op-1')).toEqual({
      kind: 'completed',
      response: { status: 204, headers: {} },
    });
  });

  it('answers mismatch for the same key with another fingerprint, and inProgress while pending', async () => {
    const key = newKey();
    const reserved = await store.reserve(key, fp, new Date(), 'op-1');
    if (reserved.kind !== 'reserved') throw new Error(reserved.kind);
    expect(await store.reserve(key, otherFp, new Date(), 'op-1')).toMatchObject({ kind: 'inProgress' });
    await store.complete(key, reserved.token, { status: 202, headers: {}, body: '{}' });
    expect(await store.reserve(key, otherFp, new Date(), 'op-1')).toEqual({ kind: 'mismatch' });
  });

  it('lets a released key be reserved again', async () => {
    const key = newKey();
    const first = await store.reserve(key, fp, new Date(), 'op-1');
    if (first.kind !== 'reserved') throw new Error(first.kind);
    await store.release(key, first.token);
    expect((await store.reserve(key, otherFp, new Date(), 'op-1')).kind).toBe('reserved');
    // Releasing with a stale token does nothing.
    await store.release(key, first.token);
    expect((await store.reserve(key, otherFp, new Date(), 'op-1')).kind).toBe('inProgress');
  });

  it('treats an entry older than 24 hours as absent and replaces it atomically', async () => {
    const key = newKey();
    const long = new Date(Date.now() - IDEMPOTENCY_TTL_MS - 60_000);
    const old = await store.reserve(key, fp, long, 'op-1');
    if (old.kind !== 'reserved') throw new Error(old.kind);
    await store.complete(key, old.token, bigSubmitResponse());

    const now = new Date();
    const results = await Promise.all(Array.from({ length: 10 }, () => store.reserve(key, otherFp, now, 'op-1')));
    const winners = results.filter((r) => r.kind === 'reserved');
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.kind !== 'reserved').every((r) => r.kind === 'inProgress')).toBe(true);

    // The old response's chunks went with the old entry.
    expect(await storedChunks(key)).toEqual([]);
    expect((await client.getEntity(partitionKeyOf(key), 'key')).state).toBe('pending');

    // The old holder lost its reservation: completing with its token fails.
    await expect(store.complete(key, old.token, { status: 202, headers: {} })).rejects.toBeInstanceOf(ConcurrencyError);
    await store.complete(key, (winners[0] as { token: string }).token, { status: 202, headers: {}, body: 'new' });
    expect(await store.reserve(key, otherFp, now, 'op-1')).toEqual({
      kind: 'completed',
      response: { status: 202, headers: {}, body: 'new' },
    });
  });

  it('takes over a pending reservation abandoned past its lease, keeping its operation', async () => {
    const key = newKey();
    const crashed = await store.reserve(key, fp, new Date(Date.now() - IDEMPOTENCY_LEASE_MS - 1000), 'first-batch');
    expect(crashed).toMatchObject({ kind: 'reserved', operationId: 'first-batch', resumed: false });
    expect(await store.reserve(key, fp, new Date(), 'second-batch')).toMatchObject({
      kind: 'reserved',
      operationId: 'first-batch',
      resumed: true,
    });
  });

  it('refuses another body for a key whose owner died: its batch may be half done', async () => {
    const key = newKey();
    await store.reserve(key, fp, new Date(Date.now() - IDEMPOTENCY_LEASE_MS - 1000), 'first-batch');
    expect(await store.reserve(key, otherFp, new Date(), 'other')).toEqual({ kind: 'mismatch' });
  });

  it('renews a lease under its token; a stale token has lost the key', async () => {
    const key = newKey();
    const now = Date.now();
    const first = await store.reserve(key, fp, new Date(now), 'op-1');
    if (first.kind !== 'reserved') throw new Error(first.kind);
    const token = await store.renew(key, first.token, new Date(now + 60_000));
    expect(await store.reserve(key, fp, new Date(now + 30_000), 'op-2')).toMatchObject({
      kind: 'inProgress',
      retryAfterMs: 30_000,
    });
    await expect(store.renew(key, first.token, new Date(now + 90_000))).rejects.toBeInstanceOf(ConcurrencyError);
    // Ending the lease now: the next request takes over at once.
    await store.renew(key, token, new Date(now + 30_000));
    expect(await store.reserve(key, fp, new Date(now + 30_000), 'op-2')).toMatchObject({
      kind: 'reserved',
      operationId: 'op-1',
      resumed: true,
    });
  });

  it('accepts keys with characters table keys forbid', async () => {
    for (const raw of ['a/b\\c#d?e', 'quote\'"', 'x'.repeat(255), '   ']) {
      const key = `submitMessages\n${raw}`;
      expect((await store.reserve(key, fp, new Date(), 'op-1')).kind).toBe('reserved');
    }
  });

  it('runs concurrent duplicate requests once through withIdempotency', async () => {
    const key = randomUUID();
    let runs = 0;
    const run = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 200));
      return bigSubmitResponse();
    };
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        withIdempotency(store, key, { a: 1 }, run, {
          pollMs: 50,
          clock: systemClock,
          log: silentLogger,
          newOperationId: () => randomUUID(),
        }),
      ),
    );
    expect(runs).toBe(1);
    expect(results.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(9);
    expect(new Set(results.map((r) => r.body)).size).toBe(1);
  });

  it('purges entries older than a given time', async () => {
    const key = newKey();
    const ancient = new Date('2000-01-01T00:00:00Z');
    const reserved = await store.reserve(key, fp, ancient, 'op-1');
    if (reserved.kind !== 'reserved') throw new Error(reserved.kind);
    expect(await store.purgeExpired(new Date('2000-01-02T00:00:00Z'))).toBe(1);
    expect((await store.reserve(key, fp, new Date(), 'op-1')).kind).toBe('reserved');
  });
});
