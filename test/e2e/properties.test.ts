// Property tests of every entry point with hostile input (fixed seed, bounded runs, printed):
// HTTP bodies, headers, paths and query strings get a 4xx problem+json — never a 5xx, a hang or
// a crash; Event Grid payloads are acknowledged and logged; queue messages are dead-lettered
// with the reason; and nothing invalid changes a record.
import { TableClient } from '@azure/data-tables';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hostileEvent,
  hostileJsonText,
  hostileSegment,
  nonUtf8Body,
  PROPERTY_RUNS,
  PROPERTY_SEED,
} from '../support/hostileInput.js';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';
import { outboundTransport } from '../support/outboundTransport.js';

let stack: TestStack;
let accepted = 0;

beforeAll(async () => {
  stack = await startTestStack();
  console.log(`property tests: seed ${PROPERTY_SEED}, ${PROPERTY_RUNS} runs per entry point`);
});

afterAll(async () => {
  await stack?.stop();
});

const options = { seed: PROPERTY_SEED, numRuns: PROPERTY_RUNS, endOnFailure: true };

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${stack.hostUrl}/api/${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
}

async function expectClientError(response: Response, allowed: number[] = []): Promise<void> {
  const text = await response.text();
  if (allowed.includes(response.status)) return;
  expect(response.status, text.slice(0, 300)).toBeGreaterThanOrEqual(400);
  expect(response.status, text.slice(0, 300)).toBeLessThan(500);
  if (response.status !== 404 && response.status !== 405) {
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = JSON.parse(text) as { type: string; detail: string };
    expect(problem.type).toBeTruthy();
    expect(problem.detail).toBeTruthy();
  }
}

async function countRows(table: string): Promise<number> {
  const client = TableClient.fromConnectionString(stack.storageConnectionString, table, { allowInsecureConnection: true });
  let n = 0;
  for await (const _ of client.listEntities({ queryOptions: { select: ['PartitionKey'] } })) n++;
  return n;
}

describe('HTTP routes', () => {
  it('POST /api/messages: hostile bodies get a 4xx problem, valid ones a 202', async () => {
    const before = await countRows('messages');
    await fc.assert(
      fc.asyncProperty(hostileJsonText, async (body) => {
        const response = await call('messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        if (response.status === 202) {
          accepted += ((await response.clone().json()) as { messages: unknown[] }).messages.length;
        }
        await expectClientError(response, [202]);
      }),
      options,
    );
    expect(await countRows('messages')).toBe(before + accepted);
  });

  it('POST /api/messages: bytes that are not UTF-8, and wrong content types, get a 4xx problem', async () => {
    await fc.assert(
      fc.asyncProperty(nonUtf8Body, async (bytes) => {
        await expectClientError(
          await call('messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes }),
        );
      }),
      options,
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 100 }), async (contentType) => {
        const headers: Record<string, string> = {};
        if (/^[\x21-\x7e ]*$/.test(contentType) && !/json/i.test(contentType)) headers['content-type'] = contentType;
        else headers['content-type'] = 'text/plain';
        await expectClientError(await call('messages', { method: 'POST', headers, body: '{"to":"+14255550123","message":"x"}' }));
      }),
      { ...options, numRuns: 50 },
    );
  });

  it('POST /api/messages: hostile Idempotency-Key headers get a 4xx problem or work', async () => {
    const printable = fc.string({ minLength: 0, maxLength: 400 }).filter((s) => /^[\x20-\x7e]*$/.test(s));
    await fc.assert(
      fc.asyncProperty(printable, async (key) => {
        const response = await call('messages', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body: '{"to":"+14255550123","message":""}',
        });
        await expectClientError(response);
      }),
      options,
    );
  });

  it('POST /api/messages/preview never fails on hostile bodies', async () => {
    await fc.assert(
      fc.asyncProperty(hostileJsonText, async (body) => {
        await expectClientError(
          await call('messages/preview', { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
          [200],
        );
      }),
      options,
    );
  });

  it('GET and DELETE /api/messages/{id}, GET /api/batches/{id}: hostile paths and queries', async () => {
    const before = await countRows('messages');
    await fc.assert(
      fc.asyncProperty(hostileSegment, hostileSegment, hostileSegment, async (id, limit, token) => {
        const segment = encodeURIComponent(id);
        await expectClientError(await call(`messages/${segment}`), [200]);
        await expectClientError(await call(`messages/${segment}`, { method: 'DELETE' }), [200]);
        const query = new URLSearchParams({ limit, continuationToken: token }).toString();
        await expectClientError(await call(`batches/${segment}?${query}`), [200]);
      }),
      options,
    );
    expect(await countRows('messages')).toBe(before);
  });
});

