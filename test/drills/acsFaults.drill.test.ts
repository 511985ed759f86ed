// Faults at ACS, as a drill: 1,000 messages while a fifth of ACS's answers are 429s, a tenth 5xx and
// one in twenty a timeout (the request reached ACS, the answer never came back). Every handset
// gets its text exactly once, counted at the emulator. Minutes on a busy machine — the unluckiest
// job waits out several backoffs — so it runs with the other drills (npm run test:drills).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/localStack.js';
import { ledger, settled } from './ledger.js';

// A short code with room to spare (this is about faults, not pacing) and a burst of 10, so 1,000
// messages make a hundred ACS requests and the injected shares of faults really show.
const BULK = '+18005550199';
const senders = JSON.stringify([{ number: BULK, type: 'shortCode', ratePerMinute: 60000, burst: 10 }]);
const handsets = Array.from({ length: 1000 }, (_, i) => `+1206555${String(i).padStart(4, '0')}`);

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    slots: 2, // 1,000 messages at once
    env: { SMS_SENDERS: senders },
    emulator: { deliveryReports: { delayMs: 50 }, seed: 20261125 },
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('faults at ACS', () => {
  it('1,000 messages under 20% 429s, 10% 5xx and 5% timeouts: all delivered, each handset texted exactly once', async () => {
    const text = 'Fault drill: all of you, exactly once.';
    stack.emulator.configure({
      faults: { throttleShare: 0.2, serverErrorShare: 0.1, timeoutShare: 0.05, retryAfterSeconds: 1, timeoutMs: 500 },
    });
    let statuses: Map<string, string>;
    let accepted: Array<{ messageId: string; to: string }>;
    try {
      const response = await stack.postMessages({ to: handsets, message: text, from: BULK });
      expect(response.status).toBe(202);
      accepted = ((await response.json()) as { messages: Array<{ messageId: string; to: string }> }).messages;
      expect(accepted).toHaveLength(1000);
      statuses = await settled(stack, accepted, 240_000, { reports: true });
    } finally {
      stack.emulator.configure({ faults: { throttleShare: 0, serverErrorShare: 0, timeoutShare: 0 } });
    }
    expect([...statuses.values()].filter((s) => s !== 'delivered')).toEqual([]);

    // The faults really happened, each kind more than once.
    const sends = stack.emulator.requests().filter((r) => r.method === 'POST' && r.path === '/sms');
    const faults = (kind: string) => sends.filter((r) => r.fault === kind).length;
    expect(faults('throttle')).toBeGreaterThan(1);
    expect(faults('serverError')).toBeGreaterThan(1);
    expect(faults('timeout')).toBeGreaterThan(1);
    // A timed-out request was processed by ACS; its retry was recognised as a repeat, not sent again.
    expect(stack.emulator.sends().some((s) => s.message === text && s.repeated)).toBe(true);

    // At the handsets: nobody missed, nobody twice; and ACS handed each to the carrier once.
    expect(ledger(stack, text, accepted, statuses, handsets)).toEqual({ lost: [], duplicates: [], strays: [] });
    const carried = new Map<string, number>();
    for (const s of stack.emulator.sends()) if (s.sent && s.message === text) carried.set(s.to, (carried.get(s.to) ?? 0) + 1);
    expect(handsets.filter((n) => carried.get(n) !== 1)).toEqual([]);
  }, 300_000);
});
