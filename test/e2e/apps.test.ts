// Two apps on one pipeline (SMS_APPS, docs/security.md "Apps"), end to end on the local stack:
// each with its own numbers and its own webhook (node:http receivers verifying every signature with
// that app's secret), beside a global webhook. What went out is counted on the emulator's handset
// inboxes: each app's messages come only from its numbers; each app's receiver gets only its own
// events (its messages, the replies to its numbers, the opt-outs they cause), the global one all.
//
// First as other apps enqueueing send jobs directly (the job names its app), which needs nothing
// but the queue; then over HTTP as app A and app B with bearer tokens of the local issuer: pools,
// stickiness, isolation of reads and Idempotency-Keys per app (test/support/tokens.ts).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';
import { outboundTransport, type OutboundTransport } from '../support/outboundTransport.js';
import { asApp } from '../support/tokens.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';

const SHARED = '+18005550100';
const A_NUMBERS = ['+18005550111', '+18005550112'];
const B_NUMBER = '+18005550121';
const APP_A = 'app-booking';
const APP_B = 'app-login';
const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const SECRETS = { a: secret(), b: secret(), global: secret() };
const ALL_ROLES = ['Messages.Send', 'Messages.Read', 'Conversations.Read', 'Analytics.Read'];

const handsets = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `+1303${prefix}${String(i).padStart(4, '0')}`);

let stack: TestStack;
let queue: OutboundTransport;
let hookA: WebhookReceiver;
let hookB: WebhookReceiver;
let hookAll: WebhookReceiver;

beforeAll(async () => {
  hookA = await startWebhookReceiver(SECRETS.a, '/booking/sms-events');
  hookB = await startWebhookReceiver(SECRETS.b, '/login/sms-events');
  hookAll = await startWebhookReceiver(SECRETS.global, '/all/sms-events');
  stack = await startTestStack({
    env: {
      SMS_SENDERS: JSON.stringify(
        [SHARED, ...A_NUMBERS, B_NUMBER].map((number) => ({ number, type: 'shortCode', ratePerMinute: 60000 })),
      ),
      SMS_APPS: JSON.stringify({
        [APP_A]: { name: 'Booking', senders: A_NUMBERS, tag: 'booking', webhook: { url: hookA.url, secret: SECRETS.a } },
        [APP_B]: { name: 'Login', senders: [B_NUMBER], category: 'otp', webhook: { url: hookB.url, secret: SECRETS.b } },
      }),
      STATUS_WEBHOOK_URLS: hookAll.url,
      STATUS_WEBHOOK_SECRET: SECRETS.global,
      EVENTS_RETRY_BASE_SECONDS: '1',
      // Requests name their app with a token of the local issuer (the second describe).
      AUTH_MODE: 'entra',
    },
    // The numbers' opt-outs are the pipeline's to manage: ACS forwards STOP and lets the confirmation through.
    emulator: { optOut: { keywordTypes: ['tollFree'] } },
  });
  queue = outboundTransport(stack);
});

afterAll(async () => {
  await queue?.close();
  await stack?.stop();
  await Promise.all([hookA?.close(), hookB?.close(), hookAll?.close()]);
});

type Event = WebhookReceiver['requests'][number]['events'][number];
const events = (hook: WebhookReceiver): Event[] => hook.accepted().flatMap((r) => r.events);
const appOf = (e: Event) => e.data.app;
const messageIds = (hook: WebhookReceiver) =>
  new Set(events(hook).flatMap((e) => (e.data.messageId ? [String(e.data.messageId)] : [])));

/** A send job as another app enqueues it (docs/send-job.md), naming its app. */
const job = (batchId: string, from: string, to: readonly string[], text: string, app?: string) => ({
  schema: 'sms.sendjob/1',
  jobId: `${batchId}.0`,
  batchId,
  ...(app ? { app } : {}),
  from,
  message: text,
  recipients: to.map((number, i) => ({ messageId: `${batchId}-${i}`, to: number })),
});

/** Who sent each handset `text`: one sender per handset, or a list when it got it more than once. */
function sendersOf(to: readonly string[], text: string): string[][] {
  return to.map((n) =>
    stack.emulator
      .inbox(n)
      .filter((m) => m.message === text)
      .map((m) => m.from),
  );
}

