// Inbound texts against fakes of the ports: keywords per sender, consent changes in order, replies
// through the send path, conversation links, the forwarded events, and redelivery.
import type { SendJobV1 } from '../../shared/domain/sendJob.js';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Sender } from '../../shared/domain/sender.js';
import { DEFAULT_STOP_REPLY, DEFAULT_START_REPLY, DEFAULT_HELP_REPLY } from '../../shared/domain/keywords.js';
import { DEFAULT_INBOUND_POLICY, type InboundPolicy } from '../../shared/domain/inboundPolicy.js';
import type { InboundEventData, ConsentEventData } from '../../shared/domain/events.js';
import { receiveInboundSms, type InboundDeps } from '../../shared/pipeline/inboundSms.js';
import { processSendJob } from '../../shared/pipeline/send/processSendJob.js';
import { publishingSink } from '../../shared/pipeline/statusEvents.js';
import { OFFICIAL_SMS_RECEIVED } from '../support/acsExamples.js';
import {
  FakeClock,
  FakeConsentLog,
  FakeConversations,
  FakeDeadLetters,
  FakeGateway,
  FakeMessageStore,
  FakeOptOuts,
  FakeOutbox,
  FakeQueue,
  FakeRateLimiter,
  FakeTracker,
  RecordingSink,
  shortCode,
  silentLogger,
  tollFree,
  FakeSendingControls,
} from '../support/fakes.js';

const PERSON = '+14255550123';
const tenDlc: Sender = { number: '+14255550100', type: 'tenDlc', ratePerMinute: 200, burst: 3 };
const SOURCE = '/sms-pipeline/test';

let clock: FakeClock;
let messages: FakeMessageStore;
let queue: FakeQueue;
let optOuts: FakeOptOuts;
let consentLog: FakeConsentLog;
let conversations: FakeConversations;
let outbox: FakeOutbox;
let gateway: FakeGateway;
let policy: InboundPolicy;
let deps: InboundDeps;
let counter = 0;

beforeEach(() => {
  clock = new FakeClock();
  messages = new FakeMessageStore();
  queue = new FakeQueue();
  optOuts = new FakeOptOuts();
  consentLog = new FakeConsentLog();
  conversations = new FakeConversations();
  outbox = new FakeOutbox();
  gateway = new FakeGateway();
  policy = structuredClone(DEFAULT_INBOUND_POLICY);
  deps = {
    optOuts,
    consentLog,
    clock,
    log: silentLogger,
    senders: [tollFree, shortCode, tenDlc],
    eventSource: SOURCE,
    mirror: null,
    messages,
    queue,
    events: publishingSink(outbox, SOURCE),
    conversations,
    publisher: outbox,
    policy,
  };
});

/** An SMSReceived event in the Event Grid schema, as ACS sends it. */
function smsReceived(message: string, options: { from?: string; to?: string; at?: Date; id?: string } = {}) {
  const at = options.at ?? clock.now();
  const id = options.id ?? `Incoming_20261125100000${String(++counter).padStart(8, '0')}-aaaa-bbbb`;
  return {
    id,
    topic: '/subscriptions/x/resourceGroups/y/providers/microsoft.communication/communicationservices/acs',
    subject: `/phonenumber/${(options.to ?? shortCode.number).slice(1)}`,
    data: {
      messageId: id,
      from: (options.from ?? PERSON).replace('+', ''),
      to: options.to ?? shortCode.number,
      message,
      receivedTimestamp: at.toISOString(),
      segmentCount: 1,
    },
    eventType: 'Microsoft.Communication.SMSReceived',
    dataVersion: '1.0',
    metadataVersion: '1',
    eventTime: at.toISOString(),
  };
}

const published = (type: string) => outbox.published.filter((e) => e.type === type);

