// Delivery reports as they really arrive — late, twice, out of order — and the reconciler that
// settles messages whose report never comes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';

const SENDER = '+18005550199';
const senders = JSON.stringify([{ number: SENDER, type: 'shortCode', ratePerMinute: 60000 }]);
const handset = (i: number) => `+1303555${String(i).padStart(4, '0')}`;
const ORDER = ['queued', 'sending', 'sent', 'delivered', 'failed', 'unknown'];

interface View {
  status: string;
  history: Array<{ status: string; code?: string; reason?: string }>;
  error?: { code: string; message: string };
}

async function view(stack: TestStack, id: string): Promise<View> {
  return (await (await stack.api(`messages/${id}`)).json()) as View;
}

async function sendAll(stack: TestStack, count: number): Promise<Array<{ messageId: string; to: string }>> {
  const response = await stack.postMessages({
    to: Array.from({ length: count }, (_, i) => handset(i)),
    message: 'Report drill',
    from: SENDER,
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { messages: Array<{ messageId: string; to: string }> }).messages;
}

function expectForwardHistory(v: View) {
  const statuses = v.history.map((h) => h.status);
  expect(new Set(statuses).size, statuses.join(',')).toBe(statuses.length);
  const ranks = statuses.map((s) => ORDER.indexOf(s));
  expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
}

describe('reports late, twice and out of order', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: { SMS_SENDERS: senders },
      emulator: {
        deliveryReports: {
          delayMs: 100,
          lateShare: 0.3,
          lateDelayMs: 2500,
          duplicateShare: 1,
          shuffleWindow: 20,
          shuffleWindowMs: 800,
        },
        faults: {
          handsets: {
            [handset(3)]: { kind: 'failed', code: 4005 },
            [handset(7)]: { kind: 'failed', code: 4010 },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('every message ends in the right final status once, with its history in order', async () => {
    const messages = await sendAll(stack, 60);
    await stack.emulator.idle();
    await waitFor(
      async () => {
        for (const m of messages) {
          const v = await view(stack, m.messageId);
          if (v.status !== 'delivered' && v.status !== 'failed') return undefined;
        }
        return true;
      },
      30_000,
      'all final',
    );
    // Every report was delivered twice; give the duplicates time to land, then look again.
    await stack.emulator.idle();
    for (const m of messages) {
      const v = await view(stack, m.messageId);
      expectForwardHistory(v);
      if (m.to === handset(3) || m.to === handset(7)) {
        expect(v.status).toBe('failed');
        expect(v.error?.code).toBe(m.to === handset(3) ? '4005' : '4010');
        expect(v.history.filter((h) => h.status === 'failed')).toHaveLength(1);
      } else {
        expect(v.status).toBe('delivered');
        expect(v.history.filter((h) => h.status === 'delivered')).toHaveLength(1);
      }
    }
    const reports = stack.emulator
      .eventDeliveries()
      .filter((d) => d.eventType === 'Microsoft.Communication.SMSDeliveryReportReceived');
    expect(reports.length).toBeGreaterThanOrEqual(120);
  });
});

describe('reconciliation', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: { SMS_SENDERS: senders, RECONCILE_AFTER_SECONDS: '2', RECONCILE_SCHEDULE: '*/2 * * * * *' },
      emulator: { deliveryReports: { enabled: false }, faults: { handsets: { [handset(5)]: { kind: 'failed', code: 4007 } } } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('with report delivery switched off, brings every sent message to its final status from GET /deliveryReports', async () => {
    const messages = await sendAll(stack, 20);
    await waitFor(
      async () => {
        for (const m of messages) if ((await view(stack, m.messageId)).status !== 'sent') return undefined;
        return true;
      },
      15_000,
      'all sent',
    );
    await waitFor(
      async () => {
        for (const m of messages) {
          const s = (await view(stack, m.messageId)).status;
          if (s !== 'delivered' && s !== 'failed') return undefined;
        }
        return true;
      },
      30_000,
      'all final through the reconciler',
    );
    for (const m of messages) {
      const v = await view(stack, m.messageId);
      expect(v.status).toBe(m.to === handset(5) ? 'failed' : 'delivered');
      expect(v.history.at(-1)!.reason).toMatch(/GET \/deliveryReports/);
      expectForwardHistory(v);
    }
    expect(
      stack.emulator.eventDeliveries().filter((d) => d.eventType === 'Microsoft.Communication.SMSDeliveryReportReceived'),
    ).toHaveLength(0);
  });
});