describe('apps enqueueing send jobs directly', () => {
  const toA1 = handsets('550', 10);
  const toA2 = handsets('551', 10);
  const toB = handsets('552', 10);
  const toDefault = handsets('553', 5);
  const toStolen = handsets('554', 5);
  const toStolenByDefault = handsets('555', 5);

  it("sends each app's jobs only from its numbers, refuses a job naming another app's number, and each webhook gets only its app's events", async () => {
    await queue.enqueue(job('direct_a1', A_NUMBERS[0]!, toA1, 'Booking confirmed', APP_A));
    await queue.enqueue(job('direct_a2', A_NUMBERS[1]!, toA2, 'Booking confirmed', APP_A));
    await queue.enqueue(job('direct_b', B_NUMBER, toB, 'Your code is 123456', APP_B));
    await queue.enqueue(job('direct_d', SHARED, toDefault, 'Hello from the pool'));
    // App A naming app B's number: never sent; its messages fail (app A's events).
    await queue.enqueue(job('direct_x', B_NUMBER, toStolen, 'Not from here', APP_A));
    // The default app naming app A's number: never sent either (a reply would reach app A's webhook).
    await queue.enqueue(job('direct_dx', A_NUMBERS[0]!, toStolenByDefault, 'Not yours', undefined));

    await waitFor(
      async () => [...toA1, ...toA2, ...toB, ...toDefault].every((n) => stack.emulator.inbox(n).length === 1) || undefined,
      45_000,
      'every handset received its text',
    );
    expect(sendersOf(toA1, 'Booking confirmed')).toEqual(toA1.map(() => [A_NUMBERS[0]]));
    expect(sendersOf(toA2, 'Booking confirmed')).toEqual(toA2.map(() => [A_NUMBERS[1]]));
    expect(sendersOf(toB, 'Your code is 123456')).toEqual(toB.map(() => [B_NUMBER]));
    expect(sendersOf(toDefault, 'Hello from the pool')).toEqual(toDefault.map(() => [SHARED]));

    // Replies on each app's numbers: a message to A's, STOP to B's, one to the shared number.
    await stack.emulator.injectInbound({ from: toA1[0]!, to: A_NUMBERS[0]!, message: 'See you then' });
    await stack.emulator.injectInbound({ from: toB[0]!, to: B_NUMBER, message: 'STOP' });
    await stack.emulator.injectInbound({ from: toDefault[0]!, to: SHARED, message: 'Who is this?' });

    const ids = (batch: string, n: number) => Array.from({ length: n }, (_, i) => `${batch}-${i}`);
    const aIds = [...ids('direct_a1', 10), ...ids('direct_a2', 10), ...ids('direct_x', 5)];
    const bIds = ids('direct_b', 10);
    const dIds = ids('direct_d', 5);
    await waitFor(
      async () => {
        const has = (hook: WebhookReceiver, wanted: string[], types: string[]) =>
          wanted.every((id) => messageIds(hook).has(id)) && types.every((t) => events(hook).some((e) => e.type === t));
        return (
          (has(hookA, aIds, ['sms.message.delivered', 'sms.message.failed', 'sms.inbound.received']) &&
            has(hookB, bIds, ['sms.message.delivered', 'sms.inbound.received', 'sms.optout.added']) &&
            has(hookAll, [...aIds, ...bIds, ...dIds], ['sms.inbound.received'])) ||
          undefined
        );
      },
      45_000,
      'each webhook received its events',
    );
    await stack.emulator.idle();
    await new Promise((r) => setTimeout(r, 1500)); // anything misrouted would have arrived by now

    // Every request each receiver got was signed with its own app's secret.
    for (const hook of [hookA, hookB, hookAll]) expect(hook.requests.filter((r) => !r.verdict.ok)).toEqual([]);
    // App A's receiver: only app A's events — its messages (the refused job's failures too) and the reply to its number.
    expect(new Set(events(hookA).map(appOf))).toEqual(new Set([APP_A]));
    expect([...messageIds(hookA)].filter((id) => !aIds.includes(id))).toEqual([]);
    const inboundA = events(hookA).filter((e) => e.type === 'sms.inbound.received');
    expect(inboundA.map((e) => [e.data.to, e.data.message])).toEqual([[A_NUMBERS[0], 'See you then']]);
    expect(
      events(hookA)
        .filter((e) => e.data.messageId?.toString().startsWith('direct_x'))
        .map((e) => e.data.status),
    ).toContain('failed');
    // App B's receiver: its messages, the STOP to its number, the opt-out and the confirmation it caused.
    expect(new Set(events(hookB).map(appOf))).toEqual(new Set([APP_B]));
    const inboundB = events(hookB).filter((e) => e.type === 'sms.inbound.received');
    expect(inboundB.map((e) => [e.data.to, e.data.message])).toEqual([[B_NUMBER, 'STOP']]);
    expect(
      events(hookB)
        .filter((e) => e.type === 'sms.optout.added')
        .map((e) => e.data.sender),
    ).toEqual([B_NUMBER]);
    expect([...messageIds(hookB)].filter((id) => !bIds.includes(id)).length).toBeLessThanOrEqual(1); // the STOP confirmation
    // The global receiver: everything, the default app's too.
    expect(new Set(events(hookAll).map(appOf))).toEqual(new Set([APP_A, APP_B, 'default']));
    // The refused jobs sent nothing; the default app's refusal is its own (the global receiver's), not app A's.
    for (const n of [...toStolen, ...toStolenByDefault]) expect(stack.emulator.inbox(n)).toEqual([]);
    expect([...messageIds(hookA)].filter((id) => id.startsWith('direct_dx'))).toEqual([]);
  }, 180_000);
});