/** The next publish of an sms.inbound.received event fails, as when the queue is unavailable. */
function failNextInboundPublish(): void {
  const publish = outbox.publish.bind(outbox);
  let fail = true;
  outbox.publish = async (events) => {
    if (fail && events.some((e) => e.type === 'sms.inbound.received')) {
      fail = false;
      throw new Error('queue unavailable');
    }
    return publish(events);
  };
}

describe('keywords', () => {
  it('a whole-message STOP opts out of the number that received it; a sentence with "stop" in it does not', async () => {
    for (const text of ['Please stop by the office', 'stop it', 'STOP!!! now']) {
      const [outcome] = await receiveInboundSms(deps, smsReceived(text));
      expect(outcome).toMatchObject({ kind: 'processed', keyword: null });
    }
    expect(optOuts.entries.size).toBe(0);
    for (const text of ['  stop ', 'Stop', 'STOP', 'opt-out', 'Opt Out', 'unsubscribe.']) {
      const [outcome] = await receiveInboundSms(deps, smsReceived(text));
      expect(outcome, text).toMatchObject({ kind: 'processed', keyword: 'optOut' });
    }
    expect([...optOuts.entries]).toEqual([`${shortCode.number}|${PERSON}`]);
  });

  it('uses the lists configured for the receiving number', async () => {
    policy.keywords = { stop: ['STOP', 'ARRET'], senders: { [tenDlc.number]: { stop: ['HALT'], help: ['AIDE'] } } };
    expect((await receiveInboundSms(deps, smsReceived('arret')))[0]).toMatchObject({ keyword: 'optOut' });
    expect((await receiveInboundSms(deps, smsReceived('quit')))[0]).toMatchObject({ keyword: null });
    expect((await receiveInboundSms(deps, smsReceived('halt', { to: tenDlc.number })))[0]).toMatchObject({ keyword: 'optOut' });
    expect((await receiveInboundSms(deps, smsReceived('stop', { to: tenDlc.number })))[0]).toMatchObject({ keyword: null });
    expect((await receiveInboundSms(deps, smsReceived('aide', { to: tenDlc.number })))[0]).toMatchObject({ keyword: 'help' });
    expect((await receiveInboundSms(deps, smsReceived('start', { to: tenDlc.number })))[0]).toMatchObject({ keyword: 'optIn' });
  });
});

