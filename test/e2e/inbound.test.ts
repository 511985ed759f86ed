// Inbound SMS end to end on the local stack: texts injected at the ACS emulator (or the official
// example events posted to the host's Event Grid webhook), consent recorded and logged, replies
// through the send path reaching the handset, the forwarded events in the outbox, conversations
// in order with their links, the opt-out API, and erasure.
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineEvent, InboundEventData, ConsentEventData } from '../../shared/domain/events.js';
import { messageIdOf } from '../../shared/domain/ids.js';
import { DEFAULT_START_REPLY, DEFAULT_STOP_REPLY } from '../../shared/domain/keywords.js';
import { replyBatchId } from '../../shared/pipeline/replies.js';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';
import { OFFICIAL_SMS_RECEIVED } from '../support/acsExamples.js';

const TOLL_FREE = '+18005550100';
const SHORT_CODE = '+18005550199';
const handset = (i: number) => `+1303555${String(i).padStart(4, '0')}`;

let stack: TestStack;
let events: QueueClient;
const seen: PipelineEvent[] = [];

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      SMS_SENDERS: JSON.stringify([
        { number: TOLL_FREE, type: 'tollFree', ratePerMinute: 6000 },
        { number: SHORT_CODE, type: 'shortCode', ratePerMinute: 60000 },
      ]),
      INBOUND_REPLIES: JSON.stringify({ help: 'Acme alerts. Reply STOP to end.' }),
      ACS_OPT_OUT_MIRROR: 'true',
      // An app's webhook: its events go through the outbox queue, and with dispatching off they
      // stay there, where the test reads what the pipeline published for the app.
      STATUS_WEBHOOK_URLS: 'http://127.0.0.1:9/app-events',
      STATUS_WEBHOOK_SECRET: `whsec_${Buffer.from('a test secret of 32 bytes length').toString('base64')}`,
      'AzureWebJobs.dispatchEvents.Disabled': 'true',
    },
    // The short code's opt-outs are managed by the application (no ACS opt-out management):
    // ACS forwards STOP and START and lets the pipeline's confirmation through.
    emulator: { optOut: { keywordTypes: ['tollFree'] } },
  });
  events = new QueueClient(stack.storageConnectionString, 'sms-events');
}); // the e2e project's hook timeout: it covers waiting for a stack slot

afterAll(async () => {
  await stack?.stop();
}, 60_000);

/** Takes every message off the outbox queue into `seen`. */
async function drainEvents(): Promise<PipelineEvent[]> {
  for (;;) {
    const { receivedMessageItems } = await events.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
    if (receivedMessageItems.length === 0) return seen;
    for (const m of receivedMessageItems) {
      const message = JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as { events: PipelineEvent[] };
      seen.push(...message.events);
      await events.deleteMessage(m.messageId, m.popReceipt);
    }
  }
}

async function eventsFor(type: string, match: (e: PipelineEvent) => boolean, what: string): Promise<PipelineEvent[]> {
  return waitFor(
    async () => {
      const found = (await drainEvents()).filter((e) => e.type === type && match(e));
      return found.length > 0 ? found : undefined;
    },
    20_000,
    what,
  );
}

async function getJson<T>(path: string): Promise<T> {
  const response = await stack.api(path);
  expect(response.status, `${path}: ${response.status}`).toBe(200);
  return (await response.json()) as T;
}

interface Status {
  optedOutEverywhere: boolean;
  senders: Array<{ sender: string; optedOut: boolean; via?: string; source?: string }>;
}
const optedOut = async (phone: string, sender: string) =>
  (await getJson<Status>(`opt-outs/${encodeURIComponent(phone)}`)).senders.find((s) => s.sender === sender)!.optedOut;

interface Thread {
  messages: Array<{
    direction: string;
    body: string;
    messageId?: string;
    inboundMessageId?: string;
    keyword?: string | null;
    inReplyTo?: { messageId: string };
  }>;
  continuationToken?: string;
}

async function send(to: string, message: string, from = SHORT_CODE): Promise<{ messageId: string; status: string }> {
  const response = await stack.postMessages({ to, message, from });
  expect(response.status).toBe(202);
  return ((await response.json()) as { messages: Array<{ messageId: string; status: string }> }).messages[0]!;
}

async function statusOf(messageId: string): Promise<string> {
  return (await getJson<{ status: string }>(`messages/${messageId}`)).status;
}

const inboxTexts = (phone: string) => stack.emulator.inbox(phone).map((m) => m.message);

