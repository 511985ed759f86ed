// Apps (SMS_APPS, docs/security.md "Apps"): the setting checked strictly, each app's pool and
// stickiness within it, its defaults and budgets at submit, the app on records, jobs and events,
// isolation of reads, idempotency keys per app, and each app's webhook getting only its events.
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.js';
import { depsOf } from '../../shared/composition.js';
import { processSendJob } from '../../shared/pipeline/send/processSendJob.js';
import { eventDestinations } from '../../shared/adapters/eventDestinations.js';
import {
  canSee,
  idempotencyScopeOf,
  sendersOfApp,
  sendingPoolOf,
  type AppDirectory,
  type AppPolicy,
} from '../../shared/domain/apps.js';
import { factsOf } from '../../shared/domain/analytics.js';
import { clickEvent } from '../../shared/domain/linkEvents.js';
import { budgetRules, standings } from '../../shared/domain/budget.js';
import { mergePrices } from '../../shared/domain/pricing.js';
import { DEFAULT_APP } from '../../shared/domain/caller.js';
import { messageEvent, type PipelineEvent } from '../../shared/domain/events.js';
import { stickySender, type Sender } from '../../shared/domain/sender.js';
import { budgetProblem, sendingView } from '../../shared/http/sending.js';
import { submitMessagesBody } from '../../shared/http/messages.js';
import { eventsFor } from '../../shared/pipeline/dispatchEvents.js';
import { getConversation } from '../../shared/pipeline/conversations.js';
import { getBatch } from '../../shared/pipeline/getBatch.js';
import { findMessagesByReference, getMessage } from '../../shared/pipeline/getMessage.js';
import { receiveInboundSms, type InboundDeps } from '../../shared/pipeline/inboundSms.js';
import { submitMessages, type SubmitDeps } from '../../shared/pipeline/submitMessages.js';
import { DEFAULT_INBOUND_POLICY } from '../../shared/domain/inboundPolicy.js';
import { outboundEntry } from '../../shared/domain/conversation.js';
import {
  FakeClock,
  FakeConsentLog,
  FakeConversations,
  FakeMessageStore,
  FakeOptOuts,
  FakeOutbox,
  FakeQueue,
  FakeSubmissions,
  FakeTemplates,
  fakeServices,
  openGuard,
  RecordingSink,
  sendRuleDeps,
  silentLogger,
} from '../support/fakes.js';

const sender = (number: string): Sender => ({ number, type: 'tollFree', ratePerMinute: 200, burst: 3 });
const POOL = ['+18005550100', '+18005550101', '+18005550102', '+18005550103', '+18005550104'].map(sender);
const A_NUMBERS = ['+18005550101', '+18005550102'];
const B_NUMBERS = ['+18005550103'];
const SECRET_A = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
const SECRET_B = 'whsec_' + Buffer.alloc(32, 2).toString('base64');

const appA: AppPolicy = {
  id: 'booking',
  name: 'Booking',
  senders: A_NUMBERS,
  tag: 'booking',
  category: 'transactional',
  webhook: { url: 'https://a.example.com/hook', secret: SECRET_A },
};
const appB: AppPolicy = {
  id: '11111111-2222-3333-4444-555555555555',
  name: 'Login',
  senders: B_NUMBERS,
  category: 'otp',
  webhook: { url: 'https://b.example.com/hook', secret: SECRET_B },
};
const apps: AppDirectory = new Map([
  [appA.id, appA],
  [appB.id, appB],
]);

