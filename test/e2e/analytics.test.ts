// Analytics end to end: a known set of messages goes through the real pipeline on the local stack
// — delivered, failed by the carrier (with codes), refused by ACS, suppressed, canceled, expired —
// with every delivery report sent twice and then every event of every message published to the
// outbox again. GET /api/analytics must show each figure exactly; then the dashboard, in real
// headless Chromium, must show the same numbers, and change with a filter.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueueClient } from '@azure/storage-queue';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.js';
import { buildServices, type Services } from '../../shared/composition.js';
import { hourOf, latencyBucket, LATENCY_BUCKETS } from '../../shared/domain/analytics.js';
import { percentile, type Figures } from '../../shared/domain/analyticsReport.js';
import { messageEvent, type InboundEventData, type MessageEventData, type PipelineEvent } from '../../shared/domain/events.js';
import type { MessageRecord } from '../../shared/domain/message.js';
import { launchChromium } from '../support/browser.js';
import { root, startTestStack, waitFor, type TestStack } from '../support/localStack.js';

const S1 = '+18005550100';
const S2 = '+18005550101';
const h = (i: number) => `+1303555${String(i).padStart(4, '0')}`;
const FAIL_4005 = h(5);
const REFUSED = h(6);
const FAIL_4010 = h(9);
const OPTED_OUT = h(10);
/** 170 GSM-7 characters: two segments. */
const LONG =
  `Spring sale: 20% off everything in store and online until Sunday. Show this text at the till or use code SPRING at checkout. Reply with questions.`.padEnd(
    170,
    '.',
  );

interface View {
  messageId: string;
  status: string;
  from: string;
  to: string;
  tag?: string;
  segments: number;
  acsMessageId?: string;
  history: Array<{ status: string; at: string; eventTime?: string; code?: string }>;
}

let stack: TestStack;
let services: Services;
const ids: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      SMS_SENDERS: JSON.stringify([
        { number: S1, type: 'tollFree', ratePerMinute: 60000 },
        { number: S2, type: 'tollFree', ratePerMinute: 60000 },
      ]),
    },
    emulator: {
      deliveryReports: { delayMs: 100, duplicateShare: 1 },
      faults: {
        handsets: {
          [FAIL_4005]: { kind: 'failed', code: 4005, details: 'Message is blocked by Destination carrier.' },
          [FAIL_4010]: {
            kind: 'failed',
            code: 4010,
            details: 'Message was blocked due to the toll-free number not being verified.',
          },
          [REFUSED]: { kind: 'rejected', httpStatusCode: 400, errorMessage: 'Invalid To phone number format.' },
        },
      },
    },
  });
  services = buildServices(loadConfig(stack.settings));
}); // the e2e project's hook timeout: it covers waiting for a stack slot

afterAll(async () => {
  await stack?.stop();
});

async function view(id: string): Promise<View> {
  return (await (await stack.api(`messages/${id}`)).json()) as View;
}

async function submit(body: Record<string, unknown>): Promise<string[]> {
  const response = await stack.postMessages(body);
  expect(response.status).toBe(202);
  const accepted = ((await response.json()) as { messages: Array<{ messageId: string }> }).messages.map((m) => m.messageId);
  ids.push(...accepted);
  return accepted;
}

async function analytics(query: string, headers: Record<string, string> = {}): Promise<Response> {
  return stack.api(`analytics?${query}`, { headers });
}

async function report(
  query: string,
): Promise<{ totals: Figures; groups: Array<Figures & { key: string | null }>; from: string; to: string }> {
  const response = await analytics(query);
  expect(response.status).toBe(200);
  return (await response.json()) as never;
}

async function outboxDrained(): Promise<void> {
  const queue = new QueueClient(
    stack.storageConnectionString.replace(/;$/, ''),
    stack.settings.EVENTS_QUEUE_NAME ?? 'sms-events',
  );
  await waitFor(
    async () => ((await queue.getProperties()).approximateMessagesCount === 0 ? true : undefined),
    60_000,
    'the event outbox to drain',
  );
}

