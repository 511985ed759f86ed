// The SmsClient signs every request; a wrong key is refused by the emulator with 401 and the
// message is never marked sent.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    // The emulator knows the right key; the function app is configured with another one.
    emulator: { accessKey: Buffer.from('the-right-key-for-the-emulator').toString('base64') },
  });
});

afterAll(async () => {
  await stack?.stop();
});

it('a wrong access key gets 401 and the message is not marked sent', async () => {
  const response = await stack.postMessages({ to: '+14255550123', message: 'Signed with the wrong key' });
  expect(response.status).toBe(202);
  const id = ((await response.json()) as { messages: Array<{ messageId: string }> }).messages[0]!.messageId;
  await waitFor(
    async () => (stack.logs.some((l) => /ACS request failed.*"status":401/.test(l)) ? true : undefined),
    10_000,
    'a 401 from the emulator',
  );
  const view = (await (await stack.api(`messages/${id}`)).json()) as { status: string };
  expect(view.status).not.toBe('sent');
  expect(view.status).not.toBe('delivered');
  expect(stack.emulator.inbox('+14255550123')).toHaveLength(0);
});

it('/api/health says ACS refused the credentials, in the words the deploy hook looks for', async () => {
  // infra/hooks/stageTwo.mjs reads this after every deploy: a 401/403 means the app's identity is not
  // accepted for SMS, and the hook names the setting that switches to a built-in role.
  const health = await stack.api('health/details');
  expect(health.status).toBe(503);
  const report = (await health.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
  expect(report.checks.acs).toMatchObject({
    ok: false,
    error: expect.stringMatching(/^ACS refused the app's credentials \(HTTP 401\) on an opt-out check/),
  });
  expect(report.checks.storage!.ok).toBe(true);
});
