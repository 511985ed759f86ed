// Drills: the function host killed (SIGKILL) mid-work, on the Storage queue transport with the
// lease the Functions host really uses (10 minutes: a job held by a dead host comes back only then).
// - during submits: clients retry with their Idempotency-Key on the dropped connection, and each
//   key must end in one batch, every text sent once;
// - during sends: hand-overs interrupted mid-request are finished by the recovery timer while ACS
//   can still recognise a repeat; nothing is lost, nothing sent twice, nothing left "sending".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/localStack.js';
import { ledger, settled, submitUntilAccepted, type AcceptedMessage } from './ledger.js';

const TOLL_FREE = ['+18005550100', '+18005550101'];

describe('SIGKILL during submits', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: {
        SMS_SENDERS: JSON.stringify(TOLL_FREE.map((number) => ({ number, type: 'tollFree', ratePerMinute: 6000, burst: 20 }))),
        RECOVERY_INTERVAL_SECONDS: '10',
      },
      // Slow storage answers stretch each submit, so kills land inside them.
      emulator: { deliveryReports: { delayMs: 50 } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it(
    '17 keyed submits, the host killed 3 times: one batch per key, every text once',
    async () => {
      const text = `Submit-kill drill ${Date.now()}`;
      const handset = (c: number, i: number) => `+1${620 + c}555${String(i).padStart(4, '0')}`;
      const sizes = Array.from({ length: 17 }, (_, c) => (c % 3 === 0 ? 60 : 10));
      const clients = sizes.map((size, c) =>
        new Promise((r) => setTimeout(r, c * 120)).then(() =>
          submitUntilAccepted(
            stack,
            { to: Array.from({ length: size }, (_, i) => handset(c, i)), message: text },
            `kill-drill-${c}`,
            {
              giveUpAfterMs: 240_000,
            },
          ),
        ),
      );
      for (const pause of [300, 600, 600]) {
        await new Promise((r) => setTimeout(r, pause));
        await stack.restartHost('SIGKILL');
      }
      const results = await Promise.all(clients);
      const accepted: AcceptedMessage[] = [];
      for (const [c, result] of results.entries()) {
        const batchId = result.messages[0]!.messageId.replace(/-\d+$/, '');
        expect(new Set([...result.batchIds, batchId]), `client ${c}`).toEqual(new Set([batchId]));
        expect(result.messages).toHaveLength(sizes[c]!);
        accepted.push(...result.messages);
      }
      // Jobs a killed host had received come back after the 10-minute lease: the drill waits for them.
      const statuses = await settled(stack, accepted, 15 * 60_000);
      const handsets = sizes.flatMap((size, c) => Array.from({ length: size }, (_, i) => handset(c, i)));
      expect(ledger(stack, text, accepted, statuses, handsets)).toEqual({ lost: [], duplicates: [], strays: [] });
      console.log(`submit-kill drill: attempts ${results.map((r) => r.attempts).join(' ')}`);
    },
    20 * 60_000,
  );
});

describe('SIGKILL during sends', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: {
        // Two toll-free numbers at 200/min in requests of 3: 600 messages take 90 s, so kills land mid-run.
        SMS_SENDERS: JSON.stringify(TOLL_FREE.map((number) => ({ number, type: 'tollFree' }))),
        RECOVERY_INTERVAL_SECONDS: '10',
        // The deployed lease: LOCAL_QUEUE_LEASE_SECONDS is left at its default, 600, as on the Functions host.
      },
      // ACS answers slowly, so kills often land between a request and its answer.
      emulator: { deliveryReports: { delayMs: 50 }, faults: { latencyMs: 150 } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it(
    '600 messages, the host killed 3 times mid-hand-over: none lost, none twice, none left sending',
    async () => {
      const text = `Send-kill drill ${Date.now()}`;
      const to = Array.from({ length: 600 }, (_, i) => `+1630555${String(i).padStart(4, '0')}`);
      const response = await stack.postMessages({ to, message: text });
      expect(response.status).toBe(202);
      const accepted = ((await response.json()) as { messages: AcceptedMessage[] }).messages;
      for (const after of [15_000, 20_000, 20_000]) {
        await new Promise((r) => setTimeout(r, after));
        await stack.restartHost('SIGKILL');
      }
      const statuses = await settled(stack, accepted, 16 * 60_000);
      expect(ledger(stack, text, accepted, statuses, to)).toEqual({ lost: [], duplicates: [], strays: [] });
      expect([...statuses.values()].filter((s) => s === 'sending')).toEqual([]);
    },
    20 * 60_000,
  );
});
