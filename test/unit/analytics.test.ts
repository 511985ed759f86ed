// Analytics arithmetic: what each event counts, the latency histogram and its percentiles, the
// cost estimate and the report — all pure, checked figure by figure.
import { describe, expect, it } from 'vitest';
import {
  factsOf,
  latencyBucket,
  LATENCY_BOUNDS_MS,
  type AnalyticsFact,
  type FactContext,
} from '../../shared/domain/analytics.js';
import { buildReport, figuresOf, percentile, type AnalyticsRow } from '../../shared/domain/analyticsReport.js';
import { loadConfig, type ConfigError } from '../../shared/config.js';
import { countryOf } from '../../shared/domain/countries.js';
import type { InboundEventData, MessageEventData, PipelineEvent } from '../../shared/domain/events.js';
import { costMicros, DEFAULT_PRICES, guessSenderType, mergePrices, pricePerSegment } from '../../shared/domain/pricing.js';
import { analyticsDestination, readAnalytics } from '../../shared/pipeline/analytics.js';
import type { AnalyticsReadQuery, AnalyticsStore } from '../../shared/ports/analytics.js';

const ctx: FactContext = { senderType: () => 'tollFree', prices: DEFAULT_PRICES, responseWindowMs: 72 * 3600_000 };
const SENDER = '+18005550100';

function messageEvent(
  status: MessageEventData['status'],
  extra: Partial<MessageEventData> = {},
  time = '2026-11-25T10:00:00.000Z',
): PipelineEvent<MessageEventData> {
  return {
    specversion: '1.0',
    id: `m1.${status}`,
    source: '/sms-pipeline/test',
    type: `sms.message.${status}`,
    subject: 'messages/m1',
    time,
    datacontenttype: 'application/json',
    data: {
      messageId: 'm1',
      batchId: 'b1',
      status,
      from: SENDER,
      to: '+14255550123',
      tag: 'promo',
      encoding: 'GSM-7',
      segments: 2,
      ...extra,
    },
  };
}

function inbound(
  id: string,
  data: Partial<InboundEventData>,
  time = '2026-11-25T12:00:00.000Z',
): PipelineEvent<InboundEventData> {
  return {
    specversion: '1.0',
    id,
    source: '/sms-pipeline/test',
    type: 'sms.inbound.received',
    subject: `inbound/${id}`,
    time,
    datacontenttype: 'application/json',
    data: { inboundMessageId: id, from: '+14255550123', to: SENDER, message: 'hi', keyword: null, receivedAt: time, ...data },
  };
}

const tallyOf = (facts: AnalyticsFact[]) => facts.map((f) => [f.key, f.tally]);

describe('countries and prices', () => {
  it('finds the country of a number from its calling code, North America by area code', () => {
    expect(countryOf('+14255550123')).toBe('US');
    expect(countryOf('+14165550123')).toBe('CA');
    expect(countryOf('+18765550123')).toBe('JM');
    expect(countryOf('+447700900123')).toBe('GB');
    expect(countryOf('+4915112345678')).toBe('DE');
    expect(countryOf('+35812345678')).toBe('FI');
    expect(countryOf('+77012345678')).toBe('KZ');
    expect(countryOf('+79161234567')).toBe('RU');
    expect(countryOf('+80012345678')).toBeUndefined();
    expect(countryOf('Contoso')).toBeUndefined();
  });

  it('prices a segment by sender type and country, with overrides and a fallback', () => {
    expect(pricePerSegment(DEFAULT_PRICES, 'tollFree', 'US')).toBe(0.0075);
    expect(pricePerSegment(DEFAULT_PRICES, 'alphanumeric', 'GB')).toBe(0.04);
    expect(pricePerSegment(DEFAULT_PRICES, 'alphanumeric', 'FR')).toBe(0.05);
    const prices = mergePrices({ alphanumeric: { FR: 0.07 } });
    expect(pricePerSegment(prices, 'alphanumeric', 'FR')).toBe(0.07);
    expect(pricePerSegment(prices, 'alphanumeric', 'GB')).toBe(0.04);
    // Whole millionths: a million segments at 0.0075 add up to exactly 7,500.
    expect(costMicros(3, 0.0075)).toBe(22_500);
    expect(Array.from({ length: 1000 }, () => costMicros(1000, 0.0075)).reduce((a, b) => a + b, 0) / 1e6).toBe(7500);
    expect(guessSenderType('+18885550100')).toBe('tollFree');
    expect(guessSenderType('Contoso')).toBe('alphanumeric');
    expect(guessSenderType('12345')).toBe('shortCode');
  });
});

