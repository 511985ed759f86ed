// The function host killed with SIGKILL in the middle of a 1,000-message run, while ACS has taken a
// request whose answer never comes back, then started again: every message is delivered, none twice.
// Jobs in flight at the kill reappear when their queue lease ends (shortened here, as a Service Bus
// lock would expire); their messages are repeated with the same repeatability ids, which ACS
// recognises instead of texting anyone again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';

const SHORT_CODE = '+18005550199';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      // 6,000/min in requests of 20: 1,000 messages take about ten seconds, so the kill lands mid-run.
      SMS_SENDERS: JSON.stringify([{ number: SHORT_CODE, type: 'shortCode', burst: 20 }]),
      LOCAL_QUEUE_LEASE_SECONDS: '5',
    },
    // Every ACS answer takes 300 ms, so requests are caught between "sent" and "answered". Delivery
    // reports come 30 s after a send: well after the restart, and after the jobs in flight at the
    // kill come back (lease, plus a new pacing slot), so those messages are settled by their
    // repeat — which must not text anyone again — and not by an early report.
    emulator: { deliveryReports: { delayMs: 30_000 }, faults: { latencyMs: 300 } },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('SIGKILL mid-run', () => {
  it('delivers all 1,000 messages exactly once after the host is killed and started again', async () => {
    const text = 'Crash drill: one text each.';
    const to = Array.from({ length: 1000 }, (_, i) => `+1312555${String(i).padStart(4, '0')}`);
    const response = await stack.postMessages({ to, message: text, from: SHORT_CODE });
    expect(response.status).toBe(202);
    const { batchId } = (await response.json()) as { batchId: string };

    // Kill once a third has gone out and ACS has processed a request it has not answered yet.
    const answeredLater = await waitFor(
      async () => {
        const carried = stack.emulator.sends().filter((s) => s.sent).length;
        const unanswered = stack.emulator
          .requests()
          .filter(
            (r) =>
              r.method === 'POST' && r.path === '/sms' && r.status === 0 && r.recipients !== undefined && r.fault === undefined,
          );
        return carried >= 300 && unanswered.length > 0 ? unanswered.length : undefined;
      },
      60_000,
      'a third sent and a request in flight',
    );
    await stack.restartHost('SIGKILL');
    const carriedAtKill = stack.emulator.sends().filter((s) => s.sent).length;
    expect(answeredLater).toBeGreaterThan(0);
    expect(carriedAtKill).toBeLessThan(1000);

    await waitFor(
      async () => {
        const r = await stack.api(`batches/${batchId}?limit=1`);
        if (r.status !== 200) return undefined;
        const { counts } = (await r.json()) as { counts: Record<string, number> };
        return counts.delivered === 1000 ? true : undefined;
      },
      120_000,
      'all 1,000 delivered',
    );

    const carried = new Map<string, number>();
    for (const s of stack.emulator.sends()) if (s.sent && s.message === text) carried.set(s.to, (carried.get(s.to) ?? 0) + 1);
    expect(
      to.filter((n) => (carried.get(n) ?? 0) > 1),
      'sent twice',
    ).toEqual([]);
    expect(
      to.filter((n) => !carried.has(n)),
      'never sent',
    ).toEqual([]);
    for (const n of to)
      expect(
        stack.emulator.inbox(n).filter((m) => m.message === text),
        n,
      ).toHaveLength(1);
    // The requests ACS answered to a dead host were repeated after the restart and recognised.
    expect(stack.emulator.sends().filter((s) => s.message === text && s.repeated).length).toBeGreaterThan(0);
  }, 180_000);
});
