// Personalised bulk and templates on the whole local stack, judged by the handsets' inboxes at the
// ACS emulator: 1,000 messages with texts of their own in one request, each delivered and received
// once with its own text, recipients of one text sharing ACS requests; references echoed in every
// status event and found again; a template rendered per recipient with a locale's variant, its
// per-recipient errors, a new version, the preview, analytics by template version, and the
// dashboard's template filter in headless Chromium.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';

const SENDER = '+18005550199';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const handset = (i: number) => `+1303556${String(i).padStart(4, '0')}`;

let stack: TestStack;
let hook: WebhookReceiver;

beforeAll(async () => {
  hook = await startWebhookReceiver(SECRET, '/sms-events');
  stack = await startTestStack({
    slots: 2, // a thousand messages at once
    env: {
      SMS_SENDERS: JSON.stringify([{ number: SENDER, type: 'shortCode', ratePerMinute: 60000 }]),
      STATUS_WEBHOOK_URLS: hook.url,
      STATUS_WEBHOOK_SECRET: SECRET,
    },
    emulator: { deliveryReports: { delayMs: 50 } },
  });
});

afterAll(async () => {
  await stack?.stop();
  await hook?.close();
});

interface Accepted {
  batchId: string;
  messages: Array<{ messageId: string; to: string; status: string; reference?: string }>;
  rejected: Array<{ to: string; reason: string; field?: string }>;
  template?: { name: string; version: number; locale?: string };
}

interface View {
  messageId: string;
  status: string;
  reference?: string;
  template?: { name: string; version: number; locale?: string };
}

async function batchCounts(batchId: string): Promise<Record<string, number>> {
  const body = (await (await stack.api(`batches/${batchId}?limit=1`)).json()) as { counts: Record<string, number> };
  return body.counts;
}

async function accept(body: unknown): Promise<Accepted> {
  const response = await stack.postMessages(body);
  const payload = (await response.json()) as Accepted;
  expect(response.status, JSON.stringify(payload).slice(0, 2000)).toBe(202);
  return payload;
}

/** The emulator's sends from our sender to these handsets, by ACS request. */
function requestsTo(handsets: ReadonlySet<string>): Map<string, Array<{ to: string; message: string }>> {
  const byRequest = new Map<string, Array<{ to: string; message: string }>>();
  for (const s of stack.emulator.sends()) {
    if (s.from !== SENDER || !handsets.has(s.to)) continue;
    const list = byRequest.get(s.requestId) ?? [];
    list.push({ to: s.to, message: s.message });
    byRequest.set(s.requestId, list);
  }
  return byRequest;
}

describe('1,000 messages with texts of their own in one request', () => {
  const N = 1000;
  const to = Array.from({ length: N }, (_, i) => handset(i));
  // Every fifth person gets one of two shared texts (100 each, spread through the request); the
  // other 800 a text of their own.
  const textOf = (i: number) =>
    i % 5 === 0
      ? i % 10 === 0
        ? 'Your order is ready for pickup.'
        : 'Your table is ready.'
      : `Hi person ${i}, your appointment is Tuesday at ${8 + (i % 9)}:00.`;
  let accepted: Accepted;

  it('delivers every message, each handset receives its own text exactly once', async () => {
    accepted = await accept({
      messages: to.map((t, i) => ({
        to: t,
        text: textOf(i),
        reference: `appt-${i}`,
        ...(i === 7 ? { metadata: { clinic: 'north' } } : {}),
      })),
      from: SENDER,
      tag: 'reminders',
    });
    expect(accepted.messages).toHaveLength(N);
    expect(accepted.messages[42]).toMatchObject({ to: to[42], reference: 'appt-42', status: 'queued' });

    await waitFor(
      async () => ((await batchCounts(accepted.batchId)).delivered === N ? true : undefined),
      300_000,
      'all 1,000 delivered',
    );
    for (let i = 0; i < N; i++) {
      const inbox = stack.emulator.inbox(to[i]!);
      expect(
        inbox.map((m) => m.message),
        to[i],
      ).toEqual([textOf(i)]);
    }
  }, 400_000);

  it('makes one ACS request per distinct text of a send job, recipients of a shared text together', () => {
    const byRequest = requestsTo(new Set(to));
    const requests = [...byRequest.values()];
    // Every request carries one text, to at most 100 recipients.
    for (const r of requests) {
      expect(new Set(r.map((x) => x.message)).size).toBe(1);
      expect(r.length).toBeLessThanOrEqual(100);
    }
    expect(requests.reduce((n, r) => n + r.length, 0)).toBe(N);
    const distinct = new Set(Array.from({ length: N }, (_, i) => textOf(i))).size;
    expect(distinct).toBe(802);
    // At least one request per distinct text; a shared text is split only where a job of 100 ends
    // (10 jobs: at most 9 such splits). Sent one request per recipient, this would be 1,000.
    expect(requests.length).toBeGreaterThanOrEqual(distinct);
    expect(requests.length).toBeLessThanOrEqual(distinct + 9);
    const shared = requests.filter((r) => r[0]!.message === 'Your order is ready for pickup.');
    expect(shared.reduce((n, r) => n + r.length, 0)).toBe(100);
    expect(shared.length).toBeLessThanOrEqual(2);
  });

  it('finds a message by its reference, and echoes the reference in every status event', async () => {
    const found = await stack.api('messages?reference=appt-7');
    expect(found.status).toBe(200);
    const { items } = (await found.json()) as { items: Array<View & { metadata?: Record<string, string> }> };
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      messageId: accepted.messages[7]!.messageId,
      reference: 'appt-7',
      status: 'delivered',
      metadata: { clinic: 'north' },
    });
    expect(((await (await stack.api('messages?reference=appt-unknown')).json()) as { items: unknown[] }).items).toEqual([]);
    const bad = await stack.api('messages?reference=has%20space');
    expect(bad.status).toBe(400);

    // Every change of three messages reached the webhook with the message's reference.
    const ids = [0, 7, 999].map((i) => accepted.messages[i]!.messageId);
    await waitFor(
      async () => {
        const events = hook
          .accepted()
          .flatMap((r) => r.events)
          .filter((e) => ids.includes(String(e.data.messageId)));
        return ids.every((id) => events.some((e) => e.data.messageId === id && e.data.status === 'delivered'))
          ? events
          : undefined;
      },
      30_000,
      'the status events',
    );
    const events = hook
      .accepted()
      .flatMap((r) => r.events)
      .filter((e) => ids.includes(String(e.data.messageId)));
    for (const e of events)
      expect(e.data.reference, `${e.id}`).toBe(`appt-${[0, 7, 999][ids.indexOf(String(e.data.messageId))]}`);
    const statuses = new Set(events.map((e) => String(e.data.status)));
    for (const status of ['queued', 'sent', 'delivered']) expect(statuses).toContain(status);
  }, 60_000);
});

