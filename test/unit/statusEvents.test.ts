// Every path that changes a message's status publishes one event per change, after the change is
// stored: submit, send (sent, failed, suppressed, expired, jobs enqueued directly), delivery
// reports, reconciliation, cancel and dead-letter replay. A recording outbox checks both halves
// of the promise: each published event's change is already in the store, and at the end the
// events of each message are exactly the entries of its history — none missing, none extra.
import { beforeEach, describe, expect, it } from 'vitest';
import { messageEventsSince, type MessageEventData, type PipelineEvent } from '../../shared/domain/events.js';
import { messageIdOf, newBatchId } from '../../shared/domain/ids.js';
import type { MessageRecord } from '../../shared/domain/message.js';
import { SEND_JOB_SCHEMA_VERSION, type SendJobV1 } from '../../shared/domain/sendJob.js';
import { submitMessagesBody } from '../../shared/http/messages.js';
import { cancelMessage } from '../../shared/pipeline/cancelMessage.js';
import { replayDeadLetter } from '../../shared/pipeline/deadLetters.js';
import { recordDeliveryReport } from '../../shared/pipeline/deliveryReports.js';
import { reconcileDeliveries } from '../../shared/pipeline/reconcileDeliveries.js';
import { processSendJob, type SendDeps } from '../../shared/pipeline/send/processSendJob.js';
import { publishingSink } from '../../shared/pipeline/statusEvents.js';
import { submitMessages } from '../../shared/pipeline/submitMessages.js';
import type { ConsentChange } from '../../shared/domain/consent.js';
import type { GatewayDeliveryReport } from '../../shared/ports/gateway.js';
import {
  carrierConsent,
  FakeClock,
  FakeConversations,
  FakeDeadLetters,
  FakeGateway,
  FakeMessageStore,
  FakeOptOuts,
  FakeOutbox,
  FakeQueue,
  FakeRateLimiter,
  FakeSubmissions,
  FakeTemplates,
  FakeTracker,
  FakeTransportDeadLetters,
  shortCode,
  silentLogger,
  FakeSendingControls,
  openGuard,
  sendRuleDeps,
} from '../support/fakes.js';

const SOURCE = '/sms-pipeline/test';
const HOUR = 3600_000;

/** An outbox that checks, on every publish, that the change behind each event is already stored. */
class CheckingOutbox extends FakeOutbox {
  readonly unsaved: string[] = [];
  constructor(private readonly store: FakeMessageStore) {
    super();
  }
  override async publish(events: readonly PipelineEvent[]): Promise<void> {
    for (const e of events) {
      const data = e.data as MessageEventData;
      const stored = this.store.rows.get(data.messageId);
      const ids = stored ? messageEventsSince(SOURCE, stored, 0).map((x) => x.id) : [];
      if (!ids.includes(e.id)) this.unsaved.push(e.id);
    }
    await super.publish(events);
  }
}

let clock: FakeClock;
let messages: FakeMessageStore;
let queue: FakeQueue;
let gateway: FakeGateway;
let optOuts: FakeOptOuts;
let deadLetters: FakeDeadLetters;
let tracker: FakeTracker;
let outbox: CheckingOutbox;
let reports: Map<string, GatewayDeliveryReport>;
let send: SendDeps;

beforeEach(() => {
  clock = new FakeClock();
  messages = new FakeMessageStore();
  queue = new FakeQueue();
  gateway = new FakeGateway();
  optOuts = new FakeOptOuts();
  deadLetters = new FakeDeadLetters();
  tracker = new FakeTracker();
  outbox = new CheckingOutbox(messages);
  reports = new Map();
  gateway.getDeliveryReport = async (id: string) => reports.get(id);
  send = {
    messages,
    queue,
    gateway,
    optOuts,
    deadLetters,
    rateLimiter: new FakeRateLimiter(clock),
    clock,
    log: silentLogger,
    senders: [shortCode],
    maxAttempts: 3,
    uncertainPolicy: 'atMostOnce',
    controls: new FakeSendingControls(), // no pause, no hold
    allowedCountries: 'any' as const,
    random: () => 0.5,
    tracker,
    events: publishingSink(outbox, SOURCE),
    conversations: new FakeConversations(),
  };
});

const events = () => publishingSink(outbox, SOURCE);