describe('latency histogram', () => {
  it('puts each latency in the first bucket whose bound holds it', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(250)).toBe(0);
    expect(latencyBucket(251)).toBe(1);
    expect(latencyBucket(4_000)).toBe(4);
    expect(latencyBucket(10 * 86_400_000)).toBe(LATENCY_BOUNDS_MS.length);
  });

  it('reads percentiles by linear interpolation within the bucket', () => {
    const h = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
    expect(percentile(h, 0.5)).toBeNull();
    h[2] = 10; // (500, 1000]
    expect(percentile(h, 0.5)).toBe(750);
    expect(percentile(h, 0.95)).toBe(975);
    h[4] = 10; // (2000, 5000]
    expect(percentile(h, 0.5)).toBe(1000);
    expect(percentile(h, 0.95)).toBe(2000 + 3000 * 0.9);
    const slow = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
    slow[LATENCY_BOUNDS_MS.length] = 1;
    expect(percentile(slow, 0.5)).toBe(LATENCY_BOUNDS_MS.at(-1));
  });
});

describe('facts of message events', () => {
  it('counts the submit on the first event only', () => {
    expect(tallyOf(factsOf(messageEvent('queued'), ctx))).toEqual([['e:m1.queued', { submitted: 1 }]]);
    expect(tallyOf(factsOf(messageEvent('scheduled'), ctx))).toEqual([['e:m1.scheduled', { submitted: 1 }]]);
    expect(factsOf(messageEvent('queued', { previousStatus: 'scheduled' }), ctx)).toEqual([]);
    expect(factsOf(messageEvent('sending', { previousStatus: 'queued' }), ctx)).toEqual([]);
    expect(tallyOf(factsOf(messageEvent('suppressed'), ctx))).toEqual([['e:m1.suppressed', { submitted: 1, suppressed: 1 }]]);
    expect(tallyOf(factsOf(messageEvent('suppressed', { previousStatus: 'queued' }), ctx))).toEqual([
      ['e:m1.suppressed', { suppressed: 1 }],
    ]);
  });

  it('counts the hand-over once with its segments and cost, whichever event shows it first', () => {
    const handover = { sent: 1, segmentsSent: 2, costMicros: 15_000 };
    expect(tallyOf(factsOf(messageEvent('sent', { previousStatus: 'sending' }), ctx))).toEqual([['e:m1.sent', handover]]);
    // A delivery report that overtook the sender's "sent".
    expect(factsOf(messageEvent('delivered', { previousStatus: 'sending' }), ctx)[0]!.tally).toEqual({
      delivered: 1,
      segmentsDelivered: 2,
      ...handover,
    });
    expect(
      factsOf(messageEvent('delivered', { previousStatus: 'sent', sentAt: '2026-11-25T09:59:58.000Z' }), ctx)[0]!.tally,
    ).toEqual({
      delivered: 1,
      segmentsDelivered: 2,
      lat_03: 1, // exactly 2 s: the (1 s, 2 s] bucket
    });
    // Failed at the hand-over (no ACS message id) is not sent; failed by a report is.
    expect(factsOf(messageEvent('failed', { previousStatus: 'sending', code: '400' }), ctx)[0]!.tally).toEqual({
      failed: 1,
      fc_400: 1,
    });
    expect(
      factsOf(messageEvent('failed', { previousStatus: 'sending', code: '4005', acsMessageId: 'x' }), ctx)[0]!.tally,
    ).toEqual({ failed: 1, fc_4005: 1, ...handover });
    expect(
      factsOf(messageEvent('failed', { previousStatus: 'sent', code: 'max-attempts', acsMessageId: 'x' }), ctx)[0]!.tally,
    ).toEqual({ failed: 1, fc_max_attempts: 1 });
    expect(factsOf(messageEvent('failed', { previousStatus: 'queued' }), ctx)[0]!.tally).toEqual({ failed: 1, fc_none: 1 });
    // Unknown straight from "sending" counts the hand-over; a report after "unknown" does not again.
    expect(factsOf(messageEvent('unknown', { previousStatus: 'sending' }), ctx)[0]!.tally).toEqual({ unknown: 1, ...handover });
    expect(factsOf(messageEvent('unknown', { previousStatus: 'sent' }), ctx)[0]!.tally).toEqual({ unknown: 1 });
    expect(factsOf(messageEvent('delivered', { previousStatus: 'unknown' }), ctx)[0]!.tally).toEqual({
      delivered: 1,
      segmentsDelivered: 2,
    });
  });

  it('measures latency from the hand-over to the carrier time of the report, and buckets by the event time', () => {
    const [fact] = factsOf(
      messageEvent(
        'delivered',
        {
          previousStatus: 'sent',
          sentAt: '2026-11-25T23:59:59.000Z',
          eventTime: '2026-11-26T00:00:00.400Z',
          segmentsSucceeded: 1,
        },
        '2026-11-26T00:00:01.000Z',
      ),
      ctx,
    );
    expect(fact).toMatchObject({ key: 'e:m1.delivered', at: '2026-11-26T00:00:01.000Z', tag: 'promo', sender: SENDER });
    expect(fact!.tally).toEqual({ delivered: 1, segmentsDelivered: 1, lat_03: 1 });
    // A report stamped before our own hand-over time counts as 0 ms, not negative.
    expect(
      factsOf(
        messageEvent('delivered', {
          previousStatus: 'sent',
          sentAt: '2026-11-25T10:00:05.000Z',
          eventTime: '2026-11-25T10:00:04.000Z',
        }),
        ctx,
      )[0]!.tally.lat_00,
    ).toBe(1);
  });

  it('names the template and version a message was rendered from, and "" for a message that was not', () => {
    const [rendered] = factsOf(
      messageEvent('queued', { template: { name: 'appointment-reminder', version: 3, locale: 'de' } }),
      ctx,
    );
    expect(rendered).toMatchObject({ template: 'appointment-reminder@3', tally: { submitted: 1 } });
    expect(factsOf(messageEvent('queued'), ctx)[0]!.template).toBe('');
    // A reply counts under the template of the message it answers, so a template's response rate is its own.
    expect(factsOf(inbound('i-t', {}), ctx)[0]!.template).toBe('');
    const answering = factsOf(
      inbound('i-t', {
        inReplyTo: { messageId: 'm1', batchId: 'b1', template: 'appointment-reminder@3', sentAt: '2026-11-25T11:00:00.000Z' },
      }),
      ctx,
    );
    expect(answering.map((f) => [f.key, f.template])).toEqual([
      ['e:i-t', 'appointment-reminder@3'],
      ['a:m1', 'appointment-reminder@3'],
    ]);
  });

  it('counts expired and canceled, and nothing for an event whose time is not a time', () => {
    expect(factsOf(messageEvent('expired', { previousStatus: 'queued' }), ctx)[0]!.tally).toEqual({ expired: 1 });
    expect(factsOf(messageEvent('canceled', { previousStatus: 'scheduled' }), ctx)[0]!.tally).toEqual({ canceled: 1 });
    expect(factsOf(messageEvent('queued', {}, 'yesterday'), ctx)).toEqual([]);
  });
});

