// The ACS SMS emulator driven the way the pipeline drives ACS: the real @azure/communication-sms
// SmsClient (and the SDK's own signing policy for the operations SmsClient 1.1 lacks), with a
// node:http receiver standing in for Event Grid webhook subscribers.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SmsClient, type SmsClientOptions, type SmsSendResult } from '@azure/communication-sms';
import { createCommunicationAuthPolicy } from '@azure/communication-common';
import { AzureKeyCredential } from '@azure/core-auth';
import {
  createDefaultHttpClient,
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  isRestError,
  type RestError,
} from '@azure/core-rest-pipeline';
import { publishedForms, startAcsEmulator, type AcsEmulator, type AcsEmulatorOptions } from '../../local/acsEmulator/server.js';
import { signAcsRequest } from '../../local/acsEmulator/hmacAuth.js';

const TOLL_FREE = '+18005550100';
const LONG_CODE = '+14255550100';
const ALPHA = 'CONTOSO';
const ALICE = '+14255550123';
const BOB = '+14255550124';
const CAROL = '+14255550125';
const DAVE = '+14255550126';
const OUTGOING_ID = /^Outgoing_\d{14}[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_noam$/;
/** 7 fractional digits, as the delivery report examples write receivedTimestamp and attempt timestamps. */
const FRACTION_7 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;
/** Whole seconds, as the Event Grid schema examples write eventTime. */
const WHOLE_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** The id events carry for a message sent on 2021-03-07: the event examples' form, without _noam. */
const eventId = (sentId: string | undefined) => sentId?.replace(/_noam$/, '');
/** "+14255550123" → "14255550123": numbers in the published events. */
const digits = (phone: string) => phone.replace(/^\+/, '');

// ---------------------------------------------------------------- helpers

/** A send result as the wire has it: SmsSendResult's type omits repeatabilityResult. */
type SendItem = SmsSendResult & { repeatabilityResult?: 'accepted' | 'rejected' };

/** The data of the events the emulator sends (delivery report, inbound SMS, validation). */
interface EventData {
  messageId: string;
  from: string;
  to: string;
  deliveryStatus?: string;
  deliveryStatusDetails?: string;
  deliveryAttempts?: Array<{ timestamp: string; segmentsSucceeded: number; segmentsFailed: number }>;
  receivedTimestamp?: string;
  tag?: string;
  message?: string;
  segmentCount?: number;
  validationCode?: string;
  validationUrl?: string;
}

interface GridEvent {
  id: string;
  topic: string;
  subject: string;
  data: EventData;
  eventType: string;
  dataVersion: string;
  metadataVersion: string;
  eventTime: string;
}

/** A JSON body under test: its shape is exactly what the assertions check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON of varying shape, read by expect()
type Json = any;

interface Received {
  headers: IncomingHttpHeaders;
  body: GridEvent[];
}

interface Receiver {
  url: string;
  received: Received[];
  /** Notification events, in arrival order. */
  events(): GridEvent[];
  close(): Promise<void>;
}