describe('apps calling the API with tokens', () => {
  const toA = handsets('560', 30);
  const toB = handsets('561', 30);

  it("sends each app's messages from its own numbers, sticky within them, and keeps each app's reads and keys its own", async () => {
    const a = await asApp(stack, APP_A, ALL_ROLES);
    const b = await asApp(stack, APP_B, ALL_ROLES);
    const key = { 'idempotency-key': `same-key-${randomBytes(4).toString('hex')}` };
    const post = async (headers: Record<string, string>, body: unknown) => {
      const response = await stack.postMessages(body, { ...headers, ...key });
      expect(response.status).toBe(202);
      return (await response.json()) as { batchId: string; messages: Array<{ messageId: string; to: string }> };
    };
    // The same Idempotency-Key from both apps: two requests, two batches (no replay across apps).
    const sentA = await post(a, { messages: toA.map((to) => ({ to, text: 'Table booked', reference: 'shared-ref' })) });
    const sentB = await post(b, { messages: toB.map((to) => ({ to, text: 'Login code 424242', reference: 'shared-ref' })) });
    expect(sentA.batchId).not.toBe(sentB.batchId);

    await waitFor(
      async () => [...toA, ...toB].every((n) => stack.emulator.inbox(n).length === 1) || undefined,
      45_000,
      'both apps’ messages were delivered',
    );
    const fromA = sendersOf(toA, 'Table booked').map((s) => s.join());
    expect(new Set(fromA)).toEqual(new Set(A_NUMBERS)); // 30 recipients spread over both of A's numbers, no other
    expect(new Set(sendersOf(toB, 'Login code 424242').map((s) => s.join()))).toEqual(new Set([B_NUMBER]));
    // Sticky within the pool: the same recipients again get the same numbers.
    const again = await stack.postMessages({ to: toA, message: 'Reminder: table at 8' }, a);
    expect(again.status).toBe(202);
    await waitFor(async () => toA.every((n) => stack.emulator.inbox(n).length === 2) || undefined, 45_000, 'reminders delivered');
    expect(sendersOf(toA, 'Reminder: table at 8').map((s) => s.join())).toEqual(fromA);

    // Reads: app B finds none of app A's messages, batches, references or conversations.
    const idA = sentA.messages[0]!.messageId;
    expect((await stack.api(`messages/${idA}`, { headers: b })).status).toBe(404);
    const mine = await stack.api(`messages/${idA}`, { headers: a });
    expect(mine.status).toBe(200);
    expect(((await mine.json()) as { app: string }).app).toBe(APP_A);
    expect((await stack.api(`batches/${sentA.batchId}`, { headers: b })).status).toBe(404);
    expect((await stack.api(`batches/${sentA.batchId}`, { headers: a })).status).toBe(200);
    const listed = (await (await stack.api('messages?reference=shared-ref&limit=100', { headers: b })).json()) as {
      items: Array<{ app: string; messageId: string }>;
    };
    expect(listed.items).toHaveLength(30);
    expect(new Set(listed.items.map((m) => m.app))).toEqual(new Set([APP_B]));
    const thread = (from: string, headers: Record<string, string>) =>
      stack.api(`conversations/${encodeURIComponent(toA[0]!)}?from=${encodeURIComponent(from)}`, { headers });
    const own = (await (await thread(fromA[0]!, a)).json()) as { messages: unknown[] };
    expect(own.messages.length).toBeGreaterThan(0);
    expect(((await (await thread(fromA[0]!, b)).json()) as { messages: unknown[] }).messages).toEqual([]);
    // Analytics: app B's figures only, whatever it asks.
    const figures = (await (await stack.api('analytics?groupBy=app', { headers: b })).json()) as {
      groups: Array<{ key: string }>;
    };
    expect(figures.groups.map((g) => g.key)).toEqual([APP_B]);

    // The default app (a token naming no listed app) sends only from the number no app owns.
    const toDefault = handsets('562', 10);
    const d = await asApp(stack, 'default', ['Messages.Send']);
    expect((await stack.postMessages({ to: toDefault, message: 'From the pool' }, d)).status).toBe(202);
    await waitFor(async () => toDefault.every((n) => stack.emulator.inbox(n).length === 1) || undefined, 45_000, 'pool sends');
    expect(sendersOf(toDefault, 'From the pool')).toEqual(toDefault.map(() => [SHARED]));
    // Naming app A's number is refused at submit.
    const stolen = await stack.postMessages({ to: toDefault[0], from: A_NUMBERS[0], message: 'Not yours' }, d);
    expect(stolen.status).toBe(400);
  }, 180_000);
});