describe('facts of inbound and consent events', () => {
  const reply = { messageId: 'm9', batchId: 'b9', tag: 'promo', sentAt: '2026-11-25T10:00:00.000Z' };

  it('counts inbound, replies and keywords under the campaign of the message answered', () => {
    expect(tallyOf(factsOf(inbound('i1', { keyword: 'optOut', message: 'STOP', inReplyTo: reply }), ctx))).toEqual([
      ['e:i1', { inbound: 1, replies: 1, optOuts: 1 }],
    ]);
    expect(factsOf(inbound('i2', { keyword: 'help', inReplyTo: reply }), ctx)[0]!.tally).toEqual({
      inbound: 1,
      replies: 1,
      helpRequests: 1,
    });
    expect(factsOf(inbound('i3', { keyword: 'optIn' }), ctx)).toEqual([
      { key: 'e:i3', at: '2026-11-25T12:00:00.000Z', tag: '', sender: SENDER, template: '', tally: { inbound: 1, optIns: 1 } },
    ]);
  });

  it('marks the message answered once, in the hour it was sent, only within the window', () => {
    const facts = factsOf(inbound('i4', { inReplyTo: reply }), ctx);
    expect(facts).toEqual([
      {
        key: 'e:i4',
        at: '2026-11-25T12:00:00.000Z',
        tag: 'promo',
        sender: SENDER,
        template: '',
        tally: { inbound: 1, replies: 1 },
      },
      { key: 'a:m9', at: reply.sentAt, tag: 'promo', sender: SENDER, template: '', tally: { answered: 1 } },
    ]);
    const late = factsOf(inbound('i5', { inReplyTo: reply }, '2026-11-28T10:00:01.000Z'), ctx);
    expect(late.map((f) => f.key)).toEqual(['e:i5']);
    const justInTime = factsOf(inbound('i6', { inReplyTo: reply }, '2026-11-28T10:00:00.000Z'), ctx);
    expect(justInTime.map((f) => f.key)).toEqual(['e:i6', 'a:m9']);
  });

  it('counts opt-outs and opt-ins from the API or the carrier; keyword ones come from their inbound message', () => {
    const consent = (type: 'sms.optout.added' | 'sms.optout.removed', source: 'keyword' | 'api' | 'carrier'): PipelineEvent => ({
      specversion: '1.0',
      id: `c.${type}.${source}`,
      source: '/sms-pipeline/test',
      type,
      subject: `opt-outs/${SENDER}`,
      time: '2026-11-25T11:00:00.000Z',
      datacontenttype: 'application/json',
      data: { recipient: '+14255550123', sender: '*', source },
    });
    expect(factsOf(consent('sms.optout.added', 'keyword'), ctx)).toEqual([]);
    expect(factsOf(consent('sms.optout.added', 'api'), ctx)).toEqual([
      {
        key: 'e:c.sms.optout.added.api',
        at: '2026-11-25T11:00:00.000Z',
        tag: '',
        sender: '*',
        template: '',
        tally: { optOuts: 1 },
      },
    ]);
    expect(factsOf(consent('sms.optout.removed', 'carrier'), ctx)[0]!.tally).toEqual({ optIns: 1 });
  });
});