const today = new Date().toISOString().slice(0, 10);
const day = (offset: number) => new Date(Date.parse(`${today}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
/** Yesterday to tomorrow: a test that runs over midnight UTC still sees all of it. */
const RANGE = `from=${day(-1)}&to=${day(1)}`;

const ZERO = {
  submitted: 0,
  suppressed: 0,
  sent: 0,
  delivered: 0,
  failed: 0,
  expired: 0,
  canceled: 0,
  unknown: 0,
  segmentsSent: 0,
  segmentsDelivered: 0,
  estimatedCost: 0,
  inbound: 0,
  replies: 0,
  answered: 0,
  optOuts: 0,
  optIns: 0,
  helpRequests: 0,
};
/** "spring" from S1: 6 messages of 2 segments; 4 delivered, one failed by the carrier (4005), one refused by ACS (400). */
const SPRING = {
  ...ZERO,
  submitted: 6,
  sent: 5,
  delivered: 4,
  failed: 2,
  segmentsSent: 10,
  segmentsDelivered: 8,
  estimatedCost: 0.075,
  deliveryRate: 0.6667,
  failedByCode: { '400': 1, '4005': 1 },
};
/** "news" from S2: 4 messages of 1 segment; one suppressed (opted out), 2 delivered, one failed (4010). */
const NEWS = {
  ...ZERO,
  submitted: 4,
  suppressed: 1,
  sent: 3,
  delivered: 2,
  failed: 1,
  segmentsSent: 3,
  segmentsDelivered: 2,
  estimatedCost: 0.0225,
  deliveryRate: 0.6667,
  failedByCode: { '4010': 1 },
};
/** Untagged from S1: one canceled while scheduled, one expired while ACS throttled. */
const UNTAGGED = { ...ZERO, submitted: 2, canceled: 1, expired: 1, deliveryRate: 0, failedByCode: {} };
const TOTAL = {
  ...ZERO,
  submitted: 12,
  suppressed: 1,
  sent: 8,
  delivered: 6,
  failed: 3,
  expired: 1,
  canceled: 1,
  segmentsSent: 13,
  segmentsDelivered: 10,
  estimatedCost: 0.0975,
  deliveryRate: 0.6,
  responseRate: 0,
  optOutRate: 0,
  failedByCode: { '400': 1, '4005': 1, '4010': 1 },
};

/** The figures each message's history implies, per UTC hour of the change (independent of the analytics code). */
function expectedByHour(views: View[]): Map<string, Record<string, number>> {
  const hours = new Map<string, Record<string, number>>();
  const add = (at: string, name: string, amount = 1) => {
    const key = `${hourOf(at)}:00:00Z`;
    const figures = hours.get(key) ?? {};
    figures[name] = (figures[name] ?? 0) + amount;
    hours.set(key, figures);
  };
  for (const v of views) {
    add(v.history[0]!.at, 'submitted');
    const sent =
      v.history.find((c) => c.status === 'sent') ??
      v.history.find((c) => c.status === 'delivered' || (c.status === 'failed' && v.acsMessageId));
    if (sent) {
      add(sent.at, 'sent');
      add(sent.at, 'segmentsSent', v.segments);
    }
    for (const c of v.history) {
      if (['delivered', 'failed', 'suppressed', 'expired', 'canceled'].includes(c.status)) add(c.at, c.status);
      if (c.status === 'delivered') add(c.at, 'segmentsDelivered', v.segments);
    }
  }
  return hours;
}

function pick(figures: object, names: string[]) {
  return Object.fromEntries(names.map((n) => [n, (figures as Record<string, unknown>)[n] ?? 0]));
}

describe('GET /api/analytics after a known set of messages', () => {
  let views: View[];

  it('seeds the messages through the real pipeline', async () => {
    // An opt-out recorded before the send: the message to that handset is suppressed at submit.
    await services.optOuts.add({ sender: S2, recipient: OPTED_OUT, source: 'api', at: new Date().toISOString() });
    await submit({ to: [1, 2, 3, 4, 5, 6].map(h), message: LONG, from: S1, tag: 'spring' });
    await submit({ to: [7, 8, 9, 10].map(h), message: 'News: the shop opens at 9 tomorrow.', from: S2, tag: 'news' });
    await waitFor(
      async () => {
        for (const id of ids) if (!['delivered', 'failed', 'suppressed'].includes((await view(id)).status)) return undefined;
        return true;
      },
      60_000,
      'the spring and news messages to reach a final status',
    );
    // Scheduled and canceled.
    const [scheduled] = await submit({
      to: h(11),
      message: 'Reminder',
      from: S1,
      scheduledAt: new Date(Date.now() + 600_000).toISOString(),
    });
    expect((await stack.api(`messages/${scheduled}`, { method: 'DELETE' })).status).toBe(200);
    // ACS throttles every request: the message cannot be handed over within its 5 s validity.
    stack.emulator.configure({ faults: { throttleShare: 1, retryAfterSeconds: 2 } });
    try {
      const [late] = await submit({ to: h(12), message: 'Too late', from: S1, validFor: 5 });
      await waitFor(async () => ((await view(late!)).status === 'expired' ? true : undefined), 60_000, 'expired');
    } finally {
      stack.emulator.configure({ faults: { throttleShare: 0 } });
    }
    views = await Promise.all(ids.map(view));
    expect(views.map((v) => v.status).sort()).toEqual(
      [
        'canceled',
        'delivered',
        'delivered',
        'delivered',
        'delivered',
        'delivered',
        'delivered',
        'expired',
        'failed',
        'failed',
        'failed',
        'suppressed',
      ].sort(),
    );
  }, 180_000);

  it('counts every figure exactly once, though reports came twice and every event is published again', async () => {
    await waitFor(
      async () =>
        (await report(RANGE)).totals.submitted === 12 && (await report(RANGE)).totals.delivered === 6 ? true : undefined,
      60_000,
      'the figures',
    );
    await stack.emulator.idle();
    // Redelivery of the outbox: every event of every message (same ids, same times) once more.
    const deliveries = () =>
      stack.logs.filter((l) => l.includes('events dispatched') && /"delivered":\[[^\]]*"analytics"/.test(l)).length;
    const before = deliveries();
    const source = stack.settings.EVENTS_SOURCE ?? '/sms-pipeline/local';
    for (const id of ids) {
      const record = (await services.messages.get(id))!;
      const events = record.history.map((change, i) =>
        messageEvent(source, { ...record, status: change.status, history: record.history.slice(0, i + 1) } as MessageRecord),
      );
      await services.outbox.publish(events);
    }
    await outboxDrained();
    // Analytics did receive them all again (one outbox message per message replayed).
    await waitFor(
      async () => (deliveries() - before >= ids.length ? true : undefined),
      30_000,
      'the replayed events to reach analytics',
    );

    const all = await report(RANGE);
    expect(all.totals).toMatchObject(TOTAL);
    // Latency: hand-over (the "sent" change) to the carrier's time of the report, per message.
    const histogram = new Array<number>(LATENCY_BUCKETS).fill(0);
    for (const v of views) {
      const sent = v.history.find((c) => c.status === 'sent');
      const delivered = v.history.find((c) => c.status === 'delivered');
      if (sent && delivered)
        histogram[latencyBucket(Math.max(0, Date.parse(delivered.eventTime ?? delivered.at) - Date.parse(sent.at)))]!++;
    }
    expect(histogram.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5);
    expect(all.totals).toMatchObject({
      latencyHistogram: histogram,
      latencyCount: histogram.reduce((a, b) => a + b, 0),
      latencyP50Ms: percentile(histogram, 0.5),
      latencyP95Ms: percentile(histogram, 0.95),
    });
    // Each day of the range: the days around today are empty.
    expect(all.groups.map((g) => g.key)).toEqual([day(-1), day(0), day(1)]);
    const byDay = new Map<string, Record<string, number>>();
    for (const [hour, figures] of expectedByHour(views)) {
      const d = byDay.get(hour.slice(0, 10)) ?? {};
      for (const [k, n] of Object.entries(figures)) d[k] = (d[k] ?? 0) + n;
      byDay.set(hour.slice(0, 10), d);
    }
    const names = [
      'submitted',
      'suppressed',
      'sent',
      'delivered',
      'failed',
      'expired',
      'canceled',
      'segmentsSent',
      'segmentsDelivered',
    ];
    for (const g of all.groups) expect(pick(g, names), g.key!).toEqual(pick(byDay.get(g.key!) ?? {}, names));
  });

  it('groups by hour, in the hour of each change', async () => {
    const from = new Date(Math.min(...views.map((v) => Date.parse(v.history[0]!.at))));
    const r = await report(`from=${hourOf(from)}:00:00Z&to=${new Date(Date.now() + 3600_000).toISOString()}&groupBy=hour`);
    const expected = expectedByHour(views);
    const names = [
      'submitted',
      'suppressed',
      'sent',
      'delivered',
      'failed',
      'expired',
      'canceled',
      'segmentsSent',
      'segmentsDelivered',
    ];
    for (const g of r.groups) expect(pick(g, names), g.key!).toEqual(pick(expected.get(g.key!) ?? {}, names));
    expect(r.totals).toMatchObject(TOTAL);
  });

  it('groups by tag and by sender, with the rates a campaign owner asks for', async () => {
    const byTag = await report(`${RANGE}&groupBy=tag`);
    expect(byTag.groups.map((g) => g.key)).toEqual([null, 'news', 'spring']);
    expect(byTag.groups[0]).toMatchObject(UNTAGGED);
    expect(byTag.groups[1]).toMatchObject({ ...NEWS, optOutRate: 0, responseRate: 0 });
    expect(byTag.groups[2]).toMatchObject({ ...SPRING, optOutRate: 0, responseRate: 0 });

    const bySender = await report(`${RANGE}&groupBy=sender`);
    expect(bySender.groups.map((g) => g.key)).toEqual([S1, S2]);
    expect(bySender.groups[0]).toMatchObject({
      submitted: 8,
      sent: 5,
      delivered: 4,
      failed: 2,
      canceled: 1,
      expired: 1,
      segmentsSent: 10,
      estimatedCost: 0.075,
      deliveryRate: 0.5714,
    });
    expect(bySender.groups[1]).toMatchObject({ ...NEWS });
  });

  it('filters by tag and sender', async () => {
    expect((await report(`${RANGE}&tag=spring`)).totals).toMatchObject(SPRING);
    expect((await report(`${RANGE}&tag=spring&sender=${encodeURIComponent(S1)}`)).totals).toMatchObject(SPRING);
    expect((await report(`${RANGE}&tag=spring&sender=${encodeURIComponent(S2)}`)).totals).toMatchObject({
      ...ZERO,
      deliveryRate: null,
    });
    expect((await report(`${RANGE}&sender=${encodeURIComponent(S2)}`)).totals).toMatchObject(NEWS);
  });

  it('answers CSV to Accept: text/csv, with the same numbers', async () => {
    const response = await analytics(`${RANGE}&groupBy=tag`, { accept: 'text/csv' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, ...rows] = (await response.text()).trim().split('\r\n');
    const columns = header!.split(',');
    const table = rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [columns[i], v])));
    expect(table.map((r) => r.tag)).toEqual(['', 'news', 'spring']);
    expect(table[2]).toMatchObject({
      submitted: '6',
      sent: '5',
      delivered: '4',
      failed: '2',
      segmentsSent: '10',
      estimatedCost: '0.075',
      deliveryRate: '0.6667',
      failed_4005: '1',
      failed_400: '1',
      failed_4010: '0',
    });
  });

  it('refuses a bad query with a problem naming the parameter', async () => {
    const response = await analytics('groupBy=week');
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as { errors: Array<{ field: string }> };
    expect(problem.errors.map((e) => e.field)).toEqual(['groupBy']);
    const backwards = (await (await analytics(`from=${day(1)}&to=${day(-1)}`)).json()) as { errors: Array<{ field: string }> };
    expect(backwards.errors[0]!.field).toBe('to');
  });
});

describe('the dashboard in headless Chromium', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  type Shown = {
    kpis: Record<string, string>;
    charts: Record<string, Array<{ label: string; data: Array<number | null> }>>;
    painted: Record<string, boolean>;
    loads: number;
  };
  const shown = (): Promise<Shown> =>
    page.evaluate(() => {
      const kpis = Object.fromEntries(
        [...document.querySelectorAll('[data-kpi]')].map((e) => [
          e.getAttribute('data-kpi'),
          e.querySelector('.value')!.textContent,
        ]),
      );
      const state = (
        window as unknown as {
          smsDashboard: {
            loads: number;
            charts: Record<string, { data: { datasets: Array<{ label: string; data: Array<number | null> }> } }>;
          };
        }
      ).smsDashboard;
      const charts = Object.fromEntries(
        Object.entries(state.charts).map(([name, c]) => [name, c.data.datasets.map((d) => ({ label: d.label, data: d.data }))]),
      );
      // A chart is drawn when its canvas has non-blank pixels.
      const painted = Object.fromEntries(
        [...document.querySelectorAll<HTMLCanvasElement>('canvas[data-chart]')].map((canvas) => {
          const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let ink = 0;
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) ink++;
          return [canvas.dataset.chart, ink > 500];
        }),
      );
      return { kpis, charts, painted, loads: state.loads } as never;
    });

  const sum = (data: Array<number | null>) => data.reduce<number>((a, b) => a + (b ?? 0), 0);

  it("shows charts whose numbers are the API's, and follows a filter", async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    // Opened the way it is in Azure, with the function key as ?code= (the local host ignores keys).
    const response = await page.goto(`${stack.hostUrl}/api/dashboard?code=local-function-key&from=${day(-1)}&to=${day(1)}`);
    expect(response!.status()).toBe(200);
    expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");
    await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });

    const api = await report(RANGE);
    let s = await shown();
    expect(s.kpis).toMatchObject({
      submitted: '12',
      sent: '8',
      delivered: '6',
      failed: '3',
      deliveryRate: '60.0 %',
      segmentsSent: '13',
      estimatedCost: '0.0975 USD',
    });
    const status = Object.fromEntries(s.charts.status!.map((d) => [d.label, d.data]));
    for (const name of ['delivered', 'failed', 'expired', 'canceled', 'suppressed'] as const) {
      expect(status[name], name).toEqual(api.groups.map((g) => g[name]));
    }
    expect(sum(s.charts.failures![0]!.data)).toBe(3);
    expect(s.charts.cost![0]!.data).toEqual(api.groups.map((g) => g.segmentsSent));
    expect(sum(s.charts.latency![0]!.data)).toBe(api.totals.latencyCount);
    expect(s.charts.senders![0]!.data).toEqual([57.1, 66.7]);
    for (const chart of ['status', 'deliveryRate', 'failures', 'cost', 'latency', 'senders'])
      expect(s.painted[chart], chart).toBe(true);
    // The filter choices come from the data.
    expect(await page.locator('#tag option').allTextContents()).toEqual(['All tags', 'news', 'spring']);
    // Every message here is the default app's (no caller names another): one app to choose, one row.
    expect(await page.locator('#app option').allTextContents()).toEqual(['All apps', 'default']);
    expect(await page.locator('#apps tbody tr').allTextContents()).toEqual([expect.stringMatching(/^default12/)]);

    // Filter on the second sender: the numbers become that sender's.
    const loads = s.loads;
    await page.selectOption('#sender', S2);
    await page.waitForFunction(
      (n) =>
        (window as unknown as { smsDashboard: { loads: number } }).smsDashboard.loads > n &&
        document.body.dataset.state === 'ready',
      loads,
      { timeout: 30_000 },
    );
    s = await shown();
    const filtered = await report(`${RANGE}&sender=${encodeURIComponent(S2)}`);
    expect(filtered.totals).toMatchObject(NEWS);
    expect(s.kpis).toMatchObject({
      submitted: '4',
      sent: '3',
      delivered: '2',
      failed: '1',
      deliveryRate: '66.7 %',
      segmentsSent: '3',
      estimatedCost: '0.0225 USD',
    });
    expect(Object.fromEntries(s.charts.status!.map((d) => [d.label, d.data])).delivered).toEqual(
      filtered.groups.map((g) => g.delivered),
    );
    expect(sum(s.charts.failures![0]!.data)).toBe(1);
    expect(new URL(page.url()).searchParams.get('sender')).toBe(S2);
    expect(new URL(page.url()).searchParams.get('code')).toBe('local-function-key');
    expect(errors).toEqual([]);
  }, 120_000);

  it('takes the screenshot for the README: two weeks of traffic', async () => {
    // Today's figures are the real pipeline's; the 13 days before are synthetic events recorded
    // through the same analytics destination, so the charts have a history to show.
    const destination = services.destinations.find((d) => d.name === 'analytics')!;
    const events = syntheticHistory();
    for (let i = 0; i < events.length; i += 500) await destination.deliver(events.slice(i, i + 500));
    await page.goto(`${stack.hostUrl}/api/dashboard?code=local-function-key&from=${day(-13)}&to=${day(0)}`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
    const api = await report(`from=${day(-13)}&to=${day(0)}`);
    expect((await shown()).kpis.submitted).toBe(api.totals.submitted.toLocaleString('en-US'));
    // UPDATE_SCREENSHOT=1 refreshes the README's picture; otherwise a test run leaves docs/ alone.
    const target = process.env.UPDATE_SCREENSHOT
      ? path.join(root, 'docs/dashboard.png')
      : path.join(tmpdir(), `sms-dashboard-${process.pid}.png`);
    mkdirSync(path.dirname(target), { recursive: true });
    const png = await page.screenshot({ path: target, fullPage: true });
    expect(png.length).toBeGreaterThan(10_000);
  }, 120_000);
});

/** Plausible traffic for the 13 days before today: campaigns, failures with codes, replies and STOPs. */
function syntheticHistory(): PipelineEvent[] {
  let seed = 20261125;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const source = '/sms-pipeline/local';
  const events: PipelineEvent[] = [];
  const codes = ['4005', '4006', '4004', '4005', '4010'];
  for (let d = -13; d <= -1; d++) {
    const midnight = Date.parse(`${day(d)}T00:00:00Z`);
    const volume = Math.max(10, Math.round(60 + 30 * Math.sin(d / 2) + 20 * random()));
    for (let i = 0; i < volume; i++) {
      const tag = (['spring', 'news', 'otp'] as const)[i % 3]!;
      const messageId = `demo${-d}-${i}`;
      const data: MessageEventData = {
        messageId,
        batchId: `demo${-d}`,
        status: 'queued',
        from: i % 2 ? S1 : S2,
        to: `+1206555${String(i).padStart(4, '0')}`,
        tag,
        encoding: 'GSM-7',
        segments: tag === 'spring' ? 2 : 1,
      };
      const at = (ms: number) => new Date(midnight + ms).toISOString();
      const t0 = (7 + Math.floor(random() * 13)) * 3600_000 + Math.floor(random() * 3600_000);
      const event = (
        status: MessageEventData['status'],
        time: number,
        extra: Partial<MessageEventData> = {},
      ): PipelineEvent<MessageEventData> => ({
        specversion: '1.0',
        id: `${messageId}.${status}`,
        source,
        type: `sms.message.${status}`,
        subject: `messages/${messageId}`,
        time: at(time),
        datacontenttype: 'application/json',
        data: { ...data, status, ...extra },
      });
      events.push(event('queued', t0));
      const sentAt = at(t0 + 400);
      events.push(event('sent', t0 + 400, { previousStatus: 'sending', sentAt, acsMessageId: messageId }));
      const r = random();
      const latency = Math.round(800 + random() ** 3 * (tag === 'otp' ? 4000 : 40_000));
      if (r < (tag === 'news' ? 0.86 : 0.95)) {
        events.push(
          event('delivered', t0 + 400 + latency + 300, {
            previousStatus: 'sent',
            sentAt,
            eventTime: at(t0 + 400 + latency),
            acsMessageId: messageId,
          }),
        );
        const reply = random();
        if (reply < (tag === 'otp' ? 0.02 : 0.18)) {
          const time = t0 + 600_000 + Math.floor(random() * 7200_000);
          const keyword = reply < 0.025 ? 'optOut' : reply < 0.03 ? 'help' : null;
          const inbound: InboundEventData = {
            inboundMessageId: `in-${messageId}`,
            from: data.to,
            to: data.from,
            message: keyword === 'optOut' ? 'STOP' : 'Yes please',
            keyword,
            receivedAt: at(time),
            inReplyTo: { messageId, batchId: data.batchId, tag, sentAt },
          };
          events.push({
            specversion: '1.0',
            id: `inbound.in-${messageId}`,
            source,
            type: 'sms.inbound.received',
            subject: `inbound/in-${messageId}`,
            time: at(time),
            datacontenttype: 'application/json',
            data: inbound,
          });
        }
      } else {
        events.push(
          event('failed', t0 + 400 + latency, {
            previousStatus: 'sent',
            sentAt,
            code: codes[i % codes.length],
            acsMessageId: messageId,
          }),
        );
      }
    }
  }
  return events;
}
