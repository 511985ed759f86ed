// The fraud and spend guard's use cases on fakes, wired by depsOf(fakeServices()) as the function
// app wires them: geo permissions at submit and at the hand-over, budgets charged once per batch,
// pumping bursts held and released, the pause switch, conversions. Handsets are counted on the fake
// gateway: what it "delivered".
import { beforeEach, describe, expect, it } from 'vitest';
import { depsOf } from '../../shared/composition.js';
import type { Config } from '../../shared/config.js';
import { factsOf } from '../../shared/domain/analytics.js';
import { budgetRules, counterKey, type BudgetSettings } from '../../shared/domain/budget.js';
import type { PipelineEvent } from '../../shared/domain/events.js';
import { DEFAULT_PUMPING_POLICY } from '../../shared/domain/fraudWatch.js';
import { defaultAllowedCountries } from '../../shared/domain/geo.js';
import { mergePrices } from '../../shared/domain/pricing.js';
import type { Sender } from '../../shared/domain/sender.js';
import { SEND_JOB_SCHEMA_VERSION } from '../../shared/domain/sendJob.js';
import { submitMessagesBody } from '../../shared/http/messages.js';
import { DependencyUnavailableError, SubmitInterruptedError } from '../../shared/ports/errors.js';
import type { EventDestination } from '../../shared/ports/events.js';
import type { Logger } from '../../shared/ports/runtime.js';
import { recordConversion } from '../../shared/pipeline/guard/conversions.js';
import { releaseHold } from '../../shared/pipeline/guard/holds.js';
import { sendingState, setPause } from '../../shared/pipeline/guard/sending.js';
import { sendingHealth } from '../../shared/pipeline/health.js';
import { processSendJob } from '../../shared/pipeline/send/processSendJob.js';
import { HOLD_RECHECK_MS, PAUSE_RECHECK_MS } from '../../shared/pipeline/send/guard.js';
import { submitMessages } from '../../shared/pipeline/submitMessages.js';
import { putTemplate } from '../../shared/pipeline/templates.js';
import { fakeServices, silentLogger, tollFree, type FakeServices } from '../support/fakes.js';

const ALPHANUMERIC: Sender = { number: 'CONTOSO', type: 'alphanumeric', ratePerMinute: 600, burst: 10 };
const POOL = [tollFree, ALPHANUMERIC];

let s: FakeServices;
let deps: ReturnType<typeof depsOf>;
let events: PipelineEvent[];

/** Services with the pool above, every event kept, and the guard's settings given. */
function setup(
  guard: { budgets?: BudgetSettings; whenReached?: 'refuse' | 'queue'; allowed?: string[] } = {},
  config: Partial<Config> = {},
) {
  events = [];
  const spy: EventDestination = { name: 'spy', immediate: true, deliver: async (e) => void events.push(...e) };
  s = fakeServices({
    config: {
      senders: POOL,
      guard: {
        allowedCountries: guard.allowed ? new Set(guard.allowed) : defaultAllowedCountries(POOL),
        budgets: { rules: budgetRules(guard.budgets), whenReached: guard.whenReached ?? 'refuse' },
        pumping: DEFAULT_PUMPING_POLICY,
      },
      ...config,
    },
    destinations: [spy],
  });
  deps = depsOf(s);
}

beforeEach(() => setup());

const body = (to: string | string[], extra: Record<string, unknown> = {}) =>
  submitMessagesBody.parse({ to, message: 'Your code is 123456', ...extra });
/** What the use cases logged: message and properties (the budget alert reads one of them). */
let logged: Array<{ message: string; properties?: Record<string, unknown> }> = [];
const keep = (message: string, properties?: Record<string, unknown>) =>
  void logged.push({ message, ...(properties ? { properties } : {}) });
const recording: Logger = { info: keep, warn: keep, error: keep };
beforeEach(() => {
  logged = [];
});
const submit = (to: string | string[], extra: Record<string, unknown> = {}, operation = {}) =>
  submitMessages(deps.submit(recording), body(to, extra), operation);