describe('opt-out, conversation and erasure routes', () => {
  it('hostile paths, queries and bodies get a 4xx problem (or an answer), never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(hostileSegment, hostileSegment, hostileSegment, hostileJsonText, async (phone, from, token, body) => {
        const p = encodeURIComponent(phone);
        const q = new URLSearchParams({ from, limit: token, continuationToken: token, reason: from }).toString();
        await expectClientError(await call(`opt-outs/${p}`), [200]);
        await expectClientError(
          await call(`opt-outs/${p}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body }),
          [200],
        );
        await expectClientError(await call(`opt-outs/${p}?${q}`, { method: 'DELETE' }), [200]);
        await expectClientError(await call(`opt-outs?${q}`), [200]);
        await expectClientError(await call(`opt-outs?${q}`, { headers: { accept: 'text/csv' } }), [200]);
        await expectClientError(await call(`opt-outs/${p}/history?${q}`), [200]);
        await expectClientError(await call(`conversations/${p}?${q}`), [200]);
        await expectClientError(await call(`subjects/${p}`, { method: 'DELETE' }), [200]);
      }),
      options,
    );
  });
});

describe('the spend guard routes', () => {
  it('hostile paths, queries and bodies get a 4xx problem (or an answer), never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(hostileSegment, hostileSegment, hostileJsonText, async (id, state, body) => {
        const p = encodeURIComponent(id);
        const json = { 'content-type': 'application/json' };
        await expectClientError(await call('sending', { method: 'PUT', headers: json, body }), [200]);
        await expectClientError(await call(`holds?${new URLSearchParams({ state, limit: state }).toString()}`), [200]);
        await expectClientError(await call(`holds/${p}`), [200]);
        await expectClientError(await call(`holds/${p}/release`, { method: 'POST', headers: json, body }), [200]);
        await expectClientError(await call(`messages/${p}/conversion`, { method: 'POST' }), [200]);
      }),
      options,
    );
    // Whatever the bodies did, a pause left behind is lifted for the tests that follow.
    expect(
      (await call('sending', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"paused":false}' }))
        .status,
    ).toBe(200);
  });
});

describe('Event Grid endpoints', () => {
  it.each(['deliveryReports', 'inboundSms'])(
    '%s acknowledges hostile events without a 5xx and changes no record',
    async (name) => {
      const before = await countRows('messages');
      await fc.assert(
        fc.asyncProperty(fc.oneof(hostileEvent, fc.array(hostileEvent, { maxLength: 5 })), async (body) => {
          const response = await fetch(`${stack.hostUrl}/runtime/webhooks/EventGrid?functionName=${name}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(15_000),
          });
          // A body that is neither an array nor an object never reaches a function: the Functions
          // host fails to read it and answers 500 (HttpRequestProcessor.cs), as the local host does.
          expect(response.status).toBe(typeof body === 'object' && body !== null ? 202 : 500);
        }),
        options,
      );
      expect(await countRows('messages')).toBe(before);
    },
  );
});

describe('the outbound queue', () => {
  it('dead-letters every hostile queue message on first receipt, with the reason', async () => {
    const transport = outboundTransport(stack);
    const before = await countRows('deadLetters');
    // A queue message holds at most 64 KiB; larger bodies cannot be enqueued in the first place.
    const bodies = fc
      .sample(
        fc.oneof(
          hostileJsonText,
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        { seed: PROPERTY_SEED, numRuns: PROPERTY_RUNS * 2 },
      )
      .filter((b) => Buffer.byteLength(b) < 40_000)
      .slice(0, PROPERTY_RUNS);
    expect(bodies).toHaveLength(PROPERTY_RUNS);
    for (const body of bodies) await transport.enqueue(body);
    await waitFor(
      async () => ((await countRows('deadLetters')) === before + bodies.length ? true : undefined),
      60_000,
      'every hostile job dead-lettered',
    );
    expect(await transport.deadLetterCount()).toBe(0);
    await transport.close();
  });
});
