// Tracked links on the whole local stack: a text with two URLs to 100 handsets arrives with 200
// distinct short links (counted in the emulator's inboxes); a short link followed in headless
// Chromium lands on the original page; a link-preview fetcher is counted as a preview, not a click;
// the first click is sms.message.clicked at the app's webhook; the dashboard shows the CTR; a code
// that was never sent is 404.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Figures } from '../../shared/domain/analyticsReport.js';
import { launchChromium } from '../support/browser.js';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';

const SENDER = '+18005550142';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const handset = (i: number) => `+1303557${String(i).padStart(4, '0')}`;
const N = 100;
const WHATSAPP = 'WhatsApp/2.23.20.0 A';
const IMESSAGE =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0';

let stack: TestStack;
let hook: WebhookReceiver;
let landing: { url: string; hits: string[]; close(): Promise<void> };
let base: string;
let browser: Browser | undefined;
const today = new Date().toISOString().slice(0, 10);
const day = (offset: number) => new Date(Date.parse(`${today}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
const RANGE = `from=${day(-1)}&to=${day(1)}`;

/** The shop the texts link to: records each request and answers with a page. */
async function startLanding(): Promise<typeof landing> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(req.url?.startsWith('/favicon') ? 404 : 200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>Spring sale</title><h1>landed</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A free port for the host, so LINK_DOMAIN can name it before it starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  landing = await startLanding();
  hook = await startWebhookReceiver(SECRET, '/sms-events');
  const hostPort = await freePort();
  base = `http://127.0.0.1:${hostPort}/api/l`;
  stack = await startTestStack({
    hostPort,
    env: {
      SMS_SENDERS: JSON.stringify([{ number: SENDER, type: 'shortCode', ratePerMinute: 60000 }]),
      STATUS_WEBHOOK_URLS: hook.url,
      STATUS_WEBHOOK_SECRET: SECRET,
      LINK_DOMAIN: `127.0.0.1:${hostPort}/api/l`,
      LINK_UTM: '{"utm_source":"sms","utm_campaign":"{tag}"}',
    },
    emulator: { deliveryReports: { delayMs: 50 } },
  });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await hook?.close();
  await landing?.close();
});

async function report(): Promise<Figures> {
  const response = await stack.api(`analytics?${RANGE}&tag=spring`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { totals: Figures }).totals;
}

const codesIn = (text: string) =>
  [...text.matchAll(new RegExp(`${base.replace(/[.]/g, '\\.')}/([0-9A-Za-z]{8})`, 'g'))].map((m) => m[1]!);
let inboxCodes: string[][] = [];

describe('tracked links', () => {
  it('a message with two URLs to 100 handsets arrives with 200 distinct short links', async () => {
    const text = `Spring sale! ${landing.url}/sale?x=1 and the terms: ${landing.url}/terms. Reply STOP to end`;
    const to = Array.from({ length: N }, (_, i) => handset(i));
    const response = await stack.postMessages({ to, message: text, from: SENDER, tag: 'spring', trackLinks: true });
    const body = (await response.json()) as { batchId: string; messages: Array<{ segments: number }> };
    expect(response.status, JSON.stringify(body).slice(0, 500)).toBe(202);
    await waitFor(
      async () => {
        const counts = ((await (await stack.api(`batches/${body.batchId}?limit=1`)).json()) as { counts: Record<string, number> })
          .counts;
        return counts.delivered === N ? true : undefined;
      },
      120_000,
      'all 100 delivered',
    );
    inboxCodes = to.map((t) => {
      const inbox = stack.emulator.inbox(t);
      expect(inbox, t).toHaveLength(1);
      expect(inbox[0]!.message).not.toContain(landing.url);
      return codesIn(inbox[0]!.message);
    });
    const all = inboxCodes.flat();
    expect(all).toHaveLength(2 * N);
    expect(new Set(all).size).toBe(2 * N);
    expect(landing.hits).toEqual([]); // nothing fetched the shop yet
  }, 180_000);

  it('a short link followed in headless Chromium lands on the original page', async () => {
    browser = await launchChromium();
    const page = await browser.newPage();
    const response = await page.goto(`${base}/${inboxCodes[0]![0]}`);
    expect(response!.status()).toBe(200);
    expect(page.url()).toBe(`${landing.url}/sale?x=1&utm_source=sms&utm_campaign=spring`);
    expect(await page.textContent('h1')).toBe('landed');
    // The person's first click is announced once, to the app's webhook.
    const clicked = await waitFor(
      async () => {
        const events = hook
          .accepted()
          .flatMap((r) => r.events)
          .filter((e) => e.type === 'sms.message.clicked');
        return events.length > 0 ? events : undefined;
      },
      30_000,
      'sms.message.clicked at the webhook',
    );
    expect(clicked).toHaveLength(1);
    expect(clicked[0]!.data).toMatchObject({ url: `${landing.url}/sale?x=1`, tag: 'spring', from: SENDER, app: 'default' });
  }, 90_000);

  it('link-preview fetchers (WhatsApp, iMessage) are counted as previews, not clicks', async () => {
    for (const ua of [WHATSAPP, IMESSAGE]) {
      const response = await fetch(`${base}/${inboxCodes[1]![0]}`, { redirect: 'manual', headers: { 'user-agent': ua } });
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(`${landing.url}/sale?x=1&utm_source=sms&utm_campaign=spring`);
    }
    const totals = await waitFor(
      async () => {
        const t = await report();
        return t.linkPreviews === 2 && t.clicks === 1 ? t : undefined;
      },
      30_000,
      'one click and two previews counted',
    );
    expect(totals).toMatchObject({ delivered: N, clicks: 1, uniqueClicks: 1, linkPreviews: 2, clickThroughRate: 0.01 });
    expect(
      hook
        .accepted()
        .flatMap((r) => r.events)
        .filter((e) => e.type === 'sms.message.clicked'),
    ).toHaveLength(1);
  }, 60_000);

  it('the dashboard shows the click-through rate', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 1400 } });
    await page.goto(`${stack.hostUrl}/api/dashboard?code=local-function-key&from=${day(-1)}&to=${day(1)}&tag=spring`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
    expect(await page.textContent('[data-kpi="clickThroughRate"] .value')).toBe('1.0 %');
    expect(await page.textContent('[data-kpi="clicks"] .value')).toBe('1 (1)');
  }, 60_000);

  it("no log line holds a short link, the URL it leads to or a visitor's user agent", () => {
    const followed = [inboxCodes[0]![0]!, inboxCodes[1]![0]!];
    const leaks = stack.logs.filter(
      (line) => followed.some((code) => line.includes(code)) || line.includes(landing.url) || line.includes('WhatsApp/'),
    );
    expect(leaks).toEqual([]);
  });

  it('a code that was never sent is 404, and nothing redirects anywhere else', async () => {
    const sent = new Set(inboxCodes.flat());
    for (let i = 0; i < 50; i++) {
      const code = randomBytes(6)
        .toString('base64')
        .replace(/[^0-9A-Za-z]/g, 'x')
        .slice(0, 8);
      if (sent.has(code)) continue;
      const response = await fetch(`${base}/${code}`, { redirect: 'manual' });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('location')).toBeNull();
    }
    for (const path of [
      `${base}/https%3A%2F%2Fevil.example`,
      `${base}/${inboxCodes[0]![0]}x`,
      `${base}/?url=https://evil.example`,
    ]) {
      expect((await fetch(path, { redirect: 'manual' })).status).toBe(404);
    }
  }, 60_000);
});
