// The send API on the whole local stack: a 1,000-recipient request, its idempotent retry,
// scheduling, cancel and expiry — judged by what the handsets receive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';

const SHORT_CODE = '+18005550199';
const SLOW = '+18005550177';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      SMS_SENDERS: JSON.stringify([
        { number: SHORT_CODE, type: 'shortCode', ratePerMinute: 60000 },
        { number: SLOW, type: 'tollFree' },
      ]),
    },
    emulator: { deliveryReports: { delayMs: 50 } },
  });
});

afterAll(async () => {
  await stack?.stop();
});

interface Accepted {
  batchId: string;
  messages: Array<{ messageId: string; to: string; status: string }>;
}

async function batchCounts(batchId: string): Promise<Record<string, number>> {
  const response = await stack.api(`batches/${batchId}?limit=1`);
  const body = (await response.json()) as { counts: Record<string, number> };
  return body.counts;
}

async function statusOf(id: string): Promise<string> {
  return ((await (await stack.api(`messages/${id}`)).json()) as { status: string }).status;
}

describe('bulk and idempotent', () => {
  const recipients = Array.from({ length: 1000 }, (_, i) => `+1206555${String(i).padStart(4, '0')}`);
  let first: Accepted;

  it('accepts 1,000 recipients, sends them in ACS requests of at most 100, each handset gets the text once', async () => {
    const response = await stack.postMessages(
      { to: recipients, message: 'Storm warning: stay indoors tonight.', from: SHORT_CODE, tag: 'storm' },
      { 'idempotency-key': 'storm-2026-11-25' },
    );
    expect(response.status).toBe(202);
    first = (await response.json()) as Accepted;
    expect(first.messages).toHaveLength(1000);

    await waitFor(
      async () => ((await batchCounts(first.batchId)).delivered === 1000 ? true : undefined),
      150_000,
      'all 1,000 delivered',
    );
    const requests = stack.emulator.sends().filter((s) => s.from === SHORT_CODE);
    const perRequest = new Map<string, number>();
    for (const s of requests) perRequest.set(s.requestId, (perRequest.get(s.requestId) ?? 0) + 1);
    expect(Math.max(...perRequest.values())).toBeLessThanOrEqual(100);
    expect(perRequest.size).toBe(10);
    for (const to of recipients) {
      expect(
        stack.emulator.inbox(to).filter((m) => m.message === 'Storm warning: stay indoors tonight.'),
        to,
      ).toHaveLength(1);
    }
  }, 180_000);

  it('an idempotent retry of that request returns the original answer and creates nothing', async () => {
    const before = stack.emulator.sends().length;
    const response = await stack.postMessages(
      { to: recipients, message: 'Storm warning: stay indoors tonight.', from: SHORT_CODE, tag: 'storm' },
      { 'idempotency-key': 'storm-2026-11-25' },
    );
    expect(response.status).toBe(202);
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect(((await response.json()) as Accepted).batchId).toBe(first.batchId);
    await new Promise((r) => setTimeout(r, 1500));
    expect(stack.emulator.sends().length).toBe(before);

    const conflict = await stack.postMessages(
      { to: recipients.slice(0, 2), message: 'Different', from: SHORT_CODE },
      { 'idempotency-key': 'storm-2026-11-25' },
    );
    expect(conflict.status).toBe(422);
    expect(conflict.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('schedule, cancel, expire', () => {
  it('a scheduled message arrives no earlier than its time', async () => {
    const at = new Date(Date.now() + 4000);
    const response = await stack.postMessages({
      to: '+12065559001',
      message: 'Scheduled hello',
      from: SHORT_CODE,
      scheduledAt: at.toISOString(),
    });
    const accepted = (await response.json()) as Accepted;
    expect(accepted.messages[0]!.status).toBe('scheduled');
    const received = await waitFor(async () => stack.emulator.inbox('+12065559001')[0], 20_000, 'the scheduled message');
    expect(Date.parse(received.receivedAt)).toBeGreaterThanOrEqual(at.getTime());
    await waitFor(
      async () => ((await statusOf(accepted.messages[0]!.messageId)) === 'delivered' ? true : undefined),
      30_000,
      'delivered',
    );
  });

  it('a canceled message never reaches the handset', async () => {
    const at = new Date(Date.now() + 3000);
    const accepted = (await (
      await stack.postMessages({ to: '+12065559002', message: 'Never mind', from: SHORT_CODE, scheduledAt: at.toISOString() })
    ).json()) as Accepted;
    const id = accepted.messages[0]!.messageId;
    const cancel = await stack.api(`messages/${id}`, { method: 'DELETE' });
    expect(cancel.status).toBe(200);
    expect(((await cancel.json()) as { status: string }).status).toBe('canceled');
    await new Promise((r) => setTimeout(r, 6000));
    expect(stack.emulator.inbox('+12065559002')).toHaveLength(0);
    expect(await statusOf(id)).toBe('canceled');
    expect((await stack.api(`messages/${id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('a message not handed over within its validity expires and never reaches the handset', async () => {
    // ACS throttles the number for a while: the message cannot be handed over within 5 s.
    stack.emulator.configure({ faults: { throttleShare: 1, retryAfterSeconds: 2 } });
    try {
      const accepted = (await (
        await stack.postMessages({ to: '+12065559003', message: 'Too late', from: SLOW, validFor: 5 })
      ).json()) as Accepted;
      const id = accepted.messages[0]!.messageId;
      await waitFor(async () => ((await statusOf(id)) === 'expired' ? true : undefined), 30_000, 'expired');
    } finally {
      stack.emulator.configure({ faults: { throttleShare: 0 } });
    }
    await new Promise((r) => setTimeout(r, 3000));
    expect(stack.emulator.inbox('+12065559003')).toHaveLength(0);
  });

  it('the OpenAPI document describes the API it serves', async () => {
    const doc = (await (await stack.api('openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/messages', '/api/messages/{id}', '/api/batches/{id}']));
  });
});
