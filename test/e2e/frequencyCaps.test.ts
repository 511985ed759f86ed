// Frequency caps on the whole local stack, raced across two function hosts that share the tables:
// with SMS_FREQUENCY_CAPS=marketing:3/day, eight marketing messages to one number posted at once,
// half to each host, end with exactly 3 sent — counted on the emulator's handset inbox — and 5
// recorded `suppressed` with the reason frequencyCap; an OTP to the same number still goes; the
// analytics count the capped ones. Quiet hours are off here: the stack runs on the real clock
// (test/unit/quietHours.test.ts injects one).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostProcess, type HostProcess } from '../../local/stack.js';
import { root, startTestStack, waitFor, type TestStack } from '../support/localStack.js';

const SENDER = '+14255550100';
const TO = '+12125550177';

let stack: TestStack;
let second: HostProcess;
let hosts: string[];

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      SMS_SENDERS: JSON.stringify([{ number: SENDER, type: 'tenDlc', ratePerMinute: 600 }]),
      SMS_FREQUENCY_CAPS: 'marketing:3/day,10/week',
      SMS_QUIET_HOURS: 'none',
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

interface Accepted {
  messages: Array<{ messageId: string; status: string; reason?: string }>;
}

const post = (host: string, body: unknown) =>
  fetch(`${host}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('a cap of 3 marketing messages a day, raced on two instances', () => {
  it('sends exactly 3 of 8 posted at once; the others are suppressed with reason frequencyCap', async () => {
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post(hosts[i % 2]!, { to: TO, message: `Winter sale ${i}`, category: 'marketing' })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(202));
    const messages = (await Promise.all(responses.map(async (r) => ((await r.json()) as Accepted).messages[0]!))).flat();
    expect(messages.filter((m) => m.status === 'queued')).toHaveLength(3);
    const capped = messages.filter((m) => m.status === 'suppressed');
    expect(capped).toHaveLength(5);
    for (const m of capped) expect(m.reason).toMatch(/^frequencyCap: at most 3 marketing messages a day/);

    // GET shows the reason in the history; the handset gets exactly the 3.
    const view = (await (await stack.api(`messages/${capped[0]!.messageId}`)).json()) as {
      status: string;
      category: string;
      history: Array<{ code?: string }>;
    };
    expect(view).toMatchObject({ status: 'suppressed', category: 'marketing', history: [{ code: 'frequencyCap' }] });
    await waitFor(async () => (stack.emulator.inbox(TO).length >= 3 ? true : undefined), 30_000, 'the 3 texts on the handset');

    // An OTP is not capped.
    const otp = await post(hosts[1]!, { to: TO, message: 'Your code is 424242', category: 'otp' });
    expect(((await otp.json()) as Accepted).messages[0]!.status).toBe('queued');
    await waitFor(async () => (stack.emulator.inbox(TO).length >= 4 ? true : undefined), 30_000, 'the OTP on the handset');
    await new Promise((r) => setTimeout(r, 1000));
    const received = stack.emulator.inbox(TO).map((m) => m.message);
    expect(received.filter((t) => t.startsWith('Winter sale'))).toHaveLength(3);
    expect(received).toContain('Your code is 424242');
    expect(received).toHaveLength(4);

    // Counted in analytics.
    await waitFor(
      async () => {
        const report = (await (await stack.api('analytics?groupBy=tag')).json()) as { totals: { frequencyCapped: number } };
        return report.totals.frequencyCapped === 5 ? true : undefined;
      },
      30_000,
      'frequencyCapped in analytics',
    );
  }, 120_000);
});
