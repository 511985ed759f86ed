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
    // The verdict, and whether sending is paused (docs/security.md): nothing about which part is which.
    expect(summary).toEqual({ status: 'healthy', checkedAt: expect.any(String), sending: 'active' });
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
    [
      'too many recipients',
      { to: Array.from({ length: 1001 }, (_, i) => `+1425555${String(1000 + (i % 9000)).padStart(4, '0')}`), message: 'hi' },
      'to',
    ],
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

describe('malformed input never earns a 500', () => {
  // The Functions host decides what a broken escape becomes before a function sees it; whatever it
  // hands on (the raw text, a replacement character, a NUL, a slash), the answer is a 4xx.
  it.each([
    ['a lone surrogate escape', '/api/messages/%ud800'],
    ['an overlong UTF-8 escape', '/api/messages/%C0%AF'],
    ['a truncated escape', '/api/messages/abc%2'],
    ['a NUL', '/api/messages/abc%00def'],
    ['an escaped slash and hash', '/api/messages/a%2Fb%23c'],
    ['an invalid UTF-8 byte', '/api/opt-outs/%FF'],
    ['a replacement character', '/api/opt-outs/%EF%BF%BD'],
  ])('%s in the path gets a 4xx', async (_name, pathname) => {
    const response = await fetch(`${stack.hostUrl}${pathname}`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('invalid JSON gets a 400 that does not repeat the body back', async () => {
    const secret = 'my-one-time-code-481516';
    const response = await stack.postMessages(`{"to": ["+14255550123"], "message": "${secret}`);
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toContain(secret);
    expect(text).not.toContain('+14255550123');
  });

  it('an inbound event carrying a lone surrogate is taken and its rejection logged, not retried for ever', async () => {
    // Event Grid retries what the subscriber refuses (5xx) for up to 24 hours; an event that can never be
    // read is taken (2xx) and its rejection logged, naming the field.
    const envelope = {
      topic: '/subscriptions/x/resourceGroups/y/providers/Microsoft.Communication/communicationServices/z',
      subject: '/phonenumber/15555550100',
      eventType: 'Microsoft.Communication.SMSReceived',
      eventTime: new Date().toISOString(),
      dataVersion: '1.0',
      metadataVersion: '1',
    };
    const data = { messageId: 'Incoming_bad', to: '+15555550100', message: 'STOP', receivedTimestamp: new Date().toISOString() };
    const post = (event: object) =>
      fetch(`${stack.hostUrl}/runtime/webhooks/EventGrid?functionName=inboundSms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
        body: JSON.stringify([event]),
      });
    const response = await post({ ...envelope, id: `bad-${Date.now()}`, data: { ...data, from: '+1555555\ud800' } });
    expect(response.status).toBe(202);
    await waitFor(
      async () => (stack.logs.some((line) => /inbound SMS rejected.*from is not well-formed/.test(line)) ? true : undefined),
      5000,
      'the rejection in the log',
    );
  });
});