describe('figures and the report', () => {
  it('derives the rates from the counters', () => {
    const f = figuresOf({
      delivered: 8,
      failed: 1,
      expired: 1,
      answered: 2,
      optOuts: 1,
      costMicros: 22_500,
      fc_4005: 1,
      fc_max_attempts: 2,
    });
    expect(f).toMatchObject({
      deliveryRate: 0.8,
      responseRate: 0.25,
      optOutRate: 0.125,
      estimatedCost: 0.0225,
      failedByCode: { '4005': 1, 'max-attempts': 2 },
    });
    expect(figuresOf({})).toMatchObject({
      deliveryRate: null,
      responseRate: null,
      optOutRate: null,
      latencyP50Ms: null,
      latencyCount: 0,
    });
    expect(figuresOf({ delivered: 1, answered: 2 }).responseRate).toBe(1);
    expect(figuresOf({ delivered: 3 }).deliveryRate).toBe(1);
    expect(figuresOf({ delivered: 2, failed: 1 }).deliveryRate).toBe(0.6667);
  });

  const rows: AnalyticsRow[] = [
    { bucket: '2026-11-24T23', tag: 'promo', sender: 'A', template: '', tally: { submitted: 2, delivered: 1 } },
    { bucket: '2026-11-25T10', tag: 'promo', sender: 'A', template: '', tally: { submitted: 1 } },
    { bucket: '2026-11-25T10', tag: '', sender: 'B', template: '', tally: { submitted: 4, delivered: 3 } },
  ];
  const from = new Date('2026-11-24T00:00:00Z');
  const to = new Date('2026-11-27T00:00:00Z');

  it('groups by day, covering every day of the range', () => {
    const r = buildReport(rows, { from, to, groupBy: 'day' });
    expect(r.totals.submitted).toBe(7);
    expect(r.groups.map((g) => [g.key, g.submitted, g.delivered])).toEqual([
      ['2026-11-24', 2, 1],
      ['2026-11-25', 5, 3],
      ['2026-11-26', 0, 0],
    ]);
  });

  it('groups by hour, by tag (null for untagged) and by sender, and filters', () => {
    const hours = buildReport(rows, { from, to: new Date('2026-11-24T03:00:00Z'), groupBy: 'hour' });
    expect(hours.groups.map((g) => g.key)).toEqual(['2026-11-24T00:00:00Z', '2026-11-24T01:00:00Z', '2026-11-24T02:00:00Z']);
    expect(buildReport(rows, { from, to, groupBy: 'tag' }).groups.map((g) => [g.key, g.submitted])).toEqual([
      [null, 4],
      ['promo', 3],
    ]);
    expect(buildReport(rows, { from, to, groupBy: 'sender', tag: 'promo' }).groups.map((g) => [g.key, g.submitted])).toEqual([
      ['A', 3],
    ]);
  });

  it('groups by template name or by version (null for messages without one), and filters by either', () => {
    const templated: AnalyticsRow[] = [
      ...rows,
      { bucket: '2026-11-25T11', tag: 'promo', sender: 'A', template: 'reminder@1', tally: { submitted: 5, delivered: 5 } },
      { bucket: '2026-11-25T12', tag: '', sender: 'B', template: 'reminder@2', tally: { submitted: 2, delivered: 1 } },
      { bucket: '2026-11-25T12', tag: '', sender: 'B', template: 'reminder-v2@1', tally: { submitted: 1 } },
    ];
    const by = (query: Partial<Parameters<typeof buildReport>[1]>) =>
      buildReport(templated, { from, to, groupBy: 'day', ...query }).groups.map((g) => [g.key, g.submitted]);
    expect(by({ groupBy: 'template' })).toEqual([
      [null, 7],
      ['reminder', 7],
      ['reminder-v2', 1],
    ]);
    expect(by({ groupBy: 'templateVersion' })).toEqual([
      [null, 7],
      ['reminder-v2@1', 1],
      ['reminder@1', 5],
      ['reminder@2', 2],
    ]);
    // A name is every version of it (and not another template whose name starts the same); name@n one version.
    expect(buildReport(templated, { from, to, groupBy: 'tag', template: 'reminder' }).totals).toMatchObject({
      submitted: 7,
      delivered: 6,
    });
    expect(buildReport(templated, { from, to, groupBy: 'tag', template: 'reminder@2' }).totals).toMatchObject({
      submitted: 2,
      delivered: 1,
    });
    expect(
      buildReport(templated, { from, to, groupBy: 'sender', template: 'reminder' }).groups.map((g) => [g.key, g.submitted]),
    ).toEqual([
      ['A', 5],
      ['B', 2],
    ]);
  });
});

