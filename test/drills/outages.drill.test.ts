// Outages: storage (Azurite) stopped and restarted during a 500-message run, and the ACS
// endpoint down and back during another — and, on the Service Bus transport, the namespace (the
// stand-in) gone and back. Whatever was accepted is delivered exactly once; what was refused (503)
// was never half-written and never sent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, testTransport, waitFor, type TestStack } from '../support/localStack.js';

const SENDER = '+18005550199';
const senders = JSON.stringify([{ number: SENDER, type: 'shortCode', ratePerMinute: 60000 }]);
// Consecutive handsets fall in different exchanges: 50 requests to sequential numbers of one block
// within a minute would look like SMS pumping, and the pumping watch (docs/security.md) would hold them.
const handset = (run: number, i: number) => `+1${200 + run}${200 + (i % 800)}${String(Math.floor(i / 800)).padStart(4, '0')}`;

interface Accepted {
  batchId: string;
  messages: Array<{ messageId: string; to: string }>;
}

async function post(stack: TestStack, to: string[]): Promise<{ status: number; retryAfter: string | null; body?: Accepted }> {
  try {
    const response = await stack.postMessages({ to, message: 'Outage drill', from: SENDER });
    const body = response.status === 202 ? ((await response.json()) as Accepted) : undefined;
    if (!body) await response.text();
    return { status: response.status, retryAfter: response.headers.get('retry-after'), ...(body ? { body } : {}) };
  } catch {
    return { status: 0, retryAfter: null };
  }
}

async function allFinal(stack: TestStack, batches: string[]): Promise<boolean> {
  for (const id of batches) {
    const r = await stack.api(`batches/${id}?limit=1`);
    if (r.status !== 200) return false;
    const { counts } = (await r.json()) as { counts: Record<string, number> };
    if (process.env.DBG) console.log('DBG', Date.now() % 1000000, id, JSON.stringify(counts));
    const pending = (counts.queued ?? 0) + (counts.scheduled ?? 0) + (counts.sending ?? 0) + (counts.sent ?? 0);
    if (pending > 0) return false;
  }
  return true;
}

/**
 * Posts `requests` requests of 10 recipients one after another; before request `downAt` takes the
 * part down (then `whileDown` looks at health), before `upAt` brings it back. Every refusal must be
 * a 503 with Retry-After, and there must be some.
 */
async function runThroughOutage(
  stack: TestStack,
  run: number,
  requests: number,
  outage: { downAt: number; upAt: number; down: () => Promise<void>; up: () => Promise<void>; whileDown: () => Promise<void> },
): Promise<{ accepted: Accepted[]; refused: string[] }> {
  const accepted: Accepted[] = [];
  const refused: string[] = [];
  for (let i = 0; i < requests; i++) {
    if (i === outage.downAt) {
      await outage.down();
      await outage.whileDown();
    }
    if (i === outage.upAt) await outage.up();
    const to = Array.from({ length: 10 }, (_, j) => handset(run, i * 10 + j));
    const result = await post(stack, to);
    if (result.status === 202) accepted.push(result.body!);
    else {
      expect(result.status).toBe(503);
      expect(result.retryAfter).toBeTruthy();
      refused.push(...to);
    }
  }
  expect(refused.length).toBeGreaterThan(0);
  return { accepted, refused };
}

/** Every accepted message ends final and reached its handset once; no refused one reached anyone. */
async function expectEachOnce(stack: TestStack, accepted: Accepted[], refused: string[]): Promise<void> {
  await waitFor(
    async () =>
      (await allFinal(
        stack,
        accepted.map((a) => a.batchId),
      ))
        ? true
        : undefined,
    120_000,
    'every accepted message final',
  );
  for (const m of accepted.flatMap((batch) => batch.messages))
    expect(
      stack.emulator.inbox(m.to).filter((x) => x.message === 'Outage drill'),
      m.to,
    ).toHaveLength(1);
  for (const to of refused) expect(stack.emulator.inbox(to), to).toHaveLength(0);
}

