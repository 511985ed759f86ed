// Frequency caps on fakes wired by depsOf(fakeServices()): with marketing capped at 3 a day, the
// 4th marketing message to a number that day is recorded `suppressed` with the reason
// frequencyCap, never reaches the handset, and is counted; other categories, other numbers and the
// next day are not affected; a retry counts nothing twice; a refused batch takes its counts back.
// The race between instances on real Table Storage: test/integration/frequencyCapRace.test.ts.
import { beforeEach, describe, expect, it } from 'vitest';
import { depsOf } from '../../shared/composition.js';
import { factsOf } from '../../shared/domain/analytics.js';
import { budgetRules } from '../../shared/domain/budget.js';
import type { PipelineEvent } from '../../shared/domain/events.js';
import { capPeriods, isoWeek, parseFrequencyCaps } from '../../shared/domain/frequencyCap.js';
import { submitMessagesBody, submitResponse, toMessageView } from '../../shared/http/messages.js';
import type { EventDestination } from '../../shared/ports/events.js';
import { processSendJob } from '../../shared/pipeline/send/processSendJob.js';
import { submitMessages } from '../../shared/pipeline/submitMessages.js';
import { defaultSendRules, fakeServices, silentLogger, tollFree, type FakeServices } from '../support/fakes.js';

const TO = '+12125550123'; // New York

let s: FakeServices;
let deps: ReturnType<typeof depsOf>;
let events: PipelineEvent[];

function setup(caps = 'marketing:3/day,10/week', budgets?: Parameters<typeof budgetRules>[0]) {
  const parsed = parseFrequencyCaps(caps);
  if (!parsed.ok) throw new Error(parsed.message);
  events = [];
  const spy: EventDestination = { name: 'spy', immediate: true, deliver: async (e) => void events.push(...e) };
  const base = fakeServices().config;
  s = fakeServices({
    config: {
      senders: [tollFree],
      sendRules: { ...defaultSendRules(), caps: parsed.caps },
      guard: { ...base.guard, budgets: { rules: budgetRules(budgets), whenReached: 'refuse' } },
    },
    destinations: [spy],
  });
  // Noon in New York: no quiet hours in the way.
  s.clock.time = Date.parse('2026-11-25T17:00:00Z');
  deps = depsOf(s);
}
beforeEach(() => setup());

const submit = (body: Record<string, unknown>, operation = {}) =>
  submitMessages(
    deps.submit(silentLogger),
    submitMessagesBody.parse({ to: TO, message: 'Sale!', category: 'marketing', ...body }),
    operation,
  );
const records = (to = TO) => [...s.messages.rows.values()].filter((r) => r.to === to);
async function sendAll() {
  for (const job of s.queue.jobs.splice(0)) await processSendJob(deps.send(silentLogger), job);
}
const tallies = () =>
  events
    .flatMap((e) => factsOf(e, { prices: s.config.analytics.prices, senderType: () => 'tollFree', responseWindowMs: 1 }))
    .map((f) => f.tally);

describe('frequency-cap settings', () => {
  it('parse per category, day and week; refuse what is not a cap, naming it', () => {
    expect(parseFrequencyCaps('marketing:3/day,10/week; otp:5/day')).toMatchObject({
      ok: true,
      caps: new Map([
        ['marketing', { day: 3, week: 10 }],
        ['otp', { day: 5 }],
      ]),
    });
    expect(parseFrequencyCaps('none')).toMatchObject({ ok: true, caps: new Map() });
    expect(parseFrequencyCaps('marketing:3/month')).toMatchObject({ ok: false, message: expect.stringContaining('3/month') });
    expect(parseFrequencyCaps('promo:3/day')).toMatchObject({ ok: false });
    expect(parseFrequencyCaps('marketing:0/day')).toMatchObject({ ok: false });
    expect(parseFrequencyCaps('marketing:3/day,4/day')).toMatchObject({ ok: false, message: expect.stringContaining('twice') });
  });

  it('count in the recipient’s own day and ISO week', () => {
    // 02:00 UTC on Thursday 26 November is still Wednesday 25 in New York.
    expect(capPeriods(['America/New_York'], new Date('2026-11-26T02:00:00Z'))).toEqual({ day: '2026-11-25', week: '2026-W48' });
    expect(capPeriods([], new Date('2026-11-26T02:00:00Z'))).toEqual({ day: '2026-11-26', week: '2026-W48' });
    expect(isoWeek('2027-01-01')).toBe('2026-W53');
    expect(isoWeek('2024-12-30')).toBe('2025-W01');
  });
});