describe('STOP and START', () => {
  it('STOP records the opt-out and its consent log entry, queues the confirmation as the one message allowed, and tells the app', async () => {
    const event = smsReceived('Stop');
    const [outcome] = await receiveInboundSms(deps, event);
    expect(outcome).toMatchObject({ kind: 'processed', keyword: 'optOut', reply: expect.any(String) });

    expect(await optOuts.optedOut(shortCode.number, [PERSON])).toEqual(new Set([PERSON]));
    expect(consentLog.entries).toEqual([
      expect.objectContaining({
        action: 'optOut',
        sender: shortCode.number,
        recipient: PERSON,
        source: 'keyword',
        keyword: 'STOP',
        inboundMessageId: event.data.messageId.replace('Incoming_', ''),
        at: clock.now().toISOString(),
        applied: true,
      }),
    ]);

    expect(queue.jobs).toHaveLength(1);
    expect(queue.jobs[0]).toMatchObject({
      kind: 'optOutConfirmation',
      from: shortCode.number,
      message: DEFAULT_STOP_REPLY,
      recipients: [{ to: PERSON }],
    });
    const record = await messages.get(queue.jobs[0]!.recipients[0]!.messageId);
    expect(record).toMatchObject({ status: 'queued', to: PERSON, from: shortCode.number, tag: 'auto-reply' });

    const [inbound] = published('sms.inbound.received');
    expect(inbound!.data as InboundEventData).toMatchObject({
      from: PERSON,
      to: shortCode.number,
      message: 'Stop',
      keyword: 'optOut',
    });
    const [added] = published('sms.optout.added');
    expect(added!.data as ConsentEventData).toMatchObject({
      recipient: PERSON,
      sender: shortCode.number,
      source: 'keyword',
      keyword: 'STOP',
    });
  });

  it('the confirmation reaches an opted-out recipient; an ordinary message to them ends suppressed', async () => {
    await receiveInboundSms(deps, smsReceived('STOP'));
    const gatewayDeps = {
      messages,
      optOuts,
      queue,
      gateway: new FakeGateway(),
      rateLimiter: new FakeRateLimiter(clock),
      deadLetters: new FakeDeadLetters(),
      clock,
      log: silentLogger,
      senders: deps.senders,
      maxAttempts: 4,
      uncertainPolicy: 'atMostOnce' as const,
      controls: new FakeSendingControls(), // no pause, no hold
      allowedCountries: 'any' as const,
      conversations,
      events: new RecordingSink(),
      tracker: new FakeTracker(),
    };
    const job = queue.take()!;
    clock.advance(2_000);
    await processSendJob(gatewayDeps, job);
    expect(gatewayDeps.gateway.delivered).toEqual([`${PERSON}|${DEFAULT_STOP_REPLY}`]);
    expect((await messages.get(job.recipients[0]!.messageId))!.status).toBe('sent');
    // And it is in the thread, after the STOP it answers.
    const thread = await conversations.thread(shortCode.number, PERSON, { limit: 10 });
    expect(thread.items.map((e) => `${e.direction}:${e.body}`)).toEqual([`outbound:${DEFAULT_STOP_REPLY}`, 'inbound:STOP']);

    await processSendJob(gatewayDeps, {
      ...job,
      jobId: 'other.0',
      batchId: 'other',
      kind: 'message',
      recipients: [{ messageId: 'other-000', to: PERSON }],
    });
    expect((await messages.get('other-000'))!.status).toBe('suppressed');
  });

  it('START lifts the opt-out and confirms; HELP answers with the configured text', async () => {
    await receiveInboundSms(deps, smsReceived('STOP'));
    clock.advance(60_000);
    await receiveInboundSms(deps, smsReceived('start'));
    expect(optOuts.entries.size).toBe(0);
    expect(consentLog.entries.map((e) => e.action)).toEqual(['optOut', 'optIn']);
    expect(published('sms.optout.removed')).toHaveLength(1);
    expect(queue.jobs.map((j) => [j.kind, (j as SendJobV1).message])).toEqual([
      ['optOutConfirmation', DEFAULT_STOP_REPLY],
      ['message', DEFAULT_START_REPLY],
    ]);

    policy.replies = { senders: { [shortCode.number]: { help: 'Acme alerts: call 555-0100. Reply STOP to end.' } } };
    await receiveInboundSms(deps, smsReceived('help'));
    await receiveInboundSms(deps, smsReceived('INFO', { to: tenDlc.number }));
    expect(queue.jobs.slice(2).map((j) => [j.from, (j as SendJobV1).message])).toEqual([
      [shortCode.number, 'Acme alerts: call 555-0100. Reply STOP to end.'],
      [tenDlc.number, DEFAULT_HELP_REPLY],
    ]);
  });

  it('on toll-free numbers the carrier answers STOP and START: no reply of our own by default, HELP still answered', async () => {
    await receiveInboundSms(deps, smsReceived('STOP', { to: tollFree.number }));
    await receiveInboundSms(deps, smsReceived('START', { to: tollFree.number }));
    expect(queue.jobs).toHaveLength(0);
    expect(consentLog.entries).toHaveLength(2);
    await receiveInboundSms(deps, smsReceived('HELP', { to: tollFree.number }));
    expect(queue.jobs.map((j) => (j as SendJobV1).message)).toEqual([DEFAULT_HELP_REPLY]);

    // A type-level setting turns them on; a null turns one off.
    policy.replies = { types: { tollFree: { stop: 'Unsubscribed from Acme.' }, shortCode: { help: null } } };
    await receiveInboundSms(deps, smsReceived('STOP', { to: tollFree.number }));
    await receiveInboundSms(deps, smsReceived('HELP'));
    expect(queue.jobs.map((j) => (j as SendJobV1).message)).toEqual([DEFAULT_HELP_REPLY, 'Unsubscribed from Acme.']);
  });

  it('a STOP that arrives after a later START is logged but not applied, and not confirmed', async () => {
    const t0 = clock.now();
    await receiveInboundSms(deps, smsReceived('STOP', { at: t0 }));
    const stopAt = new Date(t0.getTime() + 60_000);
    const startAt = new Date(t0.getTime() + 65_000);
    await receiveInboundSms(deps, smsReceived('START', { at: startAt }));
    await receiveInboundSms(deps, smsReceived('STOP', { at: stopAt }));
    expect(optOuts.entries.size).toBe(0);
    const { items } = await consentLog.history(PERSON, { limit: 10 });
    expect(items.map((e) => [e.action, e.applied])).toEqual([
      ['optOut', true],
      ['optOut', false],
      ['optIn', true],
    ]);
    expect(items[1]!.note).toMatch(/later change/);
    expect(queue.jobs.map((j) => j.kind)).toEqual(['optOutConfirmation', 'message']); // nothing for the late STOP
    expect(published('sms.optout.added')).toHaveLength(1);
  });

  it('"Yes" from someone who is not opted out lifts nothing and gets no confirmation, but still orders a late STOP', async () => {
    const stopAt = clock.now();
    const yesAt = new Date(stopAt.getTime() + 5_000);
    const [outcome] = await receiveInboundSms(deps, smsReceived('Yes', { at: yesAt }));
    expect(outcome).toMatchObject({
      kind: 'processed',
      keyword: 'optIn',
      consent: [expect.objectContaining({ action: 'optIn', note: 'not opted out: nothing to lift' })],
    });
    expect(queue.jobs).toEqual([]);
    expect(published('sms.optout.removed')).toEqual([]);
    expect((published('sms.inbound.received')[0]!.data as InboundEventData).keyword).toBe('optIn');
    await receiveInboundSms(deps, smsReceived('STOP', { at: stopAt }));
    expect(optOuts.entries.size).toBe(0);
    expect(queue.jobs).toEqual([]);
  });

  it('a redelivered START that lifted an opt-out still confirms once; a redelivered quiet one still does not', async () => {
    await receiveInboundSms(deps, smsReceived('STOP'));
    clock.advance(60_000);
    const start = smsReceived('START');
    failNextInboundPublish();
    await expect(receiveInboundSms(deps, start)).rejects.toThrow('queue unavailable');
    await receiveInboundSms(deps, start);
    expect(queue.jobs.map((j) => (j as SendJobV1).message)).toEqual([DEFAULT_STOP_REPLY, DEFAULT_START_REPLY]);
    expect(published('sms.optout.removed')).toHaveLength(1);

    clock.advance(60_000);
    const yes = smsReceived('yes');
    failNextInboundPublish();
    await expect(receiveInboundSms(deps, yes)).rejects.toThrow('queue unavailable');
    await receiveInboundSms(deps, yes);
    expect(queue.jobs).toHaveLength(2);
  });
});