/** The invariant: one event per history entry, published after it was stored, nothing else. */
function expectOneEventPerChange() {
  expect(outbox.unsaved, 'events published for changes not (yet) stored').toEqual([]);
  const published = new Map<string, Set<string>>();
  for (const e of outbox.published) {
    const id = (e.data as MessageEventData).messageId;
    published.set(id, (published.get(id) ?? new Set()).add(e.id));
    expect(e.type).toBe(`sms.message.${(e.data as MessageEventData).status}`);
  }
  for (const record of messages.rows.values()) {
    const expected = messageEventsSince(SOURCE, record, 0).map((e) => e.id);
    expect(
      [...(published.get(record.messageId) ?? [])].sort(),
      `events of ${record.messageId} (${record.history.map((h) => h.status).join(' → ')})`,
    ).toEqual([...expected].sort());
  }
}

async function submit(to: string[], extra: Record<string, unknown> = {}) {
  const result = await submitMessages(
    {
      ...openGuard(),
      ...sendRuleDeps(),
      messages,
      optOuts,
      queue,
      clock,
      log: silentLogger,
      senders: [shortCode],
      maxSegments: 10,
      events: events(),
      submissions: new FakeSubmissions(),
      templates: new FakeTemplates(),
    },
    submitMessagesBody.parse({ to, message: 'Your appointment is tomorrow at 10:00', ...extra }),
  );
  if (result.kind !== 'accepted') throw new Error('not accepted');
  return result;
}

/** Runs every job on the queue (and the jobs they enqueue), moving the clock to each job's time. */
async function drain() {
  for (let job = queue.take(); job; job = queue.take()) {
    if (job.notBefore) clock.time = Math.max(clock.time, Date.parse(job.notBefore));
    await processSendJob(send, job);
  }
}

function report(
  record: MessageRecord,
  status: 'Delivered' | 'Failed',
  details = status === 'Delivered' ? 'No error.' : '4005: Message blocked',
) {
  return {
    id: `report-${record.messageId}-${status}`,
    topic: '/subscriptions/x/resourceGroups/y/providers/microsoft.communication/communicationservices/z',
    subject: `/phonenumber/${record.from.slice(1)}`,
    eventType: 'Microsoft.Communication.SMSDeliveryReportReceived',
    eventTime: clock.now().toISOString(),
    dataVersion: '1.0',
    metadataVersion: '1',
    data: {
      messageId: `Outgoing_${record.acsMessageId}`,
      from: record.from.slice(1),
      to: record.to,
      deliveryStatus: status,
      deliveryStatusDetails: details,
      receivedTimestamp: clock.now().toISOString(),
      deliveryAttempts: [
        {
          timestamp: clock.now().toISOString(),
          segmentsSucceeded: status === 'Delivered' ? 1 : 0,
          segmentsFailed: status === 'Delivered' ? 0 : 1,
        },
      ],
      tag: record.batchId,
    },
  };
}

const reportDeps = () => ({
  messages,
  clock,
  log: silentLogger,
  events: events(),
  tracker,
  consent: carrierConsent({ optOuts, clock }),
});
const stored = (id: string) => messages.rows.get(id)!;
const statusesOf = (id: string) => stored(id).history.map((h) => h.status);

