// Privacy: a whole flow — sends, a permanent failure, a reply, a STOP — with every log line of
// the function host and the emulator captured; none may hold a full phone number, a message
// body, an access key or a connection string.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';

const BODY = 'Your one-time code is 482913, valid for 10 minutes';
const RECIPIENTS = ['+14255550142', '+14255550143', '+14255550144'];
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    emulator: {
      faults: {
        handsets: { '+14255550144': { kind: 'rejected', httpStatusCode: 400, errorMessage: 'Invalid To phone number format.' } },
      },
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

it('no log line holds a phone number, a body, a key or a connection string', async () => {
  const response = await stack.postMessages({ to: RECIPIENTS, message: BODY, tag: 'otp' });
  expect(response.status).toBe(202);
  const accepted = (await response.json()) as { batchId: string };
  await waitFor(
    async () => {
      const counts = ((await (await stack.api(`batches/${accepted.batchId}`)).json()) as { counts: Record<string, number> })
        .counts;
      return (counts.delivered ?? 0) + (counts.failed ?? 0) === 3 ? counts : undefined;
    },
    15_000,
    'all three final',
  );
  await stack.emulator.injectInbound({ from: RECIPIENTS[0]!, to: '+18005550100', message: 'Thanks, got it' });
  await stack.emulator.injectInbound({ from: RECIPIENTS[1]!, to: '+18005550100', message: 'STOP' });
  await stack.emulator.idle();
  // Bad input is logged too: it must not echo what it was given.
  await stack.postMessages({ to: ['+14255550145', 'not-a-number'], message: BODY });
  await new Promise((r) => setTimeout(r, 500));

  const accessKey = /accesskey=([^;]+)/i.exec(stack.settings.ACS_CONNECTION_STRING ?? '')![1]!;
  const forbidden = [
    ...RECIPIENTS.map((n) => n.slice(1)), // digits only: catches "+1425…" and "1425…" alike
    '14255550145',
    BODY,
    '482913',
    'Thanks, got it',
    accessKey,
    'AccountKey=',
    'accesskey=',
    'SharedAccessKey',
  ];
  expect(stack.logs.length).toBeGreaterThan(10);
  // The failure was logged — masked — so the scan below looks at lines that mention numbers.
  expect(stack.logs.some((line) => line.includes('+1425***0144'))).toBe(true);
  const leaks = stack.logs.filter((line) => forbidden.some((f) => line.includes(f)));
  expect(leaks).toEqual([]);
});