describe('scope', () => {
  it('scope "pool": a STOP to one number opts out of every number, START lifts it', async () => {
    policy.scope = 'pool';
    await receiveInboundSms(deps, smsReceived('STOP'));
    for (const s of deps.senders) expect(await optOuts.optedOut(s.number, [PERSON]), s.number).toEqual(new Set([PERSON]));
    expect(consentLog.entries[0]).toMatchObject({ sender: '*' });
    await receiveInboundSms(deps, smsReceived('START', { to: tenDlc.number }));
    for (const s of deps.senders) expect(await optOuts.optedOut(s.number, [PERSON]), s.number).toEqual(new Set());
  });

  it('scope "sender": START to one number narrows a pool-wide opt-out to the other numbers', async () => {
    await optOuts.add({
      sender: '*',
      recipient: PERSON,
      source: 'api',
      reason: 'asked by phone',
      at: '2026-11-01T00:00:00.000Z',
    });
    await receiveInboundSms(deps, smsReceived('START'));
    expect(await optOuts.optedOut(shortCode.number, [PERSON])).toEqual(new Set());
    expect(await optOuts.optedOut(tollFree.number, [PERSON])).toEqual(new Set([PERSON]));
    expect(await optOuts.optedOut(tenDlc.number, [PERSON])).toEqual(new Set([PERSON]));
    expect([...optOuts.entries].sort()).toEqual([`${tenDlc.number}|${PERSON}`, `${tollFree.number}|${PERSON}`].sort());
  });
});

