import { describe, expect, it } from 'vitest';
import { json, problem, type HttpResult } from '../../shared/http/problem.js';
import { IDEMPOTENCY_LEASE_MS, IDEMPOTENCY_TTL_MS, fingerprintOf } from '../../shared/domain/idempotency.js';
import {
  parseIdempotencyKey,
  withIdempotency as withIdempotencyOn,
  type IdempotencyOptions as Options,
  type IdempotentOperation,
} from '../../shared/http/idempotency.js';
import { systemClock } from '../../shared/adapters/systemClock.js';
import { FakeClock, silentLogger } from '../support/fakes.js';

type IdempotencyOptions = Partial<Options>;
let operations = 0;

/** The middleware on the real clock and a silent log, unless a test gives its own. */
function withIdempotency(
  store: Parameters<typeof withIdempotencyOn>[0],
  key: string | undefined,
  body: unknown,
  run: (operation: IdempotentOperation) => Promise<HttpResult>,
  options: IdempotencyOptions = {},
): Promise<HttpResult> {
  return withIdempotencyOn(store, key, body, run, {
    clock: systemClock,
    log: silentLogger,
    newOperationId: () => `batch-${++operations}`,
    ...options,
  });
}
import { MemoryIdempotencyStore } from '../support/memoryIdempotencyStore.js';

const body = { to: ['+14255550123'], message: 'Hello', deliveryReport: true, smartEncoding: true, partial: false };

/** A stand-in for submit: counts its runs and answers 202 with a new batch id each time. */
function submitter(options: { delayMs?: number; result?: () => HttpResult } = {}) {
  let runs = 0;
  const run = async (): Promise<HttpResult> => {
    runs++;
    const n = runs;
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    return options.result?.() ?? json(202, { batchId: `batch${n}` }, { location: `/api/batches/batch${n}` });
  };
  return { run, runs: () => runs };
}

const parse = (r: HttpResult) => JSON.parse(r.body ?? 'null') as Record<string, unknown>;

describe('Idempotency-Key header', () => {
  it('is optional', () => {
    expect(parseIdempotencyKey(null)).toEqual({ ok: true, key: undefined });
  });

  it('accepts 1-255 printable ASCII characters, bare or as an RFC 8941 string', () => {
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toEqual({
      ok: true,
      key: '8e03978e-40d5-43e8-bc93-6894a57f9324',
    });
    expect(parseIdempotencyKey('"8e03978e"')).toEqual({ ok: true, key: '8e03978e' });
    expect(parseIdempotencyKey('"a \\"quoted\\" key"')).toEqual({ ok: true, key: 'a "quoted" key' });
    expect(parseIdempotencyKey('order/42#retry?x=1')).toEqual({ ok: true, key: 'order/42#retry?x=1' });
    expect(parseIdempotencyKey('k'.repeat(255))).toMatchObject({ ok: true });
  });

  it.each([
    ['empty', ''],
    ['an empty quoted string', '""'],
    ['too long', 'k'.repeat(256)],
    ['not ASCII', 'clé-42'],
    ['a control character', 'key\u0007'],
    ['a bad escape', '"a\\nb"'],
  ])('is a 400 naming the header when %s', (_name, value) => {
    const parsed = parseIdempotencyKey(value);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.result.status).toBe(400);
    expect(parsed.result.headers['content-type']).toBe('application/problem+json');
    const p = parse(parsed.result);
    expect(p.detail).toMatch(/Idempotency-Key/);
    expect(p.errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
  });
});

describe('fingerprint', () => {
  it('does not depend on key order, at any depth', () => {
    expect(fingerprintOf({ a: 1, b: { c: 2, d: [1, { e: 1, f: 2 }] } })).toBe(
      fingerprintOf({ b: { d: [1, { f: 2, e: 1 }], c: 2 }, a: 1 }),
    );
  });
  it('changes with any value, and with array order', () => {
    expect(fingerprintOf(body)).not.toBe(fingerprintOf({ ...body, message: 'Hello!' }));
    expect(fingerprintOf({ to: ['a', 'b'] })).not.toBe(fingerprintOf({ to: ['b', 'a'] }));
  });
});

