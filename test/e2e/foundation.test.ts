// The foundation's promise, walked as a new user would: POST a message, see it delivered with
// its history, find it once in the handset's inbox; bad requests get a 400 naming the field.
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function countMessageRecords(): Promise<number> {
  const client = TableClient.fromConnectionString(stack.storageConnectionString, 'messages', { allowInsecureConnection: true });
  let n = 0;
  for await (const _ of client.listEntities({ queryOptions: { select: ['PartitionKey'] } })) n++;
  return n;
}

describe('the curl flow of the README', () => {
  it('accepts a message, delivers it within 5 seconds, and shows its history', async () => {
    const started = Date.now();
    const response = await stack.postMessages({ to: ['+14255550123'], message: 'Your appointment is tomorrow at 10:00' });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as { batchId: string; messages: Array<{ messageId: string; status: string }> };
    expect(accepted.messages).toHaveLength(1);
    const id = accepted.messages[0]!.messageId;
    expect(accepted.messages[0]!.status).toBe('queued');

    const delivered = await waitFor(
      async () => {
        const r = await stack.api(`messages/${id}`);
        const view = (await r.json()) as { status: string; history: Array<{ status: string }> };
        return view.status === 'delivered' ? view : undefined;
      },
      5000,
      'status delivered',
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(delivered.history.map((h) => h.status)).toEqual(['queued', 'sending', 'sent', 'delivered']);

    const inbox = stack.emulator.inbox('+14255550123');
    expect(inbox.filter((m) => m.message === 'Your appointment is tomorrow at 10:00')).toHaveLength(1);
  });

  it('reports health of storage, queue and ACS: the verdict to anyone, the checks with a key', async () => {
    const response = await stack.api('health');
    expect(response.status).toBe(200);
    const summary = (await response.json()) as Record<string, unknown>;
    expect(summary).toEqual({ status: 'healthy', checkedAt: expect.any(String) });
    const details = await stack.api('health/details');
    const body = (await details.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe('healthy');
    expect(Object.keys(body.checks).sort()).toEqual(['acs', 'queue', 'storage']);
  });

  it('returns 404 problem+json for an unknown message', async () => {
    const response = await stack.api('messages/nope-001');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('bad requests', () => {
  const cases: Array<[string, string | object, string]> = [
    ['invalid JSON', '{"to": ["+14255550123"], "message": ', 'invalid-json'],
    ['a non-E.164 number', { to: ['+1425555'], message: 'hi' }, 'to[0]'],
    ['an empty message', { to: ['+14255550123'], message: '' }, 'message'],
    ['too many recipients', { to: Array.from({ length: 1001 }, (_, i) => `+1425555${String(1000 + (i % 9000)).padStart(4, '0')}`), message: 'hi' }, 'to'],
    ['an unknown field', { to: '+14255550123', message: 'hi', colour: 'red' }, '(body)'],
  ];

  it.each(cases)('%s gets a 400 problem naming the field and writes nothing', async (_name, body, field) => {
    const before = await countMessageRecords();
    const response = await stack.postMessages(body);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as { type: string; detail: string; errors?: Array<{ field: string }> };
    if (field === 'invalid-json') expect(problem.type).toMatch(/invalid-json$/);
    else expect(problem.errors?.map((e) => e.field)).toContain(field);
    expect(problem.detail).toBeTruthy();
    expect(await countMessageRecords()).toBe(before);
  });
});
