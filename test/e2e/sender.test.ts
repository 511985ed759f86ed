// The sender's promises on the whole local stack, judged by what the emulator's handsets received:
// a permanent per-recipient failure is not retried; a poison queue message is dead-lettered on
// first receipt. (A thousand messages under injected 429s, 5xx and timeouts is a fault drill:
// test/drills/acsFaults.drill.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendRecord } from '../../local/acsEmulator/state.js';
import { loadConfig } from '../../shared/config.js';
import { buildServices } from '../../shared/composition.js';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';
import { outboundTransport } from '../support/outboundTransport.js';

// A short code with room to spare (these tests are not about pacing).
const BULK = '+18005550199';
const TOLL_FREE = '+18005550100'; // 200/min: messages wait behind pacing
const senders = JSON.stringify([
  { number: BULK, type: 'shortCode', ratePerMinute: 60000, burst: 10 },
  { number: TOLL_FREE, type: 'tollFree' },
]);

interface Accepted {
  batchId: string;
  messages: Array<{ messageId: string; to: string; status: string }>;
}

interface MessageView {
  messageId: string;
  status: string;
  error?: { code: string; message: string };
  history: Array<{ status: string; reason?: string; code?: string }>;
}

const handsets = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `+1${prefix}${String(i).padStart(4, '0')}`);

async function view(stack: TestStack, messageId: string): Promise<MessageView> {
  const response = await stack.api(`messages/${messageId}`);
  expect(response.status, messageId).toBe(200);
  return (await response.json()) as MessageView;
}

async function post(stack: TestStack, body: unknown): Promise<Accepted> {
  const response = await stack.postMessages(body);
  expect(response.status).toBe(202);
  return (await response.json()) as Accepted;
}

describe('failures that are not retried', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ env: { SMS_SENDERS: senders }, emulator: { deliveryReports: { delayMs: 50 } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a recipient ACS refuses for good is tried once and ends failed with the ACS code and text', async () => {
    const [good, invalid, unverified] = handsets('425556', 3) as [string, string, string];
    stack.emulator.configure({
      faults: {
        handsets: {
          // Refused inside ACS's 202, as a number it cannot text.
          [invalid]: { kind: 'rejected', httpStatusCode: 400, errorMessage: 'Invalid To phone number format.' },
          // Accepted, then a failed delivery report: toll-free number not verified.
          [unverified]: { kind: 'failed', code: 4010 },
        },
      },
    });
    const text = 'Your parcel is on its way.';
    const accepted = await post(stack, { to: [good, invalid, unverified], message: text, from: BULK });
    const idOf = (to: string) => accepted.messages.find((m) => m.to === to)!.messageId;

    const final = await waitFor(
      async () => {
        const views = await Promise.all([good, invalid, unverified].map((to) => view(stack, idOf(to))));
        return views.every((v) => ['delivered', 'failed'].includes(v.status)) ? views : undefined;
      },
      30_000,
      'all three final',
    );
    const [okView, invalidView, unverifiedView] = final as [MessageView, MessageView, MessageView];
    expect(okView.status).toBe('delivered');
    expect(invalidView.status).toBe('failed');
    expect(invalidView.error).toEqual({ code: '400', message: 'Invalid To phone number format.' });
    expect(invalidView.history.map((h) => h.status)).toEqual(['queued', 'sending', 'failed']);
    expect(unverifiedView.status).toBe('failed');
    expect(unverifiedView.error?.code).toBe('4010');

    // Longer than the first retry's backoff would be: still exactly one attempt each.
    await new Promise((r) => setTimeout(r, 5000));
    const attempts = (to: string) => stack.emulator.sends().filter((s: SendRecord) => s.to === to).length;
    expect(attempts(invalid)).toBe(1);
    expect(attempts(unverified)).toBe(1);
    expect(stack.emulator.inbox(invalid)).toHaveLength(0);
    expect(stack.emulator.inbox(unverified)).toHaveLength(0);
    expect(stack.emulator.inbox(good).filter((m) => m.message === text)).toHaveLength(1);
  }, 60_000);

  it('a poison queue message is dead-lettered on first receipt, and the messages it names show failed with the reason', async () => {
    const batchId = 'crm_import_7';
    const to = handsets('425557', 2) as [string, string];
    // Put on the outbound queue by another app, with a typo'd option and a number that is not E.164.
    const job = {
      schema: 'sms.sendjob/1',
      jobId: `${batchId}.0`,
      batchId,
      from: BULK,
      message: 'Welcome aboard',
      recipients: [
        { messageId: `${batchId}-0`, to: to[0] },
        { messageId: `${batchId}-1`, to: '4255570001' },
      ],
      delivery_report: true,
    };
    const transport = outboundTransport(stack);
    await transport.enqueue(job);

    const services = buildServices(loadConfig(stack.settings));
    const letter = await waitFor(
      async () => (await services.deadLetters.list()).find((l) => l.batchId === batchId),
      20_000,
      'the dead letter',
    );
    expect(letter.jobId).toBe(job.jobId);
    expect(letter.reason).toMatch(/^invalid send job: /);
    expect(letter.reason).toContain('recipients.1.to: must be an E.164 number');
    expect(letter.reason).toContain('delivery_report');
    expect(JSON.parse(letter.body)).toEqual(job);

    // The dead letter is written first, then the records it names (rejectInvalidJob).
    for (const messageId of [`${batchId}-0`, `${batchId}-1`]) {
      const v = await waitFor(
        async () => {
          const response = await stack.api(`messages/${messageId}`);
          return response.status === 200 ? ((await response.json()) as MessageView) : undefined;
        },
        10_000,
        `${messageId} recorded`,
      );
      expect(v.status, messageId).toBe('failed');
      expect(v.error).toEqual({ code: 'invalid-job', message: letter.reason });
    }
    // First receipt: handled once, never put back, never moved to the poison queue, nothing sent.
    const received = stack.logs.filter((l) => l.includes('send job deadLettered') && l.includes('delivery_report'));
    expect(received).toHaveLength(1);
    await waitFor(async () => ((await transport.queuedCount()) === 0 ? true : undefined), 10_000, 'the job settled');
    expect(await transport.deadLetterCount()).toBe(0);
    expect(stack.emulator.sends().filter((s) => s.message === 'Welcome aboard')).toHaveLength(0);
    await transport.close();
  }, 60_000);
});
