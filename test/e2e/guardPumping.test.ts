// Geo permissions and pumping detection on the whole local stack, with two function hosts sharing
// the queue and the tables, judged by what the emulator's handsets receive:
// - a recipient in a country no sender reaches is refused at submit with a problem naming it and
//   the rule, and counted in analytics;
// - a simulated pumping burst — 500 OTP submits to sequential numbers of one foreign prefix within
//   a minute, mixed with normal traffic, split over both hosts — is held after at most 50 sends to
//   that prefix while the normal traffic keeps flowing; GET /api/holds lists the hold, and
//   releasing it with "cancel" cancels the held messages without sending one more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostProcess, type HostProcess } from '../../local/stack.js';
import { root, startTestStack, waitFor, type TestStack } from '../support/localStack.js';

const TOLL_FREE = '+18005550100'; // reaches US, CA, PR
const ALPHA = 'Contoso'; // reaches GB among 22 countries
const RANGE = '+44770090'; // the pumped prefix: +44 7700 90xxxx
const PUMPED = 500;
const NORMAL = 100;
// Held messages look again every 10 s (default 30): a release takes effect within that.
const RECHECK_S = 10;

let stack: TestStack;
let second: HostProcess;
let hosts: string[];

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      SMS_SENDERS: JSON.stringify([
        { number: TOLL_FREE, type: 'tollFree', ratePerMinute: 600 },
        { number: ALPHA, type: 'alphanumeric' },
      ]),
      SMS_PUMPING_PROTECTION: JSON.stringify({ heldRecheckSeconds: RECHECK_S }),
    },
    emulator: {
      senders: [
        { number: TOLL_FREE, type: 'tollFree', ratePerMinute: 600, burst: 20 },
        { number: ALPHA, type: 'alphanumeric', ratePerMinute: 600, burst: 20 },
      ],
      deliveryReports: { delayMs: 50 },
    },
  });
  second = await startHostProcess(root, 0, stack.settings, (line) => stack.logs.push(`[second] ${line}`));
  hosts = [stack.hostUrl, `http://127.0.0.1:${second.port}`];
});

afterAll(async () => {
  await second?.stop();
  await stack?.stop();
});

const post = (host: string, body: unknown) =>
  fetch(`${host}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const today = new Date().toISOString().slice(0, 10);
const day = (offset: number) => new Date(Date.parse(`${today}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);

describe('geo permissions', () => {
  it('refuse a recipient in a country no sender reaches, naming it and the rule, and count it', async () => {
    const response = await post(hosts[0]!, { to: ['+14255550123', '+18765550123'], message: 'Geo drill' }); // +1 876: Jamaica
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as {
      type: string;
      detail: string;
      rule: string;
      countries: string[];
      errors: Array<{ field: string; message: string }>;
    };
    expect(problem).toMatchObject({ rule: 'geo', countries: ['JM'] });
    expect(problem.type).toMatch(/destination-not-permitted$/);
    expect(problem.errors).toEqual([{ field: 'to[1]', message: expect.stringContaining('JM') }]);
    expect(problem.detail).toContain('SMS_ALLOWED_COUNTRIES');

    const partial = await post(hosts[1]!, { to: ['+14255550124', '+18765550124'], message: 'Geo drill', partial: true });
    expect(partial.status).toBe(202);
    const accepted = (await partial.json()) as {
      messages: Array<{ to: string }>;
      rejected: Array<{ to: string; reason: string }>;
    };
    expect(accepted.messages.map((m) => m.to)).toEqual(['+14255550124']);
    expect(accepted.rejected).toEqual([{ to: '+18765550124', reason: expect.stringContaining('JM') }]);

    await waitFor(
      async () => {
        const report = (await (await stack.api(`analytics?from=${day(-1)}&to=${day(1)}`)).json()) as {
          totals: { geoRefused: number };
        };
        return report.totals.geoRefused === 2 ? true : undefined;
      },
      60_000,
      'both refusals counted in analytics',
    );
    await waitFor(
      async () => (stack.emulator.inbox('+14255550124').length === 1 ? true : undefined),
      30_000,
      'the permitted one sent',
    );
    expect(stack.emulator.inbox('+18765550123')).toEqual([]);
    expect(stack.emulator.inbox('+18765550124')).toEqual([]);
    expect(stack.emulator.inbox('+14255550123')).toEqual([]);
  }, 120_000);
});