describe('STOP and START from a handset', () => {
  it('short code: STOP is recorded and logged, confirmed to the handset, forwarded to the app; a later send is suppressed; START reverses it', async () => {
    const person = handset(1);
    const stopId = await stack.emulator.injectInbound({ from: person, to: SHORT_CODE, message: '  stop ' });
    const inboundId = stopId.replace(/^Incoming_/, '');

    await waitFor(async () => ((await optedOut(person, SHORT_CODE)) ? true : undefined), 20_000, 'opt-out recorded');
    expect(await optedOut(person, TOLL_FREE)).toBe(false);
    // ACS saw the STOP itself; the pipeline does not add it to ACS's list for this number (that
    // would block its own confirmation).
    expect(stack.emulator.optOuts().filter((o) => o.to === person)).toEqual([]);
    const history = await getJson<{ entries: Array<Record<string, unknown>> }>(`opt-outs/${person}/history`);
    expect(history.entries).toEqual([
      expect.objectContaining({
        action: 'optOut',
        sender: SHORT_CODE,
        recipient: person,
        source: 'keyword',
        keyword: 'STOP',
        inboundMessageId: inboundId,
        applied: true,
      }),
    ]);

    // The confirmation went through the normal send path: a record, visible, delivered.
    await waitFor(
      async () => (inboxTexts(person).includes(DEFAULT_STOP_REPLY) ? true : undefined),
      20_000,
      'STOP confirmation in the inbox',
    );
    const [inbound] = await eventsFor(
      'sms.inbound.received',
      (e) => (e.data as InboundEventData).inboundMessageId === inboundId,
      'forwarded STOP',
    );
    const receivedAt = new Date((inbound!.data as InboundEventData).receivedAt);
    const replyId = messageIdOf(replyBatchId(inboundId, receivedAt), 0);
    const reply = await getJson<{ status: string; tag: string; to: string; from: string }>(`messages/${replyId}`);
    expect(reply).toMatchObject({ to: person, from: SHORT_CODE, tag: 'auto-reply' });
    expect(inbound!.data).toMatchObject({ from: person, to: SHORT_CODE, message: '  stop ', keyword: 'optOut' });
    const [added] = await eventsFor(
      'sms.optout.added',
      (e) => (e.data as ConsentEventData).recipient === person,
      'sms.optout.added',
    );
    expect(added!.data).toMatchObject({ sender: SHORT_CODE, source: 'keyword', inboundMessageId: inboundId });

    const blocked = await send(person, 'Big sale this weekend');
    expect(blocked.status).toBe('suppressed');
    expect(await statusOf(blocked.messageId)).toBe('suppressed');

    await stack.emulator.injectInbound({ from: person, to: SHORT_CODE, message: 'Start' });
    await waitFor(async () => ((await optedOut(person, SHORT_CODE)) ? undefined : true), 20_000, 'opt-out lifted');
    await waitFor(
      async () => (inboxTexts(person).includes(DEFAULT_START_REPLY) ? true : undefined),
      20_000,
      'START confirmation',
    );
    await eventsFor('sms.optout.removed', (e) => (e.data as ConsentEventData).recipient === person, 'sms.optout.removed');
    const allowed = await send(person, 'Welcome back');
    await waitFor(
      async () => ((await statusOf(allowed.messageId)) === 'delivered' ? true : undefined),
      20_000,
      'delivered after START',
    );
    expect(inboxTexts(person)).toEqual([DEFAULT_STOP_REPLY, DEFAULT_START_REPLY, 'Welcome back']);
  }, 120_000);

  it('toll-free: the carrier answers STOP, the pipeline records it and sends nothing of its own', async () => {
    const person = handset(2);
    const stopId = (await stack.emulator.injectInbound({ from: person, to: TOLL_FREE, message: 'Stop' })).replace(
      /^Incoming_/,
      '',
    );
    const [inbound] = await eventsFor(
      'sms.inbound.received',
      (e) => (e.data as InboundEventData).inboundMessageId === stopId,
      'forwarded STOP',
    );
    expect(await optedOut(person, TOLL_FREE)).toBe(true);
    // No reply record exists: the only text in the inbox is the carrier's (the emulator's) own.
    const replyId = messageIdOf(replyBatchId(stopId, new Date((inbound!.data as InboundEventData).receivedAt)), 0);
    expect((await stack.api(`messages/${replyId}`)).status).toBe(404);
    expect(inboxTexts(person)).toEqual([DEFAULT_STOP_REPLY]);
    expect(stack.emulator.sends().filter((s) => s.to === person)).toEqual([]);
    expect((await send(person, 'hello', TOLL_FREE)).status).toBe('suppressed');
  }, 60_000);

  it('"Please stop by the office" is an ordinary message; HELP gets the configured text', async () => {
    const person = handset(3);
    const id = (
      await stack.emulator.injectInbound({ from: person, to: SHORT_CODE, message: 'Please stop by the office' })
    ).replace(/^Incoming_/, '');
    const [event] = await eventsFor(
      'sms.inbound.received',
      (e) => (e.data as InboundEventData).inboundMessageId === id,
      'forwarded message',
    );
    expect((event!.data as InboundEventData).keyword).toBeNull();
    expect(await optedOut(person, SHORT_CODE)).toBe(false);
    await stack.emulator.injectInbound({ from: person, to: SHORT_CODE, message: 'help' });
    await waitFor(
      async () => (inboxTexts(person).includes('Acme alerts. Reply STOP to end.') ? true : undefined),
      20_000,
      'HELP reply',
    );
  }, 60_000);
});