describe('one event per status change, on every path', () => {
  it('submit, send and delivery reports (delivered, failed, duplicate, out of order)', async () => {
    const accepted = await submit(['+14255550101', '+14255550102', '+14255550103']);
    await drain();
    const [a, b, c] = accepted.records.map((r) => stored(r.messageId));
    await recordDeliveryReport(reportDeps(), report(a!, 'Delivered'));
    await recordDeliveryReport(reportDeps(), report(a!, 'Delivered')); // duplicate
    await recordDeliveryReport(reportDeps(), report(b!, 'Failed'));
    await recordDeliveryReport(reportDeps(), report(c!, 'Delivered'));
    await recordDeliveryReport(reportDeps(), report(c!, 'Failed')); // out of order: changes nothing
    expect(statusesOf(a!.messageId)).toEqual(['queued', 'sending', 'sent', 'delivered']);
    expect(statusesOf(b!.messageId)).toEqual(['queued', 'sending', 'sent', 'failed']);
    expect(statusesOf(c!.messageId)).toEqual(['queued', 'sending', 'sent', 'delivered']);
    expectOneEventPerChange();
  });

  it('a report that overtakes the sender: the sender saves the ACS id but announces no "sent"', async () => {
    const accepted = await submit(['+14255550104']);
    const id = accepted.records[0]!.messageId;
    // The report lands between the hand-over and the sender's write of "sent".
    const realSend = gateway.send.bind(gateway);
    gateway.send = async (request) => {
      const results = await realSend(request);
      const record = stored(id);
      const first = results[0]!;
      record.acsMessageId = first.outcome === 'accepted' ? first.acsMessageId : undefined;
      await recordDeliveryReport(reportDeps(), report(record, 'Delivered'));
      return results;
    };
    await drain();
    expect(statusesOf(id)).toEqual(['queued', 'sending', 'delivered']);
    expect(stored(id).acsMessageId).toMatch(/^2026/);
    expectOneEventPerChange();
    expect(outbox.published.filter((e) => e.id === `${id}.delivered`)).toHaveLength(1);
  });

  it('suppressed at submit and at send, expired, failed by ACS, scheduled then canceled', async () => {
    await optOuts.add({ sender: shortCode.number, recipient: '+14255550110', source: 'keyword', at: clock.now().toISOString() });
    const early = await submit(['+14255550110', '+14255550111', '+14255550112'], { validFor: 60 });
    await optOuts.add({ sender: shortCode.number, recipient: '+14255550111', source: 'keyword', at: clock.now().toISOString() });
    gateway.permanentFailures.set('+14255550112', { code: '400', message: 'Invalid To phone number format.' });
    await drain();
    const expiring = await submit(['+14255550113'], { validFor: 60 });
    clock.advance(2 * 60_000);
    await drain();
    const scheduled = await submit(['+14255550114'], { scheduledAt: new Date(clock.time + HOUR).toISOString() });
    await cancelMessage({ messages, clock, log: silentLogger, events: events() }, scheduled.records[0]!.messageId);
    await cancelMessage({ messages, clock, log: silentLogger, events: events() }, scheduled.records[0]!.messageId); // repeated: same event

    const [optedOutEarly, optedOutLate, refused] = early.records.map((r) => r.messageId);
    expect(statusesOf(optedOutEarly!)).toEqual(['suppressed']);
    expect(statusesOf(optedOutLate!)).toEqual(['queued', 'suppressed']);
    expect(statusesOf(refused!)).toEqual(['queued', 'sending', 'failed']);
    expect(statusesOf(expiring.records[0]!.messageId)).toEqual(['queued', 'expired']);
    expect(statusesOf(scheduled.records[0]!.messageId)).toEqual(['scheduled', 'canceled']);
    expectOneEventPerChange();
  });

  it('a hand-over retried after a 429 and after a timeout announces "sending" once', async () => {
    const accepted = await submit(['+14255550115', '+14255550116']);
    gateway.script.push('429', 'timeout');
    await drain();
    for (const r of accepted.records) expect(statusesOf(r.messageId)).toEqual(['queued', 'sending', 'sent']);
    expect(gateway.requests).toHaveLength(3);
    expectOneEventPerChange();
    const ids = outbox.published.map((e) => e.id);
    expect(ids).toHaveLength(new Set(ids).size);
  });

  it('a job another app enqueued directly: its record is created and sent in one go, every change announced', async () => {
    const batchId = newBatchId(clock.now());
    const job: SendJobV1 = {
      schema: SEND_JOB_SCHEMA_VERSION,
      jobId: `${batchId}.0`,
      batchId,
      from: shortCode.number,
      message: 'Enqueued by another app',
      recipients: [{ messageId: messageIdOf(batchId, 0), to: '+14255550120' }],
      deliveryReport: true,
      attempt: 1,
      kind: 'message',
    };
    await processSendJob(send, job);
    expect(statusesOf(job.recipients[0]!.messageId)).toEqual(['queued', 'sending', 'sent']);
    expectOneEventPerChange();
    expect(outbox.published.map((e) => e.type)).toEqual(['sms.message.queued', 'sms.message.sending', 'sms.message.sent']);
  });

  it('reconciliation: delivered and failed from GET /deliveryReports, unknown at the deadline, a parked report applied', async () => {
    const accepted = await submit(['+14255550130', '+14255550131', '+14255550132', '+14255550133']);
    await drain();
    const [d, f, u, p] = accepted.records.map((r) => stored(r.messageId));
    reports.set(d!.acsMessageId!, { acsMessageId: d!.acsMessageId!, status: 'delivered' });
    reports.set(f!.acsMessageId!, { acsMessageId: f!.acsMessageId!, status: 'failed', code: '4005', detail: 'Message blocked' });
    // A report that arrived when its message could not be found yet.
    await tracker.park(report(p!, 'Delivered'), clock.now());
    const reconcile = {
      messages,
      tracker,
      gateway,
      clock,
      log: silentLogger,
      events: events(),
      consent: carrierConsent({ optOuts, clock }),
      reconcileAfterMs: HOUR / 2,
      deadlineMs: 72 * HOUR,
      queue,
      uncertainPolicy: 'atMostOnce' as const,
    };
    clock.advance(HOUR);
    await reconcileDeliveries(reconcile);
    clock.advance(73 * HOUR);
    await reconcileDeliveries(reconcile);
    expect(statusesOf(d!.messageId)).toEqual(['queued', 'sending', 'sent', 'delivered']);
    expect(statusesOf(f!.messageId)).toEqual(['queued', 'sending', 'sent', 'failed']);
    expect(statusesOf(u!.messageId)).toEqual(['queued', 'sending', 'sent', 'unknown']);
    expect(statusesOf(p!.messageId)).toEqual(['queued', 'sending', 'sent', 'delivered']);
    // A report that still comes after "unknown" is the truth, and is announced too.
    await recordDeliveryReport(reportDeps(), report(stored(u!.messageId), 'Delivered'));
    expect(statusesOf(u!.messageId)).toEqual(['queued', 'sending', 'sent', 'unknown', 'delivered']);
    expectOneEventPerChange();
  });

  it('a dead letter replayed: back to "queued" and sent, each change with an id of its own', async () => {
    const accepted = await submit(['+14255550140']);
    const id = accepted.records[0]!.messageId;
    const job = queue.take()!;
    await processSendJob(send, { ...job, attempt: 4 }); // past maxAttempts: failed, dead-lettered
    expect(statusesOf(id)).toEqual(['queued', 'failed']);
    await replayDeadLetter(
      { deadLetters, transportDeadLetters: new FakeTransportDeadLetters(), messages, queue, clock, events: events() },
      deadLetters.letters[0]!,
    );
    await drain();
    expect(statusesOf(id)).toEqual(['queued', 'failed', 'queued', 'sending', 'sent']);
    expectOneEventPerChange();
    expect(outbox.published.map((e) => e.id)).toEqual([
      `${id}.queued`,
      `${id}.failed`,
      `${id}.queued.2`,
      `${id}.sending`,
      `${id}.sent`,
    ]);
  });
});

