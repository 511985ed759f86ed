// Microsoft's published SMS events, verbatim, through the local host into the pipeline
// (test/fixtures/published): every example in both schemas and both casings moves the right
// message to the right state; a failed report in the published form — with and without its code —
// records the carrier opt-out for 4007; and a report whose id is decorated differently from the
// send response settles its message at once.
import { randomUUID } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineEvent } from '../../shared/domain/events.js';
import { messageIdOf, newBatchId } from '../../shared/domain/ids.js';
import { newMessageRecord, moveTo, type MessageRecord } from '../../shared/domain/message.js';
import { loadConfig } from '../../shared/config.js';
import { buildServices, type Services } from '../../shared/composition.js';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';
import { published, publishedSmsEvents, publishedText, type PublishedJson } from '../support/publishedFixtures.js';

/** The number every example uses, for the handset and for our sender alike. */
const NUMBER = '+15555555555';
/** The example's message id as a 2021-03-07 send would have returned it: another decoration on purpose. */
const SENT_ID = 'Outgoing_202009180022138813a09b-0cbf-4304-9b03-1546683bb910_noam';
const EXAMPLE_GUID = 'd29ebbea-3341-4466-9690-0a03af35228e';
const CAMEL_REPORT = 'events/event-grid-schema/sms_delivery_report_received.camel.bb50bb08.json';
const CLOUD_EVENTS = 'application/cloudevents+json; charset=utf-8';

let stack: TestStack;
let services: Services;
let events: QueueClient;

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      SMS_SENDERS: JSON.stringify([{ number: NUMBER, type: 'tollFree', ratePerMinute: 6000 }]),
      // The app's events stay on the outbox queue, where the test reads them.
      STATUS_WEBHOOK_URLS: 'http://127.0.0.1:9/app-events',
      STATUS_WEBHOOK_SECRET: `whsec_${Buffer.from('a test secret of 32 bytes length').toString('base64')}`,
      'AzureWebJobs.dispatchEvents.Disabled': 'true',
    },
  });
  services = buildServices(loadConfig(stack.settings));
  events = new QueueClient(stack.storageConnectionString, 'sms-events');
});

afterAll(async () => {
  await stack?.stop();
}, 60_000);

interface View {
  status: string;
  acsMessageId?: string;
  error?: { code: string; message: string };
  history: Array<{ status: string; code?: string; codeSource?: string; reason?: string; deliveryAttempts?: unknown[] }>;
}

async function view(messageId: string): Promise<View> {
  const response = await stack.api(`messages/${messageId}`);
  expect(response.status).toBe(200);
  return (await response.json()) as View;
}

/** A message from the examples' number, handed to ACS and answered SENT_ID, which the index then points at. */
async function sentMessage(to = NUMBER): Promise<MessageRecord> {
  const acsMessageId = SENT_ID;
  const batchId = newBatchId();
  const record = newMessageRecord(
    { messageId: messageIdOf(batchId, 0), batchId, from: NUMBER, to, body: 'hi', deliveryReport: true, status: 'queued' },
    new Date(),
  );
  moveTo(record, 'sending', new Date());
  moveTo(record, 'sent', new Date());
  record.acsMessageId = acsMessageId;
  await services.messages.insertBatch([record]);
  await services.messages.indexAcsMessageIds([{ acsMessageId, messageId: record.messageId }]);
  return record;
}

