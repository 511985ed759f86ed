// `npm run dead-letters`: lists dead-lettered send jobs with their reasons, from the sender's table
// and from the transport's poison queue, and replays chosen ones. A replayed job that never ran is
// sent once; a replayed job whose messages already reached ACS sends nothing twice.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, startTestStack, waitFor, type TestStack } from '../support/localStack.js';
import { outboundTransport } from '../support/outboundTransport.js';

const run = promisify(execFile);
const SHORT_CODE = '+18005550199';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      SMS_SENDERS: JSON.stringify([{ number: SHORT_CODE, type: 'shortCode', ratePerMinute: 60000 }]),
      SEND_MAX_ATTEMPTS: '2',
    },
    emulator: { deliveryReports: { delayMs: 50 } },
  });
});

afterAll(async () => {
  await stack?.stop();
});

interface MessageView {
  status: string;
  error?: { code: string; message: string };
}

/** Runs the command as an operator would, against this stack's storage. */
async function deadLetters(args: string[], via: 'npm' | 'node' = 'node'): Promise<string> {
  const env = { ...process.env, ...stack.settings };
  const { stdout } =
    via === 'npm'
      ? await run('npm', ['run', '--silent', 'dead-letters', '--', ...args], { cwd: root, env })
      : await run(process.execPath, [path.join(root, 'dist/local/deadLetters.js'), ...args], { cwd: root, env });
  return stdout;
}

/** The listed letters: id, batch, where kept and reason. */
function parseList(stdout: string): Array<{ id: string; batchId: string; source: string; reason: string }> {
  const out: Array<{ id: string; batchId: string; source: string; reason: string }> = [];
  const lines = stdout.split('\n');
  lines.forEach((line, i) => {
    const m = /^(\S+)\s+\S+\s+job \S+\s+batch (\S+)\s+in (.+)$/.exec(line);
    if (m) out.push({ id: m[1]!, batchId: m[2]!, source: m[3]!, reason: (lines[i + 1] ?? '').replace(/^\s+reason: /, '') });
  });
  return out;
}

async function statusOf(messageId: string): Promise<MessageView> {
  return (await (await stack.api(`messages/${messageId}`)).json()) as MessageView;
}

async function waitForStatus(messageId: string, status: string, timeoutMs = 30_000): Promise<MessageView> {
  return waitFor(
    async () => {
      const v = await statusOf(messageId);
      return v.status === status ? v : undefined;
    },
    timeoutMs,
    `${messageId} ${status}`,
  );
}

const carried = (to: string, text: string) =>
  stack.emulator.sends().filter((s) => s.to === to && s.message === text && s.sent).length;

async function submit(to: string, message: string): Promise<string> {
  const response = await stack.postMessages({ to, message, from: SHORT_CODE });
  expect(response.status).toBe(202);
  return ((await response.json()) as { messages: Array<{ messageId: string }> }).messages[0]!.messageId;
}

