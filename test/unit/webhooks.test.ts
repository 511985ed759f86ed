// Webhook deliveries: Standard Webhooks signatures that an independent verifier accepts (and that
// a wrong secret or a changed body fail), the CloudEvents batch on the wire, and every way a
// delivery can fail turning into a throw the dispatcher retries.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageEvent, type PipelineEvent } from '../../shared/domain/events.js';
import type { MessageRecord } from '../../shared/domain/message.js';
import { parseWebhookSecrets, signWebhook, webhookMessageId } from '../../shared/domain/webhookSignature.js';
import { WebhookDeliveryError, WebhookDestination, webhookName } from '../../shared/adapters/webhooks/webhookDestination.js';
import { eventDestinations } from '../../shared/adapters/eventDestinations.js';
import { dispatchEvents } from '../../shared/pipeline/dispatchEvents.js';
import { startWebhookReceiver, verifyStandardWebhook, type WebhookReceiver } from '../support/webhookReceiver.js';
import { FakeClock, FakeOutbox, silentLogger } from '../support/fakes.js';
import { parseRetryAfter } from '../../shared/lib/retryAfter.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

function record(i: number, status: MessageRecord['status'] = 'sent'): MessageRecord {
  const history: MessageRecord['history'] = [{ status: 'queued', at: '2026-11-25T10:00:00.000Z' }];
  if (status !== 'queued') history.push({ status: 'sending', at: '2026-11-25T10:00:01.000Z' });
  if (status === 'sent' || status === 'delivered') history.push({ status: 'sent', at: '2026-11-25T10:00:02.000Z' });
  if (status === 'delivered') history.push({ status: 'delivered', at: '2026-11-25T10:00:03.000Z' });
  return {
    messageId: `01m88zd555f36ymv0y9ngj-00${i}`,
    batchId: '01m88zd555f36ymv0y9ngj',
    from: '+18005550100',
    to: `+1425555012${i}`,
    body: 'Your code is 123456',
    encoding: 'GSM-7',
    segments: 1,
    deliveryReport: true,
    status,
    history,
    createdAt: '2026-11-25T10:00:00.000Z',
    updatedAt: history.at(-1)!.at,
    attempts: 1,
  };
}
const events = (n: number, status: MessageRecord['status'] = 'sent'): PipelineEvent[] =>
  Array.from({ length: n }, (_, i) => messageEvent('/sms-pipeline/test', record(i, status)));

describe('Standard Webhooks signatures', () => {
  const body = JSON.stringify(events(2));
  const id = webhookMessageId(events(2));
  const now = Math.floor(Date.now() / 1000);
  const keys = (secret: string) => {
    const parsed = parseWebhookSecrets(secret);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.keys;
  };
  const headers = (signature: string, timestamp = now) => ({
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
  });

  it('verify with an independent implementation, for a whsec_ secret and for a raw one', () => {
    expect(verifyStandardWebhook(SECRET, headers(signWebhook(keys(SECRET), id, now, body)), body)).toEqual({ ok: true });
    const raw = 'a-raw-shared-secret-of-enough-bytes';
    expect(verifyStandardWebhook(raw, headers(signWebhook(keys(raw), id, now, body)), body)).toEqual({ ok: true });
  });

  it('match the spec: v1,<base64 HMAC-SHA256 of id.timestamp.body> with the base64-decoded key', () => {
    // The example secret and content of the Standard Webhooks reference libraries' tests.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const signature = signWebhook(keys(secret), 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('fail with a wrong secret, a changed body, a changed id or an old timestamp', () => {
    const signature = signWebhook(keys(SECRET), id, now, body);
    expect(verifyStandardWebhook(OTHER_SECRET, headers(signature), body)).toEqual({ ok: false, reason: 'no matching signature' });
    expect(verifyStandardWebhook(SECRET, headers(signature), body.replace('+14255550120', '+14255550199'))).toEqual({
      ok: false,
      reason: 'no matching signature',
    });
    expect(verifyStandardWebhook(SECRET, { ...headers(signature), 'webhook-id': 'msg_other' }, body).ok).toBe(false);
    const old = now - 3600;
    expect(verifyStandardWebhook(SECRET, headers(signWebhook(keys(SECRET), id, old, body), old), body)).toEqual({
      ok: false,
      reason: 'timestamp outside tolerance',
    });
  });

  it('carry one signature per secret while a secret is rotated; either verifies', () => {
    const signature = signWebhook(keys(`${OTHER_SECRET} ${SECRET}`), id, now, body);
    expect(signature.split(' ')).toHaveLength(2);
    expect(verifyStandardWebhook(SECRET, headers(signature), body).ok).toBe(true);
    expect(verifyStandardWebhook(OTHER_SECRET, headers(signature), body).ok).toBe(true);
  });

  it('refuse secrets that are too short, too long or not base64', () => {
    expect(parseWebhookSecrets('short').ok).toBe(false);
    expect(parseWebhookSecrets(`whsec_${randomBytes(16).toString('base64')}`)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/24 to 64 bytes, this one encodes 16/),
    });
    expect(parseWebhookSecrets(`whsec_${randomBytes(65).toString('base64')}`).ok).toBe(false);
    expect(parseWebhookSecrets('whsec_not*base64*at*all*but*long*enough').ok).toBe(false);
    expect(parseWebhookSecrets(`${SECRET} tooshort`)).toMatchObject({ ok: false, reason: expect.stringMatching(/^secret 2: /) });
  });

  it('give a delivery an id derived from its events: the same on a retry, different for other events, no "."', () => {
    expect(webhookMessageId(events(3))).toBe(webhookMessageId(events(3)));
    expect(webhookMessageId(events(3))).not.toBe(webhookMessageId(events(2)));
    expect(webhookMessageId(events(3))).toMatch(/^msg_[A-Za-z0-9_-]+$/);
  });
});