describe('at-least-once delivery', () => {
  it('the same event twice changes nothing the second time and replies once', async () => {
    const event = smsReceived('STOP');
    await receiveInboundSms(deps, event);
    const before = {
      jobs: queue.jobs.length,
      log: consentLog.entries.length,
      events: outbox.published.length,
      thread: conversations.entries.size,
    };
    const [again] = await receiveInboundSms(deps, structuredClone(event));
    expect(again).toEqual({ kind: 'duplicate', inboundMessageId: event.data.messageId.replace('Incoming_', '') });
    expect({
      jobs: queue.jobs.length,
      log: consentLog.entries.length,
      events: outbox.published.length,
      thread: conversations.entries.size,
    }).toEqual(before);
    expect(before.jobs).toBe(1);
  });

  it('an interrupted first delivery is finished by the redelivery, with one reply and the same event ids', async () => {
    const event = smsReceived('STOP');
    failNextInboundPublish();
    await expect(receiveInboundSms(deps, event)).rejects.toThrow('queue unavailable');
    const [outcome] = await receiveInboundSms(deps, event);
    expect(outcome).toMatchObject({ kind: 'processed', keyword: 'optOut' });
    // The reply was queued by the first try; the second finds its record and does not add another.
    expect(queue.jobs).toHaveLength(1);
    expect(consentLog.entries).toHaveLength(1);
    const ids = outbox.published.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(published('sms.inbound.received')).toHaveLength(1);
  });
});

describe('conversations', () => {
  it('links a reply to the last message sent before it, and forwards the link', async () => {
    await conversations.recordOutbound([
      {
        ourNumber: shortCode.number,
        theirNumber: PERSON,
        direction: 'outbound',
        at: '2026-11-25T09:00:00.000Z',
        body: 'first',
        messageId: 'b1-000',
        batchId: 'b1',
      },
      {
        ourNumber: shortCode.number,
        theirNumber: PERSON,
        direction: 'outbound',
        at: '2026-11-25T09:30:00.000Z',
        body: 'second',
        messageId: 'b2-000',
        batchId: 'b2',
        tag: 'reminders',
        template: 'appointment-reminder@3',
      },
      {
        ourNumber: tollFree.number,
        theirNumber: PERSON,
        direction: 'outbound',
        at: '2026-11-25T09:45:00.000Z',
        body: 'other number',
        messageId: 'b3-000',
        batchId: 'b3',
      },
      {
        ourNumber: shortCode.number,
        theirNumber: PERSON,
        direction: 'outbound',
        at: '2026-11-25T10:30:00.000Z',
        body: 'later',
        messageId: 'b4-000',
        batchId: 'b4',
      },
    ]);
    const [outcome] = await receiveInboundSms(deps, smsReceived('Yes, 10:00 works', { at: new Date('2026-11-25T10:00:00Z') }));
    expect(outcome).toMatchObject({ kind: 'processed', keyword: null, inReplyTo: 'b2-000' });
    const [event] = published('sms.inbound.received');
    expect((event!.data as InboundEventData).inReplyTo).toEqual({
      messageId: 'b2-000',
      batchId: 'b2',
      tag: 'reminders',
      template: 'appointment-reminder@3',
      sentAt: '2026-11-25T09:30:00.000Z',
    });
    const thread = await conversations.thread(shortCode.number, PERSON, { limit: 10 });
    expect(thread.items.map((e) => e.body)).toEqual(['later', 'Yes, 10:00 works', 'second', 'first']);
  });
});