describe('npm run dead-letters', () => {
  it('replays a job that never reached ACS: sent exactly once', async () => {
    const to = '+14255550201';
    const text = 'Replay drill: throttled until it gave up';
    // ACS throttles both attempts; with SEND_MAX_ATTEMPTS=2 the sender gives up and dead-letters the job.
    stack.emulator.configure({ faults: { script: ['throttle', 'throttle'] } });
    const messageId = await submit(to, text);
    const failed = await waitForStatus(messageId, 'failed');
    expect(failed.error?.code).toBe('max-attempts');
    expect(carried(to, text)).toBe(0);

    const listed = parseList(await deadLetters(['list'], 'npm'));
    const letter = listed.find((l) => l.batchId === messageId.replace(/-\d+$/, ''));
    expect(letter, 'listed').toBeDefined();
    expect(letter!.source).toBe('deadLetters table');
    expect(letter!.reason).toBe('gave up after 2 attempts: ACS answered 429 (HTTP 429)');

    const replayed = await deadLetters(['replay', letter!.id]);
    expect(replayed).toContain(`${letter!.id}: replayed, re-queued 1`);
    await waitForStatus(messageId, 'delivered');
    expect(carried(to, text)).toBe(1);
    expect(stack.emulator.inbox(to).filter((m) => m.message === text)).toHaveLength(1);
    expect(parseList(await deadLetters(['list'])).some((l) => l.id === letter!.id)).toBe(false);
  }, 180_000);

  it('replays a job whose message ACS already took: nothing is sent twice', async () => {
    const to = '+14255550202';
    const text = 'Replay drill: sent, but the answers were lost';
    // Both attempts time out after ACS has processed them: the first one reached the handset.
    // Delivery reports are slow, so the sender gives up before the report tells it the truth.
    stack.emulator.configure({
      faults: { script: ['timeout', 'timeout'], timeoutMs: 300 },
      deliveryReports: { delayMs: 20_000 },
    });
    try {
      const messageId = await submit(to, text);
      const failed = await waitForStatus(messageId, 'failed');
      expect(failed.error?.code).toBe('max-attempts');
      expect(stack.emulator.inbox(to).filter((m) => m.message === text)).toHaveLength(1);

      const letter = parseList(await deadLetters(['list'])).find((l) => l.batchId === messageId.replace(/-\d+$/, ''));
      expect(letter?.reason).toBe('gave up after 2 attempts: ACS unreachable (ECONNRESET)'); // the connection was reset
      const replayed = await deadLetters(['replay', letter!.id]);
      expect(replayed).toContain(`${letter!.id}: notReplayable, re-queued 0`);
      expect(replayed).toContain(`kept ${messageId}: its last hand-over may have reached ACS`);

      await new Promise((r) => setTimeout(r, 3000));
      expect(carried(to, text)).toBe(1);
      expect(stack.emulator.inbox(to).filter((m) => m.message === text)).toHaveLength(1);
    } finally {
      stack.emulator.configure({ deliveryReports: { delayMs: 50 } });
    }
  }, 180_000);

  it("lists a job from the transport's dead letters and replays only what was not sent yet, once", async () => {
    // A report that overtakes the sender's own write is parked until the reconciler's next run
    // (every 5 minutes); this drill is about the dead letters, so reports come after the write.
    stack.emulator.configure({ deliveryReports: { delayMs: 1000 } });
    const batchId = 'partner_feed_1';
    const [first, second] = ['+14255550203', '+14255550204'];
    const text = 'Replay drill: from the poison queue';
    const job = (recipients: Array<{ messageId: string; to: string }>, jobId: string) => ({
      schema: 'sms.sendjob/1',
      jobId,
      batchId,
      from: SHORT_CODE,
      message: text,
      recipients,
    });
    const transport = outboundTransport(stack);
    try {
      // Another app's job: its first message goes out normally…
      await transport.enqueue(job([{ messageId: `${batchId}-0`, to: first }], `${batchId}.a`));
      await waitForStatus(`${batchId}-0`, 'delivered');
      // …while a job with both messages is one the function failed on at every try, so the
      // transport set it aside: the host's poison queue after maxDequeueCount failures, or Service
      // Bus's dead-letter sub-queue after maxDeliveryCount.
      const both = job(
        [
          { messageId: `${batchId}-0`, to: first },
          { messageId: `${batchId}-1`, to: second },
        ],
        `${batchId}.b`,
      );
      await transport.deadLetter(both);

      const letter = parseList(await deadLetters(['list'])).find((l) => l.batchId === batchId);
      expect(letter?.source).toBe(transport.deadLetterSource);
      expect(letter?.id).toMatch(transport.deadLetterId);
      expect(letter?.reason).toMatch(transport.deadLetterReason);
      // Listing leaves the dead letters as they were.
      expect(await transport.deadLetterCount()).toBe(1);

      const replayed = await deadLetters(['replay', letter!.id]);
      expect(replayed).toContain(`${letter!.id}: replayed, re-queued 1`);
      expect(replayed).toContain(`kept ${batchId}-0: it is delivered`);
      await waitForStatus(`${batchId}-1`, 'delivered');
      expect(carried(first, text)).toBe(1);
      expect(carried(second, text)).toBe(1);
      expect(stack.emulator.inbox(first).filter((m) => m.message === text)).toHaveLength(1);
      expect(stack.emulator.inbox(second).filter((m) => m.message === text)).toHaveLength(1);
      expect(await transport.deadLetterCount()).toBe(0);
    } finally {
      await transport.close();
    }
  }, 180_000);
});