/** An Event Grid webhook: answers the validation handshake, records what arrives. */
async function startReceiver(
  respond?: (r: Received, index: number) => { status: number; body?: unknown } | undefined,
): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as GridEvent[],
      };
      received.push(r);
      const custom = respond?.(r, received.length - 1);
      let status = 200;
      let body: unknown;
      if (custom) ({ status, body } = custom);
      else if (req.headers['aeg-event-type'] === 'SubscriptionValidation')
        body = { validationResponse: r.body[0]?.data.validationCode };
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/runtime/webhooks/EventGrid?functionName=deliveryReports`,
    received,
    events: () => received.filter((r) => r.headers['aeg-event-type'] === 'Notification').flatMap((r) => r.body),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function smsClient(emulator: AcsEmulator, options: { key?: string; apiVersion?: string; maxRetries?: number } = {}): SmsClient {
  const connectionString = options.key ? `endpoint=${emulator.url}/;accesskey=${options.key}` : emulator.connectionString;
  // apiVersion is not in SmsClientOptions' type, but the generated client honours it.
  const clientOptions: SmsClientOptions & { apiVersion?: string } = {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: options.maxRetries ?? 0, retryDelayInMs: 20, maxRetryDelayInMs: 50 },
    ...(options.apiVersion ? { apiVersion: options.apiVersion } : {}),
  };
  return new SmsClient(connectionString, clientOptions);
}

/** One result per recipient, and there is always at least one recipient. */
type SendItems = [SendItem, ...SendItem[]];

/** SmsClient.send with the results typed as they arrive. */
async function send(client: SmsClient, ...args: Parameters<SmsClient['send']>): Promise<SendItems> {
  return (await client.send(...args)) as SendItems;
}

interface RawResponse {
  status: number;
  body: Json;
  headers: { get(name: string): string | undefined };
}

/** A request signed by the SDK's own policy (@azure/communication-common), for raw bodies and newer operations. */
async function acsRequest(
  emulator: AcsEmulator,
  method: 'GET' | 'POST',
  pathAndQuery: string,
  body?: unknown,
  key = emulator.accessKey,
): Promise<RawResponse> {
  const pipeline = createEmptyPipeline();
  pipeline.addPolicy(createCommunicationAuthPolicy(new AzureKeyCredential(key)));
  const response = await pipeline.sendRequest(
    createDefaultHttpClient(),
    createPipelineRequest({
      url: `${emulator.url}${pathAndQuery}`,
      method,
      allowInsecureConnection: true,
      headers: createHttpHeaders(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    }),
  );
  const text = response.bodyAsText ?? '';
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as Json,
    headers: { get: (n) => response.headers.get(n) },
  };
}

/** A POST /sms body as SmsClient 1.1.0 builds it, with explicit repeatability values. */
function sendBody(
  to: string[],
  options: { from?: string; message?: string; ids?: string[]; firstSent?: string; deliveryReport?: boolean; tag?: string } = {},
) {
  const firstSent = options.firstSent ?? new Date().toUTCString();
  return {
    from: options.from ?? TOLL_FREE,
    smsRecipients: to.map((t, i) => ({
      to: t,
      repeatabilityRequestId: options.ids?.[i] ?? randomUUID(),
      repeatabilityFirstSent: firstSent,
    })),
    message: options.message ?? 'Your code is 123456',
    smsSendOptions: { enableDeliveryReport: options.deliveryReport ?? false, ...(options.tag ? { tag: options.tag } : {}) },
  };
}

async function admin(
  emulator: AcsEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json; contentType: string | null }> {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as Json,
    contentType: response.headers.get('content-type'),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const logLines: string[] = [];
const baseOptions = (): AcsEmulatorOptions => ({
  senders: [
    { number: TOLL_FREE, type: 'tollFree' },
    { number: LONG_CODE, type: 'mobile' },
    { number: ALPHA, type: 'alphanumeric' },
  ],
  deliveryReports: { delayMs: 20 },
  eventGrid: { retryBaseMs: 20 },
  log: (line) => logLines.push(line),
});

// ---------------------------------------------------------------- tests

describe('ACS SMS emulator', () => {
  let emulator: AcsEmulator;
  let receiver: Receiver;

  beforeAll(async () => {
    emulator = await startAcsEmulator(baseOptions());
  });
  afterAll(async () => {
    await emulator.close();
  });
  beforeEach(async () => {
    emulator.reset();
    for (const s of emulator.subscribers()) emulator.removeSubscriber(s.url);
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  describe('sending with the real SmsClient', () => {
    it('returns per-recipient results with ACS message ids and delivers once to each handset', async () => {
      const results = await send(smsClient(emulator), {
        from: TOLL_FREE,
        to: [ALICE, BOB, '+1425555012345'],
        message: 'Hello from the pipeline',
      });

      expect(results).toHaveLength(3);
      for (const [i, to] of [ALICE, BOB].entries()) {
        expect(results[i]).toMatchObject({ to, httpStatusCode: 202, successful: true, repeatabilityResult: 'accepted' });
        expect(results[i]?.messageId).toMatch(OUTGOING_ID);
      }
      // An invalid "to" is a per-recipient failure inside the 202, never a thrown error.
      expect(results[2]).toMatchObject({
        to: '+1425555012345',
        httpStatusCode: 400,
        successful: false,
        errorMessage: 'Invalid To phone number format.',
      });
      expect(results[2]?.messageId).toBeUndefined();

      expect(emulator.inbox(ALICE)).toEqual([
        expect.objectContaining({ from: TOLL_FREE, message: 'Hello from the pipeline', messageId: results[0].messageId }),
      ]);
      expect(emulator.inbox(BOB)).toHaveLength(1);
      expect(emulator.inbox('+1425555012345')).toHaveLength(0);
      expect(results[0].messageId).not.toBe(results[1]?.messageId);
    });

    // Was: only 2021-03-07 and 2026-01-23, other versions refused as "UnsupportedApiVersion". The
    // live service listed more versions in api-supported-versions (recordings of Dec 2024), the
    // 1.2.0 betas default to the 2024-12 and 2025-05 previews, and the spec's own 400 for an
    // unknown version says "InvalidApiVersion" (OptOutRemove example).
    it('accepts every published api-version, with each version’s id form, and refuses others as the spec example does', async () => {
      const forms: Array<[string, RegExp]> = [
        ['2024-12-10-preview', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}_[0-9a-f-]{36}_prod_eur_[a-z]+_outgoing-mms$/],
        ['2025-05-29-preview', /^Outgoing_\d{14}[0-9a-f-]{36}$/],
        ['2026-01-23', /^\d{14}[0-9a-f-]{36}$/],
      ];
      for (const [apiVersion, form] of forms) {
        const [result] = await send(smsClient(emulator, { apiVersion }), { from: TOLL_FREE, to: [ALICE], message: 'hi' });
        expect(result, apiVersion).toMatchObject({ httpStatusCode: 202, successful: true });
        expect(result.messageId, apiVersion).toMatch(form);
      }

      const error = await smsClient(emulator, { apiVersion: '2024-12-10w-preview' })
        .send({ from: TOLL_FREE, to: [ALICE], message: 'hi' })
        .catch((e: unknown) => e);
      expect(isRestError(error)).toBe(true);
      expect((error as RestError).statusCode).toBe(400);
      expect((error as RestError).code).toBe('InvalidApiVersion');
      expect((error as RestError).message).toMatch(
        /^The HTTP resource that matches the request URI 'http:\/\/[^']+\/sms' does not support the API version '2024-12-10w-preview'\.$/,
      );
      expect(emulator.inbox(ALICE)).toHaveLength(3);
    });

    it('refuses a wrong key with 401 (the SDK throws RestError 401) and sends nothing', async () => {
      const wrongKey = Buffer.from('not-the-emulator-key').toString('base64');
      const error = await smsClient(emulator, { key: wrongKey })
        .send({ from: TOLL_FREE, to: [ALICE], message: 'hi' })
        .catch((e: unknown) => e);
      expect(isRestError(error)).toBe(true);
      expect((error as RestError).statusCode).toBe(401);
      expect((error as RestError).code).toBe('Denied');
      expect(emulator.inbox(ALICE)).toHaveLength(0);
      expect(emulator.sends()).toHaveLength(0);
    });

    it('answers 401 for a sender the resource does not own, as ACS does', async () => {
      const error = await smsClient(emulator)
        .send({ from: '+18005559999', to: [ALICE], message: 'hi' })
        .catch((e: unknown) => e);
      expect((error as RestError).statusCode).toBe(401);
      expect(emulator.inbox(ALICE)).toHaveLength(0);
    });

    it('sends from an alphanumeric sender id', async () => {
      const [result] = await send(smsClient(emulator), { from: ALPHA, to: [ALICE], message: 'hi' });
      expect(result.successful).toBe(true);
      expect(emulator.inbox(ALICE)[0]?.from).toBe(ALPHA);
    });
  });

  describe('authentication details', () => {
    const path = '/sms?api-version=2021-03-07';

    it('accepts a request signed by signAcsRequest (same scheme as the SDK)', async () => {
      const body = JSON.stringify(sendBody([ALICE]));
      const response = await fetch(`${emulator.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signAcsRequest({ method: 'POST', url: `${emulator.url}${path}`, body, accessKey: emulator.accessKey }),
        },
        body,
      });
      expect(response.status).toBe(202);
    });

    it('refuses a body that does not match x-ms-content-sha256', async () => {
      const body = JSON.stringify(sendBody([ALICE]));
      const headers = signAcsRequest({ method: 'POST', url: `${emulator.url}${path}`, body, accessKey: emulator.accessKey });
      const response = await fetch(`${emulator.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: body.replace('123456', '654321'),
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        error: { code: 'Denied', message: "Request 'x-ms-content-sha256' differs from generated content hash." },
      });
      expect(emulator.inbox(ALICE)).toHaveLength(0);
    });

    it('refuses an x-ms-date more than 15 minutes away and a missing signature', async () => {
      const body = JSON.stringify(sendBody([ALICE]));
      const stale = signAcsRequest({
        method: 'POST',
        url: `${emulator.url}${path}`,
        body,
        accessKey: emulator.accessKey,
        date: new Date(Date.now() - 20 * 60_000),
      });
      const response = await fetch(`${emulator.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...stale },
        body,
      });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('Denied');

      const unsigned = await fetch(`${emulator.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(unsigned.status).toBe(401);
      expect(emulator.sends()).toHaveLength(0);
    });
  });

  describe('validation', () => {
    it('answers 400 in the model-state shape on 2021-03-07 and as ValidationProblemDetails on 2026-01-23', async () => {
      const old = await acsRequest(emulator, 'POST', '/sms?api-version=2021-03-07', sendBody([ALICE], { from: '+1' }));
      expect(old.status).toBe(400);
      expect(old.body).toEqual({ From: ['Invalid from phone number format.'] });

      const tooMany = Array.from({ length: 101 }, (_, i) => `+1425556${String(i).padStart(4, '0')}`);
      const newer = await acsRequest(
        emulator,
        'POST',
        '/sms?api-version=2026-01-23',
        sendBody(tooMany, { message: 'x'.repeat(2049) }),
      );
      expect(newer.status).toBe(400);
      expect(newer.body).toMatchObject({ title: 'One or more validation errors occurred.', status: 400 });
      expect(Object.keys(newer.body.errors).sort()).toEqual(['Message', 'SmsRecipients']);

      const empty = await acsRequest(emulator, 'POST', '/sms?api-version=2021-03-07', sendBody([], { message: '' }));
      expect(Object.keys(empty.body).sort()).toEqual(['Message', 'SmsRecipients']);
      expect(emulator.sends()).toHaveLength(0);
    });

    it('takes 100 recipients in one request', async () => {
      const recipients = Array.from({ length: 100 }, (_, i) => `+1425557${String(i).padStart(4, '0')}`);
      const response = await acsRequest(emulator, 'POST', '/sms?api-version=2021-03-07', sendBody(recipients));
      expect(response.status).toBe(202);
      expect((response.body.value as unknown as SendItem[]).filter((r) => r.successful)).toHaveLength(100);
    });
  });

  describe('repeatability', () => {
    // Through the SDK's generated client, so the request keeps our repeatability values.
    // The generated client SmsClient wraps (a private member): the real pipeline, our body.
    interface GeneratedClient {
      api: { sms: { send(body: ReturnType<typeof sendBody>): Promise<{ value: SendItems }> } };
    }
    const sendRaw = async (body: ReturnType<typeof sendBody>) =>
      (await (smsClient(emulator) as unknown as GeneratedClient).api.sms.send(body)).value;

    it('replays the original result for a repeated id and does not deliver again', async () => {
      const body = sendBody([ALICE, BOB]);
      const first = await sendRaw(body);
      const second = await sendRaw(body);

      expect(first.map((r) => r.repeatabilityResult)).toEqual(['accepted', 'accepted']);
      expect(second).toEqual(first);
      expect(emulator.inbox(ALICE)).toHaveLength(1);
      expect(emulator.inbox(BOB)).toHaveLength(1);
      const records = emulator.sends();
      expect(records.map((r) => [r.to, r.sent, r.repeated])).toEqual([
        [ALICE, true, false],
        [BOB, true, false],
        [ALICE, false, true],
        [BOB, false, true],
      ]);
    });

    it('is per recipient: a new recipient in a retried request is sent, the others are not', async () => {
      const ids = [randomUUID(), randomUUID()];
      const firstSent = new Date().toUTCString();
      await sendRaw(sendBody([ALICE], { ids: [ids[0]!], firstSent }));
      const results = await sendRaw(sendBody([ALICE, BOB], { ids, firstSent }));
      expect(results.map((r) => r.successful)).toEqual([true, true]);
      expect(emulator.inbox(ALICE)).toHaveLength(1);
      expect(emulator.inbox(BOB)).toHaveLength(1);
    });

    it("can answer repeats with 409 'rejected' and the original message id instead", async () => {
      emulator.configure({ repeatability: { repeated: 'reject' } });
      const body = sendBody([ALICE]);
      const [first] = await sendRaw(body);
      const [second] = await sendRaw(body);
      expect(second).toMatchObject({
        to: ALICE,
        messageId: first.messageId,
        httpStatusCode: 409,
        repeatabilityResult: 'rejected',
        successful: false,
      });
      expect(emulator.inbox(ALICE)).toHaveLength(1);
    });

    it('rejects a reused id with a different message, a bad first-sent date and a non-GUID id', async () => {
      const id = randomUUID();
      await sendRaw(sendBody([ALICE], { ids: [id] }));
      const [changed] = await sendRaw(sendBody([ALICE], { ids: [id], message: 'something else' }));
      expect(changed).toMatchObject({ httpStatusCode: 400, repeatabilityResult: 'rejected', successful: false });

      const [badDate] = await sendRaw(sendBody([BOB], { firstSent: '2024-01-01T00:00:00Z' }));
      expect(badDate).toMatchObject({
        httpStatusCode: 400,
        repeatabilityResult: 'rejected',
        errorMessage:
          'Request sent with Invalid DateTime value for repeatability-first-sent. Expected is DateTime ,RFC1123 pattern.',
      });
      const [badId] = await sendRaw(sendBody([CAROL], { ids: ['not-a-guid'] }));
      expect(badId).toMatchObject({ httpStatusCode: 400, repeatabilityResult: 'rejected' });
      expect(emulator.inbox(ALICE)).toHaveLength(1);
      expect(emulator.inbox(BOB)).toHaveLength(0);
      expect(emulator.inbox(CAROL)).toHaveLength(0);
    });

    // Was: 412 by default. Both SMS spec examples answer a first-sent of 1 Apr 2019 with 202
    // "accepted"; 412 is documented for Email and Rooms only, so it is now the non-default switch.
    it('accepts a first-sent time far in the past as the SMS examples do, or answers 412 when configured', async () => {
      const stale = new Date(Date.now() - 10 * 60_000).toUTCString();
      const [accepted] = await sendRaw(sendBody([ALICE], { firstSent: 'Mon, 01 Apr 2019 06:22:03 GMT' }));
      expect(accepted).toMatchObject({ httpStatusCode: 202, repeatabilityResult: 'accepted', successful: true });
      expect(emulator.inbox(ALICE)).toHaveLength(1);

      emulator.configure({ repeatability: { outsideWindow: 'reject' } });
      const [rejected] = await sendRaw(sendBody([ALICE], { firstSent: stale }));
      expect(rejected).toMatchObject({ httpStatusCode: 412, repeatabilityResult: 'rejected', successful: false });
      expect(rejected.errorMessage).toBe('Repeatability first sent header not within 5 minute window.');
      expect(emulator.inbox(ALICE)).toHaveLength(1);
    });

    it('remembers an id accepted with an old first-sent time for the window from its arrival', async () => {
      const body = sendBody([ALICE], { firstSent: 'Mon, 01 Apr 2019 06:22:03 GMT' });
      const [first] = await sendRaw(body);
      const [again] = await sendRaw(body);
      expect(again).toEqual(first);
      expect(emulator.inbox(ALICE)).toHaveLength(1);
    });

    it('forgets an id once its window has passed', async () => {
      emulator.configure({ repeatability: { windowMs: 1500, outsideWindow: 'treatAsNew' } });
      const body = sendBody([ALICE]);
      const [first] = await sendRaw(body);
      await sleep(1600);
      const [again] = await sendRaw(body);
      expect(again.successful).toBe(true);
      expect(again.messageId).not.toBe(first.messageId);
      expect(emulator.inbox(ALICE)).toHaveLength(2);
    });
  });

  describe('rate limits', () => {
    it('counts recipients per sender and answers 429 with Retry-After, sending nothing', async () => {
      emulator.configure({
        senders: [
          { number: TOLL_FREE, type: 'tollFree', ratePerMinute: 60, burst: 3 },
          { number: LONG_CODE, type: 'mobile' },
        ],
      });
      const client = smsClient(emulator);
      await client.send({ from: TOLL_FREE, to: [ALICE, BOB], message: 'one' });
      const error = await client.send({ from: TOLL_FREE, to: [CAROL, DAVE], message: 'two' }).catch((e: unknown) => e);
      expect(isRestError(error)).toBe(true);
      const restError = error as RestError;
      expect(restError.statusCode).toBe(429);
      expect(Number(restError.response?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(restError.code).toBe('TooManyRequests');
      expect(emulator.inbox(CAROL)).toHaveLength(0);
      expect(emulator.inbox(DAVE)).toHaveLength(0);

      // One recipient still fits; another sender has its own bucket.
      await client.send({ from: TOLL_FREE, to: [CAROL], message: 'three' });
      await client.send({ from: LONG_CODE, to: [DAVE], message: 'four' });
      expect(emulator.inbox(CAROL)).toHaveLength(1);
      expect(emulator.inbox(DAVE)).toHaveLength(1);
    });
  });

  describe('fault injection', () => {
    it('plays a script of 429, 5xx and normal answers', async () => {
      emulator.configure({ faults: { script: ['throttle', 'serverError', 'none'], retryAfterSeconds: 7 } });
      const throttled = await acsRequest(emulator, 'POST', '/sms?api-version=2021-03-07', sendBody([ALICE]));
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get('retry-after')).toBe('7');
      expect(throttled.body.error.code).toBe('TooManyRequests');
      const failed = await acsRequest(emulator, 'POST', '/sms?api-version=2021-03-07', sendBody([ALICE]));
      expect([500, 503]).toContain(failed.status);
      expect(failed.body.error.code).toMatch(/InternalServerError|ServiceUnavailable/);
      expect(emulator.inbox(ALICE)).toHaveLength(0);
      const ok = await acsRequest(emulator, 'POST', '/sms?api-version=2021-03-07', sendBody([ALICE]));
      expect(ok.status).toBe(202);
      expect(emulator.inbox(ALICE)).toHaveLength(1);
    });

    it('draws random faults reproducibly from the seed', async () => {
      const run = async (seed: number) => {
        const e = await startAcsEmulator({ ...baseOptions(), seed, faults: { throttleShare: 0.3, serverErrorShare: 0.3 } });
        const statuses: number[] = [];
        for (let i = 0; i < 12; i++)
          statuses.push((await acsRequest(e, 'POST', '/sms?api-version=2021-03-07', sendBody([ALICE]))).status);
        await e.close();
        return statuses;
      };
      const a = await run(42);
      expect(await run(42)).toEqual(a);
      expect(a).toContain(202);
      expect(a).toContain(429);
      expect(a.some((s) => s >= 500)).toBe(true);
    });

    it('processes a send whose response never arrives; the SDK retry with the same ids does not send twice', async () => {
      emulator.configure({ faults: { script: ['timeout'], timeoutMs: 50, timeoutMode: 'destroy' } });
      const [result] = await send(smsClient(emulator, { maxRetries: 2 }), { from: TOLL_FREE, to: [ALICE], message: 'once only' });
      expect(result).toMatchObject({ successful: true, repeatabilityResult: 'accepted' });
      expect(emulator.inbox(ALICE)).toHaveLength(1);
      expect(emulator.inbox(ALICE)[0]!.messageId).toBe(result.messageId);
      expect(emulator.requests().map((r) => r.status)).toEqual(['no-response', 202]);
      expect(emulator.sends().map((s) => [s.sent, s.repeated, s.responded])).toEqual([
        [true, false, false],
        [false, true, true],
      ]);
    });

    it('can drop a timed-out request unprocessed, or answer it late', async () => {
      emulator.configure({ faults: { script: ['timeout'], timeoutMs: 30, processTimedOutRequests: false } });
      const error = await acsRequest(emulator, 'POST', '/sms?api-version=2021-03-07', sendBody([ALICE])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(emulator.sends()).toHaveLength(0);
      expect(emulator.inbox(ALICE)).toHaveLength(0);

      emulator.configure({ faults: { script: ['timeout'], timeoutMs: 200, timeoutMode: 'hold', processTimedOutRequests: true } });
      const started = Date.now();
      const late = await acsRequest(emulator, 'POST', '/sms?api-version=2021-03-07', sendBody([BOB]));
      expect(late.status).toBe(202);
      expect(Date.now() - started).toBeGreaterThanOrEqual(180);
      expect(emulator.inbox(BOB)).toHaveLength(1);
    });

    it('adds fixed latency', async () => {
      emulator.configure({ faults: { latencyMs: 150 } });
      const started = Date.now();
      await smsClient(emulator).send({ from: TOLL_FREE, to: [ALICE], message: 'slow' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });

    it('fails handsets permanently: refused inside the 202, or Failed in the delivery report', async () => {
      await emulator.addSubscriber(receiver.url);
      emulator.configure({
        faults: {
          handsets: {
            [ALICE]: { kind: 'rejected', errorMessage: 'Unreachable number.' },
            [BOB]: { kind: 'failed', code: 4010 },
          },
        },
      });
      const results = await send(
        smsClient(emulator),
        { from: TOLL_FREE, to: [ALICE, BOB, CAROL], message: 'hi' },
        { enableDeliveryReport: true },
      );
      expect(results[0]).toMatchObject({
        to: ALICE,
        httpStatusCode: 400,
        successful: false,
        errorMessage: 'Unreachable number.',
      });
      expect(results[1]).toMatchObject({ to: BOB, httpStatusCode: 202, successful: true });
      await emulator.idle();

      const reports = Object.fromEntries(receiver.events().map((e) => [e.data.to, e.data]));
      expect(Object.keys(reports).sort()).toEqual([BOB, CAROL]);
      // Was "4010: …": no published event carries a code; the text form is the default now and
      // forms.deliveryStatusDetails.events 'coded' brings the code back.
      expect(reports[BOB]).toMatchObject({
        deliveryStatus: 'Failed',
        deliveryStatusDetails: 'Message was blocked due to the toll-free number not being verified.',
        deliveryAttempts: [expect.objectContaining({ segmentsSucceeded: 0, segmentsFailed: 1 })],
      });
      expect(reports[CAROL]?.deliveryStatus).toBe('Delivered');
      expect(emulator.inbox(ALICE)).toHaveLength(0);
      expect(emulator.inbox(BOB)).toHaveLength(0);
      expect(emulator.inbox(CAROL)).toHaveLength(1);
    });
  });

  describe('Event Grid delivery', () => {
    // Was: "+" numbers, the send's id with _noam, "2000: No Error", millisecond timestamps, and a
    // validation event with dataVersion "2" and no aeg-subscription-name/aeg-*-version headers.
    // Now the published forms (test/fixtures/published/events, eventgrid-webhook).
    it('validates a subscriber with the handshake, then posts delivery reports in the Event Grid schema', async () => {
      await emulator.addSubscriber(receiver.url, { name: 'DELIVERY-REPORTS' });
      const handshake = receiver.received[0]!;
      expect(handshake.headers).toMatchObject({
        'aeg-event-type': 'SubscriptionValidation',
        'aeg-subscription-name': 'DELIVERY-REPORTS',
        'aeg-delivery-count': '0',
        'aeg-data-version': '1',
        'aeg-metadata-version': '1',
      });
      expect(handshake.body[0]).toMatchObject({
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        subject: '',
        dataVersion: '1',
        metadataVersion: '1',
        data: {
          validationCode: expect.any(String),
          validationUrl: expect.stringContaining('/emulator/subscriptions/validate?code='),
        },
      });

      const [sent] = await send(
        smsClient(emulator),
        { from: TOLL_FREE, to: [ALICE], message: 'Report me' },
        { enableDeliveryReport: true, tag: 'batch-7' },
      );
      await emulator.idle();

      const notifications = receiver.received.filter((r) => r.headers['aeg-event-type'] === 'Notification');
      expect(notifications).toHaveLength(1);
      expect(notifications[0]!.headers).toMatchObject({
        'content-type': 'application/json; charset=utf-8',
        'aeg-subscription-name': 'DELIVERY-REPORTS',
        'aeg-delivery-count': '0',
        'aeg-data-version': '1.0',
        'aeg-metadata-version': '1',
      });
      expect(notifications[0]!.body).toHaveLength(1);
      const event = notifications[0]!.body[0];
      expect(Object.keys(event ?? {}).sort()).toEqual([
        'data',
        'dataVersion',
        'eventTime',
        'eventType',
        'id',
        'metadataVersion',
        'subject',
        'topic',
      ]);
      expect(event).toMatchObject({
        id: eventId(sent.messageId),
        subject: '/phonenumber/18005550100',
        eventType: 'Microsoft.Communication.SMSDeliveryReportReceived',
        dataVersion: '1.0',
        metadataVersion: '1',
        eventTime: expect.stringMatching(WHOLE_SECONDS),
        topic: expect.stringMatching(/^\/subscriptions\/.+\/providers\/microsoft\.communication\/communicationservices\//),
      });
      expect(sent.messageId).toMatch(OUTGOING_ID);
      expect(event?.data).toEqual({
        messageId: eventId(sent.messageId),
        from: '18005550100',
        to: ALICE,
        deliveryStatus: 'Delivered',
        deliveryStatusDetails: 'No error.',
        receivedTimestamp: expect.stringMatching(FRACTION_7),
        deliveryAttempts: [{ timestamp: expect.stringMatching(FRACTION_7), segmentsSucceeded: 1, segmentsFailed: 0 }],
        tag: 'batch-7',
      });
      // Key order as the examples write it.
      expect(Object.keys(event?.data ?? {})).toEqual([
        'messageId',
        'from',
        'to',
        'deliveryStatus',
        'deliveryStatusDetails',
        'receivedTimestamp',
        'deliveryAttempts',
        'tag',
      ]);
    });

    it('sends no event when the send did not ask for a delivery report, or reports are off globally', async () => {
      await emulator.addSubscriber(receiver.url);
      const client = smsClient(emulator);
      await client.send({ from: TOLL_FREE, to: [ALICE], message: 'quiet' });
      emulator.configure({ deliveryReports: { enabled: false } });
      const [sent] = await send(client, { from: TOLL_FREE, to: [BOB], message: 'quiet too' }, { enableDeliveryReport: true });
      await emulator.idle();
      expect(receiver.events()).toHaveLength(0);
      // The report itself still exists for GET /deliveryReports.
      expect(emulator.deliveryReport(sent.messageId!)?.deliveryStatus).toBe('Delivered');
    });

    it('refuses a subscriber that fails the handshake; validate:false skips it', async () => {
      const wrong = await startReceiver(() => ({ status: 200, body: { validationResponse: 'nope' } }));
      await expect(emulator.addSubscriber(wrong.url)).rejects.toThrow(/validation/);
      expect(emulator.subscribers()).toHaveLength(0);
      await emulator.addSubscriber(wrong.url, { validate: false });
      expect(emulator.subscribers()).toEqual([expect.objectContaining({ url: wrong.url, validated: false })]);
      expect(wrong.received).toHaveLength(1);
      await wrong.close();
    });

    it('retries 5xx and connection errors with backoff, never 400', async () => {
      const flaky = await startReceiver((r, i) =>
        r.headers['aeg-event-type'] === 'Notification' && i <= 2 ? { status: 503 } : undefined,
      );
      await emulator.addSubscriber(flaky.url);
      const refusing = await startReceiver((r) => (r.headers['aeg-event-type'] === 'Notification' ? { status: 400 } : undefined));
      await emulator.addSubscriber(refusing.url);
      await smsClient(emulator).send({ from: TOLL_FREE, to: [ALICE], message: 'retry me' }, { enableDeliveryReport: true });
      await emulator.idle();

      const notifications = flaky.received.filter((r) => r.headers['aeg-event-type'] === 'Notification');
      expect(notifications.map((n) => n.headers['aeg-delivery-count'])).toEqual(['0', '1', '2']);
      expect(refusing.received.filter((r) => r.headers['aeg-event-type'] === 'Notification')).toHaveLength(1);
      const log = emulator.eventDeliveries();
      expect(log.find((d) => d.url === flaky.url)).toMatchObject({ status: 'delivered', attempts: 3 });
      expect(log.find((d) => d.url === refusing.url)).toMatchObject({ status: 'failed', attempts: 1, lastResult: 400 });

      // A subscriber that is gone: bounded attempts, then given up.
      await flaky.close();
      await refusing.close();
      emulator.configure({ eventGrid: { maxAttempts: 3 } });
      await smsClient(emulator).send({ from: TOLL_FREE, to: [BOB], message: 'nobody home' }, { enableDeliveryReport: true });
      await emulator.idle();
      const gone = emulator
        .eventDeliveries()
        .filter((d) => d.url === flaky.url)
        .at(-1);
      expect(gone).toMatchObject({ status: 'failed', attempts: 3 });
    });

    it('can deliver reports twice, late, and out of order', async () => {
      await emulator.addSubscriber(receiver.url);
      emulator.configure({ deliveryReports: { duplicateShare: 1, shuffleWindow: 4, shuffleWindowMs: 500 } });
      const recipients = [ALICE, BOB, CAROL, DAVE];
      const results = await send(
        smsClient(emulator),
        { from: TOLL_FREE, to: recipients, message: 'many' },
        { enableDeliveryReport: true },
      );
      await emulator.idle();
      const events = receiver.events();
      expect(events).toHaveLength(8);
      const ids = events.map((e) => e.id);
      expect(new Set(ids)).toEqual(new Set(results.map((r) => eventId(r.messageId))));
      for (const id of new Set(ids)) expect(ids.filter((x) => x === id)).toHaveLength(2);
      const firstSeen = [...new Set(ids)];
      expect(firstSeen).not.toEqual(results.map((r) => eventId(r.messageId)));
      // Released together, so they went in fewer POSTs than events (maxEventsPerBatch 10).
      expect(receiver.received.filter((r) => r.headers['aeg-event-type'] === 'Notification').length).toBeLessThan(8);

      emulator.configure({ deliveryReports: { duplicateShare: 0, shuffleWindow: 1, lateShare: 1, lateDelayMs: 600 } });
      const [late] = await send(
        smsClient(emulator),
        { from: TOLL_FREE, to: [ALICE], message: 'late' },
        { enableDeliveryReport: true },
      );
      await sleep(150);
      expect(receiver.events().some((e) => e.id === eventId(late.messageId))).toBe(false);
      expect(emulator.deliveryReport(late.messageId!)).toBeUndefined();
      await emulator.idle();
      expect(receiver.events().filter((e) => e.id === eventId(late.messageId))).toHaveLength(1);
    });

    it('delivers only the event types a subscriber asked for', async () => {
      await emulator.addSubscriber(receiver.url, { eventTypes: ['Microsoft.Communication.SMSReceived'] });
      await smsClient(emulator).send({ from: TOLL_FREE, to: [ALICE], message: 'hi' }, { enableDeliveryReport: true });
      await emulator.injectInbound({ from: ALICE, to: TOLL_FREE, message: 'hello back' });
      await emulator.idle();
      expect(receiver.events().map((e) => e.eventType)).toEqual(['Microsoft.Communication.SMSReceived']);
    });
  });

  describe('inbound messages and opt-outs', () => {
    it('delivers SMSReceived in the Event Grid schema', async () => {
      await emulator.addSubscriber(receiver.url);
      const messageId = await emulator.injectInbound({ from: ALICE, to: TOLL_FREE, message: 'What time do you open?' });
      await emulator.idle();
      const [event] = receiver.events();
      expect(messageId).toMatch(/^Incoming_\d{14}[0-9a-f-]{36}$/);
      expect(event).toMatchObject({
        id: messageId,
        subject: '/phonenumber/18005550100',
        eventType: 'Microsoft.Communication.SMSReceived',
        dataVersion: '1.0',
        metadataVersion: '1',
        eventTime: expect.stringMatching(WHOLE_SECONDS),
      });
      // Was: numbers with "+". The SMSReceived examples write both without.
      expect(event?.data).toEqual({
        messageId,
        from: digits(ALICE),
        to: digits(TOLL_FREE),
        message: 'What time do you open?',
        receivedTimestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$/),
        segmentCount: 1,
      });
    });

    it('STOP blocks later sends from that number with a Failed 4007 report; START lifts it (toll-free confirms)', async () => {
      await emulator.addSubscriber(receiver.url);
      const client = smsClient(emulator);
      await emulator.injectInbound({ from: ALICE, to: TOLL_FREE, message: ' stop ' });
      expect(emulator.inbox(ALICE).map((m) => [m.from, m.message])).toEqual([
        [TOLL_FREE, 'You have successfully been unsubscribed to messages from this number. Reply START to resubscribe.'],
      ]);

      const [blocked] = await send(client, { from: TOLL_FREE, to: [ALICE], message: 'promo' }, { enableDeliveryReport: true });
      // ACS accepts the request; the block shows in the delivery report.
      expect(blocked).toMatchObject({ httpStatusCode: 202, successful: true });
      const [other] = await send(
        client,
        { from: LONG_CODE, to: [ALICE], message: 'from another number' },
        { enableDeliveryReport: true },
      );
      await emulator.idle();
      const reports = Object.fromEntries(
        receiver
          .events()
          .filter((e) => e.eventType.endsWith('DeliveryReportReceived'))
          .map((e) => [e.id, e.data]),
      );
      // Was "4007: …": the SMS FAQ gives the status message of a STOPped recipient without a code.
      expect(reports[eventId(blocked.messageId)!]).toMatchObject({
        deliveryStatus: 'Failed',
        deliveryStatusDetails: 'Sender blocked for given recipient.',
        deliveryAttempts: [],
      });
      expect(reports[eventId(other.messageId)!]?.deliveryStatus).toBe('Delivered');
      expect(emulator.inbox(ALICE).map((m) => m.message)).not.toContain('promo');
      expect(emulator.inbox(ALICE).map((m) => m.message)).toContain('from another number');

      await emulator.injectInbound({ from: ALICE, to: TOLL_FREE, message: 'UNSTOP' });
      expect(emulator.inbox(ALICE).at(-1)?.message).toBe(
        'You have successfully been re-subscribed to messages from this number. Reply STOP to unsubscribe.',
      );
      await client.send({ from: TOLL_FREE, to: [ALICE], message: 'welcome back' });
      expect(emulator.inbox(ALICE).at(-1)?.message).toBe('welcome back');

      // The keywords reach the application as SMSReceived events too.
      await emulator.idle();
      expect(
        receiver
          .events()
          .filter((e) => e.eventType === 'Microsoft.Communication.SMSReceived')
          .map((e) => e.data.message),
      ).toEqual([' stop ', 'UNSTOP']);
    });

    it('does not text a confirmation for other sender types, but still honours the opt-out', async () => {
      await emulator.injectInbound({ from: BOB, to: LONG_CODE, message: 'Unsubscribe' });
      expect(emulator.inbox(BOB)).toHaveLength(0);
      expect(emulator.optOuts()).toEqual([expect.objectContaining({ from: LONG_CODE, to: BOB, source: 'keyword' })]);
      await smsClient(emulator).send({ from: LONG_CODE, to: [BOB], message: 'blocked' });
      expect(emulator.inbox(BOB)).toHaveLength(0);
      expect(emulator.sends()[0]).toMatchObject({
        outcome: 'Failed',
        deliveryStatusDetails: '4007: Sender blocked for given recipient.',
      });
    });

    it('leaves opt-outs to the application for sender types outside optOut.keywordTypes', async () => {
      emulator.configure({ optOut: { keywordTypes: ['tollFree'] } });
      await emulator.injectInbound({ from: BOB, to: LONG_CODE, message: 'STOP' });
      expect(emulator.optOuts()).toEqual([]);
      expect(emulator.inboundMessages().at(-1)).toMatchObject({ keyword: 'optOut', message: 'STOP' });
      await smsClient(emulator).send({ from: LONG_CODE, to: [BOB], message: 'You are unsubscribed.' });
      expect(emulator.inbox(BOB).map((m) => m.message)).toEqual(['You are unsubscribed.']);
    });

    it('refuses inbound injection to an alphanumeric sender or an unknown number', async () => {
      await expect(emulator.injectInbound({ from: ALICE, to: ALPHA, message: 'hi' })).rejects.toThrow(/alphanumeric/);
      await expect(emulator.injectInbound({ from: ALICE, to: '+18005550199', message: 'hi' })).rejects.toThrow(/sender numbers/);
    });
  });

  describe('api-version 2026-01-23: delivery reports and opt-out management', () => {
    // Was: the id with or without "Outgoing_" both found the report, and 2021-03-07 was refused as
    // "UnsupportedApiVersion". The spec shows one id form: the path id is the report's messageId,
    // the id the send returned; nothing says ACS accepts another.
    it('GET /deliveryReports/{id} returns the report for the id exactly as the send returned it; 404 otherwise', async () => {
      // Long enough that the report cannot exist yet when the first GET comes, on a busy machine too.
      emulator.configure({ deliveryReports: { delayMs: 2000 } });
      const [sent] = await send(smsClient(emulator), { from: TOLL_FREE, to: [ALICE], message: 'report' }, { tag: 't1' });
      // Not there until the (emulated) carrier reported.
      expect((await acsRequest(emulator, 'GET', `/deliveryReports/${sent.messageId}?api-version=2026-01-23`)).status).toBe(404);
      await emulator.idle();

      const found = await acsRequest(emulator, 'GET', `/deliveryReports/${sent.messageId}?api-version=2026-01-23`);
      expect(found.status).toBe(200);
      expect(found.body).toEqual({
        deliveryStatus: 'Delivered',
        deliveryStatusDetails: '2000: No Error',
        deliveryAttempts: [{ timestamp: expect.stringMatching(WHOLE_SECONDS), segmentsSucceeded: 1, segmentsFailed: 0 }],
        receivedTimestamp: expect.stringMatching(WHOLE_SECONDS),
        tag: 't1',
        messageId: sent.messageId,
        from: TOLL_FREE,
        to: ALICE,
      });
      for (const other of [sent.messageId!.replace(/^Outgoing_/, ''), eventId(sent.messageId)!]) {
        expect((await acsRequest(emulator, 'GET', `/deliveryReports/${other}?api-version=2026-01-23`)).status, other).toBe(404);
      }

      const unknown = await acsRequest(emulator, 'GET', `/deliveryReports/${randomUUID()}?api-version=2026-01-23`);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({
        type: 'https://tools.ietf.org/html/rfc9110#section-15.5.5',
        title: 'Not Found',
        status: 404,
        traceId: expect.any(String),
      });

      const oldVersion = await acsRequest(emulator, 'GET', `/deliveryReports/${sent.messageId}?api-version=2021-03-07`);
      expect(oldVersion.status).toBe(400);
      expect(oldVersion.body.error.code).toBe('InvalidApiVersion');
      const unsigned = await fetch(`${emulator.url}/deliveryReports/${sent.messageId}?api-version=2026-01-23`);
      expect(unsigned.status).toBe(401);
    });

    it('adds, checks and removes opt-outs on the same list STOP uses', async () => {
      const call = (action: string, recipients: string[]) =>
        acsRequest(emulator, 'POST', `/sms/optouts:${action}?api-version=2026-01-23`, {
          from: TOLL_FREE,
          recipients: recipients.map((to) => ({ to })),
        });

      const added = await call('add', [ALICE, '+123']);
      expect(added.status).toBe(200);
      expect(added.body).toEqual({
        value: [
          { to: ALICE, httpStatusCode: 200 },
          { to: '+123', httpStatusCode: 400, errorMessage: 'Invalid recipient phone number format' },
        ],
      });
      await emulator.injectInbound({ from: BOB, to: TOLL_FREE, message: 'STOP' });
      expect((await call('check', [ALICE, BOB, CAROL])).body.value).toEqual([
        { to: ALICE, httpStatusCode: 200, isOptedOut: true },
        { to: BOB, httpStatusCode: 200, isOptedOut: true },
        { to: CAROL, httpStatusCode: 200, isOptedOut: false },
      ]);
      await smsClient(emulator).send({ from: TOLL_FREE, to: [ALICE], message: 'blocked' });
      expect(emulator.inbox(ALICE)).toHaveLength(0);

      expect((await call('remove', [ALICE])).body.value).toEqual([{ to: ALICE, httpStatusCode: 200 }]);
      expect((await call('check', [ALICE])).body.value[0].isOptedOut).toBe(false);
      await smsClient(emulator).send({ from: TOLL_FREE, to: [ALICE], message: 'allowed' });
      expect(emulator.inbox(ALICE).map((m) => m.message)).toEqual(['allowed']);

      const invalid = await acsRequest(emulator, 'POST', '/sms/optouts:add?api-version=2026-01-23', {
        from: TOLL_FREE,
        recipients: [],
      });
      expect(invalid.status).toBe(400);
      expect(Object.keys(invalid.body.errors)).toEqual(['Recipients']);
    });
  });

  describe('published forms and their switches', () => {
    /** One report event for a send from TOLL_FREE to ALICE tagged "t". */
    async function oneReport(): Promise<{ sent: SendItem; event: GridEvent }> {
      await emulator.addSubscriber(receiver.url);
      const [sent] = await send(
        smsClient(emulator),
        { from: TOLL_FREE, to: [ALICE], message: 'hi' },
        { enableDeliveryReport: true, tag: 't' },
      );
      await emulator.idle();
      const [event] = receiver.events();
      return { sent, event: event! };
    }

    it('switches each event form: numbers, details, timestamps, tag casing, data casing, id decoration', async () => {
      emulator.configure({
        forms: {
          eventNumbers: 'plus',
          deliveryStatusDetails: { events: 'coded' },
          timestamps: 'milliseconds',
          tagProperty: 'Tag',
          messageIds: { events: 'asSent' },
        },
      });
      const { sent, event } = await oneReport();
      expect(event.id).toBe(sent.messageId);
      expect(event.data).toMatchObject({
        messageId: sent.messageId,
        from: TOLL_FREE,
        to: ALICE,
        deliveryStatusDetails: '2000: No Error',
        receivedTimestamp: expect.stringMatching(/\.\d{3}Z$/),
        Tag: 't',
      });
      expect(event.data).not.toHaveProperty('tag');
      expect(event.eventTime).toMatch(/\.\d{3}Z$/);

      emulator.configure({ forms: { eventNumbers: 'digits', dataCasing: 'pascal' } });
      await emulator.injectInbound({ from: ALICE, to: TOLL_FREE, message: 'hello' });
      await emulator.idle();
      const inbound = receiver.events().at(-1)!;
      expect(inbound.data).toMatchObject({ From: digits(ALICE), To: digits(TOLL_FREE), Message: 'hello', SegmentCount: 1 });
    });

    it('writes any id decoration on request: _prod_nam, no suffix, the 2026 bare form, GUIDs', async () => {
      const client = smsClient(emulator);
      const sendOne = async () => (await send(client, { from: TOLL_FREE, to: [ALICE], message: 'id' }))[0].messageId;
      emulator.configure({ forms: { messageIds: { suffix: '_prod_nam' } } });
      expect(await sendOne()).toMatch(/^Outgoing_\d{14}[0-9a-f-]{36}_prod_nam$/);
      emulator.configure({ forms: { messageIds: { suffix: 'none' } } });
      expect(await sendOne()).toMatch(/^Outgoing_\d{14}[0-9a-f-]{36}$/);
      emulator.configure({ forms: { messageIds: { send: 'bare' } } });
      expect(await sendOne()).toMatch(/^\d{14}[0-9a-f-]{36}$/);
      emulator.configure({ forms: { messageIds: { send: 'guid' } } });
      expect(await sendOne()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    });

    it('the pre-issue-15 preset restores the old forms, and published restores the defaults (also through the admin API)', async () => {
      const put = await admin(emulator, 'PUT', '/emulator/config', { preset: 'pre-issue-15' });
      expect(put.status).toBe(200);
      expect(put.body.forms).toMatchObject({
        eventNumbers: 'plus',
        timestamps: 'milliseconds',
        messageIds: { send: 'outgoing', suffix: '_noam', events: 'asSent' },
      });
      expect(put.body.eventGrid.maxEventsPerBatch).toBe(1);
      expect(put.body.repeatability.outsideWindow).toBe('reject');
      const { sent, event } = await oneReport();
      expect(event.id).toBe(sent.messageId);
      expect(event.data).toMatchObject({ from: TOLL_FREE, deliveryStatusDetails: '2000: No Error' });
      const stripped = sent.messageId!.replace(/^Outgoing_/, '');
      expect((await acsRequest(emulator, 'GET', `/deliveryReports/${stripped}?api-version=2026-01-23`)).status).toBe(200);

      emulator.configure({ preset: 'published' });
      expect((await acsRequest(emulator, 'GET', `/deliveryReports/${stripped}?api-version=2026-01-23`)).status).toBe(404);
      expect(emulator.config().forms).toEqual(publishedForms());
      const bad = await admin(emulator, 'PUT', '/emulator/config', { forms: { eventNumbers: 'sometimes' } });
      expect(bad.status).toBe(400);
      expect(Object.keys(bad.body.errors)).toEqual(['forms.eventNumbers']);
    });

    it('puts the events waiting when a delivery starts into one POST, up to maxEventsPerBatch, and retries a batch whole', async () => {
      let failNext = true;
      const batching = await startReceiver((r) => {
        if (r.headers['aeg-event-type'] !== 'Notification' || !failNext) return undefined;
        failNext = false;
        return { status: 503 };
      });
      await emulator.addSubscriber(batching.url);
      emulator.configure({ eventGrid: { maxEventsPerBatch: 3 }, deliveryReports: { shuffleWindow: 5, shuffleWindowMs: 200 } });
      await smsClient(emulator).send(
        { from: TOLL_FREE, to: [ALICE, BOB, CAROL, DAVE, '+14255550127'], message: 'batch' },
        { enableDeliveryReport: true },
      );
      await emulator.idle();
      const posts = batching.received.filter((r) => r.headers['aeg-event-type'] === 'Notification');
      // 5 events in POSTs of 3 and 2; the first POST failed and came again, whole.
      expect(posts.map((p) => [p.body.length, p.headers['aeg-delivery-count']])).toEqual(
        expect.arrayContaining([
          [3, '0'],
          [2, '0'],
          [3, '1'],
        ]),
      );
      expect(posts).toHaveLength(3);
      const retried = posts.filter((p) => p.headers['aeg-delivery-count'] === '1')[0]!;
      const first = posts.find((p) => p.body.length === 3 && p.headers['aeg-delivery-count'] === '0')!;
      expect(retried.body.map((e) => e.id)).toEqual(first.body.map((e) => e.id));
      expect(
        emulator
          .eventDeliveries()
          .filter((d) => d.url === batching.url)
          .every((d) => d.status === 'delivered'),
      ).toBe(true);

      emulator.configure({ eventGrid: { maxEventsPerBatch: 1 } });
      batching.received.length = 0;
      await smsClient(emulator).send({ from: TOLL_FREE, to: [ALICE, BOB], message: 'single' }, { enableDeliveryReport: true });
      await emulator.idle();
      expect(batching.received.map((r) => r.body.length)).toEqual([1, 1]);
      await batching.close();
    });

    it('counts only 200–204 as delivered: a 206 is retried', async () => {
      const partial = await startReceiver((r, i) =>
        r.headers['aeg-event-type'] === 'Notification' && i === 1 ? { status: 206 } : undefined,
      );
      await emulator.addSubscriber(partial.url);
      await smsClient(emulator).send({ from: TOLL_FREE, to: [ALICE], message: 'hi' }, { enableDeliveryReport: true });
      await emulator.idle();
      expect(
        partial.received
          .filter((r) => r.headers['aeg-event-type'] === 'Notification')
          .map((r) => r.headers['aeg-delivery-count']),
      ).toEqual(['0', '1']);
      await partial.close();
    });

    it('accepts only 200 to the validation event: 202 with the code fails; 200 without it waits for the validationUrl', async () => {
      const accepted = await startReceiver((r) =>
        r.headers['aeg-event-type'] === 'SubscriptionValidation'
          ? { status: 202, body: { validationResponse: r.body[0]?.data.validationCode } }
          : undefined,
      );
      await expect(emulator.addSubscriber(accepted.url)).rejects.toThrow(/answered 202, and only 200 is recognised/);
      await accepted.close();

      emulator.configure({ eventGrid: { manualValidationMs: 2000 } });
      const manual = await startReceiver((r) => {
        if (r.headers['aeg-event-type'] !== 'SubscriptionValidation') return undefined;
        setTimeout(() => void fetch(String(r.body[0]?.data.validationUrl)), 50);
        return { status: 200 };
      });
      await emulator.addSubscriber(manual.url);
      expect(emulator.subscribers().map((s) => s.url)).toContain(manual.url);
      await manual.close();
    });

    it('delivers to a CloudEvents subscriber after the OPTIONS handshake, and refuses one that does not allow the origin', async () => {
      const requests: Array<{ method: string; headers: IncomingHttpHeaders; body: string }> = [];
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          requests.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          if (req.method === 'OPTIONS' && req.url?.includes('allow'))
            res.writeHead(200, { 'webhook-allowed-origin': 'eventgrid.azure.net' });
          else res.writeHead(200);
          res.end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await expect(emulator.addSubscriber(`${base}/deny`, { schema: 'CloudEventSchemaV1_0' })).rejects.toThrow(
        /WebHook-Allowed-Origin was absent/,
      );
      await emulator.addSubscriber(`${base}/allow`, { schema: 'CloudEventSchemaV1_0', name: 'CE' });
      expect(requests.filter((r) => r.method === 'OPTIONS').map((r) => r.headers['webhook-request-origin'])).toEqual([
        'eventgrid.azure.net',
        'eventgrid.azure.net',
      ]);
      const id = await emulator.injectInbound({ from: ALICE, to: TOLL_FREE, message: 'cloud' });
      await emulator.idle();
      const post = requests.find((r) => r.method === 'POST')!;
      expect(post.headers).toMatchObject({
        'content-type': 'application/cloudevents+json; charset=utf-8',
        'aeg-event-type': 'Notification',
        'aeg-subscription-name': 'CE',
        'aeg-metadata-version': '1.0',
      });
      expect(post.headers).not.toHaveProperty('aeg-data-version');
      const [event] = JSON.parse(post.body) as Json[];
      expect(Object.keys(event)).toEqual(['source', 'subject', 'type', 'time', 'id', 'data', 'specversion']);
      expect(event).toMatchObject({
        id,
        type: 'Microsoft.Communication.SMSReceived',
        specversion: '1.0',
        time: expect.stringMatching(/\.0000000Z$/),
      });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('adds a CloudEvents subscriber with its batch size through the admin API', async () => {
      const server = createServer((req, res) => {
        res.writeHead(200, req.method === 'OPTIONS' ? { 'webhook-allowed-origin': '*' } : {}).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const added = await admin(emulator, 'POST', '/emulator/subscriptions', {
        url,
        schema: 'CloudEventSchemaV1_0',
        maxEventsPerBatch: 1,
      });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({ url, schema: 'CloudEventSchemaV1_0', maxEventsPerBatch: 1, validated: true });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  });

  describe('admin API', () => {
    it('inspects sends and inboxes, injects inbound texts, adds subscribers', async () => {
      const health = await admin(emulator, 'GET', '/emulator/health');
      expect(health.body).toMatchObject({
        status: 'ok',
        senders: expect.arrayContaining([{ number: TOLL_FREE, type: 'tollFree' }]),
      });

      await smsClient(emulator).send({ from: TOLL_FREE, to: [ALICE], message: 'inspect me' });
      const sends = await admin(emulator, 'GET', `/emulator/sends?to=${encodeURIComponent(ALICE)}`);
      expect(sends.body).toEqual([
        expect.objectContaining({
          from: TOLL_FREE,
          to: ALICE,
          sent: true,
          result: expect.objectContaining({ repeatabilityResult: 'accepted' }),
        }),
      ]);
      expect((await admin(emulator, 'GET', `/emulator/handsets/${encodeURIComponent(ALICE)}/messages`)).body).toHaveLength(1);
      expect((await admin(emulator, 'GET', `/emulator/handsets/${ALICE.slice(1)}/messages`)).body[0].message).toBe('inspect me');

      const subscribed = await admin(emulator, 'POST', '/emulator/subscriptions', { url: receiver.url });
      expect(subscribed.status).toBe(201);
      const inbound = await admin(emulator, 'POST', '/emulator/inbound', { from: ALICE, to: TOLL_FREE, message: 'hi there' });
      expect(inbound.status).toBe(202);
      await emulator.idle();
      expect(receiver.events().map((e) => e.id)).toEqual([inbound.body.messageId]);

      const bad = await admin(emulator, 'POST', '/emulator/inbound', { from: ALICE, message: 'no to' });
      expect(bad.status).toBe(400);
      expect(bad.contentType).toMatch(/application\/problem\+json/);
      expect(bad.body.errors).toHaveProperty('to');
      const badSubscription = await admin(emulator, 'POST', '/emulator/subscriptions', { url: 'not a url' });
      expect(badSubscription.status).toBe(400);
      expect(badSubscription.body.errors).toHaveProperty('url');
    });

    it('reads and changes configuration with field-level errors, and resets', async () => {
      const rejected = await admin(emulator, 'PUT', '/emulator/config', {
        faults: { throttleShare: 2 },
        deliveryReports: { delayMs: 'soon' },
      });
      expect(rejected.status).toBe(400);
      expect(Object.keys(rejected.body.errors).sort()).toEqual(['deliveryReports.delayMs', 'faults.throttleShare']);
      const typo = await admin(emulator, 'PUT', '/emulator/config', { fault: {} });
      expect(typo.status).toBe(400);

      const changed = await admin(emulator, 'PUT', '/emulator/config', { faults: { script: ['throttle'] } });
      expect(changed.status).toBe(200);
      expect(changed.body.faults.script).toEqual(['throttle']);
      expect((await acsRequest(emulator, 'POST', '/sms?api-version=2021-03-07', sendBody([ALICE]))).status).toBe(429);

      await smsClient(emulator).send({ from: TOLL_FREE, to: [ALICE], message: 'before reset' });
      expect((await admin(emulator, 'POST', '/emulator/reset')).status).toBe(204);
      expect(emulator.sends()).toHaveLength(0);
      expect(emulator.inbox(ALICE)).toHaveLength(0);
      expect((await admin(emulator, 'GET', '/emulator/config')).body.faults.script).toEqual([]);
    });
  });

  it('never logs full phone numbers or message bodies', async () => {
    logLines.length = 0;
    await smsClient(emulator).send({ from: TOLL_FREE, to: [ALICE], message: 'secret body text' }, { enableDeliveryReport: true });
    await emulator.injectInbound({ from: BOB, to: TOLL_FREE, message: 'STOP' });
    await smsClient(emulator, { key: Buffer.from('x').toString('base64') })
      .send({ from: TOLL_FREE, to: [ALICE], message: 'secret' })
      .catch(() => undefined);
    await emulator.idle();
    const all = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    expect(all).toContain('+1425***0123');
    for (const forbidden of [ALICE, BOB, TOLL_FREE, 'secret body text']) expect(all).not.toContain(forbidden);
  });
});

describe('ACS SMS emulator lifecycle', () => {
  it('validates start-up subscribers and closes promptly with work pending', async () => {
    const receiver = await startReceiver();
    const emulator = await startAcsEmulator({
      ...baseOptions(),
      subscribers: [{ url: receiver.url }],
      deliveryReports: { delayMs: 10_000 },
    });
    expect(receiver.received[0]?.headers['aeg-event-type']).toBe('SubscriptionValidation');
    await smsClient(emulator).send({ from: TOLL_FREE, to: [ALICE], message: 'pending' }, { enableDeliveryReport: true });
    emulator.configure({ faults: { script: ['timeout'], timeoutMs: 10_000, timeoutMode: 'hold' } });
    const held = acsRequest(emulator, 'POST', '/sms?api-version=2021-03-07', sendBody([BOB])).catch((e: unknown) => e);
    await sleep(50);
    expect(emulator.pendingWork()).toBeGreaterThan(0);

    const started = Date.now();
    await emulator.close();
    await emulator.idle();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await held).toBeInstanceOf(Error);
    await expect(fetch(`${emulator.url}/emulator/health`)).rejects.toThrow();
    await receiver.close();
  });

  it('fails to start when a start-up subscriber fails the handshake', async () => {
    const receiver = await startReceiver(() => ({ status: 500 }));
    await expect(startAcsEmulator({ ...baseOptions(), subscribers: [{ url: receiver.url }] })).rejects.toThrow(/validation/);
    await receiver.close();
  });
});