const ofType = (type: string) => events.filter((e) => e.type === type);

/** Runs the queue's jobs in time order, moving the clock to each, up to `forMs` from now. */
async function drain(forMs = 5 * 60_000): Promise<void> {
  const until = s.clock.time + forMs;
  for (;;) {
    const due = (j: { notBefore?: string }) => (j.notBefore ? Date.parse(j.notBefore) : 0);
    const next = [...s.queue.jobs].sort((a, b) => due(a) - due(b))[0];
    if (!next || due(next) > until) return;
    s.queue.jobs.splice(s.queue.jobs.indexOf(next), 1);
    s.clock.time = Math.max(s.clock.time, due(next));
    await processSendJob(deps.send(silentLogger), next);
  }
}

/** Texts each handset got. */
const received = (to: string) => s.gateway.delivered.filter((d) => d.startsWith(`${to}|`)).length;
const statusOf = (to: string) => [...s.messages.rows.values()].find((r) => r.to === to)?.status;

describe('geo permissions', () => {
  it('refuse a request to a country no sender reaches, naming the field and the country; nothing is written', async () => {
    const result = await submit(['+14255550123', '+18765550123']); // +1 876: Jamaica
    expect(result).toMatchObject({ kind: 'refused', refusals: [{ field: 'to[1]', country: 'JM' }] });
    expect(s.messages.rows.size + s.queue.jobs.length).toBe(0);
    // Counted: sms.destination.refused, which analytics turns into geoRefused.
    const refused = ofType('sms.destination.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.data).toMatchObject({ rule: 'geo', country: 'JM', recipients: 1 });
    const facts = factsOf(refused[0]!, { senderType: () => 'tollFree', prices: mergePrices(), responseWindowMs: 1 });
    expect(facts).toMatchObject([{ sender: '*', tally: { geoRefused: 1 } }]);
  });

  it('with partial: true accept the others and report the refused ones; a retry of the batch is the same event', async () => {
    const first = await submit(['+14255550123', '+18765550123', '+447700900123'], { partial: true });
    if (first.kind !== 'accepted') throw new Error(first.kind);
    expect(first.records.map((r) => [r.to, r.from])).toEqual([
      ['+14255550123', tollFree.number],
      ['+447700900123', 'CONTOSO'], // a sender that reaches GB
    ]);
    expect(first.plan.rejected).toEqual([{ to: '+18765550123', reason: expect.stringMatching(/JM.*not permitted/) }]);
    const id = ofType('sms.destination.refused')[0]!.id;
    expect(id).toBe(`refused.${first.plan.batchId}.JM`);
    await submit(
      ['+14255550123', '+18765550123', '+447700900123'],
      { partial: true },
      { batchId: first.plan.batchId, resumed: true },
    );
    expect(new Set(ofType('sms.destination.refused').map((e) => e.id))).toEqual(new Set([id]));
  });

  it('fail a job another app enqueued to such a country at the hand-over', async () => {
    await s.queue.enqueue([
      {
        schema: SEND_JOB_SCHEMA_VERSION,
        jobId: 'direct.1',
        batchId: 'direct',
        from: tollFree.number,
        message: 'hi',
        recipients: [{ messageId: 'direct-000', to: '+18765550123' }],
        deliveryReport: true,
        attempt: 1,
        kind: 'message',
      },
    ]);
    await drain();
    expect(s.gateway.requests).toHaveLength(0);
    expect(s.messages.rows.get('direct-000')).toMatchObject({ status: 'failed', error: { code: 'geo-not-permitted' } });
  });
});

describe('budgets', () => {
  const people = (from: number, n: number) => Array.from({ length: n }, (_, i) => `+1425555${String(from + i).padStart(4, '0')}`);

  it('refuse a request that does not fit, saying which limit and when it frees up; announce 80 % and 100 % once', async () => {
    setup({ budgets: { daily: { messages: 10 } } });
    expect((await submit(people(0, 4))).kind).toBe('accepted');
    expect((await submit(people(10, 4))).kind).toBe('accepted');
    const refused = await submit(people(20, 4));
    expect(refused).toMatchObject({ kind: 'budgetExceeded', binding: { metric: 'messages', limit: 10, spent: 8, requested: 4 } });
    if (refused.kind !== 'budgetExceeded') return;
    expect(refused.retryAt.toISOString()).toBe('2026-11-26T00:00:00.000Z');
    expect([...s.messages.rows.values()].filter((r) => r.to.startsWith('+14255550020'))).toHaveLength(0);
    await submit(people(30, 4));
    const reached = ofType('sms.budget.reached').map((e) => e.data as { threshold: number; spent: number });
    expect(reached.map((d) => [d.threshold, d.spent])).toEqual([
      [80, 8],
      [100, 8],
    ]);
    // The log entry the "budget reached" alert reads (infra/modules/alerts.bicep), once.
    expect(logged.filter((l) => l.message === 'sms.budget.reached')).toEqual([
      { message: 'sms.budget.reached', properties: { scope: '*', period: 'day', metric: 'messages', limit: 10, spent: 8 } },
    ]);
    expect((await submit(people(40, 2))).kind).toBe('accepted'); // what is left still fits
  });

  it('charge a batch once, whatever retries it', async () => {
    setup({ budgets: { daily: { messages: 10 } } });
    // The first attempt fills the budget exactly; its retry is the same batch, not a refusal.
    const first = await submit(people(0, 10));
    if (first.kind !== 'accepted') throw new Error(first.kind);
    const again = await submit(people(0, 10), {}, { batchId: first.plan.batchId, resumed: true });
    expect(again).toMatchObject({ kind: 'accepted', plan: { batchId: first.plan.batchId } });
    expect(s.budgets.spent({ scope: '*', period: 'day' }, s.clock.now())).toBe(10);
    expect(await submit(people(20, 1))).toMatchObject({ kind: 'budgetExceeded' });
  });

  it('count a tag against its own budget, and cost against the cost budget', async () => {
    setup({ budgets: { tags: { otp: { daily: { messages: 2 } } }, monthly: { cost: 0.05 } } });
    expect((await submit(people(0, 2), { tag: 'otp' })).kind).toBe('accepted');
    expect(await submit(people(10, 1), { tag: 'otp' })).toMatchObject({
      kind: 'budgetExceeded',
      binding: { rule: { scope: 'otp' } },
    });
    // Toll-free to the US: 0.0075 a segment, so 0.015 spent. Four more make 0.045; a fifth would be 0.0525.
    for (let i = 0; i < 4; i++) expect((await submit(people(20 + i, 1))).kind).toBe('accepted');
    expect(await submit(people(30, 1))).toMatchObject({
      kind: 'budgetExceeded',
      binding: { metric: 'cost', spent: 45_000, limit: 50_000 },
    });
  });

  it('with SMS_BUDGET_WHEN_REACHED=queue schedule the batch for the next period instead', async () => {
    setup({ budgets: { daily: { messages: 4 } }, whenReached: 'queue' });
    await submit(people(0, 4));
    const later = await submit(people(10, 3));
    expect(later).toMatchObject({ kind: 'accepted', deferredUntil: new Date('2026-11-26T00:00:00Z') });
    if (later.kind !== 'accepted') return;
    expect(later.records.every((r) => r.status === 'scheduled' && r.scheduledAt === '2026-11-26T00:00:00.000Z')).toBe(true);
    expect(s.queue.jobs.at(-1)!.notBefore).toBe('2026-11-26T00:00:00.000Z');
    expect(s.budgets.spent({ scope: '*', period: 'day' }, new Date('2026-11-26T00:00:00Z'))).toBe(3);
  });

  it('take back the charge of a batch that certainly was not accepted, and keep it when it may have been', async () => {
    setup({ budgets: { daily: { messages: 10 } } });
    const enqueue = s.queue.enqueue.bind(s.queue);
    s.queue.enqueue = async () => {
      throw new DependencyUnavailableError('queue', 'refused', { uncertain: false });
    };
    await expect(submit(people(0, 3))).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(s.budgets.spent({ scope: '*', period: 'day' }, s.clock.now())).toBe(0);
    s.queue.enqueue = async () => {
      throw new DependencyUnavailableError('queue', 'timed out', { uncertain: true });
    };
    await expect(submit(people(0, 3))).rejects.toBeInstanceOf(SubmitInterruptedError);
    expect(s.budgets.spent({ scope: '*', period: 'day' }, s.clock.now())).toBe(3);
    s.queue.enqueue = enqueue;
  });

  it('show their spend against their limits', async () => {
    setup({ budgets: { daily: { messages: 10, cost: 1 } } });
    await submit(people(0, 4));
    const state = await sendingState(deps.sending(silentLogger));
    expect(state.budgets).toEqual([
      expect.objectContaining({
        scope: '*',
        period: 'day',
        messages: { limit: 10, spent: 4 },
        costMicros: { limit: 1_000_000, spent: 30_000 },
      }),
    ]);
    expect(counterKey({ scope: '*', period: 'day' }, s.clock.now())).toBe('d2026-11-25|*');
  });
});

describe('pumping detection', () => {
  const range = (i: number) => `+44770090${String(i).padStart(4, '0')}`; // one block of GB numbers
  const normal = (i: number) => `+1425${200 + i}0100`; // ordinary traffic: every request to another exchange

  /** OTP requests one by one, each sent as it comes, with normal traffic in between. */
  async function burst(count: number) {
    for (let i = 0; i < count; i++) {
      await submit(range(i), { tag: 'otp' });
      await submit(normal(i), { tag: 'otp' });
      await drain(0);
      s.clock.advance(1_000);
    }
  }

  it('holds a burst to one range after 20 requests in a minute, while other traffic flows', async () => {
    await burst(40);
    expect(s.sendingControls.holds.get('GB-44770090')).toMatchObject({
      state: 'active',
      rule: 'burst',
      prefix: '+44770090',
      reason: 'fraudSuspected',
    });
    expect(ofType('sms.hold.placed').map((e) => e.id)).toHaveLength(1);
    const sentToRange = Array.from({ length: 40 }, (_, i) => received(range(i))).reduce((a, b) => a + b, 0);
    expect(sentToRange).toBe(20);
    expect(Array.from({ length: 40 }, (_, i) => received(normal(i)))).toEqual(Array(40).fill(1));
    const held = [...s.messages.rows.values()].find((r) => r.to === range(30))!;
    expect(held.status).toBe('held');
    expect(held.history.at(-1)).toMatchObject({ status: 'held', reason: 'fraudSuspected', code: 'GB-44770090' });
    expect(ofType('sms.message.held')).toHaveLength(20);
    // Waiting does not use up attempts, and looks again in 30 seconds.
    const waiting = s.queue.jobs.filter((j) => j.recipients.some((r) => r.to.startsWith('+44770090')));
    expect(waiting).toHaveLength(20);
    expect(waiting.every((j) => j.attempt === 1 && Date.parse(j.notBefore!) - s.clock.time <= HOLD_RECHECK_MS)).toBe(true);
  });

  it('sends every held message once when the hold is released, and does not hold the range again at once', async () => {
    await burst(30);
    const released = await releaseHold(deps.holds(silentLogger), 'GB-44770090', {
      messages: 'send',
      note: 'checked: a real campaign',
    });
    expect(released).toMatchObject({ kind: 'released', changed: true, hold: { state: 'released', heldMessages: 'send' } });
    expect(ofType('sms.hold.released')).toHaveLength(1);
    await drain(HOLD_RECHECK_MS + 5_000);
    expect(Array.from({ length: 30 }, (_, i) => received(range(i)))).toEqual(Array(30).fill(1));
    expect(statusOf(range(29))).toBe('sent');
    // The range is exempt for a day: another burst now is not held.
    for (let i = 100; i < 130; i++) await submit(range(i), { tag: 'otp' });
    expect(s.sendingControls.holds.get('GB-44770090')!.state).toBe('released');
    // Releasing again changes nothing.
    expect(await releaseHold(deps.holds(silentLogger), 'GB-44770090', { messages: 'cancel' })).toMatchObject({ changed: false });
  });

  it('looks again as often as heldRecheckSeconds says, so a release takes effect within it', async () => {
    const pumping = { ...DEFAULT_PUMPING_POLICY, heldRecheckSeconds: 5 };
    setup(
      {},
      { guard: { allowedCountries: defaultAllowedCountries(POOL), budgets: { rules: [], whenReached: 'refuse' }, pumping } },
    );
    await burst(30);
    const waiting = s.queue.jobs.filter((j) => j.recipients.some((r) => r.to.startsWith('+44770090')));
    expect(waiting).toHaveLength(10);
    expect(waiting.every((j) => Date.parse(j.notBefore!) - s.clock.time <= 5_000)).toBe(true);
    await releaseHold(deps.holds(silentLogger), 'GB-44770090', { messages: 'send' });
    await drain(6_000);
    expect(Array.from({ length: 30 }, (_, i) => received(range(i)))).toEqual(Array(30).fill(1));
  });

  it('cancels the held messages when released with "cancel"; a held message still expires when its validity ends', async () => {
    await burst(25);
    await submit(range(99), { tag: 'otp', validFor: 40 });
    await drain(0);
    expect(statusOf(range(99))).toBe('held');
    s.clock.advance(45_000);
    await drain(0);
    expect(statusOf(range(99))).toBe('expired');
    await releaseHold(deps.holds(silentLogger), 'GB-44770090', { messages: 'cancel' });
    await drain(HOLD_RECHECK_MS + 5_000);
    expect(statusOf(range(24))).toBe('canceled');
    expect(received(range(24))).toBe(0);
  });

  it("holds a country's OTP traffic when its conversions collapse against its own rate", async () => {
    // A day of normal OTP traffic to GB, 60 % of it used.
    for (let i = 0; i < 300; i++) {
      const r = await submit(`+4477${String(1000000 + i * 37)}`, { tag: 'otp' });
      if (r.kind !== 'accepted') throw new Error(r.kind);
      if (i % 5 < 3)
        expect(await recordConversion(deps.conversions(silentLogger), r.records[0]!.messageId)).toMatchObject({ counted: true });
      s.clock.advance(4 * 60_000);
    }
    expect(s.sendingControls.holds.size).toBe(0);
    // Then OTPs nobody uses, each to a different range: no burst, but a collapse.
    for (let i = 0; i < 60; i++) {
      await submit(`+4479${String(1000000 + i * 977)}`, { tag: 'otp' });
      s.clock.advance(10_000);
    }
    expect(s.sendingControls.holds.get('GB')).toMatchObject({ rule: 'conversions', tags: ['otp'], state: 'active' });
    // Only OTP traffic is held.
    await submit('+447700123456', { tag: 'news' });
    await submit('+447700123457', { tag: 'otp' });
    s.queue.jobs.splice(0, s.queue.jobs.length - 2);
    await drain(0);
    expect(statusOf('+447700123456')).toBe('sent');
    expect(statusOf('+447700123457')).toBe('held');
  });

  it('records a conversion once', async () => {
    const r = await submit('+14255550123', { tag: 'otp' });
    if (r.kind !== 'accepted') throw new Error(r.kind);
    const id = r.records[0]!.messageId;
    expect(await recordConversion(deps.conversions(silentLogger), id)).toMatchObject({
      kind: 'recorded',
      counted: true,
      repeated: false,
    });
    expect(await recordConversion(deps.conversions(silentLogger), id)).toMatchObject({
      kind: 'recorded',
      counted: false,
      repeated: true,
    });
    expect(s.fraudWatch.observed.filter((o) => o.observations.some((x) => x.kind === 'converted'))).toHaveLength(1);
    expect(await recordConversion(deps.conversions(silentLogger), 'nobatch-000')).toEqual({ kind: 'notFound' });
  });
});

describe('the pause switch', () => {
  const people = (n: number) => Array.from({ length: n }, (_, i) => `+1425555${String(1000 + i)}`);

  it('stops hand-overs: jobs wait without reserving a slot or using an attempt; resuming sends each once', async () => {
    const paused = await setPause(deps.sending(silentLogger), { paused: true, reason: 'incident 42' });
    expect(paused).toMatchObject({
      kind: 'done',
      changed: true,
      state: { pauses: [{ scope: { kind: 'pool' }, reason: 'incident 42' }] },
    });
    expect(sendingHealth(await s.sendingControls.snapshot(0)).state).toBe('paused');
    await submit(people(5));
    await drain(60_000);
    expect(s.gateway.requests).toHaveLength(0);
    expect(s.rateLimiter.reservations).toHaveLength(0);
    expect([...s.messages.rows.values()].every((r) => r.status === 'queued')).toBe(true);
    expect(s.queue.jobs.every((j) => j.attempt === 1 && Date.parse(j.notBefore!) - s.clock.time <= PAUSE_RECHECK_MS)).toBe(true);

    expect(await setPause(deps.sending(silentLogger), { paused: false })).toMatchObject({ changed: true });
    expect(await setPause(deps.sending(silentLogger), { paused: false })).toMatchObject({ changed: false });
    await drain(PAUSE_RECHECK_MS + 1_000);
    expect(people(5).map(received)).toEqual([1, 1, 1, 1, 1]);
    expect(ofType('sms.sending.paused')).toHaveLength(1);
    expect(ofType('sms.sending.resumed')).toHaveLength(1);
  });

  it('stops a job at its last look when the pause comes while it waits for its slot; nothing of that hand-over remains', async () => {
    await submit(people(1));
    s.rateLimiter.delayMs = 3_000; // waited out inside the invocation
    s.messages.beforeSave = () =>
      void s.sendingControls.setPause({ kind: 'pool' }, { scope: { kind: 'pool' }, since: s.clock.now().toISOString() });
    await drain(0);
    expect(s.gateway.requests).toHaveLength(0);
    const record = [...s.messages.rows.values()][0]!;
    expect(record.status).toBe('queued');
    expect(record.history.map((h) => h.status)).toEqual(['queued']);
    expect(ofType('sms.message.sending')).toHaveLength(0);
    await setPause(deps.sending(silentLogger), { paused: false });
    s.rateLimiter.delayMs = 0;
    await drain(PAUSE_RECHECK_MS + 1_000);
    expect(received(people(1)[0]!)).toBe(1);
  });

  it('pauses one sender or one tag only', async () => {
    await setPause(deps.sending(silentLogger), { paused: true, tag: 'news' });
    await submit('+14255550001', { tag: 'news' });
    await submit('+14255550002', { tag: 'otp' });
    await submit('+447700900001', { tag: 'otp' });
    await drain(0);
    expect(['+14255550001', '+14255550002', '+447700900001'].map(received)).toEqual([0, 1, 1]);
    await setPause(deps.sending(silentLogger), { paused: true, sender: 'CONTOSO' });
    await submit('+447700900002');
    await drain(0);
    expect(received('+447700900002')).toBe(0);
    expect(await setPause(deps.sending(silentLogger), { paused: true, sender: '+19995550100' })).toMatchObject({
      kind: 'invalid',
      errors: [{ field: 'sender' }],
    });
    expect(sendingHealth(await s.sendingControls.snapshot(0)).state).toBe('partlyPaused');
  });

  it('lets a paused message expire when its validity ends, and says so', async () => {
    await setPause(deps.sending(silentLogger), { paused: true });
    await submit(people(1), { validFor: 30 });
    await drain(60_000);
    expect(statusOf(people(1)[0]!)).toBe('expired');
    expect(ofType('sms.message.expired')).toHaveLength(1);
    expect(s.queue.jobs).toHaveLength(0);
  });

  it('does not hold back a repeat of a hand-over that may already have reached ACS', async () => {
    await submit(people(1));
    s.gateway.script.push('timeout-processed');
    await drain(0);
    await setPause(deps.sending(silentLogger), { paused: true });
    await drain(60_000);
    expect(s.gateway.requests).toHaveLength(2); // the repeat went to ACS, which recognised it
    expect(received(people(1)[0]!)).toBe(1);
    expect(statusOf(people(1)[0]!)).toBe('sent');
  });
});

describe('personalised and template requests', () => {
  const send = (extra: Record<string, unknown>) =>
    submitMessages(deps.submit(recording), submitMessagesBody.parse({ ...extra }), {});
  // 160 GSM-7 characters are one segment; 400 are three (153 a segment when concatenated).
  const oneSegment = 'Hi Ana, your appointment is Tuesday at 10:00.';
  const threeSegments = `Hi Ben, ${'a long reminder '.repeat(25)}`;

  it('refuse an entry in a country no sender reaches by its own field; with partial: true send the others', async () => {
    const messages = [
      { to: '+14255550123', text: oneSegment, reference: 'r-1' },
      { to: '+18765550123', text: 'Hi Cy', reference: 'r-2' }, // +1 876: Jamaica
    ];
    expect(await send({ messages })).toMatchObject({ kind: 'refused', refusals: [{ field: 'messages[1].to', country: 'JM' }] });
    expect(s.messages.rows.size + s.queue.jobs.length).toBe(0);
    const partial = await send({ messages, partial: true });
    expect(partial).toMatchObject({
      kind: 'accepted',
      plan: { rejected: [{ to: '+18765550123', field: 'messages[1]', reference: 'r-2' }] },
    });
    expect(ofType('sms.destination.refused').map((e) => e.data)).toMatchObject([
      { country: 'JM', recipients: 1 },
      { country: 'JM', recipients: 1 },
    ]);
  });

  it('refuse a template recipient in such a country by its field', async () => {
    await putTemplate(deps.templates(), { name: 'reminder', text: 'Hi {{name}}', locales: {}, category: 'transactional' });
    const result = await send({ template: 'reminder', to: [{ to: '+18765550123', variables: { name: 'Ana' } }] });
    expect(result).toMatchObject({ kind: 'refused', refusals: [{ field: 'to[0].to', country: 'JM' }] });
  });

  it("charge the cost budget with each message's own segments", async () => {
    // 1 + 3 segments at 0.0075 (toll-free, US) = 0.03; counted as the first text's size it would be 0.015.
    const messages = [
      { to: '+14255550123', text: oneSegment },
      { to: '+14255550124', text: threeSegments },
    ];
    setup({ budgets: { monthly: { cost: 0.025 } } });
    expect(await send({ messages })).toMatchObject({ kind: 'budgetExceeded', binding: { metric: 'cost' } });
    setup({ budgets: { monthly: { cost: 0.03 } } });
    expect((await send({ messages })).kind).toBe('accepted');
  });

  it('queue a batch for the next period, messages with an earlier time of their own included', async () => {
    setup({ budgets: { daily: { messages: 2 } }, whenReached: 'queue' });
    await submit('+14255550100');
    const later = await send({
      messages: [
        { to: '+14255550123', text: oneSegment, scheduledAt: '2026-11-25T12:00:00Z' },
        { to: '+14255550124', text: 'Hi Ben', scheduledAt: '2026-11-27T09:00:00Z' },
      ],
    });
    expect(later).toMatchObject({ kind: 'accepted', deferredUntil: new Date('2026-11-26T00:00:00Z') });
    if (later.kind !== 'accepted') return;
    expect(later.records.map((r) => [r.status, r.scheduledAt])).toEqual([
      ['scheduled', '2026-11-26T00:00:00.000Z'],
      ['scheduled', '2026-11-27T09:00:00.000Z'],
    ]);
    expect(s.queue.jobs.slice(1).map((j) => j.notBefore)).toEqual(['2026-11-26T00:00:00.000Z', '2026-11-27T09:00:00.000Z']);
  });
});
