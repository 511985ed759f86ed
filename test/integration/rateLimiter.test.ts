// The shared pacing bucket against a real Azurite: an instance reserves with one round-trip while
// it wrote the bucket last, even when its reservations start at once, and the rate still holds
// when several instances reserve at the same time.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite } from '../../local/azurite.js';
import { createTableAdapters, type TableAdapters } from '../../shared/adapters/tables/tableAdapters.js';
import type { Sender } from '../../shared/domain/sender.js';

let azurite: Awaited<ReturnType<typeof startAzurite>>;
let requests = 0;
const counter: PipelinePolicy = {
  name: 'countRequests',
  sendRequest(request, next) {
    requests++;
    return next(request);
  },
};

function instance(): TableAdapters {
  return createTableAdapters({ kind: 'connectionString', connectionString: azurite.connectionString }, { policies: [counter] });
}

beforeAll(async () => {
  azurite = await startAzurite({ silent: true });
  await instance().ensureTables();
});

afterAll(async () => {
  await azurite?.stop();
});

describe('TableRateLimiter', () => {
  it('reserves with one conditional write while no other instance has written', async () => {
    const sender: Sender = { number: '+18005550111', type: 'tollFree', ratePerMinute: 60_000, burst: 100 };
    const limiter = instance().rateLimiter;
    await limiter.reserve(sender, 1); // reads (404) and creates
    requests = 0;
    for (let i = 0; i < 5; i++) await limiter.reserve(sender, 1);
    expect(requests).toBe(5);
    // Reservations started at once take their turn rather than racing each other for the ETag.
    requests = 0;
    await Promise.all(Array.from({ length: 20 }, () => limiter.reserve(sender, 1)));
    expect(requests).toBe(20);
  });

  it('reads again after another instance wrote, and keeps the rate across instances', async () => {
    // One message per 100 ms, no burst: every reservation must start at least 100 ms after the previous one.
    const sender: Sender = { number: '+18005550112', type: 'tollFree', ratePerMinute: 600, burst: 1 };
    const a = instance().rateLimiter;
    const b = instance().rateLimiter;
    const starts: number[] = [];
    for (let i = 0; i < 4; i++) {
      starts.push((await a.reserve(sender, 1)).getTime());
      starts.push((await b.reserve(sender, 1)).getTime());
    }
    starts.push(...(await Promise.all([a, b, a, b, a, b].map((l) => l.reserve(sender, 1)))).map((d) => d.getTime()));
    starts.sort((x, y) => x - y);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(99.9);
  });
});