function post(functionName: string, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${stack.hostUrl}/runtime/webhooks/EventGrid?functionName=${functionName}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

/** The bodies a subscription could deliver a published file as: the docs' arrays as they are, single events in a batch of one, CloudEvents also alone. */
function deliveries(file: string, schema: string): Array<{ how: string; body: string; headers: Record<string, string> }> {
  const text = publishedText(file);
  const contentType: Record<string, string> = schema === 'CloudEventSchemaV1_0' ? { 'content-type': CLOUD_EVENTS } : {};
  if (text.trimStart().startsWith('[')) return [{ how: 'as published', body: text, headers: contentType }];
  const out = [{ how: 'in a batch', body: `[${text}]`, headers: contentType }];
  if (schema === 'CloudEventSchemaV1_0') out.push({ how: 'alone', body: text, headers: contentType });
  return out;
}

const CASINGS = ['Notification', 'notification', 'NOTIFICATION'];

let handsets = 0;
/** A recipient of its own for a test case. */
const handset = () => `+1303555${String(1000 + ++handsets)}`;

describe('every published SMS event example, verbatim, through the local host', () => {
  const reports = publishedSmsEvents().filter((e) => e.type === 'Microsoft.Communication.SMSDeliveryReportReceived');
  const received = publishedSmsEvents().filter((e) => e.type === 'Microsoft.Communication.SMSReceived');

  it.each(reports.flatMap((e) => deliveries(e.file, e.schema).map((d, i) => ({ ...e, ...d, casing: CASINGS[i % 3]! }))))(
    'delivery report $file ($how, $casing) delivers its message, once',
    async ({ body, headers, casing }) => {
      const record = await sentMessage();
      const response = await post('deliveryReports', body, { ...headers, 'aeg-event-type': casing });
      expect(response.status).toBe(202);
      const after = await view(record.messageId);
      expect(after.status).toBe('delivered');
      expect(after.acsMessageId).toBe(SENT_ID);
      expect(after.history.at(-1)).toMatchObject({
        status: 'delivered',
        reason: 'No error.',
        code: '2000',
        codeSource: 'text',
        deliveryAttempts: [{ timestamp: '2020-09-18T00:22:14.9315918Z', segmentsSucceeded: 1, segmentsFailed: 0 }],
      });
      // Event Grid delivers at least once: the same delivery again changes nothing.
      expect((await post('deliveryReports', body, { ...headers, 'aeg-event-type': casing })).status).toBe(202);
      expect(await view(record.messageId)).toEqual(after);
    },
  );

  it.each(received.flatMap((e) => deliveries(e.file, e.schema).map((d, i) => ({ ...e, ...d, casing: CASINGS[(i + 1) % 3]! }))))(
    'SMSReceived $file ($how, $casing) lands in the conversation of 15555555555, once',
    async ({ file, body, headers, casing }) => {
      // Every example has the same id; a fresh GUID in its place makes each a text of its own.
      const guid = randomUUID();
      const fresh = body.replaceAll(EXAMPLE_GUID, guid);
      const inboundMessageId = `20200918002745${guid}`;
      const example: PublishedJson = published(file);
      const { data } = Array.isArray(example) ? example[0] : example;
      const message: string = data.message ?? data.Message;
      const thread = async () =>
        (
          (await (await stack.api(`conversations/15555555555?from=${encodeURIComponent(NUMBER)}`)).json()) as {
            messages: Array<{ direction: string; body: string; inboundMessageId?: string }>;
          }
        ).messages.filter((m) => m.inboundMessageId === inboundMessageId);

      expect((await post('inboundSms', fresh, { ...headers, 'aeg-event-type': casing })).status).toBe(202);
      expect(await thread()).toEqual([expect.objectContaining({ direction: 'inbound', body: message })]);
      expect((await post('inboundSms', fresh, { ...headers, 'aeg-event-type': casing })).status).toBe(202);
      expect(await thread()).toHaveLength(1);
    },
  );
});

/** The outbox's events of `type` about `recipient`, read without taking them off the queue. */
async function optOutEvents(recipient: string): Promise<PipelineEvent[]> {
  const found: PipelineEvent[] = [];
  const { peekedMessageItems } = await events.peekMessages({ numberOfMessages: 32 });
  for (const m of peekedMessageItems) {
    const message = JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as { events: PipelineEvent[] };
    found.push(
      ...message.events.filter(
        (e) => e.type === 'sms.optout.added' && (e.data as { recipient?: string }).recipient === recipient,
      ),
    );
  }
  return found;
}

describe('a Failed report in the published form', () => {
  /** The published camelCase report for `record`'s recipient, failed with `details`. */
  function failed(record: MessageRecord, details: string): string {
    const event = structuredClone(published(CAMEL_REPORT));
    event.data.to = record.to;
    event.data.deliveryStatus = 'Failed';
    event.data.deliveryStatusDetails = details;
    return JSON.stringify([event]);
  }

  it.each([
    ["the SMS FAQ's text, no code", 'Sender blocked for given recipient.'],
    ['"4007: " and the text', '4007: Sender blocked for given recipient.'],
  ])('with 4007 as %s records the carrier opt-out, once', async (_name, details) => {
    // Each case its own recipient (the sender is the examples' number), so each opt-out is new.
    const record = await sentMessage(handset());
    for (let i = 0; i < 2; i++) {
      expect((await post('deliveryReports', failed(record, details), { 'aeg-event-type': 'Notification' })).status).toBe(202);
    }
    const after = await view(record.messageId);
    expect(after.status).toBe('failed');
    expect(after.error).toEqual({ code: '4007', message: details });
    const status = (await (await stack.api(`opt-outs/${encodeURIComponent(record.to)}`)).json()) as {
      senders: Array<{ sender: string; optedOut: boolean; source?: string }>;
    };
    expect(status.senders.find((s) => s.sender === NUMBER)).toMatchObject({ optedOut: true, source: 'carrier' });
    const history = (await (await stack.api(`opt-outs/${encodeURIComponent(record.to)}/history`)).json()) as {
      entries: unknown[];
    };
    expect(history.entries).toHaveLength(1);
    await waitFor(async () => ((await optOutEvents(record.to)).length === 1 ? true : undefined), 10_000, 'one sms.optout.added');
  });

  it('with a code table text: failed with that code, no opt-out; with an unknown text: failed, no code, the text kept', async () => {
    const blocked = await sentMessage();
    await post('deliveryReports', failed(blocked, 'Message is blocked by Destination carrier.'), {
      'aeg-event-type': 'Notification',
    });
    expect(await view(blocked.messageId)).toMatchObject({ status: 'failed', error: { code: '4005' } });

    const unknown = await sentMessage();
    await post('deliveryReports', failed(unknown, 'Handset rejected the message (NACK 0x41).'), {
      'aeg-event-type': 'Notification',
    });
    const after = await view(unknown.messageId);
    expect(after).toMatchObject({
      status: 'failed',
      error: { code: 'delivery-failed', message: 'Handset rejected the message (NACK 0x41).' },
    });
    expect(after.history.at(-1)!.code).toBeUndefined();
    const status = (await (await stack.api(`opt-outs/${encodeURIComponent(NUMBER)}`)).json()) as {
      senders: Array<{ sender: string; optedOut: boolean }>;
    };
    expect(status.senders.find((s) => s.sender === NUMBER)?.optedOut).toBe(false);
  });
});

describe('a report whose id differs from the send response only by its decoration', () => {
  const forms = [
    { name: 'Outgoing_…_noam', send: { send: 'outgoing', suffix: '_noam' }, asEvent: (id: string) => id.replace(/_noam$/, '') },
    { name: 'no prefix', send: { send: 'bare', suffix: 'none' }, asEvent: (id: string) => `Outgoing_${id}` },
    {
      name: 'regional',
      send: { send: 'regional', suffix: 'none' },
      asEvent: (id: string) => {
        const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})_([0-9a-f-]{36})_/.exec(id)!;
        return `Outgoing_${m.slice(1, 7).join('')}${m[7]}`;
      },
    },
  ] as const;

  it.each(forms.flatMap((f) => [true, false].map((tagged) => ({ ...f, tagged }))))(
    'settles the message at once: send answered $name, report tagged: $tagged',
    async ({ send, asEvent, tagged }) => {
      stack.emulator.configure({ deliveryReports: { enabled: false }, forms: { messageIds: { ...send, events: 'published' } } });
      try {
        const to = handset();
        const response = await stack.postMessages({ to: [to], message: 'Decorations', from: NUMBER });
        const { batchId, messages } = (await response.json()) as { batchId: string; messages: Array<{ messageId: string }> };
        const messageId = messages[0]!.messageId;
        const sent = await waitFor(
          async () => ((await view(messageId)).status === 'sent' ? view(messageId) : undefined),
          20_000,
          'sent',
        );
        const event = structuredClone(published(CAMEL_REPORT));
        event.id = event.data.messageId = asEvent(sent.acsMessageId!);
        expect(event.data.messageId).not.toBe(sent.acsMessageId);
        event.data.from = NUMBER.slice(1);
        event.data.to = to;
        if (tagged) event.data.tag = batchId;
        const parkedBefore = stack.logs.filter((l) => l.includes('parked')).length;
        expect((await post('deliveryReports', JSON.stringify([event]), { 'aeg-event-type': 'Notification' })).status).toBe(202);
        // The host answers once the function has run: the message is settled by then, not parked.
        expect((await view(messageId)).status).toBe('delivered');
        expect(stack.logs.filter((l) => l.includes('parked')).length).toBe(parkedBefore);
      } finally {
        stack.emulator.reset();
      }
    },
  );
});
