// Status events end to end: two webhook receivers (node:http, verifying every Standard Webhooks
// signature independently) subscribed through STATUS_WEBHOOK_URLS, while the emulator delivers
// reports late, twice and out of order. Every path that changes a status is driven — send, delivery
// reports (delivered, failed, 4007), reconciliation, cancel, expiry, suppression — and each receiver
// must end with exactly one event per change in each message's history. Then one receiver answers
// 500 for a while: it gets everything later, and the other gets nothing twice.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhookReceiver.js';

const SENDER = '+18005550199';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const handset = (i: number) => `+1303555${String(i).padStart(4, '0')}`;
const FAILS_4005 = handset(3);
const OPTS_OUT_4007 = handset(7);
/** Opts out at the carrier too, but its report is only ever read by the reconciler. */
const OPTS_OUT_4007_RECONCILED = handset(62);

interface View {
  messageId: string;
  status: string;
  history: Array<{ status: string; at: string; code?: string; reason?: string }>;
}

type ReceivedEvent = ReceivedRequest['events'][number];

let stack: TestStack;
let a: WebhookReceiver;
let b: WebhookReceiver;
/** Every message the test created, to check against both receivers at the end. */
const all = new Set<string>();

async function view(id: string): Promise<View> {
  const response = await stack.api(`messages/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as View;
}

async function send(
  to: string[],
  extra: Record<string, unknown> = {},
): Promise<Array<{ messageId: string; to: string; status: string }>> {
  const response = await stack.postMessages({ to, message: 'Status events drill', from: SENDER, ...extra });
  expect(response.status).toBe(202);
  const { messages } = (await response.json()) as { messages: Array<{ messageId: string; to: string; status: string }> };
  for (const m of messages) all.add(m.messageId);
  return messages;
}

async function waitForStatus(ids: readonly string[], done: (status: string) => boolean, what: string, timeoutMs = 45_000) {
  await waitFor(
    async () => {
      for (const id of ids) if (!done((await view(id)).status)) return undefined;
      return true;
    },
    timeoutMs,
    what,
  );
}

/** The events a receiver accepted (2xx), by message, each event id once. */
function accepted(receiver: WebhookReceiver): Map<string, Map<string, ReceivedEvent>> {
  const byMessage = new Map<string, Map<string, ReceivedEvent>>();
  for (const request of receiver.accepted()) {
    for (const event of request.events) {
      const id = String(event.data.messageId);
      const events = byMessage.get(id) ?? new Map<string, ReceivedEvent>();
      events.set(event.id, event);
      byMessage.set(id, events);
    }
  }
  return byMessage;
}

/** How often each event id arrived in an accepted request (duplicates included). */
function arrivals(receiver: WebhookReceiver): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of receiver.accepted()) for (const e of request.events) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
  return counts;
}

/** The event ids a message's history calls for: one per change. */
function expectedIds(v: View): string[] {
  const seen = new Map<string, number>();
  return v.history.map((h) => {
    const n = (seen.get(h.status) ?? 0) + 1;
    seen.set(h.status, n);
    return `${v.messageId}.${h.status}${n > 1 ? `.${n}` : ''}`;
  });
}

/** Waits until the receiver holds as many distinct events for each message as its history has changes. */
async function waitForEvents(receiver: WebhookReceiver, ids: readonly string[], what: string, timeoutMs = 60_000) {
  await waitFor(
    async () => {
      const got = accepted(receiver);
      for (const id of ids) {
        const v = await view(id);
        if ((got.get(id)?.size ?? 0) < v.history.length) return undefined;
      }
      return true;
    },
    timeoutMs,
    what,
  );
}

/** Exactly one event per change: the same ids, each with the change's type, status and time. */
async function expectOneEventPerChange(receiver: WebhookReceiver, ids: Iterable<string>) {
  const got = accepted(receiver);
  for (const id of ids) {
    const v = await view(id);
    const events = got.get(id) ?? new Map<string, ReceivedEvent>();
    const label = `${id}: ${v.history.map((h) => h.status).join(' → ')}`;
    expect([...events.keys()].sort(), label).toEqual(expectedIds(v).sort());
    v.history.forEach((change, i) => {
      const event = events.get(expectedIds(v)[i]!)!;
      expect(event.type, label).toBe(`sms.message.${change.status}`);
      expect(event.data.status, label).toBe(change.status);
      expect(event.time, label).toBe(change.at);
      expect(event.subject, label).toBe(`messages/${id}`);
    });
  }
}

beforeAll(async () => {
  a = await startWebhookReceiver(SECRET, '/a/sms-events');
  b = await startWebhookReceiver(SECRET, '/b/sms-events');
  stack = await startTestStack({
    env: {
      SMS_SENDERS: JSON.stringify([{ number: SENDER, type: 'shortCode', ratePerMinute: 60000 }]),
      STATUS_WEBHOOK_URLS: `${a.url},${b.url}`,
      STATUS_WEBHOOK_SECRET: SECRET,
      EVENTS_RETRY_BASE_SECONDS: '1',
      RECONCILE_AFTER_SECONDS: '2',
      RECONCILE_SCHEDULE: '*/2 * * * * *',
    },
    emulator: {
      deliveryReports: {
        delayMs: 100,
        lateShare: 0.3,
        lateDelayMs: 2500,
        duplicateShare: 1,
        shuffleWindow: 20,
        shuffleWindowMs: 800,
      },
      faults: {
        handsets: {
          [FAILS_4005]: { kind: 'failed', code: 4005 },
          [OPTS_OUT_4007]: { kind: 'failed', code: 4007 },
          [OPTS_OUT_4007_RECONCILED]: { kind: 'failed', code: 4007 },
        },
      },
    },
  });
}); // the e2e project's hook timeout: it covers waiting for a stack slot

afterAll(async () => {
  await stack?.stop();
  await a?.close();
  await b?.close();
});

describe('status events to webhooks', () => {
  it('every path: one signed event per status change at each receiver, with reports late, twice and out of order', async () => {
    // Sends and delivery reports (delivered, failed 4005, failed 4007).
    const sent = await send(Array.from({ length: 30 }, (_, i) => handset(i)));
    // Scheduled, then canceled.
    const [scheduled] = await send([handset(40)], { scheduledAt: new Date(Date.now() + 3600_000).toISOString() });
    expect(scheduled!.status).toBe('scheduled');
    expect((await stack.api(`messages/${scheduled!.messageId}`, { method: 'DELETE' })).status).toBe(200);
    await waitForStatus(
      sent.map((m) => m.messageId),
      (s) => s === 'delivered' || s === 'failed',
      'every message final',
    );
    await stack.emulator.idle(); // the late duplicates too
    expect((await view(sent[3]!.messageId)).status).toBe('failed');
    expect((await view(sent[7]!.messageId)).history.at(-1)).toMatchObject({ status: 'failed', code: '4007' });

    // The 4007 recorded a carrier opt-out: the next message to that handset is suppressed.
    const [suppressed] = await send([OPTS_OUT_4007]);
    expect(suppressed!.status).toBe('suppressed');

    // Expiry: ACS throttles (Retry-After 6 s) past the message's 5 s validity.
    stack.emulator.configure({ faults: { throttleShare: 1, retryAfterSeconds: 6 } });
    const [expiring] = await send([handset(50)], { validFor: 5 });
    await waitForStatus([expiring!.messageId], (s) => s === 'expired', 'the message expired');
    stack.emulator.configure({ faults: { throttleShare: 0 } });

    // Reconciliation: no report events; the reconciler reads GET /deliveryReports.
    stack.emulator.configure({ deliveryReports: { enabled: false } });
    const reconciled = await send([handset(60), FAILS_4005, OPTS_OUT_4007_RECONCILED]);
    await waitForStatus(
      reconciled.map((m) => m.messageId),
      (s) => s === 'delivered' || s === 'failed',
      'reconciled',
    );
    stack.emulator.configure({ deliveryReports: { enabled: true } });
    for (const m of reconciled) expect((await view(m.messageId)).history.at(-1)!.reason).toMatch(/GET \/deliveryReports/);
    expect((await view(reconciled[2]!.messageId)).history.at(-1)).toMatchObject({ status: 'failed', code: '4007' });
    // A 4007 read by the reconciler records the carrier opt-out as well.
    const [suppressedToo] = await send([OPTS_OUT_4007_RECONCILED]);
    expect(suppressedToo!.status).toBe('suppressed');

    expect((await view(scheduled!.messageId)).history.map((h) => h.status)).toEqual(['scheduled', 'canceled']);
    expect((await view(suppressed!.messageId)).history.map((h) => h.status)).toEqual(['suppressed']);
    // queued → sending → expired; only "queued → expired" if the first try itself came after the 5 s.
    const expiry = (await view(expiring!.messageId)).history.map((h) => h.status);
    expect([expiry[0], expiry.at(-1)]).toEqual(['queued', 'expired']);

    for (const receiver of [a, b]) {
      await waitForEvents(receiver, [...all], 'every event at both receivers');
      await expectOneEventPerChange(receiver, all);
    }
    for (const request of [...a.requests, ...b.requests]) {
      expect(request.verdict).toEqual({ ok: true });
      expect(request.headers['content-type']).toBe('application/cloudevents-batch+json; charset=utf-8');
    }
  }, 240_000);

  it('a receiver that answers 500 for a while gets every event later; the other gets nothing twice', async () => {
    await stack.emulator.idle();
    // Reports on time and once, so the pipeline itself has no reason to publish anything twice.
    stack.emulator.configure({ deliveryReports: { lateShare: 0, duplicateShare: 0, shuffleWindow: 1 } });
    const seenBefore = new Set([...a.accepted(), ...b.accepted()].flatMap((r) => r.events.map((e) => e.id)));
    b.answer = 500;
    const batch = await send(Array.from({ length: 10 }, (_, i) => handset(70 + i)));
    const ids = batch.map((m) => m.messageId);
    await waitForStatus(ids, (s) => s === 'delivered', 'all delivered');
    await waitForEvents(a, ids, 'every event at the healthy receiver');
    // The failing receiver was tried in the same dispatch as the healthy one; its request may land a moment later.
    await waitFor(async () => (b.requests.some((r) => r.status === 500) ? true : undefined), 10_000, 'a refused request');
    expect(accepted(b).get(ids[0]!)?.size ?? 0).toBe(0);

    b.answer = 200;
    await waitForEvents(b, ids, 'every event at the recovered receiver, by retry');
    await expectOneEventPerChange(a, ids);
    await expectOneEventPerChange(b, ids);

    // No event of this batch reached either receiver twice: the healthy one was not sent the
    // failing one's retries, and each retry carried only what had not been accepted.
    for (const receiver of [a, b]) {
      for (const [eventId, count] of arrivals(receiver)) {
        if (!seenBefore.has(eventId) && ids.some((id) => eventId.startsWith(`${id}.`)))
          expect(count, `${eventId} arrived ${count} times`).toBe(1);
      }
    }
    // A retry is the same delivery: the webhook-id of every refused request was later accepted.
    const acceptedIds = new Set(b.accepted().map((r) => r.headers['webhook-id']));
    for (const refused of b.requests.filter((r) => r.status === 500))
      expect(acceptedIds.has(refused.headers['webhook-id'])).toBe(true);
    for (const request of [...a.requests, ...b.requests]) expect(request.verdict).toEqual({ ok: true });
    // Everything the test created is still exactly once per change at both.
    await expectOneEventPerChange(a, all);
    await expectOneEventPerChange(b, all);
  }, 180_000);
});