describe('payloads', () => {
  const official = OFFICIAL_SMS_RECEIVED;

  it('accepts the documented example, in an array, in PascalCase and as a CloudEvent', async () => {
    const pascal = {
      ...official,
      id: 'Incoming_20200918002745d29ebbea-3341-4466-9690-0a03af35228f',
      data: {
        MessageId: 'Incoming_20200918002745d29ebbea-3341-4466-9690-0a03af35228f',
        From: '15555555555',
        To: '15555555555',
        Message: 'Great to connect with Azure Communication Services events',
        ReceivedTimestamp: '2020-09-18T00:27:45.32Z',
        SegmentCount: 1,
      },
    };
    const cloud = {
      specversion: '1.0',
      id: 'ce-1',
      source: official.topic,
      subject: official.subject,
      type: 'Microsoft.Communication.SMSReceived',
      time: '2020-09-18T00:27:47Z',
      data: { ...official.data, messageId: 'Incoming_20200918002745d29ebbea-3341-4466-9690-0a03af352290', from: '+15555555555' },
    };
    const outcomes = await receiveInboundSms(deps, [official, pascal, cloud]);
    expect(outcomes.map((o) => o.kind)).toEqual(['processed', 'processed', 'processed']);
    const data = published('sms.inbound.received').map((e) => e.data as InboundEventData);
    expect(data.map((d) => [d.from, d.to, d.receivedAt])).toEqual([
      ['+15555555555', '+15555555555', '2020-09-18T00:27:45.320Z'],
      ['+15555555555', '+15555555555', '2020-09-18T00:27:45.320Z'],
      ['+15555555555', '+15555555555', '2020-09-18T00:27:45.320Z'],
    ]);
    expect(data[0]!.inboundMessageId).toBe('20200918002745d29ebbea-3341-4466-9690-0a03af35228e');
  });

  it('acknowledges what it cannot read without throwing', async () => {
    const outcomes = await receiveInboundSms(deps, [
      null,
      { eventType: 'Microsoft.Communication.SMSReceived', data: { from: '1' } },
      'x',
      smsReceived('hi', { from: 'not a number' }),
      smsReceived('hi', { to: 'CONTOSO' }),
      smsReceived('hi', { id: 'bad\u0000id' }),
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual(['malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'malformed']);
    expect(outbox.published).toHaveLength(0);
    expect(conversations.entries.size).toBe(0);
  });

  it('keeps at most MAX_INBOUND_TEXT characters of an implausibly long text', async () => {
    await receiveInboundSms(deps, smsReceived('x'.repeat(100_000)));
    expect((published('sms.inbound.received')[0]!.data as InboundEventData).message).toHaveLength(16_000);
  });
});

describe('ACS opt-out list', () => {
  it('mirrors changes, but not the STOP to the number that received it (ACS has it, and the confirmation must go through)', async () => {
    deps.mirror = gateway;
    await receiveInboundSms(deps, smsReceived('STOP'));
    expect(gateway.optOutCalls).toEqual([]);
    await receiveInboundSms(deps, smsReceived('START'));
    expect(gateway.optOutCalls).toEqual([`remove|${shortCode.number}|${PERSON}`]);

    policy.scope = 'pool';
    gateway.optOutCalls.length = 0;
    await receiveInboundSms(deps, smsReceived('STOP'));
    expect(gateway.optOutCalls.sort()).toEqual([`add|${tenDlc.number}|${PERSON}`, `add|${tollFree.number}|${PERSON}`].sort());
  });

  it('a mirror failure is logged, not fatal', async () => {
    deps.mirror = gateway;
    gateway.optOutFailures = 5;
    const [outcome] = await receiveInboundSms(deps, smsReceived('START'));
    expect(outcome).toMatchObject({ kind: 'processed' });
  });
});