describe('the analytics destination', () => {
  class MemoryStore implements AnalyticsStore {
    readonly seen = new Set<string>();
    readonly rows: AnalyticsRow[] = [];
    reads: AnalyticsReadQuery[] = [];
    async record(facts: readonly AnalyticsFact[]) {
      for (const f of facts) {
        if (this.seen.has(f.key)) continue;
        this.seen.add(f.key);
        this.rows.push({ bucket: f.at.slice(0, 13), tag: f.tag, sender: f.sender, template: f.template, tally: f.tally });
      }
    }
    async read(query: AnalyticsReadQuery) {
      this.reads.push(query);
      return this.rows;
    }
  }

  it('records facts with the price of the sender type, once however often an event comes', async () => {
    const store = new MemoryStore();
    const destination = analyticsDestination(
      store,
      { prices: mergePrices({ shortCode: { US: 0.01 } }), responseWindowMs: 3600_000 },
      [{ number: SENDER, type: 'shortCode', ratePerMinute: 6000, burst: 100 }],
    );
    expect(destination.types?.has('sms.message.delivered')).toBe(true);
    expect(destination.types?.has('sms.inbound.received')).toBe(true);
    const sent = messageEvent('sent', { previousStatus: 'sending' });
    await destination.deliver([sent, sent]);
    await destination.deliver([sent]);
    const report = await readAnalytics(store, {
      from: new Date('2026-11-25T00:00:00Z'),
      to: new Date('2026-11-26T00:00:00Z'),
      groupBy: 'day',
    });
    expect(report.totals).toMatchObject({ sent: 1, segmentsSent: 2, estimatedCost: 0.02 });
    expect(store.reads[0]!.resolution).toBe('day');
    await readAnalytics(store, { from: new Date('2026-11-25T06:00:00Z'), to: new Date('2026-11-26T00:00:00Z'), groupBy: 'tag' });
    expect(store.reads[1]!.resolution).toBe('hour');
  });
});

