// A daily budget on the whole local stack, raced by five clients across two function hosts that
// share the tables: with a budget of 100 messages, 5 concurrent clients submitting 50 requests each
// end with at most 100 accepted; every other request gets a 429 problem with Retry-After at the end
// of the UTC day; retries of accepted requests charge nothing more; and what the handsets receive
// is exactly what was accepted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostProcess, type HostProcess } from '../../local/stack.js';
import { launchChromium } from '../support/browser.js';
import { root, startTestStack, waitFor, type TestStack } from '../support/localStack.js';

const SENDER = '+14255550100';
const BUDGET = 100;
const CLIENTS = 5;
const EACH = 50;

let stack: TestStack;
let second: HostProcess;
let hosts: string[];

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      SMS_SENDERS: JSON.stringify([{ number: SENDER, type: 'tenDlc', ratePerMinute: 600 }]),
      SMS_BUDGETS: JSON.stringify({ daily: { messages: BUDGET } }),
    },
    emulator: { senders: [{ number: SENDER, type: 'tenDlc', ratePerMinute: 600, burst: 20 }], deliveryReports: { delayMs: 50 } },
  });
  second = await startHostProcess(root, 0, stack.settings, (line) => stack.logs.push(`[second] ${line}`));
  hosts = [stack.hostUrl, `http://127.0.0.1:${second.port}`];
});

afterAll(async () => {
  await second?.stop();
  await stack?.stop();
});

const TEXT = 'Budget drill: your code is 424242';
/** One number per request, each in its own prefix (+1503NXX), so the pumping watch sees no burst. */
const numberOf = (client: number, i: number) => `+1503${200 + client * EACH + i}0100`;

function submit(host: string, client: number, i: number): Promise<Response> {
  return fetch(`${host}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `budget-drill-${client}-${i}` },
    body: JSON.stringify({ to: [numberOf(client, i)], message: TEXT, from: SENDER }),
  });
}

interface Outcome {
  client: number;
  i: number;
  status: number;
  retryAfter: string | null;
  body: { budget?: { scope: string; period: string; limit: number; spent: number; resetsAt: string }; type?: string };
}

describe('a daily budget of 100 messages, raced by 5 clients on two instances', () => {
  let outcomes: Outcome[];

  it('accepts at most 100; the rest get 429 with Retry-After at the end of the day', async () => {
    outcomes = (
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          const mine: Outcome[] = [];
          for (let i = 0; i < EACH; i++) {
            const response = await submit(hosts[(client + i) % 2]!, client, i);
            mine.push({
              client,
              i,
              status: response.status,
              retryAfter: response.headers.get('retry-after'),
              body: (await response.json()) as Outcome['body'],
            });
          }
          return mine;
        }),
      )
    ).flat();

    const accepted = outcomes.filter((o) => o.status === 202);
    const refused = outcomes.filter((o) => o.status === 429);
    expect(accepted.length).toBeLessThanOrEqual(BUDGET);
    // Nothing else: no 5xx from the race, and the budget is not left underspent.
    expect(accepted.length + refused.length).toBe(CLIENTS * EACH);
    expect(accepted.length).toBe(BUDGET);

    const now = Date.now();
    const midnight = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 1);
    for (const r of refused) {
      expect(r.body.type).toMatch(/budget-exceeded$/);
      expect(r.body.budget).toMatchObject({
        scope: 'pool',
        period: 'day',
        limit: BUDGET,
        spent: BUDGET,
        resetsAt: new Date(midnight).toISOString(),
      });
      const seconds = Number(r.retryAfter);
      expect(Number.isInteger(seconds) && seconds > 0).toBe(true);
      expect(Math.abs(now + seconds * 1000 - midnight)).toBeLessThan(120_000);
    }
  }, 240_000);

  it('charges a retry of an accepted request nothing more, and a refused one stays refused', async () => {
    const accepted = outcomes.filter((o) => o.status === 202).slice(0, 10);
    for (const o of accepted) expect((await submit(hosts[1]!, o.client, o.i)).status).toBe(202);
    const refused = outcomes.find((o) => o.status === 429)!;
    expect((await submit(hosts[0]!, refused.client, refused.i)).status).toBe(429);

    const sending = (await (await fetch(`${hosts[1]}/api/sending`)).json()) as {
      budgets: Array<{ scope: string; period: string; messages?: { limit: number; spent: number; remaining: number } }>;
    };
    expect(sending.budgets).toEqual([
      expect.objectContaining({ scope: 'pool', period: 'day', messages: { limit: BUDGET, spent: BUDGET, remaining: 0 } }),
    ]);
  });

  it('sends exactly what was accepted: one text to each accepted number, none to the refused', async () => {
    const accepted = outcomes.filter((o) => o.status === 202);
    const sent = () => stack.emulator.sends().filter((s) => s.message === TEXT && s.sent);
    await waitFor(async () => (sent().length >= accepted.length ? true : undefined), 90_000, `${accepted.length} handed over`);
    // A little longer: nothing more arrives.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(sent()).toHaveLength(accepted.length);
    for (const o of accepted)
      expect(stack.emulator.inbox(numberOf(o.client, o.i)).filter((m) => m.message === TEXT)).toHaveLength(1);
    for (const o of outcomes.filter((x) => x.status === 429)) expect(stack.emulator.inbox(numberOf(o.client, o.i))).toEqual([]);
  }, 120_000);

  it('shows on the dashboard: the pool budget used up, 100 of 100', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${stack.hostUrl}/api/dashboard?code=local-function-key`);
      await page.waitForSelector('#sending tbody tr', { timeout: 30_000 });
      const shown = await page.evaluate(() => ({
        state: document.querySelector('#sending-state')!.textContent,
        rows: [...document.querySelectorAll('#sending tbody tr')].map((tr) =>
          [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim()),
        ),
        meter: (document.querySelector('#sending tbody meter') as HTMLMeterElement).value,
      }));
      expect(shown.state).toBe('Sending: active');
      expect(shown.rows).toHaveLength(1);
      expect(shown.rows[0]!.slice(0, 4)).toEqual(['pool · messages', new Date().toISOString().slice(0, 10), '100', '100']);
      expect(shown.meter).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