describe('a Failed report with code 4007 (the recipient opted out at the carrier)', () => {
  it('records an opt-out of that sender for that recipient, source "carrier", and the next send is suppressed', async () => {
    const changes: ConsentChange[] = [];
    const add = optOuts.add.bind(optOuts);
    optOuts.add = async (change) => {
      changes.push(change);
      await add(change);
    };
    const accepted = await submit(['+14255550150', '+14255550151']);
    await drain();
    const [blocked, other] = accepted.records.map((r) => stored(r.messageId));
    await recordDeliveryReport(reportDeps(), report(blocked!, 'Failed', '4007: Destination/sender blocked for given recipient'));
    await recordDeliveryReport(reportDeps(), report(other!, 'Failed', '4005: Message blocked'));
    expect(stored(blocked!.messageId)).toMatchObject({ status: 'failed', error: { code: '4007' } });
    expect([...optOuts.entries]).toEqual([`${shortCode.number}|+14255550150`]);
    expect(changes).toEqual([
      {
        sender: shortCode.number,
        recipient: '+14255550150',
        source: 'carrier',
        reason: '4007: Destination/sender blocked for given recipient',
        at: clock.now().toISOString(),
      },
    ]);
    // A duplicate of the report records nothing again.
    await recordDeliveryReport(
      reportDeps(),
      report(stored(blocked!.messageId), 'Failed', '4007: Destination/sender blocked for given recipient'),
    );
    expect(changes).toHaveLength(1);

    const again = await submit(['+14255550150', '+14255550151']);
    expect(again.records.map((r) => r.status)).toEqual(['suppressed', 'queued']);
    expectOneEventPerChange();
  });
});