describe('analytics settings', () => {
  const env = {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    OUTBOUND_QUEUE_TRANSPORT: 'storage',
    ACS_CONNECTION_STRING: 'endpoint=http://127.0.0.1:7081/;accesskey=a2V5',
    SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"}]',
  };
  const problems = (extra: Record<string, string>) => {
    try {
      loadConfig({ ...env, ...extra });
    } catch (error) {
      return (error as ConfigError).problems;
    }
    return [];
  };

  it('defaults to a 72-hour response window and the list prices', () => {
    const config = loadConfig(env);
    expect(config.analytics.responseWindowMs).toBe(72 * 3600_000);
    expect(config.analytics.prices).toEqual(DEFAULT_PRICES);
  });

  it('lays configured prices over the defaults', () => {
    const config = loadConfig({
      ...env,
      ANALYTICS_RESPONSE_WINDOW_HOURS: '24',
      ANALYTICS_SMS_PRICES: '{"tollFree":{"US":0.0083},"alphanumeric":{"*":0.06}}',
    });
    expect(config.analytics.responseWindowMs).toBe(24 * 3600_000);
    expect(config.analytics.prices.tollFree).toEqual({ ...DEFAULT_PRICES.tollFree, US: 0.0083 });
    expect(config.analytics.prices.alphanumeric['*']).toBe(0.06);
    expect(config.analytics.prices.alphanumeric.GB).toBe(0.04);
  });

  it('names a bad setting', () => {
    expect(problems({ ANALYTICS_RESPONSE_WINDOW_HOURS: '0' })[0]).toMatch(
      /^ANALYTICS_RESPONSE_WINDOW_HOURS must be a whole number/,
    );
    expect(problems({ ANALYTICS_SMS_PRICES: 'cheap' })[0]).toMatch(/^ANALYTICS_SMS_PRICES must be JSON/);
    expect(problems({ ANALYTICS_SMS_PRICES: '{"tollFree":{"usa":0.01}}' })[0]).toMatch(/^ANALYTICS_SMS_PRICES .*ISO 3166/);
    expect(problems({ ANALYTICS_SMS_PRICES: '{"satellite":{"US":0.01}}' })[0]).toMatch(/^ANALYTICS_SMS_PRICES /);
    expect(problems({ ANALYTICS_SMS_PRICES: '{"tollFree":{"US":-1}}' })[0]).toMatch(/^ANALYTICS_SMS_PRICES .*0 or more/);
  });
});
