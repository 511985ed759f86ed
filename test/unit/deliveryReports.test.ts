// Delivery reports as ACS really sends them: the official example payloads (Event Grid schema
// and CloudEvents, PascalCase and camelCase), duplicates, out-of-order and unknown messages.
import { beforeEach, describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../shared/domain/message.js';
import { recordDeliveryReport, type DeliveryReportDeps } from '../../shared/pipeline/deliveryReports.js';
import type { ConsentChange } from '../../shared/domain/consent.js';
import {
  carrierConsent,
  FakeClock,
  FakeConsentLog,
  FakeMessageStore,
  FakeOptOuts,
  FakeOutbox,
  FakeTracker,
  RecordingSink,
  silentLogger,
} from '../support/fakes.js';

// The example from the ACS "SMS events" page (Event Grid schema, PascalCase data as documented).
const officialEventGrid = {
  id: 'Outgoing_20200918002745d29ebbea-3341-4466-9690-0a03af35228e_noam',
  topic:
    '/subscriptions/{subscription-id}/resourceGroups/{group-name}/providers/microsoft.communication/communicationservices/{communication-services-resource-name}',
  subject: '/phonenumber/15555555555',
  data: {
    MessageId: 'Outgoing_20200918002745d29ebbea-3341-4466-9690-0a03af35228e_noam',
    From: '15555555555',
    To: '+15555555555',
    DeliveryStatus: 'Delivered',
    DeliveryStatusDetails: 'No error.',
    ReceivedTimestamp: '2020-09-18T00:27:47.2611324+00:00',
    DeliveryAttempts: [{ Timestamp: '2020-09-18T00:27:47.2611324+00:00', SegmentsSucceeded: 1, SegmentsFailed: 0 }],
  },
  eventType: 'Microsoft.Communication.SMSDeliveryReportReceived',
  dataVersion: '1.0',
  metadataVersion: '1',
  eventTime: '2020-09-18T00:27:47Z',
};

// The same report in the CloudEvents 1.0 schema with camelCase data, as the SDK models it.
const officialCloudEvent = {
  id: '0c5b1d8a-5b8b-4d1e-9a1c-7d7a5d1c0001',
  source:
    '/subscriptions/{subscription-id}/resourceGroups/{group-name}/providers/microsoft.communication/communicationservices/{communication-services-resource-name}',
  subject: 'phonenumber/15555555555',
  type: 'Microsoft.Communication.SMSDeliveryReportReceived',
  specversion: '1.0',
  time: '2020-09-18T00:27:47Z',
  data: {
    messageId: 'Outgoing_20200918002745d29ebbea-3341-4466-9690-0a03af35228e_noam',
    from: '15555555555',
    to: '+15555555555',
    deliveryStatus: 'Delivered',
    deliveryStatusDetails: 'No error.',
    receivedTimestamp: '2020-09-18T00:27:47.2611324+00:00',
    deliveryAttempts: [{ timestamp: '2020-09-18T00:27:47.2611324+00:00', segmentsSucceeded: 1, segmentsFailed: 0 }],
  },
};

// The example on the current ACS "SMS events" page (MicrosoftDocs/azure-docs,
// articles/event-grid/communication-services-telephony-sms-events.md): camelCase data, but "Tag"
// capitalised, and a message id with the "Outgoing_" prefix and no region suffix.
const officialEventGridCamel = {
  id: 'Outgoing_202009180022138813a09b-0cbf-4304-9b03-1546683bb910',
  topic:
    '/subscriptions/{subscription-id}/resourceGroups/{group-name}/providers/microsoft.communication/communicationservices/{communication-services-resource-name}',
  subject: '/phonenumber/15555555555',
  data: {
    messageId: 'Outgoing_202009180022138813a09b-0cbf-4304-9b03-1546683bb910',
    from: '15555555555',
    to: '+15555555555',
    deliveryStatus: 'Delivered',
    deliveryStatusDetails: 'No error.',
    receivedTimestamp: '2020-09-18T00:22:20.2855749Z',
    deliveryAttempts: [{ timestamp: '2020-09-18T00:22:14.9315918Z', segmentsSucceeded: 1, segmentsFailed: 0 }],
    Tag: 'Optional customer-tag set in the original message',
  },
  eventType: 'Microsoft.Communication.SMSDeliveryReportReceived',
  dataVersion: '1.0',
  metadataVersion: '1',
  eventTime: '2020-09-18T00:22:20Z',
};

// The same page in its January 2025 revision: a bare GUID as the message id (no prefix at all).
const officialEventGridBareId = {
  ...officialEventGridCamel,
  id: '8813a09b-0cbf-4304-9b03-1546683bb910',
  data: { ...officialEventGridCamel.data, messageId: '8813a09b-0cbf-4304-9b03-1546683bb910' },
};

// ACS publishes its examples in the Event Grid schema only. A subscription with the CloudEvents
// 1.0 delivery schema carries the same data under the CloudEvents envelope (Event Grid's mapping:
// topic → source, eventType → type, eventTime → time, subject without its leading "/"), so the
// official PascalCase example arrives like this:
const officialCloudEventPascal = {
  specversion: '1.0',
  id: officialEventGrid.id,
  source: officialEventGrid.topic,
  subject: 'phonenumber/15555555555',
  type: officialEventGrid.eventType,
  time: officialEventGrid.eventTime,
  data: officialEventGrid.data,
};

let clock: FakeClock;
let messages: FakeMessageStore;
let tracker: FakeTracker;
let deps: DeliveryReportDeps;

function seedSent(acsMessageId: string, overrides: Partial<MessageRecord> = {}): MessageRecord {
  const record: MessageRecord = {
    messageId: '01jdx7k9m2qh3v8s4t1cab-000',
    batchId: '01jdx7k9m2qh3v8s4t1cab',
    from: '+15555555555',
    to: '+15555555555',
    body: 'hi',
    encoding: 'GSM-7',
    segments: 1,
    deliveryReport: true,
    status: 'sent',
    history: [
      { status: 'queued', at: '2020-09-18T00:27:40Z' },
      { status: 'sending', at: '2020-09-18T00:27:44Z' },
      { status: 'sent', at: '2020-09-18T00:27:45Z' },
    ],
    createdAt: '2020-09-18T00:27:40Z',
    updatedAt: '2020-09-18T00:27:45Z',
    acsMessageId,
    attempts: 1,
    ...overrides,
  };
  void messages.insertBatch([record]);
  void messages.indexAcsMessageIds([{ acsMessageId, messageId: record.messageId }]);
  return record;
}

beforeEach(() => {
  clock = new FakeClock();
  messages = new FakeMessageStore();
  tracker = new FakeTracker();
  deps = {
    messages,
    clock,
    log: silentLogger,
    tracker,
    events: new RecordingSink(),
    consent: carrierConsent({ optOuts: new FakeOptOuts(), clock }),
  };
});

// The id as the send returned it (every 2021-03-07 recording has the "_noam" suffix).
const acsId = 'Outgoing_20200918002745d29ebbea-3341-4466-9690-0a03af35228e_noam';

describe('recordDeliveryReport', () => {
  it.each([
    ['Event Grid schema, PascalCase', officialEventGrid],
    ['CloudEvents schema, camelCase', officialCloudEvent],
    ['CloudEvents schema, PascalCase', officialCloudEventPascal],
  ])('accepts the official example (%s) and updates the right message', async (_name, event) => {
    const record = seedSent(acsId);
    const outcome = await recordDeliveryReport(deps, event);
    expect(outcome).toEqual({ kind: 'applied', messageId: record.messageId, status: 'delivered' });
    const stored = messages.rows.get(record.messageId)!;
    expect(stored.status).toBe('delivered');
    expect(stored.history.at(-1)).toMatchObject({
      status: 'delivered',
      reason: 'No error.',
      eventTime: '2020-09-18T00:27:47.2611324+00:00',
      deliveryAttempts: [{ timestamp: '2020-09-18T00:27:47.2611324+00:00', segmentsSucceeded: 1, segmentsFailed: 0 }],
    });
  });

  it.each([
    ['Event Grid schema, camelCase with "Tag"', officialEventGridCamel, '202009180022138813a09b-0cbf-4304-9b03-1546683bb910'],
    ['Event Grid schema, camelCase, bare GUID id', officialEventGridBareId, '8813a09b-0cbf-4304-9b03-1546683bb910'],
    [
      'CloudEvents schema, camelCase with "Tag"',
      {
        specversion: '1.0',
        id: officialEventGridCamel.id,
        source: officialEventGridCamel.topic,
        subject: 'phonenumber/15555555555',
        type: officialEventGridCamel.eventType,
        time: officialEventGridCamel.eventTime,
        data: officialEventGridCamel.data,
      },
      '202009180022138813a09b-0cbf-4304-9b03-1546683bb910',
    ],
  ])('accepts the current official example (%s): a tag that is not a batch id is ignored', async (_name, event, acs) => {
    const record = seedSent(acs);
    expect(await recordDeliveryReport(deps, event)).toEqual({
      kind: 'applied',
      messageId: record.messageId,
      status: 'delivered',
    });
    expect(messages.rows.get(record.messageId)!.history.at(-1)).toMatchObject({
      status: 'delivered',
      reason: 'No error.',
      eventTime: '2020-09-18T00:22:20.2855749Z',
      deliveryAttempts: [{ timestamp: '2020-09-18T00:22:14.9315918Z', segmentsSucceeded: 1, segmentsFailed: 0 }],
    });
  });

  it('changes nothing for a duplicate', async () => {
    seedSent(acsId);
    await recordDeliveryReport(deps, officialEventGrid);
    const before = structuredClone(messages.rows.get('01jdx7k9m2qh3v8s4t1cab-000'));
    expect(await recordDeliveryReport(deps, officialEventGrid)).toMatchObject({ kind: 'duplicate' });
    expect(messages.rows.get('01jdx7k9m2qh3v8s4t1cab-000')).toEqual(before);
  });

  it('keeps the failure detail and code of a Failed report', async () => {
    seedSent(acsId);
    const failed = structuredClone(officialEventGrid);
    failed.data.DeliveryStatus = 'Failed';
    failed.data.DeliveryStatusDetails = '4010: Message blocked: toll-free number is not verified';
    failed.data.DeliveryAttempts = [{ Timestamp: '2020-09-18T00:27:47Z', SegmentsSucceeded: 0, SegmentsFailed: 1 }];
    await recordDeliveryReport(deps, failed);
    const stored = messages.rows.get('01jdx7k9m2qh3v8s4t1cab-000')!;
    expect(stored.status).toBe('failed');
    expect(stored.error).toEqual({ code: '4010', message: '4010: Message blocked: toll-free number is not verified' });
    expect(stored.history.at(-1)).toMatchObject({ status: 'failed', code: '4010' });
  });

  it('moves forward even when the report overtakes the sender', async () => {
    seedSent(acsId, { status: 'sending', history: [{ status: 'sending', at: 'x' }] });
    await recordDeliveryReport(deps, officialCloudEvent);
    expect(messages.rows.get('01jdx7k9m2qh3v8s4t1cab-000')!.status).toBe('delivered');
  });

  it('finds the message by the batch id ACS echoes as the tag, before its ACS id is recorded', async () => {
    const record = seedSent('other', { acsMessageId: undefined, status: 'sending' });
    const event = structuredClone(officialCloudEvent) as typeof officialCloudEvent & { data: { tag?: string } };
    event.data.tag = record.batchId;
    expect(await recordDeliveryReport(deps, event)).toMatchObject({ kind: 'applied' });
    expect(messages.rows.get(record.messageId)!.acsMessageId).toBe(acsId);
  });

  it('finds the message by the message id a one-recipient request carries as its tag, with one point read', async () => {
    const record = seedSent('other', { acsMessageId: undefined, status: 'sending' });
    const searched: string[] = [];
    const find = messages.findInBatchByRecipient.bind(messages);
    messages.findInBatchByRecipient = async (batchId, to) => {
      searched.push(batchId);
      return find(batchId, to);
    };
    const event = structuredClone(officialCloudEvent) as typeof officialCloudEvent & { data: { tag?: string } };
    event.data.tag = record.messageId;
    expect(await recordDeliveryReport(deps, event)).toMatchObject({ kind: 'applied', messageId: record.messageId });
    expect(messages.rows.get(record.messageId)!.acsMessageId).toBe(acsId);
    expect(searched).toEqual([]);
  });

  it("does not take a message-id tag that names another recipient's message", async () => {
    seedSent('other', { acsMessageId: undefined, status: 'sending', to: '+14255550100' });
    const event = structuredClone(officialCloudEvent) as typeof officialCloudEvent & { data: { tag?: string } };
    event.data.tag = '01jdx7k9m2qh3v8s4t1cab-000';
    expect(await recordDeliveryReport(deps, event)).toMatchObject({ kind: 'unknownMessage' });
    expect(messages.rows.get('01jdx7k9m2qh3v8s4t1cab-000')!.status).toBe('sending');
  });

  it('indexes the ACS message id only when the report brings one the record lacked', async () => {
    const indexed: string[] = [];
    const index = messages.indexAcsMessageIds.bind(messages);
    messages.indexAcsMessageIds = async (entries) => {
      indexed.push(...entries.map((e) => e.acsMessageId));
      await index(entries);
    };
    const tagged = (batchId: string) => {
      const event = structuredClone(officialCloudEvent) as typeof officialCloudEvent & { data: { tag?: string } };
      event.data.tag = batchId;
      return event;
    };

    // The sender recorded (and indexed) the id: the report's write is the record's, nothing more.
    const sent = seedSent(acsId);
    indexed.length = 0;
    expect(await recordDeliveryReport(deps, tagged(sent.batchId))).toMatchObject({ kind: 'applied' });
    expect(indexed).toEqual([]);

    // The report overtook the sender: it is the first to know the id, so it indexes it.
    messages.rows.clear();
    messages.acsIndex.clear();
    const sending = seedSent('other', { acsMessageId: undefined, status: 'sending' });
    indexed.length = 0;
    expect(await recordDeliveryReport(deps, tagged(sending.batchId))).toMatchObject({ kind: 'applied' });
    expect(indexed).toEqual([acsId]);
    expect(await messages.messageIdForAcsMessageId(acsId)).toBe(sending.messageId);
  });

  it('parks a report for an unknown message and acknowledges it', async () => {
    expect(await recordDeliveryReport(deps, officialEventGrid)).toEqual({ kind: 'unknownMessage', acsMessageId: acsId });
    expect(tracker.parkedReports).toHaveLength(1);
  });

  it.each([
    ['not an object', 'hello'],
    ['no data', { eventType: 'Microsoft.Communication.SMSDeliveryReportReceived' }],
    ['a missing messageId', { ...officialEventGrid, data: { ...officialEventGrid.data, MessageId: undefined } }],
    ['an unknown status', { ...officialEventGrid, data: { ...officialEventGrid.data, DeliveryStatus: 'Maybe' } }],
    ['another event type', { ...officialEventGrid, eventType: 'Microsoft.Communication.SMSReceived' }],
  ])('acknowledges a malformed event (%s) without throwing', async (_name, event) => {
    expect((await recordDeliveryReport(deps, event)).kind).toBe('malformed');
  });
});

describe('a Failed report with code 4007', () => {
  const failed4007 = () => {
    const event = structuredClone(officialEventGrid);
    event.data.DeliveryStatus = 'Failed';
    event.data.DeliveryStatusDetails = '4007: Destination/sender blocked for given recipient.';
    return event;
  };
  let optOuts: FakeOptOuts;
  let changes: ConsentChange[];
  beforeEach(() => {
    optOuts = new FakeOptOuts();
    changes = [];
    const add = optOuts.add.bind(optOuts);
    optOuts.add = async (change) => {
      changes.push(change);
      await add(change);
    };
    deps = { ...deps, consent: carrierConsent({ optOuts, clock }) };
  });

  it('records an opt-out of the sender for the recipient, source "carrier", once', async () => {
    const record = seedSent(acsId);
    expect(await recordDeliveryReport(deps, failed4007())).toMatchObject({ kind: 'applied', status: 'failed' });
    expect(messages.rows.get(record.messageId)!.error?.code).toBe('4007');
    expect(changes).toEqual([
      {
        sender: record.from,
        recipient: record.to,
        source: 'carrier',
        reason: '4007: Destination/sender blocked for given recipient.',
        at: '2020-09-18T00:27:47.2611324+00:00',
      },
    ]);
    expect(await optOuts.optedOut(record.from, [record.to])).toEqual(new Set([record.to]));
    await recordDeliveryReport(deps, failed4007());
    expect(changes).toHaveLength(1);
  });

  it('with the consent path: one consent-log entry and one sms.optout.added, however often the report comes', async () => {
    const record = seedSent(acsId);
    const consentLog = new FakeConsentLog();
    const outbox = new FakeOutbox();
    const consent = carrierConsent({ optOuts, consentLog, clock, publisher: outbox });
    await recordDeliveryReport({ ...deps, consent }, failed4007());
    await recordDeliveryReport({ ...deps, consent }, failed4007());
    expect(consentLog.entries).toHaveLength(1);
    expect(consentLog.entries[0]).toMatchObject({ source: 'carrier', sender: record.from, recipient: record.to, applied: true });
    expect(outbox.published.map((e) => [e.type, (e.data as { source: string }).source])).toEqual([
      ['sms.optout.added', 'carrier'],
    ]);
    expect(await optOuts.optedOut(record.from, [record.to])).toEqual(new Set([record.to]));
  });

  it('keeps an opt-out that is already there (a STOP with its own details)', async () => {
    const record = seedSent(acsId);
    await optOuts.add({
      sender: record.from,
      recipient: record.to,
      source: 'keyword',
      keyword: 'STOP',
      at: '2020-09-18T00:00:00Z',
    });
    await recordDeliveryReport(deps, failed4007());
    expect(changes.map((c) => c.source)).toEqual(['keyword']);
  });

  it('records nothing for other failure codes', async () => {
    seedSent(acsId);
    const event = failed4007();
    event.data.DeliveryStatusDetails = '4006: Destination unreachable.';
    await recordDeliveryReport(deps, event);
    expect(changes).toEqual([]);
  });

  it('leaves the status unsaved when the opt-out cannot be recorded, so the redelivered report does both', async () => {
    const record = seedSent(acsId);
    optOuts.add = async () => {
      throw new Error('storage unavailable');
    };
    await expect(recordDeliveryReport(deps, failed4007())).rejects.toThrow(/storage unavailable/);
    expect(messages.rows.get(record.messageId)!.status).toBe('sent');
  });
});