describe('a pumping burst to one foreign prefix, mixed with normal traffic', () => {
  const pumped = Array.from({ length: PUMPED }, (_, i) => `${RANGE}${String(i).padStart(4, '0')}`);
  // Normal OTP traffic: US numbers and other GB numbers, each request in a prefix of its own.
  const normal = Array.from({ length: NORMAL }, (_, i) =>
    i % 2 === 0 ? `+1971${String(200 + i)}${String(1000 + i)}` : `+4479${String(100 + i)}100${String(i % 100).padStart(2, '0')}`,
  );
  const pumpedIds = new Map<string, string>();

  it('is held after at most 50 sends to the prefix, while the normal traffic flows', async () => {
    // One request at a time per client, 8 clients over both hosts: every 6th request is normal.
    const work = [...pumped.map((to) => ({ to, pumped: true }))];
    normal.forEach((to, i) => work.splice(i * 6, 0, { to, pumped: false }));
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 8 }, async (_, client) => {
        while (next < work.length) {
          const item = work[next++]!;
          const response = await post(hosts[client % 2]!, {
            to: [item.to],
            message: `Your code is ${item.pumped ? 'P' : 'N'}-4242`,
            tag: 'otp',
          });
          expect(response.status, item.to).toBe(202);
          if (item.pumped)
            pumpedIds.set(
              item.to,
              ((await response.json()) as { messages: Array<{ messageId: string }> }).messages[0]!.messageId,
            );
        }
      }),
    );
    const submitSeconds = (Date.now() - started) / 1000;

    // The normal traffic flows: every normal number receives its code once.
    await waitFor(
      async () => (normal.every((to) => stack.emulator.inbox(to).length === 1) ? true : undefined),
      90_000,
      'every normal message delivered to its handset',
    );
    const toRange = () => stack.emulator.sends().filter((s) => s.to.startsWith(RANGE) && s.sent);
    const sentToRange = toRange().length;
    expect(sentToRange).toBeLessThanOrEqual(50);
    expect(sentToRange).toBeGreaterThan(0);
    console.info(
      `pumping drill: ${work.length} requests in ${submitSeconds.toFixed(1)} s; ${sentToRange} of ${PUMPED} sent to ${RANGE} before the hold`,
    );
    for (const to of normal) expect(stack.emulator.inbox(to)).toHaveLength(1);

    // The hold, as the API lists it.
    const holds = (await (await stack.api('holds')).json()) as {
      holds: Array<{ id: string; rule: string; reason: string; state: string; prefix?: string }>;
    };
    expect(holds.holds).toEqual([
      expect.objectContaining({ id: 'GB-44770090', prefix: RANGE, rule: 'burst', reason: 'fraudSuspected', state: 'active' }),
    ]);
    // A message of the range that was not sent waits as held, with the reason.
    const unsent = pumped.filter((to) => stack.emulator.inbox(to).length === 0);
    expect(unsent.length).toBe(PUMPED - sentToRange);
    const sample = unsent.slice(-1)[0]!;
    const held = await waitFor(
      async () => {
        const m = (await (await stack.api(`messages/${pumpedIds.get(sample)}`)).json()) as {
          status: string;
          history: Array<{ status: string; reason?: string }>;
        };
        return m.status === 'held' ? m : undefined;
      },
      60_000,
      'a range message held',
    );
    expect(held.history.at(-1)).toMatchObject({ status: 'held', reason: 'fraudSuspected' });
    // Nothing more reaches the range while the hold stands (longer than a held message waits before it looks again).
    await new Promise((r) => setTimeout(r, (RECHECK_S + 3) * 1000));
    expect(toRange()).toHaveLength(sentToRange);
  }, 300_000);

  it('releasing the hold with "cancel" cancels the held messages and sends none', async () => {
    const sentBefore = stack.emulator.sends().filter((s) => s.to.startsWith(RANGE) && s.sent).length;
    const response = await stack.api('holds/GB-44770090/release', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: 'cancel', note: 'pumping drill' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 'GB-44770090', state: 'released', heldMessages: 'cancel' });

    const unsent = pumped.filter((to) => stack.emulator.inbox(to).length === 0);
    const sample = [unsent[0]!, unsent[Math.floor(unsent.length / 2)]!, unsent.at(-1)!];
    for (const to of sample) {
      await waitFor(
        async () => {
          const m = (await (await stack.api(`messages/${pumpedIds.get(to)}`)).json()) as { status: string };
          return m.status === 'canceled' ? true : undefined;
        },
        90_000,
        'a held message canceled',
      );
    }
    expect(stack.emulator.sends().filter((s) => s.to.startsWith(RANGE) && s.sent)).toHaveLength(sentBefore);
  }, 300_000);

  it('a burst to another prefix, released with "send": every held message is sent, each exactly once', async () => {
    const other = Array.from({ length: 40 }, (_, i) => `+44770091${String(i).padStart(4, '0')}`);
    const text = 'Your code is R-4242';
    await Promise.all(
      [0, 1, 2, 3].map(async (client) => {
        for (let i = client; i < other.length; i += 4) {
          const response = await post(hosts[client % 2]!, { to: [other[i]], message: text, tag: 'otp' });
          expect(response.status).toBe(202);
        }
      }),
    );
    const hold = await waitFor(
      async () => {
        const r = (await (await stack.api('holds/GB-44770091')).json()) as { state?: string };
        return r.state === 'active' ? r : undefined;
      },
      30_000,
      'the hold on +44770091',
    );
    expect(hold).toMatchObject({ rule: 'burst', reason: 'fraudSuspected' });
    const got = () => other.filter((to) => stack.emulator.inbox(to).some((m) => m.message === text)).length;
    // The hold stands: the ones not sent by now are waiting for it.
    await new Promise((r) => setTimeout(r, 5_000));
    const beforeRelease = got();
    expect(beforeRelease).toBeLessThan(other.length);

    const response = await stack.api('holds/GB-44770091/release', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: 'send' }),
    });
    expect(response.status).toBe(200);
    await waitFor(async () => (got() === other.length ? true : undefined), 90_000, 'every held message sent after the release');
    await new Promise((r) => setTimeout(r, 3_000));
    for (const to of other)
      expect(
        stack.emulator.inbox(to).filter((m) => m.message === text),
        to,
      ).toHaveLength(1);
    console.info(`release drill: ${other.length - beforeRelease} of ${other.length} held, each sent once after the release`);
  }, 180_000);
});