describe('Event Grid deliveries', () => {
  const webhook = () => `${stack.hostUrl}/runtime/webhooks/EventGrid?functionName=inboundSms`;
  const post = (body: unknown, headers: Record<string, string> = { 'aeg-event-type': 'Notification' }) =>
    fetch(webhook(), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('accepts the official SMSReceived examples: Event Grid schema, PascalCase data, CloudEvents', async () => {
    const official = [OFFICIAL_SMS_RECEIVED];
    expect((await post(official)).status).toBe(202);

    const pascal = [
      {
        ...official[0],
        id: 'Incoming_20200918002745d29ebbea-3341-4466-9690-0a03af35228f',
        data: {
          MessageId: 'Incoming_20200918002745d29ebbea-3341-4466-9690-0a03af35228f',
          From: '15555555555',
          To: '15555555555',
          Message: 'PascalCase works too',
          ReceivedTimestamp: '2020-09-18T00:28:45.32Z',
          SegmentCount: 1,
        },
      },
    ];
    expect((await post(pascal)).status).toBe(202);

    const cloudEvent = [
      {
        specversion: '1.0',
        id: '6b9c5a3e-0000-4000-8000-000000000001',
        source: official[0]!.topic,
        subject: '/phonenumber/15555555555',
        type: 'Microsoft.Communication.SMSReceived',
        time: '2020-09-18T00:29:47Z',
        datacontenttype: 'application/json',
        data: {
          ...official[0]!.data,
          messageId: 'Incoming_20200918002945d29ebbea-3341-4466-9690-0a03af352290',
          message: 'And as a CloudEvent',
          receivedTimestamp: '2020-09-18T00:29:45.32Z',
        },
      },
    ];
    // Event Grid sends aeg-event-type with CloudEvents too (only the content type differs), and the host requires it.
    const cloudHeaders = {
      'content-type': 'application/cloudevents-batch+json; charset=utf-8',
      'aeg-event-type': 'Notification',
    };
    expect((await post(cloudEvent, cloudHeaders)).status).toBe(202);

    const thread = await getJson<Thread>('conversations/15555555555?from=15555555555');
    expect(thread.messages.map((m) => [m.direction, m.body])).toEqual([
      ['inbound', 'And as a CloudEvent'],
      ['inbound', 'PascalCase works too'],
      ['inbound', 'Great to connect with Azure Communication Services events'],
    ]);
    await eventsFor('sms.inbound.received', (e) => (e.data as InboundEventData).from === '+15555555555', 'forwarded examples');
    expect(
      seen.filter((e) => e.type === 'sms.inbound.received' && (e.data as InboundEventData).from === '+15555555555'),
    ).toHaveLength(3);
  }, 60_000);

  it('the same STOP delivered twice is recorded, confirmed and forwarded once', async () => {
    const person = handset(4);
    const id = 'Incoming_20261125100000aaaaaaaa-bbbb-4ccc-8ddd-000000000004';
    const event = [
      {
        id,
        topic: '/subscriptions/x/resourceGroups/y/providers/microsoft.communication/communicationservices/acs',
        subject: `/phonenumber/${SHORT_CODE.slice(1)}`,
        data: {
          messageId: id,
          from: person.slice(1),
          to: SHORT_CODE,
          message: 'STOP',
          receivedTimestamp: new Date().toISOString(),
          segmentCount: 1,
        },
        eventType: 'Microsoft.Communication.SMSReceived',
        dataVersion: '1.0',
        metadataVersion: '1',
        eventTime: new Date().toISOString(),
      },
    ];
    expect((await post(event)).status).toBe(202);
    expect((await post(event)).status).toBe(202);
    await waitFor(async () => (inboxTexts(person).includes(DEFAULT_STOP_REPLY) ? true : undefined), 20_000, 'confirmation');
    await stack.emulator.idle();
    await drainEvents();
    expect(inboxTexts(person)).toEqual([DEFAULT_STOP_REPLY]);
    expect((await getJson<{ entries: unknown[] }>(`opt-outs/${person}/history`)).entries).toHaveLength(1);
    expect(seen.filter((e) => e.type === 'sms.inbound.received' && (e.data as InboundEventData).from === person)).toHaveLength(1);
  }, 60_000);
});

describe('conversations', () => {
  it('alternating messages come back newest first, each reply linked to the message it answers; erasure leaves no text', async () => {
    const person = handset(5);
    const outbound: string[] = [];
    const inbound: string[] = [];
    for (let round = 0; round < 3; round++) {
      const sent = await send(person, `Question ${round}?`);
      outbound.push(sent.messageId);
      // The reply comes once the message is in the thread (recorded at the hand-over).
      await waitFor(
        async () =>
          (await getJson<Thread>(`conversations/${person}?from=${SHORT_CODE}`)).messages.some(
            (m) => m.messageId === sent.messageId,
          )
            ? true
            : undefined,
        20_000,
        `message ${round} in the thread`,
      );
      if (round < 2) {
        inbound.push(
          (await stack.emulator.injectInbound({ from: person, to: SHORT_CODE, message: `Answer ${round}` })).replace(
            /^Incoming_/,
            '',
          ),
        );
        await waitFor(
          async () =>
            (await getJson<Thread>(`conversations/${person}?from=${SHORT_CODE}`)).messages.some(
              (m) => m.inboundMessageId === inbound[round],
            )
              ? true
              : undefined,
          20_000,
          `answer ${round} in the thread`,
        );
      }
    }

    const page1 = await getJson<Thread>(
      `conversations/${encodeURIComponent(person)}?from=${encodeURIComponent(SHORT_CODE)}&limit=3`,
    );
    expect(page1.continuationToken).toBeDefined();
    const page2 = await getJson<Thread>(
      `conversations/${person}?from=${SHORT_CODE}&limit=3&continuationToken=${page1.continuationToken}`,
    );
    expect(page2.continuationToken).toBeUndefined();
    const all = [...page1.messages, ...page2.messages];
    expect(all.map((m) => `${m.direction}:${m.body}`)).toEqual([
      'outbound:Question 2?',
      'inbound:Answer 1',
      'outbound:Question 1?',
      'inbound:Answer 0',
      'outbound:Question 0?',
    ]);
    expect(all[1]!.inReplyTo?.messageId).toBe(outbound[1]);
    expect(all[3]!.inReplyTo?.messageId).toBe(outbound[0]);
    const forwarded = (await drainEvents()).filter(
      (e) => e.type === 'sms.inbound.received' && (e.data as InboundEventData).from === person,
    );
    expect(forwarded.map((e) => (e.data as InboundEventData).inReplyTo?.messageId)).toEqual([outbound[0], outbound[1]]);

    const bad = await stack.api(`conversations/${person}?from=${SHORT_CODE}&continuationToken=bm9wZQ`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: Array<{ field: string }> }).errors[0]!.field).toBe('continuationToken');

    // Erasure: the texts are gone from everything the API shows; the consent log is kept.
    await stack.emulator.injectInbound({ from: person, to: SHORT_CODE, message: 'STOP' });
    await waitFor(async () => ((await optedOut(person, SHORT_CODE)) ? true : undefined), 20_000, 'opt-out');
    await waitFor(
      async () =>
        (await getJson<Thread>(`conversations/${person}?from=${SHORT_CODE}`)).messages.some((m) => m.body === DEFAULT_STOP_REPLY)
          ? true
          : undefined,
      20_000,
      'STOP confirmation in the thread',
    );
    const erased = await stack.api(`subjects/${person}`, { method: 'DELETE' });
    expect(erased.status).toBe(200);
    const report = (await erased.json()) as {
      erased: Record<string, number>;
      kept: Array<{ data: string; count?: number; why: string }>;
    };
    // Three questions and the STOP confirmation; two answers and the STOP.
    expect(report.erased).toEqual({ messageTexts: 4, conversationEntries: 7, canceledMessages: 0, trackedLinks: 0 });
    expect(report.kept.find((k) => k.data === 'consent log')).toMatchObject({ count: 1 });
    expect(report.kept.find((k) => k.data === 'opt-outs in force')).toMatchObject({ count: 1 });

    const after = await getJson<Thread>(`conversations/${person}?from=${SHORT_CODE}`);
    expect(after.messages).toEqual([]);
    for (const id of outbound) {
      const text = await (await stack.api(`messages/${id}`)).text();
      for (let round = 0; round < 3; round++) expect(text).not.toContain(`Question ${round}`);
    }
    expect((await getJson<{ entries: unknown[] }>(`opt-outs/${person}/history`)).entries).toHaveLength(1);
  }, 150_000);
});