describe('withIdempotency', () => {
  it('runs every request without a key', async () => {
    const store = new MemoryIdempotencyStore();
    const s = submitter();
    await withIdempotency(store, undefined, body, s.run);
    await withIdempotency(store, undefined, body, s.run);
    expect(s.runs()).toBe(2);
    expect(store.rows.size).toBe(0);
  });

  it('answers the same key and body with the original response, marked as replayed, and runs once', async () => {
    const store = new MemoryIdempotencyStore();
    const s = submitter();
    const first = await withIdempotency(store, 'k1', body, s.run);
    const second = await withIdempotency(store, 'k1', { ...body }, s.run);
    expect(s.runs()).toBe(1);
    expect(first.status).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.status).toBe(202);
    expect(second.body).toBe(first.body);
    expect(second.headers).toEqual({ ...first.headers, 'idempotent-replayed': 'true' });
  });

  it('treats a reordered body as the same request', async () => {
    const store = new MemoryIdempotencyStore();
    const s = submitter();
    await withIdempotency(store, 'k1', { message: 'Hello', to: ['+14255550123'] }, s.run);
    const again = await withIdempotency(store, 'k1', { to: ['+14255550123'], message: 'Hello' }, s.run);
    expect(s.runs()).toBe(1);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('answers the same key with a different body with a 422 problem and runs nothing', async () => {
    const store = new MemoryIdempotencyStore();
    const s = submitter();
    await withIdempotency(store, 'k1', body, s.run);
    const other = await withIdempotency(store, 'k1', { ...body, message: 'Something else' }, s.run);
    expect(s.runs()).toBe(1);
    expect(other.status).toBe(422);
    expect(other.headers['content-type']).toBe('application/problem+json');
    expect(parse(other)).toMatchObject({ status: 422, type: expect.stringMatching(/idempotency-key-reused$/) });
  });

  it('keeps keys apart per operation', async () => {
    const store = new MemoryIdempotencyStore();
    const s = submitter();
    await withIdempotency(store, 'k1', body, s.run, { scope: 'submitMessages' });
    const other = await withIdempotency(store, 'k1', { other: true }, s.run, { scope: 'addOptOut' });
    expect(s.runs()).toBe(2);
    expect(other.status).toBe(202);
  });

  it('does not keep a 4xx: a corrected retry with the same key is processed', async () => {
    const store = new MemoryIdempotencyStore();
    let invalid = true;
    const s = submitter({ result: () => (invalid ? problem('validation', 'Invalid to[0]') : json(202, { batchId: 'ok' })) });
    const refused = await withIdempotency(store, 'k1', body, s.run);
    expect(refused.status).toBe(400);
    invalid = false;
    const corrected = await withIdempotency(store, 'k1', { ...body, to: ['+14255550124'] }, s.run);
    expect(corrected.status).toBe(202);
    expect(corrected.headers['idempotent-replayed']).toBeUndefined();
    expect(s.runs()).toBe(2);
    const replay = await withIdempotency(store, 'k1', { ...body, to: ['+14255550124'] }, s.run);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(s.runs()).toBe(2);
  });

  it('releases the key when the request fails, so a retry runs', async () => {
    const store = new MemoryIdempotencyStore();
    let fail = true;
    let runs = 0;
    const run = async () => {
      runs++;
      if (fail) throw new Error('queue unavailable');
      return json(202, { batchId: 'b' });
    };
    await expect(withIdempotency(store, 'k1', body, run)).rejects.toThrow('queue unavailable');
    fail = false;
    const retry = await withIdempotency(store, 'k1', body, run);
    expect(retry.status).toBe(202);
    expect(runs).toBe(2);
  });

  it('runs 10 concurrent duplicates once; the others get the original response', async () => {
    const store = new MemoryIdempotencyStore(undefined, 2);
    const s = submitter({ delayMs: 100 });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => withIdempotency(store, 'k1', body, s.run, { pollMs: 20 })),
    );
    expect(s.runs()).toBe(1);
    const originals = results.filter((r) => r.status === 202 && !r.headers['idempotent-replayed']);
    const replays = results.filter((r) => r.headers['idempotent-replayed'] === 'true');
    expect(originals).toHaveLength(1);
    expect(replays).toHaveLength(9);
    for (const r of replays) expect(r.body).toBe(originals[0]!.body);
  });

  it('answers 409 with Retry-After when the first request takes longer than the wait', async () => {
    const store = new MemoryIdempotencyStore(undefined, 1);
    const s = submitter({ delayMs: 400 });
    const options: IdempotencyOptions = { waitMs: 50, pollMs: 10 };
    const results = await Promise.all(Array.from({ length: 10 }, () => withIdempotency(store, 'k1', body, s.run, options)));
    expect(s.runs()).toBe(1);
    const conflicts = results.filter((r) => r.status === 409);
    expect(conflicts).toHaveLength(9);
    for (const c of conflicts) {
      expect(c.headers['retry-after']).toBe('2');
      expect(parse(c)).toMatchObject({ status: 409, type: expect.stringMatching(/idempotency-key-in-progress$/) });
    }
    // Once the first has finished, a retry gets its response.
    const later = await withIdempotency(store, 'k1', body, s.run, options);
    expect(later.status).toBe(202);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(s.runs()).toBe(1);
  });

  it('makes a different body wait for the running request, then answers 422', async () => {
    const store = new MemoryIdempotencyStore(undefined, 1);
    const s = submitter({ delayMs: 100 });
    const [first, other] = await Promise.all([
      withIdempotency(store, 'k1', body, s.run, { pollMs: 10 }),
      new Promise((r) => setTimeout(r, 20)).then(() =>
        withIdempotency(store, 'k1', { ...body, message: 'Other' }, s.run, { pollMs: 10 }),
      ),
    ]);
    expect(first.status).toBe(202);
    expect(other.status).toBe(422);
    expect(s.runs()).toBe(1);
  });

  it('forgets a key after 24 hours', async () => {
    const clock = new FakeClock();
    const store = new MemoryIdempotencyStore();
    const s = submitter();
    const first = await withIdempotency(store, 'k1', body, s.run, { clock });
    clock.advance(IDEMPOTENCY_TTL_MS - 1000);
    expect((await withIdempotency(store, 'k1', body, s.run, { clock })).headers['idempotent-replayed']).toBe('true');
    expect((await withIdempotency(store, 'k1', { ...body, message: 'x' }, s.run, { clock })).status).toBe(422);
    clock.advance(1000);
    const fresh = await withIdempotency(store, 'k1', { ...body, message: 'x' }, s.run, { clock });
    expect(fresh.status).toBe(202);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
    expect(fresh.body).not.toBe(first.body);
    expect(s.runs()).toBe(2);
  });

  it('takes over a reservation abandoned past its lease (its process died)', async () => {
    const clock = new FakeClock();
    const store = new MemoryIdempotencyStore();
    const crashed = await store.reserve('submitMessages\nk1', fingerprintOf(body), clock.now(), 'first-batch');
    expect(crashed.kind).toBe('reserved');
    const s = submitter();
    const busy = await withIdempotency(store, 'k1', body, s.run, { clock, waitMs: 0 });
    expect(busy.status).toBe(409);
    // A retry soon: the lease lapses within seconds, not minutes.
    expect(Number(busy.headers['retry-after'])).toBeLessThanOrEqual(2);
    clock.advance(IDEMPOTENCY_LEASE_MS);
    let operation: IdempotentOperation | undefined;
    const resumed = await withIdempotency(store, 'k1', body, (op) => ((operation = op), s.run()), { clock });
    expect(resumed.status).toBe(202);
    expect(operation).toEqual({ operationId: 'first-batch', resumed: true });
    expect(s.runs()).toBe(1);
  });

  it('still answers the request when its response cannot be kept', async () => {
    const store = new MemoryIdempotencyStore();
    store.complete = async () => {
      throw new Error('storage down');
    };
    const s = submitter();
    const clock = new FakeClock();
    const result = await withIdempotency(store, 'k1', body, s.run, { clock });
    expect(result.status).toBe(202);
  });
});