describe('a cap of 3 marketing messages a day', () => {
  it('suppresses the 4th marketing message to a number that day with reason frequencyCap; it never reaches the handset', async () => {
    for (let i = 1; i <= 4; i++) {
      const result = await submit({ message: `Sale ${i}` });
      expect(result.kind).toBe('accepted');
      if (i === 4 && result.kind === 'accepted')
        expect(submitResponse(result).messages[0]).toMatchObject({
          status: 'suppressed',
          reason: expect.stringMatching(/^frequencyCap/),
        });
    }
    await sendAll();
    expect(s.gateway.delivered).toEqual([`${TO}|Sale 1`, `${TO}|Sale 2`, `${TO}|Sale 3`]);
    const fourth = records().find((r) => r.body === 'Sale 4')!;
    expect(fourth.status).toBe('suppressed');
    expect(fourth.history).toEqual([
      expect.objectContaining({
        status: 'suppressed',
        code: 'frequencyCap',
        reason: expect.stringContaining('at most 3 marketing messages a day'),
      }),
    ]);
    expect(toMessageView(fourth).history[0]!.reason).toMatch(/^frequencyCap/);
    // Counted: the 4th as suppressed and frequencyCapped.
    expect(tallies().filter((t) => t.frequencyCapped)).toEqual([{ submitted: 1, suppressed: 1, frequencyCapped: 1 }]);
  });

  it('does not count other categories, other numbers, or the next day', async () => {
    for (let i = 1; i <= 3; i++) await submit({ message: `Sale ${i}` });
    expect((await submit({ category: 'otp', message: 'Code 1' })).kind).toBe('accepted');
    expect((await submit({ category: 'transactional', message: 'Receipt' })).kind).toBe('accepted');
    await submit({ to: '+13105550123', message: 'Sale LA' });
    expect(records().every((r) => r.status === 'queued')).toBe(true);
    expect(records('+13105550123')[0]!.status).toBe('queued');
    // The next day in New York.
    s.clock.time = Date.parse('2026-11-26T17:00:00Z');
    await submit({ message: 'Sale tomorrow' });
    expect(records().find((r) => r.body === 'Sale tomorrow')!.status).toBe('queued');
  });

  it('counts a message scheduled for tomorrow in tomorrow', async () => {
    for (let i = 1; i <= 3; i++) await submit({ message: `Sale ${i}` });
    await submit({ message: 'Tomorrow', scheduledAt: '2026-11-26T15:00:00Z' });
    expect(records().find((r) => r.body === 'Tomorrow')!.status).toBe('scheduled');
  });

  it('takes a weekly cap across days', async () => {
    setup('marketing:2/week');
    await submit({ message: 'Mon' });
    s.clock.time += 86_400_000;
    await submit({ message: 'Tue' });
    s.clock.time += 86_400_000;
    await submit({ message: 'Wed' });
    expect(records().map((r) => r.status)).toEqual(['queued', 'queued', 'suppressed']);
    expect(records()[2]!.history[0]!.reason).toContain('a week');
  });

  it('a retry with the same Idempotency-Key batch counts nothing twice', async () => {
    const first = await submit({ message: 'Sale 1' });
    if (first.kind !== 'accepted') throw new Error(first.kind);
    await submit({ message: 'Sale 1' }, { batchId: first.plan.batchId, resumed: true });
    await submit({ message: 'Sale 2' });
    await submit({ message: 'Sale 3' });
    expect(records().map((r) => r.status)).toEqual(['queued', 'queued', 'queued']);
  });

  it('a batch a budget refuses takes its counts back', async () => {
    setup('marketing:3/day', { daily: { messages: 2 } });
    await submit({ message: 'Sale 1' });
    await submit({ message: 'Sale 2' });
    expect((await submit({ message: 'Sale 3' })).kind).toBe('budgetExceeded');
    // The refused one is not counted: with a budget again, the third still fits the cap.
    s.config.guard.budgets.rules = [];
    await submit({ message: 'Sale 3 again' });
    expect(records().map((r) => r.status)).toEqual(['queued', 'queued', 'queued']);
  });
});