describe('storage outage', () => {
  let stack: TestStack;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sms-outage-'));
    // A job that fails while storage is down cannot be put back; it reappears when its lease ends,
    // as a Service Bus message does when its lock expires. Delivery reports that exhaust their
    // retries during the outage are fetched by the reconciler. Short times keep the drill short.
    const env = {
      SMS_SENDERS: senders,
      LOCAL_QUEUE_LEASE_SECONDS: '4',
      RECONCILE_AFTER_SECONDS: '5',
      RECONCILE_SCHEDULE: '*/2 * * * * *',
    };
    stack = await startTestStack({ env, azurite: { location: dir }, emulator: { deliveryReports: { delayMs: 50 } } });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while storage is down, and delivers everything accepted exactly once', async () => {
    const { accepted, refused } = await runThroughOutage(stack, 1, 50, {
      downAt: 20,
      upAt: 30,
      down: () => stack.stopStorage(),
      up: () => stack.startStorage(),
      whileDown: async () => {
        const health = await stack.api('health/details');
        expect(health.status).toBe(503);
        const report = (await health.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
        expect(report.checks.storage!.ok).toBe(false);
        // Anyone may ask whether the pipeline works; only a key holder sees why not.
        const anonymous = await stack.api('health');
        expect(anonymous.status).toBe(503);
        expect(JSON.stringify(await anonymous.json())).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|storage/);
        expect(report.checks.acs!.ok).toBe(true);
      },
    });
    expect(accepted.length).toBeGreaterThanOrEqual(30);
    await expectEachOnce(stack, accepted, refused);
    for (const m of accepted.flatMap((batch) => batch.messages)) {
      const view = (await (await stack.api(`messages/${m.messageId}`)).json()) as { status: string };
      expect(view.status).toBe('delivered');
    }
  }, 180_000);
});

describe('ACS outage', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ env: { SMS_SENDERS: senders }, emulator: { deliveryReports: { delayMs: 50 } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('lets messages wait while the ACS endpoint is down and sends each once when it is back', async () => {
    const accepted: Accepted[] = [];
    for (let i = 0; i < 50; i++) {
      if (i === 15) await stack.emulator.goOffline();
      const result = await post(
        stack,
        Array.from({ length: 10 }, (_, j) => handset(2, i * 10 + j)),
      );
      expect(result.status).toBe(202);
      accepted.push(result.body!);
    }
    const health = await stack.api('health/details');
    expect(health.status).toBe(503);
    expect(((await health.json()) as { checks: Record<string, { ok: boolean }> }).checks.acs!.ok).toBe(false);
    await new Promise((r) => setTimeout(r, 3000));
    await stack.emulator.goOnline();

    await expectEachOnce(stack, accepted, []);
    expect(accepted.flatMap((batch) => batch.messages)).toHaveLength(500);
  }, 180_000);
});

describe.runIf(testTransport().OUTBOUND_QUEUE_TRANSPORT === 'servicebus')('Service Bus outage', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // A lock held by a receiver that lost its connection ends sooner than infra's minute, as the
    // storage drill shortens the lease; the redelivery is what matters, not when.
    stack = await startTestStack({
      env: { SMS_SENDERS: senders },
      serviceBus: { lockDurationMs: 5000 },
      emulator: { deliveryReports: { delayMs: 50 } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('answers 503 with Retry-After while the namespace is unreachable, and delivers everything accepted exactly once', async () => {
    const { accepted, refused } = await runThroughOutage(stack, 3, 40, {
      downAt: 15,
      upAt: 25,
      down: () => stack.stopServiceBus(),
      up: () => stack.startServiceBus(),
      whileDown: async () => {
        const health = await stack.api('health/details');
        expect(health.status).toBe(503);
        const report = (await health.json()) as { checks: Record<string, { ok: boolean }> };
        expect(report.checks.queue!.ok).toBe(false);
        expect(report.checks.storage!.ok).toBe(true);
      },
    });
    expect(accepted.length).toBeGreaterThanOrEqual(25);
    await expectEachOnce(stack, accepted, refused);
  }, 180_000);
});
