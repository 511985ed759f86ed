// The ACS SMS emulator against Microsoft's published material (test/fixtures/published, sources in
// index.json): every REST spec example request replayed verbatim with its documented answer
// checked, every @azure/communication-sms recording replayed with the values its recorder
// sanitized put back, and every SMS event example compared, key for key and form for form, with
// what the emulator sends. Where the emulator knowingly answers otherwise, the test says so and
// why (docs/acs-emulator.md keeps the same list).
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signAcsRequest } from '../../local/acsEmulator/hmacAuth.js';
import { startAcsEmulator, type AcsEmulator, type SettingsPatch } from '../../local/acsEmulator/server.js';
import {
  published,
  publishedIndex,
  publishedSmsEvents,
  publishedText,
  type PublishedJson,
  type Recording,
  type RestExample,
} from '../support/publishedFixtures.js';

// ---------------------------------------------------------------- helpers

interface Call {
  status: number;
  headers: IncomingHttpHeaders;
  body: PublishedJson;
}

/** A request signed as the SDK signs it; `tamper` changes the body after signing. */
function acsCall(
  emulator: AcsEmulator,
  method: 'GET' | 'POST',
  pathAndQuery: string,
  body?: unknown,
  options: { tamper?: (text: string) => string; key?: string } = {},
): Promise<Call> {
  const url = `${emulator.url}${pathAndQuery}`;
  const text = body === undefined ? '' : JSON.stringify(body);
  const signed = signAcsRequest({ method, url, body: text, accessKey: options.key ?? emulator.accessKey });
  const sent = options.tamper ? options.tamper(text) : text;
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method,
      agent: false,
      headers: { ...signed, ...(sent ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(sent) } : {}) },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: raw ? (JSON.parse(raw) as PublishedJson) : undefined,
        });
      });
    });
    req.on('error', reject);
    req.end(sent);
  });
}

/** The message id families of acsFacts.ts MESSAGE_ID_FORMS. */
function idFamily(id: string): string {
  if (/^Outgoing_\d{14}[0-9a-f-]+_noam$/.test(id)) return 'Outgoing_…_noam';
  if (/^Outgoing_\d{14}[0-9a-f-]+$/.test(id)) return 'Outgoing_…';
  if (/^\d{14}[0-9a-f-]+$/.test(id)) return 'bare';
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}_[0-9a-f-]{36}_prod_[a-z]+_[a-z]+_outgoing-mms$/.test(id)) return 'regional';
  if (/^Incoming_\d{14}[0-9a-f-]+$/.test(id)) return 'Incoming_…';
  return `other: ${id}`;
}

/** Keys of an object, in order, recursively (arrays by their first element): the shape of a payload. */
function keysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.length > 0 ? [keysDeep(value[0])] : [];
  if (typeof value === 'object' && value !== null) return Object.entries(value).map(([k, v]) => [k, keysDeep(v)]);
  return typeof value;
}

/** The written form of a timestamp. */
function timeForm(value: string): string {
  const m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d+))?Z$/.exec(value);
  if (!m) return `not a UTC timestamp: ${value}`;
  const f = m[1];
  if (f === undefined) return 'whole seconds';
  if (/^0{7}$/.test(f)) return '.0000000';
  if (f.length === 7) return '7 digits';
  return f.endsWith('0') ? `${f.length} digits` : 'trailing zeros trimmed';
}

/** "+15555555555" → "+E.164", "15555555555" → "digits", others as they are. */
function numberForm(value: string): string {
  if (/^\+\d{8,15}$/.test(value)) return '+E.164';
  if (/^\d{8,15}$/.test(value)) return 'digits';
  return value;
}

const TRACE_ID = /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/;
const withoutTraceId = (body: PublishedJson) => ({ ...body, traceId: '<trace id>' });

// ---------------------------------------------------------------- the emulator

let emulator: AcsEmulator;
const logs: string[] = [];

beforeAll(async () => {
  emulator = await startAcsEmulator({ senders: [], deliveryReports: { delayMs: 10 }, log: (l) => logs.push(l) });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
  for (const s of emulator.subscribers()) emulator.removeSubscriber(s.url);
});

/** Fresh state, these senders, and per-handset faults for answers only a fault produces. */
function setUp(senders: string[], patch: SettingsPatch = {}): void {
  emulator.configure({ senders: senders.map((number) => ({ number })), ...patch });
}

