// The pause switch on the whole local stack, with two function hosts sharing the queue and the
// tables: PUT /api/sending {"paused":true} written through one instance stops the hand-overs of both
// within one pacing slot (at most one burst more reaches ACS), nothing is lost while paused, a
// message whose validity ends while paused is reported expired and never sent, and resuming sends
// every waiting message exactly once — counted in the emulator's handset inboxes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostProcess, type HostProcess } from '../../local/stack.js';
import { launchChromium } from '../support/browser.js';
import { root, startTestStack, waitFor, type TestStack } from '../support/localStack.js';

const TOLL_FREE = '+18005550100'; // toll-free's default 200/min: a burst (one pacing slot) of 3
const BURST = 3;

let stack: TestStack;
let second: HostProcess;
let secondUrl: string;

beforeAll(async () => {
  stack = await startTestStack({
    env: { SMS_SENDERS: JSON.stringify([{ number: TOLL_FREE, type: 'tollFree' }]) },
    emulator: { deliveryReports: { delayMs: 50 } },
  });
  second = await startHostProcess(root, 0, stack.settings, (line) => stack.logs.push(`[second] ${line}`));
  secondUrl = `http://127.0.0.1:${second.port}`;
});

afterAll(async () => {
  await second?.stop();
  await stack?.stop();
});

const json = (body: unknown): RequestInit => ({
  method: 'PUT',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

async function batchCounts(batchId: string): Promise<Record<string, number>> {
  const response = await stack.api(`batches/${batchId}?limit=1`);
  return ((await response.json()) as { counts: Record<string, number> }).counts;
}

describe('the pause switch, across two instances', () => {
  it('stops hand-overs within one pacing slot, lets a message expire and says so, and resume sends every waiting message once', async () => {
    const text = 'Pause drill: your parcel is on its way.';
    const recipients = Array.from({ length: 60 }, (_, i) => `+1971${String(200 + i)}0${String(i).padStart(3, '0')}`);
    const response = await stack.postMessages({ to: recipients, message: text, from: TOLL_FREE });
    expect(response.status).toBe(202);
    const { batchId } = (await response.json()) as { batchId: string };
    const sent = () => stack.emulator.sends().filter((s) => s.message === text && s.sent);

    // Let the flow start (at 200/min: 3 a second), then pause through the second instance.
    await waitFor(async () => (sent().length >= 9 ? true : undefined), 30_000, '9 handed over');
    const pauseIssuedAt = Date.now();
    const pause = await fetch(`${secondUrl}/api/sending`, json({ paused: true, reason: 'pause drill' }));
    expect(pause.status).toBe(200);
    const atPause = sent().length;
    expect(((await pause.json()) as { state: string }).state).toBe('paused');

    // A message submitted while paused, valid for 5 seconds: it waits, then ends expired, never sent.
    const shortLived = await stack.postMessages({
      to: ['+15035550199'],
      message: 'Pause drill: valid 5 s',
      from: TOLL_FREE,
      validFor: 5,
    });
    expect(shortLived.status).toBe(202);
    const expiring = ((await shortLived.json()) as { messages: Array<{ messageId: string }> }).messages[0]!.messageId;

    // Longer than a paused job waits before it looks again (10 s): nothing more goes, beyond the one slot in flight.
    await new Promise((r) => setTimeout(r, 14_000));
    const whilePaused = sent().length;
    // Counted from the moment the PUT was sent (the emulator shares this machine's clock): at most one slot.
    const sinceIssued = sent().filter((x) => Date.parse(x.receivedAt) >= pauseIssuedAt).length;
    expect(sinceIssued).toBeLessThanOrEqual(BURST);
    expect(whilePaused - atPause).toBeLessThanOrEqual(BURST);
    console.info(
      `pause drill: ${sinceIssued} handed over after the PUT was sent, ${whilePaused - atPause} after it answered (one slot: ${BURST})`,
    );
    expect(whilePaused).toBeLessThan(recipients.length);
    for (const base of [stack.hostUrl, secondUrl]) {
      const health = (await (await fetch(`${base}/api/health`)).json()) as { sending?: string };
      expect(health.sending).toBe('paused');
      const details = (await (await fetch(`${base}/api/health/details`)).json()) as {
        sending?: { state: string; pauses: number };
      };
      expect(details.sending).toMatchObject({ state: 'paused', pauses: 1 });
    }
    // The dashboard says so too.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${secondUrl}/api/dashboard?code=local-function-key`);
      await page.waitForSelector('#sending[data-state="paused"]', { timeout: 30_000 });
      expect(await page.locator('#sending-state').textContent()).toMatch(/^Sending paused: the whole pool \(since /);
    } finally {
      await browser.close();
    }
    const expired = await waitFor(
      async () => {
        const m = (await (await stack.api(`messages/${expiring}`)).json()) as { status: string };
        return m.status === 'expired' ? m : undefined;
      },
      30_000,
      'the short-lived message expired',
    );
    expect(expired.status).toBe('expired');
    // Nothing waiting was lost or given up on: the rest of the batch is still to be sent.
    const counts = await batchCounts(batchId);
    expect(counts.failed ?? 0).toBe(0);
    expect(counts.expired ?? 0).toBe(0);

    // Resume through the first instance: every waiting message goes, each exactly once.
    const resume = await stack.api('sending', json({ paused: false }));
    expect(resume.status).toBe(200);
    expect(((await resume.json()) as { state: string }).state).toBe('active');
    await waitFor(
      async () => {
        const c = await batchCounts(batchId);
        return (c.sent ?? 0) + (c.delivered ?? 0) === recipients.length ? true : undefined;
      },
      90_000,
      'all 60 handed over after resume',
    );
    for (const to of recipients)
      expect(
        stack.emulator.inbox(to).filter((m) => m.message === text),
        to,
      ).toHaveLength(1);
    expect(sent()).toHaveLength(recipients.length);
    expect(stack.emulator.inbox('+15035550199')).toEqual([]);
  }, 180_000);

  it('refuses a malformed switch with a problem naming the field', async () => {
    const response = await stack.api('sending', json({ paused: 'yes' }));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as { errors?: Array<{ pointer?: string; field?: string }> };
    expect(JSON.stringify(problem.errors)).toContain('paused');
  });
});