describe('WebhookDestination', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver(SECRET);
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('POSTs the events as one signed CloudEvents batch', async () => {
    const destination = new WebhookDestination({ url: receiver.url, secret: SECRET });
    const batch = events(3);
    await destination.deliver(batch);
    const got = receiver.requests.at(-1)!;
    expect(got.status).toBe(200);
    expect(got.verdict).toEqual({ ok: true });
    expect(got.headers['content-type']).toBe('application/cloudevents-batch+json; charset=utf-8');
    expect(got.headers['webhook-id']).toBe(webhookMessageId(batch));
    expect(JSON.parse(got.body)).toEqual(batch);
    expect(got.events.map((e) => e.id)).toEqual(batch.map((e) => e.id));
  });

  it('signs each retry with a fresh timestamp under the same webhook-id', async () => {
    let clock = 1_800_000_000;
    const requests: Array<Record<string, string>> = [];
    const destination = new WebhookDestination({
      url: 'https://app.example.com/hooks',
      secret: SECRET,
      now: () => clock,
      fetch: async (_url, init) => {
        requests.push(init!.headers as Record<string, string>);
        return new Response(null, { status: 500 });
      },
    });
    await expect(destination.deliver(events(1))).rejects.toThrow(WebhookDeliveryError);
    clock += 60;
    await expect(destination.deliver(events(1))).rejects.toThrow(/answered HTTP 500/);
    expect(requests[0]!['webhook-id']).toBe(requests[1]!['webhook-id']);
    expect(Number(requests[1]!['webhook-timestamp']) - Number(requests[0]!['webhook-timestamp'])).toBe(60);
  });

  it('has a stable name per URL that does not reveal the URL', () => {
    const url = 'https://app.example.com/hooks?token=s3cr3t';
    expect(new WebhookDestination({ url, secret: SECRET }).name).toBe(webhookName(url));
    expect(webhookName(url)).toMatch(/^webhook:[0-9a-f]{16}$/);
    expect(webhookName(url)).not.toBe(webhookName('https://app.example.com/other'));
  });

  describe('throws, so the dispatcher retries, when', () => {
    let server: Server;
    let base: string;
    let behaviour: (res: import('node:http').ServerResponse) => void = (res) => res.writeHead(200).end();
    beforeAll(async () => {
      server = createServer((req, res) => {
        req.resume();
        req.on('end', () => behaviour(res));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    const deliver = (timeoutMs = 5_000) =>
      new WebhookDestination({ url: `${base}/hooks?token=s3cr3t`, secret: SECRET, timeoutMs }).deliver(events(1));

    it('the receiver answers 500, 404 or 410', async () => {
      for (const status of [500, 404, 410]) {
        behaviour = (res) => res.writeHead(status).end();
        await expect(deliver()).rejects.toMatchObject({ name: 'WebhookDeliveryError', status });
      }
    });

    it('the receiver answers 503 with Retry-After (kept for the dispatcher)', async () => {
      behaviour = (res) => res.writeHead(503, { 'retry-after': '120' }).end();
      await expect(deliver()).rejects.toMatchObject({ status: 503, retryAfterMs: 120_000 });
    });

    it('the receiver redirects (not followed: the URL should be updated)', async () => {
      behaviour = (res) => res.writeHead(302, { location: 'https://elsewhere.example.com/' }).end();
      await expect(deliver()).rejects.toMatchObject({ status: 302 });
    });

    it('the receiver does not answer in time', async () => {
      behaviour = () => undefined; // never answers
      await expect(deliver(300)).rejects.toThrow(/no answer within the timeout/);
    });

    it('nothing listens there', async () => {
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((r) => closed.close(r));
      const error = await new WebhookDestination({ url: `http://127.0.0.1:${port}/x?token=s3cr3t`, secret: SECRET })
        .deliver(events(1))
        .catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(WebhookDeliveryError);
      expect((error as Error).message).toMatch(/connection failed \(ECONNREFUSED\)/);
      expect((error as Error).message).not.toMatch(/s3cr3t|127\.0\.0\.1/);
    });

    it('succeeds on any 2xx', async () => {
      behaviour = (res) => res.writeHead(204).end();
      await expect(deliver()).resolves.toBeUndefined();
    });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 1)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('webhooks behind the dispatcher', () => {
  let healthy: WebhookReceiver;
  let failing: WebhookReceiver;
  beforeAll(async () => {
    healthy = await startWebhookReceiver(SECRET);
    failing = await startWebhookReceiver(SECRET);
    failing.answer = 500;
  });
  afterAll(async () => {
    await healthy?.close();
    await failing?.close();
  });

  it('retries only the URL that failed, with the same events, until it answers 2xx', async () => {
    const destinations = eventDestinations({
      webhooks: { urls: [healthy.url, failing.url], secret: SECRET },
      eventGrid: undefined,
    });
    expect(destinations.map((d) => d.name)).toEqual([webhookName(healthy.url), webhookName(failing.url)]);
    const outbox = new FakeOutbox();
    const deps = { destinations, outbox, clock: new FakeClock(), log: silentLogger, random: () => 0.5, retryBaseMs: 1000 };
    const batch = events(2);
    const first = await dispatchEvents(deps, { v: 1, events: batch });
    expect(first).toMatchObject({ delivered: [webhookName(healthy.url)], retrying: [webhookName(failing.url)] });
    // EVENTS_RETRY_BASE_SECONDS=1: the first retry waits 0.5-1 s.
    expect(outbox.enqueued[0]!.delayMs).toBe(750);
    failing.answer = 200;
    const retry = await dispatchEvents(deps, outbox.enqueued[0]!.message);
    expect(retry).toMatchObject({ delivered: [webhookName(failing.url)], retrying: [] });
    expect(healthy.accepted()).toHaveLength(1);
    expect(failing.accepted()).toHaveLength(1);
    expect(failing.requests.filter((r) => r.status === 500)).toHaveLength(1);
    expect(failing.accepted()[0]!.headers['webhook-id']).toBe(failing.requests[0]!.headers['webhook-id']);
    expect(failing.accepted()[0]!.events.map((e) => e.id)).toEqual(batch.map((e) => e.id));
  });

  it('sends a webhook only the event types it asked for', async () => {
    const [destination] = eventDestinations({
      webhooks: { urls: [healthy.url], secret: SECRET, eventTypes: ['sms.message.delivered'] },
      eventGrid: undefined,
    });
    const before = healthy.requests.length;
    const deps = { destinations: [destination!], outbox: new FakeOutbox(), clock: new FakeClock(), log: silentLogger };
    expect(await dispatchEvents(deps, { v: 1, events: events(2, 'sent') })).toMatchObject({ skipped: [destination!.name] });
    await dispatchEvents(deps, { v: 1, events: [...events(1, 'sent'), ...events(1, 'delivered')] });
    expect(healthy.requests.slice(before).map((r) => r.events.map((e) => e.type))).toEqual([['sms.message.delivered']]);
  });

  it('honours a Retry-After longer than the backoff', async () => {
    const destination = new WebhookDestination({
      url: 'https://app.example.com/h',
      secret: SECRET,
      fetch: async () => new Response(null, { status: 429, headers: { 'retry-after': '30' } }),
    });
    const outbox = new FakeOutbox();
    await dispatchEvents(
      { destinations: [destination], outbox, clock: new FakeClock(), log: silentLogger, random: () => 0.5, retryBaseMs: 1000 },
      { v: 1, events: events(1) },
    );
    expect(outbox.enqueued[0]!.delayMs).toBe(30_000);
  });
});