describe('templates', () => {
  const people = [handset(2000), handset(2001), handset(2002), handset(2003)];

  it("renders each recipient's text with the locale's variant; wrong variables are that recipient's error", async () => {
    const put = await stack.api('templates/appointment-reminder', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        text: 'Hi {{name}}, your appointment is {{day}} at {{time}}.',
        locales: { de: 'Hallo {{name}}, Ihr Termin ist am {{day}} um {{time}} Uhr.' },
        description: 'Reminder the day before',
        category: 'transactional',
      }),
    });
    expect([200, 201]).toContain(put.status);
    expect(await put.json()).toMatchObject({ name: 'appointment-reminder', version: 1 });

    const result = await accept({
      template: 'appointment-reminder',
      locale: 'de-CH',
      from: SENDER,
      partial: true,
      to: [
        // A line break in a value would break the text: control characters are removed.
        { to: people[0], variables: { name: 'Ana\nMüller', day: 'Dienstag', time: '10:00' }, reference: 'de-1' },
        { to: people[1], variables: { name: 'Ben', day: 'Mittwoch', time: 9 } },
        { to: people[2], variables: { name: 'Chris', day: 'Freitag' } },
        { to: people[3], variables: { name: 'Dora', day: 'Montag', time: '8:00', room: '3' } },
      ],
    });
    expect(result.template).toEqual({ name: 'appointment-reminder', version: 1, locale: 'de' });
    expect(result.messages.map((m) => m.to)).toEqual([people[0], people[1]]);
    expect(result.rejected).toEqual([
      expect.objectContaining({ to: people[2], field: 'to[2]', reason: expect.stringMatching(/time.*missing/) }),
      expect.objectContaining({ to: people[3], field: 'to[3]', reason: expect.stringMatching(/room.*not used/) }),
    ]);

    await waitFor(async () => ((await batchCounts(result.batchId)).delivered === 2 ? true : undefined), 60_000, 'both delivered');
    expect(stack.emulator.inbox(people[0]!).map((m) => m.message)).toEqual([
      'Hallo AnaMüller, Ihr Termin ist am Dienstag um 10:00 Uhr.',
    ]);
    expect(stack.emulator.inbox(people[1]!).map((m) => m.message)).toEqual(['Hallo Ben, Ihr Termin ist am Mittwoch um 9 Uhr.']);
    expect(stack.emulator.inbox(people[2]!)).toEqual([]);
    expect(stack.emulator.inbox(people[3]!)).toEqual([]);
    const record = (await (await stack.api(`messages/${result.messages[0]!.messageId}`)).json()) as View;
    expect(record).toMatchObject({ reference: 'de-1', template: { name: 'appointment-reminder', version: 1, locale: 'de' } });
  }, 90_000);

  it('a request whose every recipient is wrong is refused, naming each variable, and nothing is sent', async () => {
    const before = stack.emulator.sends().length;
    const response = await stack.postMessages({
      template: 'appointment-reminder',
      from: SENDER,
      to: [{ to: handset(2010), variables: { name: 'X', day: 'Mo' } }],
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: Array<{ field: string; message: string }> };
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'to[0].variables.time' })]);
    const unknown = await stack.postMessages({
      template: 'no-such-template',
      from: SENDER,
      to: [{ to: handset(2011), variables: {} }],
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { errors: Array<{ field: string }> }).errors.map((e) => e.field)).toEqual(['template']);
    await new Promise((r) => setTimeout(r, 1000));
    expect(stack.emulator.sends().length).toBe(before);
  });

  it('a changed template is the next version; the preview shows each text, the segments and the cost; analytics count each version', async () => {
    const put = await stack.api('templates/appointment-reminder', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Reminder: {{name}}, {{day}} {{time}}. Reply C to cancel.', category: 'transactional' }),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ version: 2 });

    const body = {
      template: 'appointment-reminder',
      from: SENDER,
      to: [
        { to: handset(2020), variables: { name: 'Eva', day: 'Tue', time: '10:00' } },
        { to: handset(2021), variables: { name: 'Ünal ✓', day: 'Wed', time: '11:00' } },
      ],
    };
    const preview = await stack.api('messages/preview', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(preview.status).toBe(200);
    const shown = (await preview.json()) as {
      recipients: Array<{ text: string; encoding: string; segments: number }>;
      totals: { segments: number; estimatedCost: number; distinctTexts: number };
    };
    expect(shown.recipients.map((r) => [r.text, r.encoding, r.segments])).toEqual([
      ['Reminder: Eva, Tue 10:00. Reply C to cancel.', 'GSM-7', 1],
      ['Reminder: Ünal ✓, Wed 11:00. Reply C to cancel.', 'UCS-2', 1],
    ]);
    expect(shown.totals).toMatchObject({ segments: 2, distinctTexts: 2 });
    expect(shown.totals.estimatedCost).toBeGreaterThan(0);
    // A preview sends nothing.
    expect(stack.emulator.inbox(handset(2020))).toEqual([]);

    const sent = await accept(body);
    expect(sent.template).toEqual({ name: 'appointment-reminder', version: 2 });
    await waitFor(
      async () => ((await batchCounts(sent.batchId)).delivered === 2 ? true : undefined),
      60_000,
      'version 2 delivered',
    );
    expect(stack.emulator.inbox(handset(2020)).map((m) => m.message)).toEqual(['Reminder: Eva, Tue 10:00. Reply C to cancel.']);

    const today = new Date().toISOString().slice(0, 10);
    const report = async (query: string) =>
      (await (await stack.api(`analytics?from=${today}&to=${today}&${query}`)).json()) as {
        totals: { submitted: number; delivered: number };
        groups: Array<{ key: string | null; submitted: number; delivered: number }>;
      };
    await waitFor(
      async () => ((await report('template=appointment-reminder&groupBy=day')).totals.delivered === 4 ? true : undefined),
      30_000,
      'analytics of the template',
    );
    const versions = await report('groupBy=templateVersion');
    expect(versions.groups.map((g) => [g.key, g.submitted, g.delivered])).toEqual([
      [null, 1000, 1000],
      ['appointment-reminder@1', 2, 2],
      ['appointment-reminder@2', 2, 2],
    ]);
    expect((await report('template=appointment-reminder@2')).totals).toMatchObject({ submitted: 2, delivered: 2 });
  }, 120_000);
});