/**
 * Per-recipient answers the emulator only gives through a handset fault: 5xx items, and 400s for
 * numbers that are well-formed (the 2024-12-10-preview opt-out examples have some). Their texts,
 * or their absence, come from the example.
 */
function faultsFor(
  items: Array<{ to: string; httpStatusCode: number; errorMessage?: string }>,
  wellFormed: (to: string) => boolean,
) {
  const handsets: NonNullable<NonNullable<SettingsPatch['faults']>['handsets']> = {};
  for (const item of items) {
    if (item.httpStatusCode >= 500 || (item.httpStatusCode === 400 && wellFormed(item.to) && !item.errorMessage)) {
      handsets[item.to] = { kind: 'rejected', httpStatusCode: item.httpStatusCode, errorMessage: item.errorMessage ?? null };
    }
  }
  return { faults: { handsets } };
}

const WELL_FORMED = (to: string) => /^\+1\d{10}$/.test(to);

// ---------------------------------------------------------------- REST spec examples

describe('REST spec examples, replayed verbatim against the emulator', () => {
  /**
   * Where the emulator knowingly answers otherwise than an example, by item index, and why. Each
   * entry is asserted, so a change in either the emulator or the list shows.
   */
  const SEND_DIFFERENCES: Record<string, Record<number, { reason: string; expect: Record<string, unknown> }>> = {
    'rest/2021-03-07/send.json': {
      3: {
        reason: 'the example gives a failed item a messageId; the 2026-01-23 example and every recording give failures none',
        expect: { messageId: undefined },
      },
      5: { reason: 'as item 3', expect: { messageId: undefined } },
    },
    'rest/2024-12-10-preview/SmsSend.json': {
      2: {
        reason:
          'the live service answered "Unknown country code." on this version (recordings of Dec 2024); the example says otherwise',
        expect: { errorMessage: 'Unknown country code.' },
      },
    },
  };
  /**
   * The id form each version's example shows, compared without its suffix: the examples mix
   * Outgoing_… and Outgoing_…_noam within one response, the emulator writes one form per version
   * (the _noam of 2021-03-07 is checked in acsEmulator.test.ts). Where the emulator follows a
   * recording of the live service instead of the example, this says so.
   */
  const ID_FAMILY_DIFFERENCES: Record<string, { reason: string; family: string }> = {
    'rest/2024-12-10-preview/SmsSend.json': {
      reason: 'the Dec 2024 recordings of this version show the regional form',
      family: 'regional',
    },
  };
  const withoutSuffix = (family: string) => family.replace(/_noam$/, '');

  for (const file of [
    'rest/2021-03-07/send.json',
    'rest/2024-12-10-preview/SmsSend.json',
    'rest/2025-05-29-preview/SmsSend.json',
    'rest/2026-01-23/SmsSend.json',
  ]) {
    it(`${file}: 202 with the documented item for every recipient`, async () => {
      const example = published(file) as RestExample;
      const request = example.parameters.SendMessageRequest;
      const expected = example.responses['202']!.body.value as Array<
        Record<string, unknown> & { to: string; httpStatusCode: number }
      >;
      setUp(
        [request.from],
        faultsFor(expected, () => false),
      );

      const answer = await acsCall(emulator, 'POST', `/sms?api-version=${example.parameters['api-version']}`, request);
      expect(answer.status).toBe(202);
      expect(answer.body.value).toHaveLength(expected.length);
      for (const [i, want] of expected.entries()) {
        const got = answer.body.value[i];
        const difference = SEND_DIFFERENCES[file]?.[i];
        const { messageId: wantId, ...wantRest } = want;
        const { messageId: gotId, ...gotRest } = got;
        expect(gotRest, `item ${i}`).toEqual({
          ...wantRest,
          ...Object.fromEntries(Object.entries(difference?.expect ?? {}).filter(([k]) => k !== 'messageId')),
        });
        if (difference && 'messageId' in difference.expect) {
          expect(gotId, `item ${i}: ${difference.reason}`).toBeUndefined();
        } else if (wantId === undefined) {
          expect(gotId, `item ${i}`).toBeUndefined();
        } else {
          const family = ID_FAMILY_DIFFERENCES[file]?.family ?? withoutSuffix(idFamily(wantId as string));
          expect(withoutSuffix(idFamily(gotId)), `item ${i}`).toBe(family);
        }
      }
      // The first-sent of 1 Apr 2019 was accepted and the message went out.
      expect(emulator.inbox('+11234567893')).toHaveLength(1);
    });
  }

  it('rest/2026-01-23/SmsSend.json: 401 exactly as documented for a sender the resource does not own', async () => {
    const example = published('rest/2026-01-23/SmsSend.json') as RestExample;
    setUp(['+18005550100']);
    const answer = await acsCall(emulator, 'POST', '/sms?api-version=2026-01-23', example.parameters.SendMessageRequest);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual(example.responses['401']!.body);
    expect(answer.headers['content-type']).toBe('application/json');
  });

  // Not replayable: rest/2026-01-23/SmsSend.json's 400 ({"SmsRecipients": ["Invalid recipient phone
  // number format."]}) comes with no request that causes it; the emulator answers invalid numbers per
  // recipient inside the 202, as the same example's 202 and every recording do.

  const OPT_OUT_EXAMPLES = [
    'rest/2026-01-23/OptOutAdd.json',
    'rest/2026-01-23/OptOutCheck.json',
    'rest/2026-01-23/OptOutRemove.json',
    'rest/2024-12-10-preview/OptOutAdd.json',
    'rest/2024-12-10-preview/OptOutCheck.json',
    'rest/2024-12-10-preview/OptOutRemove.json',
  ];
  for (const file of OPT_OUT_EXAMPLES) {
    const action = /OptOut(Add|Check|Remove)/.exec(file)![1]!.toLowerCase();
    it(`${file}: 200 with the documented item for every recipient`, async () => {
      const example = published(file) as RestExample;
      const version = example.parameters['api-version'];
      const expected = example.responses['200']!.body.value as Array<{
        to: string;
        httpStatusCode: number;
        errorMessage?: string;
        isOptedOut?: boolean;
      }>;
      setUp([example.parameters.body.from], faultsFor(expected, WELL_FORMED));
      // Precondition the example implies: who is opted out already.
      const optedOut = expected.filter((e) => e.isOptedOut === true).map((e) => ({ to: e.to }));
      if (optedOut.length > 0) {
        expect(
          (
            await acsCall(emulator, 'POST', `/sms/optouts:add?api-version=${version}`, {
              from: example.parameters.body.from,
              recipients: optedOut,
            })
          ).status,
        ).toBe(200);
      }
      const answer = await acsCall(emulator, 'POST', `/sms/optouts:${action}?api-version=${version}`, example.parameters.body);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual(example.responses['200']!.body);
    });
  }

  it('rest/2026-01-23/OptOutAdd.json: 400 for a malformed sender, as ValidationProblemDetails', async () => {
    const example = published('rest/2026-01-23/OptOutAdd.json') as RestExample;
    setUp(['+18001234567']);
    const answer = await acsCall(emulator, 'POST', '/sms/optouts:add?api-version=2026-01-23', {
      ...example.parameters.body,
      from: '+1800123456789',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.traceId).toMatch(TRACE_ID);
    expect(withoutTraceId(answer.body)).toEqual(withoutTraceId(example.responses['400']!.body));
  });

  it('rest/2026-01-23/OptOutCheck.json: 400 without an api-version, exactly as documented', async () => {
    const example = published('rest/2026-01-23/OptOutCheck.json') as RestExample;
    setUp(['+18001234567']);
    const answer = await acsCall(emulator, 'POST', '/sms/optouts:check', example.parameters.body);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual(example.responses['400']!.body);
  });

  it('rest/2026-01-23/OptOutRemove.json: 400 InvalidApiVersion for its unknown version, the URI being ours', async () => {
    const example = published('rest/2026-01-23/OptOutRemove.json') as RestExample;
    setUp(['+18001234567']);
    const answer = await acsCall(
      emulator,
      'POST',
      '/sms/optouts:remove?api-version=2024-12-10w-preview',
      example.parameters.body,
    );
    expect(answer.status).toBe(400);
    const documented = example.responses['400']!.body;
    expect(answer.body).toEqual({
      error: {
        ...documented.error,
        message: documented.error.message.replace('https://global.sms.int.communication.microsoft.com', emulator.url),
      },
    });
  });

  for (const file of ['rest/2026-01-23/OptOutAdd.json', 'rest/2026-01-23/OptOutCheck.json']) {
    it(`${file}: 401 Denied exactly as documented when the body does not match its hash`, async () => {
      const example = published(file) as RestExample;
      setUp(['+18001234567']);
      const action = file.includes('Add') ? 'add' : 'check';
      const answer = await acsCall(emulator, 'POST', `/sms/optouts:${action}?api-version=2026-01-23`, example.parameters.body, {
        tamper: (text) => text.replace('+15555555551', '+15555555559'),
      });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual(example.responses['401']!.body);
    });
  }

  it('rest/2026-01-23/OptOutRemove.json: 401 Unauthorized exactly as documented for a sender the resource does not own', async () => {
    const example = published('rest/2026-01-23/OptOutRemove.json') as RestExample;
    setUp(['+18005550100']);
    const answer = await acsCall(emulator, 'POST', '/sms/optouts:remove?api-version=2026-01-23', example.parameters.body);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual(example.responses['401']!.body);
  });

  for (const file of ['rest/2026-01-23/DeliveryReportGet.json', 'rest/2025-08-01-preview/DeliveryReportGet.json']) {
    it(`${file}: 200 with the documented body for the id the send returned, 404 for the example's id`, async () => {
      const example = published(file) as RestExample;
      const version = example.parameters['api-version'];
      const documented = example.responses['200']!.body;
      setUp(['+18005550100']);
      const sent = await acsCall(emulator, 'POST', `/sms?api-version=${version}`, {
        from: '+18005550100',
        smsRecipients: [{ to: '+14255550123' }],
        message: 'report me',
        smsSendOptions: { enableDeliveryReport: true, tag: documented.tag },
      });
      const id = sent.body.value[0].messageId as string;
      await emulator.idle();

      const answer = await acsCall(emulator, 'GET', `/deliveryReports/${encodeURIComponent(id)}?api-version=${version}`);
      expect(answer.status).toBe(200);
      expect(keysDeep(answer.body)).toEqual(keysDeep(documented));
      expect(answer.body).toMatchObject({
        deliveryStatus: documented.deliveryStatus,
        deliveryStatusDetails: documented.deliveryStatusDetails,
        tag: documented.tag,
        messageId: id,
      });
      expect(timeForm(answer.body.receivedTimestamp)).toBe(timeForm(documented.receivedTimestamp));
      expect(timeForm(answer.body.deliveryAttempts[0].timestamp)).toBe(timeForm(documented.deliveryAttempts[0].timestamp));
      expect([answer.body.from, answer.body.to].map(numberForm)).toEqual(['+E.164', '+E.164']);

      const unknown = await acsCall(
        emulator,
        'GET',
        `/deliveryReports/${example.parameters.outgoingMessageId}?api-version=${version}`,
      );
      expect(unknown.status).toBe(404);
      expect(unknown.body.traceId).toMatch(TRACE_ID);
      const notFound = (published('rest/2026-01-23/DeliveryReportGet.json') as RestExample).responses['404']!.body;
      expect(withoutTraceId(unknown.body)).toEqual(withoutTraceId(notFound));
    });
  }

  it('rest/2025-08-01-preview/DeliveryReportNotFound.json: 404 exactly as documented', async () => {
    const example = published('rest/2025-08-01-preview/DeliveryReportNotFound.json') as RestExample;
    const answer = await acsCall(
      emulator,
      'GET',
      `/deliveryReports/${example.parameters.outgoingMessageId}?api-version=${example.parameters['api-version']}`,
    );
    expect(answer.status).toBe(404);
    expect(withoutTraceId(answer.body)).toEqual(withoutTraceId(example.responses['404']!.body));
  });
});

// ---------------------------------------------------------------- SDK recordings

describe('@azure/communication-sms recordings, replayed against the emulator', () => {
  const OWNED = '+18005550100';
  /**
   * What each recording's test sent where the recorder wrote a placeholder, from the test source
   * (test/public/suites/smsClient.send.ts and smsClient.spec.ts in Azure/azure-sdk-for-js):
   * `from` (AZURE_PHONE_NUMBER, the resource's own number, or the literals of the failure tests),
   * the recipients (AZURE_PHONE_NUMBER, and "+1425555012345" as the invalid one), and which numbers
   * the resource owns in the replay.
   */
  const CASES: Record<string, { owned: string[]; from: string; to?: string[]; optedOut?: string[] }> = {
    'recordings/js-assets-ec9512b489/when_sending_sms.can_send_an_sms_message.json': { owned: [OWNED], from: OWNED },
    'recordings/js-assets-ec9512b489/when_sending_sms.can_send_an_sms_message_to_multiple_recipients.json': {
      owned: [OWNED],
      from: OWNED,
      to: ['+14255550123', '+1425555012345'],
    },
    'recordings/js-assets-ec9512b489/when_sending_sms.can_send_an_sms_message_with_options_passed_in.json': {
      owned: [OWNED],
      from: OWNED,
    },
    'recordings/js-assets-ec9512b489/when_sending_sms.sends_a_new_message_each_time_send_is_called.json': {
      owned: [OWNED],
      from: OWNED,
    },
    'recordings/js-assets-ec9512b489/when_sending_sms.throws_an_exception_when_sending_from_a_number_you_dont_own.json': {
      owned: [OWNED],
      from: '+14255550123',
    },
    'recordings/js-assets-ec9512b489/when_sending_sms.throws_an_exception_when_sending_from_an_invalid_number.json': {
      owned: [OWNED],
      from: '+1425555012345',
    },
    'recordings/js-assets-ec9512b489/opt_outs_client.optout_add_must_return_as_many_results_as_there_were_recipients.json': {
      owned: [OWNED],
      from: OWNED,
    },
    // The recorded check answered isOptedOut true: an earlier test had added the number.
    'recordings/js-assets-ec9512b489/opt_outs_client.optout_check_must_return_as_many_results_as_there_were_recipients.json': {
      owned: [OWNED],
      from: OWNED,
      optedOut: ['+14255550123'],
    },
    'recordings/js-assets-ec9512b489/opt_outs_client.optout_remove_must_return_as_many_results_as_there_were_recipients.json': {
      owned: [OWNED],
      from: OWNED,
    },
    'recordings/js-assets-89bfd33d/opt_outs_client.optout_full_flow.json': { owned: [OWNED], from: OWNED },
    // 2022: AZURE_PHONE_NUMBER was written as "+14255550123" in the bodies.
    'recordings/js-2022-04/live_test_send_method.can_send_an_sms_message.json': { owned: ['+14255550123'], from: '+14255550123' },
    'recordings/js-2022-04/live_test_send_method.can_send_an_sms_message_to_multiple_recipients.json': {
      owned: ['+14255550123'],
      from: '+14255550123',
    },
    'recordings/js-2022-04/live_test_send_method.throws_an_exception_when_sending_from_an_invalid_number.json': {
      owned: ['+14255550123'],
      from: '+1425555012345',
    },
    // The live test sends from the literal "+14255550123", which the test resource did not own.
    'recordings/js-2022-04/live_test_send_method.throws_an_exception_when_sending_from_a_number_you_dont_own.json': {
      owned: [OWNED],
      from: '+14255550123',
    },
  };

  it('covers every recording in the index', () => {
    expect(Object.keys(CASES).sort()).toEqual(
      publishedIndex()
        .filter((s) => s.kind === 'sdk-recording')
        .map((s) => s.file)
        .sort(),
    );
  });

  for (const [file, replay] of Object.entries(CASES)) {
    it(file.replace(/^recordings\//, ''), async () => {
      const recording = JSON.parse(publishedText(file)) as Recording;
      setUp(replay.owned);
      for (const to of replay.optedOut ?? []) {
        await acsCall(emulator, 'POST', '/sms/optouts:add?api-version=2026-01-23', { from: replay.from, recipients: [{ to }] });
      }
      const ids: string[] = [];
      for (const [n, entry] of recording.Entries.entries()) {
        const url = new URL(entry.RequestUri);
        const body = structuredClone(entry.RequestBody);
        body.from = replay.from;
        // The recorder's placeholders: a fresh GUID, and the first-sent SmsClient sends (now).
        for (const [i, r] of (body.smsRecipients ?? []).entries()) {
          r.repeatabilityRequestId = randomUUID();
          r.repeatabilityFirstSent = new Date().toUTCString();
          if (replay.to?.[i]) r.to = replay.to[i];
        }
        const answer = await acsCall(emulator, entry.RequestMethod as 'POST', `${url.pathname}${url.search}`, body);
        expect(answer.status, `entry ${n}`).toBe(entry.StatusCode);

        const recordedVersions = entry.ResponseHeaders['api-supported-versions'];
        if (recordedVersions === undefined) expect(answer.headers['api-supported-versions'], `entry ${n}`).toBeUndefined();
        else
          expect(
            String(answer.headers['api-supported-versions']).split(', ').slice(0, recordedVersions.split(', ').length),
          ).toEqual(recordedVersions.split(', '));

        if (!Array.isArray(entry.ResponseBody?.value)) {
          expect(answer.body, `entry ${n}`).toEqual(entry.ResponseBody);
          continue;
        }
        expect(answer.body.value).toHaveLength(entry.ResponseBody.value.length);
        for (const [i, want] of (entry.ResponseBody.value as Array<Record<string, unknown>>).entries()) {
          const got = answer.body.value[i];
          const { messageId: wantId, to: _wantTo, ...wantRest } = want;
          const { messageId: gotId, to: gotTo, ...gotRest } = got;
          expect(gotRest, `entry ${n} item ${i}`).toEqual(wantRest);
          expect(gotTo).toBe(body.smsRecipients?.[i]?.to ?? body.recipients?.[i]?.to);
          if (wantId === undefined) expect(gotId).toBeUndefined();
          else {
            expect(idFamily(gotId), `entry ${n} item ${i}`).toBe(idFamily(wantId as string));
            ids.push(gotId);
          }
        }
      }
      // "sends a new message each time send is called": the ids differ.
      expect(new Set(ids).size).toBe(ids.length);
    });
  }
});

// ---------------------------------------------------------------- event examples

interface Delivery {
  headers: IncomingHttpHeaders;
  method: string;
  body: PublishedJson;
}

/** An Event Grid webhook for either schema: answers both handshakes and records the rest. */
async function startSubscriber(): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? (JSON.parse(text) as PublishedJson) : undefined;
      if (req.method === 'OPTIONS') {
        res.writeHead(200, { 'webhook-allowed-origin': String(req.headers['webhook-request-origin']) }).end();
        return;
      }
      if (req.headers['aeg-event-type'] === 'SubscriptionValidation') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ validationResponse: body[0].data.validationCode }));
        return;
      }
      deliveries.push({ headers: req.headers, method: req.method ?? '', body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/runtime/webhooks/EventGrid?functionName=x`,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('SMS event examples: the emulator writes what they show', () => {
  const SENDER = '+18005550100';
  const HANDSET = '+14255550123';

  /** The settings that make the emulator write the form of one example. */
  function formsFor(file: string): SettingsPatch {
    return {
      forms: {
        dataCasing: file.includes('.pascal.') ? 'pascal' : 'camel',
        tagProperty: file.includes('.Tag.') ? 'Tag' : 'tag',
        cloudEventsSpecVersionKey: file.includes('.specVersion.') ? 'specVersion' : 'specversion',
      },
    };
  }

  for (const example of publishedSmsEvents()) {
    it(`${example.file}: same keys in the same order, ids, numbers and timestamps in the same forms`, async () => {
      const raw = published(example.file);
      const want = Array.isArray(raw) ? raw[0] : raw;
      setUp([SENDER], formsFor(example.file));
      const subscriber = await startSubscriber();
      try {
        await emulator.addSubscriber(subscriber.url, { schema: example.schema });
        const report = example.type.endsWith('DeliveryReportReceived');
        if (report) {
          const tag = want.data.Tag ?? want.data.tag;
          await acsCall(emulator, 'POST', '/sms?api-version=2021-03-07', {
            from: SENDER,
            smsRecipients: [
              { to: HANDSET, repeatabilityRequestId: randomUUID(), repeatabilityFirstSent: new Date().toUTCString() },
            ],
            message: 'Great to connect with ACS events',
            smsSendOptions: { enableDeliveryReport: true, ...(tag ? { tag } : {}) },
          });
        } else {
          await emulator.injectInbound({ from: HANDSET, to: SENDER, message: 'Great to connect with ACS events' });
        }
        await emulator.idle();
        expect(subscriber.deliveries).toHaveLength(1);
        const got = subscriber.deliveries[0]!.body[0];

        // SegmentCount: the emulator always writes it (the swagger requires it); one older example lacks it.
        const wantShape = keysDeep(want);
        const gotShape = keysDeep(got);
        if (!report && !JSON.stringify(want).includes('egmentCount')) {
          expect(JSON.stringify(gotShape)).toContain('egmentCount');
          const strip = (shape: unknown): unknown =>
            Array.isArray(shape)
              ? shape.filter((e) => !(Array.isArray(e) && /^[sS]egmentCount$/.test(String(e[0])))).map(strip)
              : shape;
          expect(strip(gotShape)).toEqual(wantShape);
        } else {
          expect(gotShape).toEqual(wantShape);
        }

        const d = (o: PublishedJson, camel: string) => o.data[camel] ?? o.data[camel[0]!.toUpperCase() + camel.slice(1)];
        expect(idFamily(got.id)).toBe(idFamily(want.id));
        expect(idFamily(d(got, 'messageId'))).toBe(idFamily(d(want, 'messageId')));
        expect(numberForm(d(got, 'from'))).toBe(numberForm(d(want, 'from')));
        expect(numberForm(d(got, 'to'))).toBe(numberForm(d(want, 'to')));
        expect(got.subject).toMatch(/^\/phonenumber\/\d+$/);
        const time = example.schema === 'CloudEventSchemaV1_0' ? 'time' : 'eventTime';
        expect(timeForm(got[time])).toBe(timeForm(want[time]));
        if (report) {
          expect(timeForm(d(got, 'receivedTimestamp'))).toBe(timeForm(d(want, 'receivedTimestamp')));
          const attempt = (o: PublishedJson) => d(o, 'deliveryAttempts')[0];
          expect(timeForm(attempt(got).timestamp ?? attempt(got).Timestamp)).toBe(
            timeForm(attempt(want).timestamp ?? attempt(want).Timestamp),
          );
          expect(d(got, 'deliveryStatusDetails')).toBe(d(want, 'deliveryStatusDetails'));
          expect(d(got, 'deliveryStatus')).toBe(d(want, 'deliveryStatus'));
        } else {
          // "2020-09-18T00:27:45.32Z": a fraction without trailing zeros (up to 7 digits).
          expect(['trailing zeros trimmed', '7 digits', 'whole seconds']).toContain(timeForm(d(got, 'receivedTimestamp')));
          expect(d(got, 'receivedTimestamp')).not.toMatch(/0Z$/);
        }
        if (example.schema === 'EventGridSchema') {
          expect({ dataVersion: got.dataVersion, metadataVersion: got.metadataVersion }).toEqual({
            dataVersion: want.dataVersion,
            metadataVersion: want.metadataVersion,
          });
        }
        expect(subscriber.deliveries[0]!.headers['content-type']).toBe(
          example.schema === 'CloudEventSchemaV1_0'
            ? 'application/cloudevents+json; charset=utf-8'
            : 'application/json; charset=utf-8',
        );
      } finally {
        await subscriber.close();
      }
    });
  }

  it('eventgrid-webhook/subscription_validation_event: the handshake event has the documented shape', async () => {
    const [want] = published('eventgrid-webhook/subscription_validation_event.53f11ed0.json');
    const seen: PublishedJson[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const [event] = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        seen.push(event);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ validationResponse: event.data.validationCode }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await emulator.addSubscriber(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const [got] = seen;
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      expect(Object.keys(got.data).sort()).toEqual(Object.keys(want.data).sort());
      expect({
        subject: got.subject,
        eventType: got.eventType,
        dataVersion: got.dataVersion,
        metadataVersion: got.metadataVersion,
      }).toEqual({
        subject: want.subject,
        eventType: want.eventType,
        dataVersion: want.dataVersion,
        metadataVersion: want.metadataVersion,
      });
      expect(timeForm(got.eventTime)).toBe(timeForm(want.eventTime));
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('the fixtures are the published bytes (lengths as recorded in index.json)', () => {
    for (const source of publishedIndex()) expect([...publishedText(source.file)].length, source.file).toBe(source.chars);
  });
});
