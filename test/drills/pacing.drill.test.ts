// Pacing per sender number, measured where it matters: at ACS. A burst of messages on one sender
// goes out at the sender's configured rate — never more than its burst allowance plus the rate
// in any window (docs/sending.md) — without a single 429 from an ACS that limits the number at
// the same rate, and finishes in about the time the rate implies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';

const TEN_DLC = '+14255550100'; // configured at 600/min: a burst allowance of 10
const TOLL_FREE = '+18005550100'; // toll-free's default 200/min: a burst allowance of 3

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    // Rates are measured at ACS: a host starved of CPU by other stacks hands over late, then in
    // bursts. So this drill takes every stack slot of its run: no other stack shares the machine.
    slots: 'all',
    env: {
      SMS_SENDERS: JSON.stringify([
        { number: TEN_DLC, type: 'tenDlc', ratePerMinute: 600 },
        { number: TOLL_FREE, type: 'tollFree' },
      ]),
    },
    emulator: {
      // ACS limits each number at the same rate. Its bucket holds two seconds' worth: the
      // pipeline's one second's worth at once, plus room for the few milliseconds by which one
      // request may arrive late and the next on time.
      senders: [
        { number: TEN_DLC, type: 'tenDlc', ratePerMinute: 600, burst: 20 },
        { number: TOLL_FREE, type: 'tollFree', ratePerMinute: 200, burst: 6 },
      ],
      deliveryReports: { delayMs: 50 },
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

/** Most messages accepted by ACS in any window [t, t + ms), over the accepted requests' times. */
function busiestWindow(accepted: ReadonlyArray<{ at: number; count: number }>, ms: number): number {
  let most = 0;
  for (let i = 0; i < accepted.length; i++) {
    let n = 0;
    for (let j = i; j < accepted.length && accepted[j]!.at < accepted[i]!.at + ms; j++) n += accepted[j]!.count;
    most = Math.max(most, n);
  }
  return most;
}

describe.each([
  { name: '600/min', from: TEN_DLC, count: 500, perMinute: 600, burst: 10, within: 90_000 },
  { name: 'toll-free 200/min', from: TOLL_FREE, count: 100, perMinute: 200, burst: 3, within: 60_000 },
])('a burst on one sender at $name', ({ from, count, perMinute, burst, within }) => {
  it(`sends ${count} messages at the rate, with no 429, in about the time the rate implies`, async () => {
    const text = `Pacing drill at ${perMinute}/min`;
    const to = Array.from({ length: count }, (_, i) => `+1${perMinute === 600 ? '503' : '971'}555${String(i).padStart(4, '0')}`);
    const started = Date.now();
    const response = await stack.postMessages({ to, message: text, from });
    expect(response.status).toBe(202);
    const { batchId } = (await response.json()) as { batchId: string };

    await waitFor(
      async () => {
        const r = await stack.api(`batches/${batchId}?limit=1`);
        const { counts } = (await r.json()) as { counts: Record<string, number> };
        return counts.delivered === count ? true : undefined;
      },
      within + 30_000,
      `all ${count} delivered`,
    );

    // ACS refused nothing for rate.
    const requests = stack.emulator
      .requests()
      .filter((r) => r.method === 'POST' && r.path === '/sms' && r.from === from && Date.parse(r.at) >= started);
    expect(requests.filter((r) => r.status === 429)).toEqual([]);

    // What ACS accepted, request by request; every recipient exactly once.
    const sends = stack.emulator.sends().filter((s) => s.message === text && s.sent);
    expect(new Set(sends.map((s) => s.to)).size).toBe(count);
    expect(sends).toHaveLength(count);
    const byRequest = new Map<string, { at: number; count: number }>();
    for (const s of sends) {
      const entry = byRequest.get(s.requestId) ?? { at: Date.parse(s.receivedAt), count: 0 };
      entry.count++;
      byRequest.set(s.requestId, entry);
    }
    const accepted = [...byRequest.values()].sort((a, b) => a.at - b.at);
    expect(Math.max(...accepted.map((a) => a.count))).toBeLessThanOrEqual(burst);

    // In any window of w seconds: at most the burst allowance plus w seconds at the rate.
    const perSecond = perMinute / 60;
    for (const seconds of [1, 2, 5, 10, 20]) {
      expect(busiestWindow(accepted, seconds * 1000), `busiest ${seconds}-second window`).toBeLessThanOrEqual(
        Math.floor(burst + perSecond * seconds),
      );
    }

    // About the time the rate implies (it cannot be faster, given the windows above), not far more.
    const span = accepted.at(-1)!.at - started;
    expect(span).toBeLessThan(within);
  }, 150_000);
});