describe('the dashboard', () => {
  it('filters by template and shows each version in its own row', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const today = new Date().toISOString().slice(0, 10);
      await page.goto(`${stack.hostUrl}/api/dashboard?code=local-function-key&from=${today}&to=${today}`);
      await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
      const kpi = (name: string) => page.locator(`[data-kpi="${name}"] .value`).textContent();
      expect(await kpi('submitted')).toBe('1,004');
      expect(await page.locator('#template option').allTextContents()).toEqual(['All templates', 'appointment-reminder']);
      const rows = () => page.locator('#templates tbody tr > :first-child').allTextContents();
      expect(await rows()).toEqual(['(no template)', 'appointment-reminder@1', 'appointment-reminder@2']);

      const loads = await page.evaluate(() => (window as unknown as { smsDashboard: { loads: number } }).smsDashboard.loads);
      await page.selectOption('#template', 'appointment-reminder');
      await page.waitForFunction(
        (n) =>
          (window as unknown as { smsDashboard: { loads: number } }).smsDashboard.loads > n &&
          document.body.dataset.state === 'ready',
        loads,
        {
          timeout: 30_000,
        },
      );
      expect(await kpi('submitted')).toBe('4');
      expect(await kpi('delivered')).toBe('4');
      expect(await rows()).toEqual(['appointment-reminder@1', 'appointment-reminder@2']);
      expect(new URL(page.url()).searchParams.get('template')).toBe('appointment-reminder');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