describe('the opt-out API', () => {
  it('PUT with a reason, GET per sender and overall, list as JSON and CSV, history, DELETE', async () => {
    const person = handset(6);
    const put = await stack.api(`opt-outs/${person}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'asked by phone, ticket 4711' }),
    });
    expect(put.status).toBe(200);
    const added = (await put.json()) as { acsMirror: Array<{ sender: string; ok: boolean }> };
    expect(added).toMatchObject({
      optedOutEverywhere: true,
      changes: [{ sender: '*', source: 'api', reason: 'asked by phone, ticket 4711' }],
    });
    // Mirrored to ACS's own list for every number of the pool, so ACS blocks sends from outside the pipeline too.
    expect(added.acsMirror.map((m) => [m.sender, m.ok]).sort()).toEqual(
      [
        [TOLL_FREE, true],
        [SHORT_CODE, true],
      ].sort(),
    );
    expect(
      stack.emulator
        .optOuts()
        .filter((o) => o.to === person)
        .map((o) => o.from)
        .sort(),
    ).toEqual([TOLL_FREE, SHORT_CODE].sort());
    expect((await send(person, 'hello')).status).toBe('suppressed');

    const status = await getJson<Status>(`opt-outs/${person.slice(1)}`);
    expect(status.senders.map((s) => [s.sender, s.optedOut, s.via])).toEqual([
      [TOLL_FREE, true, 'pool'],
      [SHORT_CODE, true, 'pool'],
    ]);

    const list = await getJson<{ items: Array<{ sender: string; recipient: string }> }>('opt-outs?from=*&limit=1000');
    expect(list.items).toContainEqual(expect.objectContaining({ sender: '*', recipient: person }));
    const csv = await stack.api('opt-outs?from=*', { headers: { accept: 'text/csv' } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await csv.text();
    expect(text.split('\r\n')[0]).toBe('sender,recipient,source,keyword,reason,inboundMessageId,at');
    expect(text).toContain(`*,${person},api,,"asked by phone, ticket 4711",,`);

    const bad = await stack.api(`opt-outs/${person}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+19995550100' }),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/);
    expect(((await bad.json()) as { errors: Array<{ field: string }> }).errors.map((e) => e.field).sort()).toEqual(['reason']);
    expect((await stack.api('opt-outs/12', { method: 'GET' })).status).toBe(400);

    const removed = await stack.api(`opt-outs/${person}?reason=asked+to+resume`, { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toMatchObject({ optedOutEverywhere: false, changes: [{ action: 'optIn', sender: '*' }] });
    expect(stack.emulator.optOuts().filter((o) => o.to === person)).toEqual([]);
    const history = await getJson<{ entries: Array<{ action: string; reason?: string }> }>(`opt-outs/${person}/history`);
    expect(history.entries.map((e) => [e.action, e.reason])).toEqual([
      ['optOut', 'asked by phone, ticket 4711'],
      ['optIn', 'asked to resume'],
    ]);
    const types = (await drainEvents()).filter((e) => (e.data as ConsentEventData).recipient === person).map((e) => e.type);
    expect(types).toEqual(['sms.optout.added', 'sms.optout.removed']);
  }, 60_000);
});

describe('privacy of the logs', () => {
  it('no log line of all the above holds a full phone number or a text', () => {
    const texts = ['Please stop by the office', 'Question 0?', 'Answer 0', 'asked by phone, ticket 4711', 'Great to connect'];
    for (const line of stack.logs) {
      for (let i = 1; i <= 6; i++) expect(line, line).not.toContain(handset(i).slice(2));
      for (const text of texts) expect(line, line).not.toContain(text);
    }
  });
});