const env = (SMS_APPS: unknown) => ({
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  OUTBOUND_QUEUE_TRANSPORT: 'storage',
  ACS_CONNECTION_STRING: 'endpoint=http://127.0.0.1:7081/;accesskey=a2V5',
  SMS_SENDERS: JSON.stringify(POOL.map((s) => ({ number: s.number, type: 'tollFree' }))),
  SMS_APPS: typeof SMS_APPS === 'string' ? SMS_APPS : JSON.stringify(SMS_APPS),
});
const problemsOf = (value: unknown): string[] => {
  try {
    loadConfig(env(value));
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('SMS_APPS', () => {
  it('parses apps with their pools, defaults, budgets and webhooks', () => {
    const config = loadConfig(
      env({
        booking: {
          name: 'Booking',
          senders: A_NUMBERS,
          tag: 'booking',
          budgets: { daily: { messages: 100 } },
          webhook: { url: 'https://a.example.com/hook', secret: SECRET_A },
        },
      }),
    );
    expect(config.apps.get('booking')).toEqual({
      id: 'booking',
      name: 'Booking',
      senders: A_NUMBERS,
      tag: 'booking',
      webhook: { url: 'https://a.example.com/hook', secret: SECRET_A },
    });
    expect(config.guard.budgets.rules).toContainEqual({ scope: '@booking', period: 'day', messages: 100 });
    expect(loadConfig(env('{}')).apps.size).toBe(0);
  });

  it('refuses what is wrong, naming the app and the field', () => {
    expect(problemsOf({ booking: { name: 'B', senders: ['+18005550999'] } })).toEqual([
      'SMS_APPS [booking.senders] names +18005550999, which is not in SMS_SENDERS',
    ]);
    expect(problemsOf({ a: { name: 'A', senders: ['+18005550101'] }, b: { name: 'B', senders: ['+18005550101'] } })).toEqual([
      "SMS_APPS [b.senders] names +18005550101, which is a's already: a number belongs to one app, so its replies reach one webhook",
    ]);
    expect(problemsOf({ a: { name: 'A', budgets: {} } })).toEqual([
      'SMS_APPS [a.budgets] has neither a daily nor a monthly limit',
    ]);
    const [secret] = problemsOf({ a: { name: 'A', webhook: { url: 'https://a.example.com', secret: 'short' } } });
    expect(secret).toMatch(/^SMS_APPS \[a\.webhook\.secret\] /);
    const [http] = problemsOf({ a: { name: 'A', webhook: { url: 'http://a.example.com', secret: SECRET_A } } });
    expect(http).toMatch(/^SMS_APPS \[a\.webhook\.url\] "http:\/\/a\.example\.com" must use https/);
    expect(problemsOf({ 'a b': { name: 'A' } })[0]).toMatch(/^SMS_APPS \[a b\] app ids are 1-64 letters/);
    expect(problemsOf({ a: { name: 'A', sender: ['+18005550101'] } })[0]).toMatch(/^SMS_APPS .*sender/);
    expect(problemsOf({ a: { name: 'A', category: 'promo' } })[0]).toMatch(/^SMS_APPS \[a\.category\] must be one of/);
    expect(
      problemsOf({ a: { name: 'A', webhook: { url: 'https://a.example.com', secret: SECRET_A, eventTypes: ['sms.nope'] } } })[0],
    ).toMatch(/^SMS_APPS \[a\.webhook\.eventTypes\.0\] is not an event type/);
    expect(problemsOf('{booking')[0]).toMatch(/^SMS_APPS must be JSON/);
  });
});

describe("an app's pool", () => {
  it('is its own numbers, sticky within them; an app not listed (the default app) has the whole pool', () => {
    expect(sendersOfApp(POOL, apps, appA.id).map((s) => s.number)).toEqual(A_NUMBERS);
    expect(sendersOfApp(POOL, apps, 'unlisted')).toBe(POOL);
    expect(sendersOfApp(POOL, apps, DEFAULT_APP)).toBe(POOL);
    const used = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const to = `+1425555${String(1000 + i)}`;
      const first = stickySender(sendersOfApp(POOL, apps, appA.id), to);
      expect(stickySender(sendersOfApp(POOL, apps, appA.id), to)).toBe(first);
      used.add(first.number);
    }
    // Every number of the pool is used, and no other.
    expect([...used].sort()).toEqual(A_NUMBERS);
  });
  it("sends the default app's messages only from numbers no app owns, so a reply on an app's number is never a default text's", () => {
    const owned = new Set([...apps.values()].flatMap((a) => a.senders ?? []));
    const free = POOL.filter((s) => !owned.has(s.number));
    expect(free.length).toBeGreaterThan(0);
    expect(sendingPoolOf(POOL, apps, DEFAULT_APP)).toEqual(free);
    expect(sendingPoolOf(POOL, apps, 'unlisted')).toEqual(free);
    expect(sendingPoolOf(POOL, apps, appA.id).map((s) => s.number)).toEqual(A_NUMBERS);
    expect(sendingPoolOf(POOL, new Map(), DEFAULT_APP)).toBe(POOL);
  });
});

describe('a submit as an app', () => {
  let messages: FakeMessageStore;
  let queue: FakeQueue;
  let deps: SubmitDeps;
  beforeEach(() => {
    messages = new FakeMessageStore();
    queue = new FakeQueue();
    deps = {
      ...openGuard(),
      ...sendRuleDeps(),
      messages,
      queue,
      optOuts: new FakeOptOuts(),
      clock: new FakeClock(),
      log: silentLogger,
      senders: POOL,
      apps,
      maxSegments: 3,
      events: new RecordingSink(),
      submissions: new FakeSubmissions(),
      templates: new FakeTemplates(),
    };
  });
  const to = Array.from({ length: 150 }, (_, i) => `+1425555${String(2000 + i)}`);
  const submit = (body: unknown, app?: string, batchId?: string) =>
    submitMessages(deps, submitMessagesBody.parse(body), { ...(app ? { app } : {}), ...(batchId ? { batchId } : {}) });

  it("sends only from the app's numbers and records the app on the batch, every record and every job", async () => {
    const a = await submit({ to, message: 'Your booking' }, appA.id);
    const b = await submit({ to, message: 'Your code' }, appB.id);
    if (a.kind !== 'accepted' || b.kind !== 'accepted') throw new Error('expected accepted');
    expect(new Set(a.records.map((r) => r.from))).toEqual(new Set(A_NUMBERS));
    expect(new Set(b.records.map((r) => r.from))).toEqual(new Set(B_NUMBERS));
    expect(a.plan.app).toBe(appA.id);
    for (const r of [...messages.rows.values()]) expect(r.app).toBe(r.batchId === a.plan.batchId ? appA.id : appB.id);
    for (const job of queue.jobs) {
      expect(job.app).toBe(job.batchId === a.plan.batchId ? appA.id : appB.id);
      expect((job.app === appA.id ? A_NUMBERS : B_NUMBERS).includes(job.from)).toBe(true);
    }
    // Each recipient keeps one number per app: the same recipient again gets the same one.
    const again = await submit({ to, message: 'Reminder' }, appA.id);
    if (again.kind !== 'accepted') throw new Error('expected accepted');
    expect(again.records.map((r) => r.from)).toEqual(a.records.map((r) => r.from));
  });

  it("fills in the app's tag and category where the request names none; the request's own win", async () => {
    const a = await submit({ to: [to[0]], message: 'x' }, appA.id);
    const b = await submit({ to: [to[0]], message: 'x' }, appB.id);
    const own = await submit({ to: [to[0]], message: 'x', tag: 'mine', category: 'marketing' }, appA.id);
    if (a.kind !== 'accepted' || b.kind !== 'accepted' || own.kind !== 'accepted') throw new Error('expected accepted');
    expect([a.records[0]!.tag, a.records[0]!.category ?? 'transactional']).toEqual(['booking', 'transactional']);
    expect([b.records[0]!.tag, b.records[0]!.category]).toEqual([undefined, 'otp']);
    expect([own.records[0]!.tag, own.records[0]!.category]).toEqual(['mine', 'marketing']);
  });

  it("refuses `from` naming another app's number, listing the app's own", async () => {
    const result = await submit({ to: [to[0]], message: 'x', from: B_NUMBERS[0] }, appA.id);
    expect(result).toEqual({
      kind: 'invalid',
      errors: [{ field: 'from', message: `is not one of the senders of app "booking" (${A_NUMBERS.join(', ')})` }],
    });
    expect(queue.jobs).toHaveLength(0);
    // Nor may the default app send from it: a reply there would be app B's.
    const asDefault = await submit({ to: [to[0]], message: 'x', from: B_NUMBERS[0] });
    expect(asDefault.kind === 'invalid' && asDefault.errors.map((e) => e.field)).toEqual(['from']);
  });

  it("charges an app's own budget: app A is refused at its limit while app B and the default app go on", async () => {
    deps.guardPolicy = {
      ...deps.guardPolicy,
      budgets: { rules: budgetRules(undefined, { booking: { daily: { messages: 3 } } }), whenReached: 'refuse' },
    };
    expect((await submit({ to: to.slice(0, 3), message: 'x' }, appA.id)).kind).toBe('accepted');
    const refused = await submit({ to: [to[5]], message: 'x' }, appA.id);
    if (refused.kind !== 'budgetExceeded') throw new Error(`expected budgetExceeded, got ${refused.kind}`);
    expect(refused.binding.rule.scope).toBe('@booking');
    const answer = budgetProblem(refused, new Date());
    expect(answer.status).toBe(429);
    expect(JSON.parse(String(answer.body))).toMatchObject({ budget: { scope: 'app', app: 'booking' } });
    expect(JSON.parse(String(answer.body)).detail).toMatch(/budget of app "booking" is reached/);
    expect((await submit({ to: to.slice(0, 5), message: 'x' }, appB.id)).kind).toBe('accepted');
    expect((await submit({ to: to.slice(0, 5), message: 'x' })).kind).toBe('accepted');
  });

  it('shows an app budget as such at GET /api/sending', () => {
    const rules = budgetRules({ daily: { messages: 100 } }, { booking: { monthly: { messages: 50 } } });
    const view = sendingView({
      pauses: [],
      budgets: standings(rules, new Date('2026-11-25T10:00:00Z'), new Map()),
      whenBudgetReached: 'refuse',
      activeHolds: 0,
      allowedCountries: '*',
    });
    expect(view.budgets.map((b) => [b.scope, b.app ?? b.tag ?? null, b.period])).toEqual([
      ['pool', null, 'day'],
      ['app', 'booking', 'month'],
    ]);
  });

  it("isolates reads: app B finds none of app A's messages, batches or references; the default app sees all", async () => {
    const a = await submit({ messages: [{ to: to[0], text: 'a', reference: 'ref-1' }] }, appA.id);
    const b = await submit({ messages: [{ to: to[1], text: 'b', reference: 'ref-1' }] }, appB.id);
    if (a.kind !== 'accepted' || b.kind !== 'accepted') throw new Error('expected accepted');
    const aId = a.records[0]!.messageId;
    expect(await getMessage(messages, aId, appB.id)).toBeUndefined();
    expect((await getMessage(messages, aId, appA.id))?.messageId).toBe(aId);
    expect((await getMessage(messages, aId, DEFAULT_APP))?.messageId).toBe(aId);
    expect((await getBatch(messages, a.plan.batchId, { limit: 10 }, appB.id)).kind).toBe('notFound');
    const seen = await getBatch(messages, a.plan.batchId, { limit: 10 }, appA.id);
    expect(seen.kind === 'found' && seen.batch.app).toBe(appA.id);
    const page = { limit: 10 };
    const ids = async (filter: { viewer?: string; app?: string }) =>
      (await findMessagesByReference(messages, 'ref-1', page, filter)).items.map((r) => r.app);
    expect(await ids({ viewer: appB.id })).toEqual([appB.id]);
    expect(await ids({ viewer: appB.id, app: appA.id })).toEqual([]);
    expect((await ids({ viewer: DEFAULT_APP })).sort()).toEqual([appA.id, appB.id].sort());
    expect(await ids({ viewer: DEFAULT_APP, app: appA.id })).toEqual([appA.id]);
    expect(canSee('unlisted', { app: appA.id })).toBe(false);
    expect(canSee('unlisted', {})).toBe(false);
    expect(canSee(DEFAULT_APP, { app: appA.id })).toBe(true);
  });

  it('scopes Idempotency-Keys per app, and keeps the bare scope for the default app', () => {
    expect(idempotencyScopeOf('submitMessages', DEFAULT_APP)).toBe('submitMessages');
    expect(idempotencyScopeOf('submitMessages', appA.id)).not.toBe(idempotencyScopeOf('submitMessages', appB.id));
    expect(idempotencyScopeOf('submitMessages', appA.id)).not.toBe('submitMessages');
  });
});

describe("an app's webhook", () => {
  const destinations = eventDestinations({
    webhooks: { urls: ['https://all.example.com/hook'], secret: SECRET_A },
    eventGrid: undefined,
    apps,
  });
  const [global, hookA, hookB] = destinations;
  const record = (app: string | undefined, n: number) => ({
    messageId: `b${n}-0`,
    batchId: `b${n}`,
    ...(app ? { app } : {}),
    from: POOL[0]!.number,
    to: '+14255550123',
    body: 'x',
    encoding: 'GSM-7' as const,
    segments: 1,
    deliveryReport: true,
    status: 'queued' as const,
    history: [{ status: 'queued' as const, at: '2026-11-25T10:00:00.000Z' }],
    createdAt: '2026-11-25T10:00:00.000Z',
    updatedAt: '2026-11-25T10:00:00.000Z',
    attempts: 0,
  });
  const events: PipelineEvent[] = [
    messageEvent('/s', record(appA.id, 1)),
    messageEvent('/s', record(appB.id, 2)),
    messageEvent('/s', record(undefined, 3)),
  ];

  it("gets only its app's events (signed with its own secret); a global webhook gets all of them", () => {
    expect(destinations).toHaveLength(3);
    expect(new Set(destinations.map((d) => d.name)).size).toBe(3);
    expect(eventsFor(global!, events).map((e) => e.data)).toHaveLength(3);
    expect(eventsFor(hookA!, events).map((e) => (e.data as { app: string }).app)).toEqual([appA.id]);
    expect(eventsFor(hookB!, events).map((e) => (e.data as { app: string }).app)).toEqual([appB.id]);
    expect(events.map((e) => (e.data as { app: string }).app)).toEqual([appA.id, appB.id, DEFAULT_APP]);
  });

  it("gets its messages' clicks too (the link carries the app)", () => {
    const link = {
      code: 'abc',
      url: 'https://x.example.com',
      target: 'https://x.example.com',
      messageId: 'b1-0',
      batchId: 'b1',
      index: 0,
      round: 0,
      from: A_NUMBERS[0]!,
      sentAt: '2026-11-25T10:00:00.000Z',
      expiresAt: '2027-11-25T10:00:00.000Z',
    };
    const clicks = [
      clickEvent('/s', { ...link, app: appA.id }, new Date()),
      clickEvent('/s', { ...link, app: appB.id }, new Date()),
    ];
    expect(eventsFor(hookA!, clicks).map((e) => (e.data as { app: string }).app)).toEqual([appA.id]);
    expect(eventsFor(global!, clicks)).toHaveLength(2);
  });

  it("counts each app apart in analytics: its facts carry the app, the default app's none (the rows it had before apps)", () => {
    const ctx = { senderType: () => 'tollFree' as const, prices: mergePrices(), responseWindowMs: 3_600_000 };
    expect(factsOf(events[0]!, ctx)[0]!.app).toBe(appA.id);
    expect(factsOf(events[1]!, ctx)[0]!.app).toBe(appB.id);
    expect(factsOf(events[2]!, ctx)[0]).not.toHaveProperty('app');
  });

  it('attributes an inbound text to the owner of the number, else to the app of the message it answers', async () => {
    const conversations = new FakeConversations();
    const outbox = new FakeOutbox();
    const clock = new FakeClock();
    const deps: InboundDeps = {
      optOuts: new FakeOptOuts(),
      consentLog: new FakeConsentLog(),
      clock,
      log: silentLogger,
      senders: POOL,
      eventSource: '/s',
      mirror: null,
      messages: new FakeMessageStore(),
      queue: new FakeQueue(),
      events: new RecordingSink(),
      conversations,
      publisher: outbox,
      policy: structuredClone(DEFAULT_INBOUND_POLICY),
      apps,
    };
    // An unlisted app sent from a shared number (+18005550100): the reply is its.
    await conversations.recordOutbound([
      outboundEntry({ ...record('unlisted', 9), from: POOL[0]!.number }, '2026-11-25T09:00:00.000Z'),
    ]);
    let n = 0;
    const text = (toNumber: string, message: string) => ({
      id: `Incoming_2026112510000000000${++n}`,
      subject: `/phonenumber/${toNumber.slice(1)}`,
      data: {
        messageId: `Incoming_2026112510000000000${n}`,
        from: '14255550123',
        to: toNumber,
        message,
        receivedTimestamp: clock.now().toISOString(),
      },
      eventType: 'Microsoft.Communication.SMSReceived',
      dataVersion: '1.0',
      metadataVersion: '1',
      eventTime: clock.now().toISOString(),
    });
    await receiveInboundSms(deps, [
      text(A_NUMBERS[0]!, 'hi'),
      text(B_NUMBERS[0]!, 'STOP'),
      text(POOL[0]!.number, 'hello'),
      text(POOL[4]!.number, 'hey'),
    ]);
    const inbound = outbox.published.filter((e) => e.type === 'sms.inbound.received').map((e) => (e.data as { app: string }).app);
    expect(inbound).toEqual([appA.id, appB.id, 'unlisted', DEFAULT_APP]);
    const optOut = outbox.published.find((e) => e.type === 'sms.optout.added')!;
    expect((optOut.data as { app?: string }).app).toBe(appB.id);
    expect(
      [...conversations.entries.values()]
        .filter((e) => e.direction === 'inbound')
        .map((e) => e.app)
        .sort(),
    ).toEqual([appA.id, appB.id, 'unlisted', DEFAULT_APP].sort());
    // Conversations: each entry carries its app; a confined viewer sees only its own.
    const thread = async (from: string | undefined, viewer: string) => {
      const result = await getConversation(
        { conversations, senders: POOL, apps },
        '+14255550123',
        { ...(from ? { from } : {}), limit: 10 },
        viewer,
      );
      return result.kind === 'found' ? result.conversation.page.items.map((e) => `${e.direction}:${e.app}`) : result;
    };
    expect(await thread(POOL[0]!.number, 'unlisted')).toEqual(['inbound:unlisted', 'outbound:unlisted']);
    expect(await thread(POOL[0]!.number, DEFAULT_APP)).toEqual(['inbound:unlisted', 'outbound:unlisted']);
    expect(await thread(POOL[0]!.number, appA.id)).toEqual([]);
    expect(await thread(undefined, appB.id)).toEqual(['inbound:' + appB.id]);
    expect(await thread(A_NUMBERS[0], appB.id)).toEqual([]);
  });
});

describe('the sender, for an app with its own numbers', () => {
  it("hands over only from the app's numbers: a job of app A naming app B's number is refused and never sent", async () => {
    const services = fakeServices({ config: { senders: POOL, apps } });
    const deps = depsOf(services);
    const accepted = await submitMessages(
      deps.submit(silentLogger),
      submitMessagesBody.parse({ to: ['+14255550001', '+14255550002', '+14255550003'], message: 'booked' }),
      { app: appA.id },
    );
    if (accepted.kind !== 'accepted') throw new Error('expected accepted');
    for (let job = services.queue.take(); job; job = services.queue.take()) await processSendJob(deps.send(silentLogger), job);
    expect(services.gateway.requests.length).toBeGreaterThan(0);
    for (const request of services.gateway.requests) expect(A_NUMBERS).toContain(request.from);

    const before = services.gateway.requests.length;
    const job = {
      schema: 'sms.sendjob/1',
      jobId: 'direct-1.0',
      batchId: 'direct1',
      app: appA.id,
      from: B_NUMBERS[0],
      message: 'not from here',
      recipients: [{ messageId: 'direct1-0', to: '+14255550009' }],
    };
    const outcome = await processSendJob(deps.send(silentLogger), job);
    expect(outcome).toEqual({
      kind: 'deadLettered',
      reason: `from ${B_NUMBERS[0]} is not one of the senders of app "booking" (SMS_APPS)`,
    });
    expect(services.gateway.requests).toHaveLength(before);
    const record = await services.messages.get('direct1-0');
    expect([record?.status, record?.app]).toEqual(['failed', appA.id]);
    // The same job for app B goes out.
    expect(
      (
        await processSendJob(deps.send(silentLogger), {
          ...job,
          jobId: 'direct-2.0',
          batchId: 'direct2',
          app: appB.id,
          recipients: [{ messageId: 'direct2-0', to: '+14255550009' }],
        })
      ).kind,
    ).toBe('processed');
    expect(services.gateway.requests.at(-1)?.from).toBe(B_NUMBERS[0]);
  });
});
