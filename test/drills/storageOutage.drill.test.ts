// Drill: storage (Azurite) stopped for ~20 s while 8 clients each submit 120 recipients, every
// client retrying with its own Idempotency-Key, honouring Retry-After, until it gets a 202. Every
// key must end in one batch — the same batch id on every answer that names one — and every
// handset must get its text exactly once; no number is texted that was not accepted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/localStack.js';
import { ledger, settled, submitUntilAccepted, type AcceptedMessage } from './ledger.js';

const SENDER = '+18005550199';
const CLIENTS = 8;
const PER_CLIENT = 120;
// US area codes only: the sender is a US short code, which reaches US numbers only, and the geo
// permissions refuse the rest (613, say, is Canada).
const AREA_CODES = [206, 212, 213, 305, 312, 404, 415, 503];
const handset = (client: number, i: number) => `+1${AREA_CODES[client]}555${String(i).padStart(4, '0')}`;

let stack: TestStack;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sms-drill-storage-'));
  stack = await startTestStack({
    env: {
      // A short code with requests of 20: the 960 messages go out in seconds once storage is back.
      SMS_SENDERS: JSON.stringify([{ number: SENDER, type: 'shortCode', burst: 20 }]),
      // A job that fails while storage is down reappears when its lease ends; short here to keep
      // the drill short (the lease changes when, not whether). The recovery timer runs often too.
      LOCAL_QUEUE_LEASE_SECONDS: '5',
      RECOVERY_INTERVAL_SECONDS: '5',
      RECONCILE_AFTER_SECONDS: '5',
      RECONCILE_SCHEDULE: '*/5 * * * * *',
    },
    azurite: { location: dir },
    emulator: { deliveryReports: { delayMs: 50 } },
  });
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('8 x 120 recipients through a 20-second storage outage: one batch per key, every text once', async () => {
  const text = `Storage drill ${Date.now()}: one text each.`;
  const clients = Array.from({ length: CLIENTS }, (_, c) =>
    // Staggered, so some requests are in flight when storage stops.
    new Promise((r) => setTimeout(r, c * 150)).then(() =>
      submitUntilAccepted(
        stack,
        { to: Array.from({ length: PER_CLIENT }, (_, i) => handset(c, i)), message: text, from: SENDER },
        `storage-drill-${c}`,
        { giveUpAfterMs: 180_000 },
      ),
    ),
  );
  await new Promise((r) => setTimeout(r, 400));
  await stack.stopStorage();
  const stoppedFor = 17_000 + Math.floor(Math.random() * 6000);
  await new Promise((r) => setTimeout(r, stoppedFor));
  await stack.startStorage();

  const results = await Promise.all(clients);
  const accepted: AcceptedMessage[] = [];
  for (const [c, result] of results.entries()) {
    expect(result.messages, `client ${c}`).toHaveLength(PER_CLIENT);
    const batchId = result.messages[0]!.messageId.replace(/-\d+$/, '');
    // Every answer that named a batch named this one: a retry never starts a second batch.
    expect(new Set([...result.batchIds, batchId]), `client ${c}: ${result.statuses.join(' ')}`).toEqual(new Set([batchId]));
    accepted.push(...result.messages);
  }
  expect(
    results.some((r) => r.attempts > 1),
    'some client had to retry',
  ).toBe(true);

  const statuses = await settled(stack, accepted, 240_000, { reports: true });
  const allHandsets = Array.from({ length: CLIENTS }, (_, c) =>
    Array.from({ length: PER_CLIENT }, (_, i) => handset(c, i)),
  ).flat();
  const verdict = ledger(stack, text, accepted, statuses, allHandsets);
  console.log(
    `storage drill: stopped ${stoppedFor} ms; attempts per client ${results.map((r) => r.attempts).join(' ')}; statuses ${results.map((r) => r.statuses.join('/')).join(' | ')}`,
  );
  expect(verdict).toEqual({ lost: [], duplicates: [], strays: [] });
  expect([...statuses.values()].filter((s) => s !== 'delivered')).toEqual([]);
}, 600_000);
