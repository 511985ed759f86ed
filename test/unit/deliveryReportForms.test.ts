// Delivery reports in every form Microsoft has published (test/fixtures/published): the examples
// verbatim, failures written with and without a code, and message ids decorated differently in the
// send response and in the report — which must still settle the message at once.
import { beforeEach, describe, expect, it } from 'vitest';
import { parseDeliveryReport, parseInboundSms } from '../../shared/domain/acsEvents.js';
import { codeOfPublishedText, readStatusDetails } from '../../shared/domain/deliveryStatusDetails.js';
import { acsMessageKey } from '../../shared/domain/ids.js';
import { moveTo, newMessageRecord, type MessageRecord } from '../../shared/domain/message.js';
import { recordDeliveryReport, type DeliveryReportDeps } from '../../shared/pipeline/deliveryReports.js';
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
import { published, publishedSmsEvents, type PublishedJson } from '../support/publishedFixtures.js';

const GUID = '8813a09b-0cbf-4304-9b03-1546683bb910';
const CAMEL_REPORT = 'events/event-grid-schema/sms_delivery_report_received.camel.bb50bb08.json';
const DOCS_TAG_REPORT = 'events/docs/sms_delivery_report_received.camel.Tag.06867cc9.json';
const BATCH = '01jdx7k9m2qh3v8s4t1cab';

/** The published events, one object each (the docs files are one-element arrays). */
function eventsOf(file: string): PublishedJson[] {
  const json = published(file);
  return Array.isArray(json) ? json : [json];
}

describe('acsMessageKey', () => {
  it.each([
    ['Outgoing_ (every event example)', `Outgoing_20200918002213${GUID}`],
    ['Outgoing_…_noam (2021-03-07 recordings)', `Outgoing_20200918002213${GUID}_noam`],
    ['no prefix (2026-01-23 send example)', `20200918002213${GUID}`],
    ['regional (2024-12-10-preview recordings)', `2020-09-18T00:22:13_${GUID}_prod_eur_switzerlandnorth_outgoing-mms`],
    ['a bare GUID, upper case', GUID.toUpperCase()],
    ['_prod_nam', `Outgoing_20200918002213${GUID}_prod_nam`],
  ])('is the GUID for %s', (_name, id) => {
    expect(acsMessageKey(id)).toBe(GUID);
  });

  it('strips the known decorations from an id without a GUID', () => {
    expect(acsMessageKey('Outgoing_abc123-message-id_noam')).toBe('abc123-message-id');
  });
});

describe('deliveryStatusDetails', () => {
  it.each([
    ['No error.', { code: '2000', codeSource: 'text' }],
    ['2000: No Error', { code: '2000', codeSource: 'details' }],
    ['Sender blocked for given recipient.', { code: '4007', codeSource: 'text' }],
    ['  sender blocked for given recipient ', { code: '4007', codeSource: 'text' }],
    ['4007: Sender blocked for given recipient.', { code: '4007', codeSource: 'details' }],
    ['Message is blocked by Destination carrier.', { code: '4005', codeSource: 'text' }],
    ['Message was blocked due to the toll-free number not being verified', { code: '4010', codeSource: 'text' }],
  ])('reads %j', (details, expected) => {
    expect(readStatusDetails(details)).toEqual({ ...expected, detail: details });
  });

  it('takes no code from a number inside the text, and none from an unknown text', () => {
    expect(readStatusDetails('Carrier said 4005 after 2 tries')).toEqual({ detail: 'Carrier said 4005 after 2 tries' });
    expect(readStatusDetails('Something new')).toEqual({ detail: 'Something new' });
    expect(codeOfPublishedText('Message blocked')).toBeUndefined();
  });

  it('reads an object form and a code beside the details, as a field', () => {
    expect(readStatusDetails({ Code: 4006, Message: 'unreachable' })).toEqual({
      code: '4006',
      codeSource: 'field',
      detail: 'unreachable',
    });
    expect(readStatusDetails('No error.', '2000')).toEqual({ code: '2000', codeSource: 'field', detail: 'No error.' });
  });
});

describe('every published SMS event example parses', () => {
  for (const { file, type } of publishedSmsEvents()) {
    it(file, () => {
      for (const event of eventsOf(file)) {
        if (type === 'Microsoft.Communication.SMSDeliveryReportReceived') {
          const parsed = parseDeliveryReport(event);
          expect(parsed).toMatchObject({
            ok: true,
            value: {
              acsMessageId: `Outgoing_20200918002213${GUID}`,
              acsMessageKey: GUID,
              from: '+15555555555',
              to: '+15555555555',
              status: 'delivered',
              detail: 'No error.',
              code: '2000',
              codeSource: 'text',
              deliveryAttempts: [{ timestamp: '2020-09-18T00:22:14.9315918Z', segmentsSucceeded: 1, segmentsFailed: 0 }],
              receivedAt: '2020-09-18T00:22:20.2855749Z',
            },
          });
        } else {
          expect(parseInboundSms(event)).toMatchObject({
            ok: true,
            value: {
              acsMessageId: '20200918002745d29ebbea-3341-4466-9690-0a03af35228e',
              from: '+15555555555',
              to: '+15555555555',
              receivedAt: '2020-09-18T00:27:45.32Z',
            },
          });
        }
      }
    });
  }
});

let clock: FakeClock;
let messages: FakeMessageStore;
let tracker: FakeTracker;
let optOuts: FakeOptOuts;
let consentLog: FakeConsentLog;
let outbox: FakeOutbox;
let deps: DeliveryReportDeps;

beforeEach(() => {
  clock = new FakeClock();
  messages = new FakeMessageStore();
  tracker = new FakeTracker();
  optOuts = new FakeOptOuts();
  consentLog = new FakeConsentLog();
  outbox = new FakeOutbox();
  deps = {
    messages,
    clock,
    log: silentLogger,
    tracker,
    events: new RecordingSink(),
    consent: carrierConsent({ optOuts, consentLog, clock, publisher: outbox }),
  };
});

/** A message handed to ACS and answered with `acsMessageId`; indexed only when asked to. */
async function sentMessage(acsMessageId: string, options: { index: boolean }): Promise<MessageRecord> {
  const at = new Date('2020-09-18T00:22:13Z');
  const record = newMessageRecord(
    {
      messageId: `${BATCH}-000`,
      batchId: BATCH,
      from: '+15555555555',
      to: '+15555555555',
      body: 'hi',
      deliveryReport: true,
      status: 'queued',
    },
    at,
  );
  moveTo(record, 'sending', at);
  moveTo(record, 'sent', at);
  record.acsMessageId = acsMessageId;
  await messages.insertBatch([record]);
  if (options.index) await messages.indexAcsMessageIds([{ acsMessageId, messageId: record.messageId }]);
  return record;
}

describe('a report whose id is decorated differently from the send response', () => {
  const sentForms = [
    ['Outgoing_…_noam', `Outgoing_20200918002213${GUID}_noam`],
    ['no prefix', `20200918002213${GUID}`],
    ['regional', `2020-09-18T00:22:13_${GUID}_prod_eur_westeurope_outgoing-mms`],
  ] as const;

  it.each(sentForms)('settles the message at once by its batch tag (send answered %s)', async (_name, asSent) => {
    // Not indexed: only the tag + recipient can find it, and the ids differ by their decoration.
    const record = await sentMessage(asSent, { index: false });
    const event = structuredClone(published(CAMEL_REPORT));
    event.data.tag = BATCH;
    expect(await recordDeliveryReport(deps, event)).toEqual({
      kind: 'applied',
      messageId: record.messageId,
      status: 'delivered',
    });
    expect(tracker.parkedReports).toHaveLength(0);
    // The id as sent is kept: GET /deliveryReports is asked for that form.
    expect(messages.rows.get(record.messageId)!.acsMessageId).toBe(asSent);
  });

  it.each(sentForms)('finds it by the key index without a tag (send answered %s)', async (_name, asSent) => {
    const record = await sentMessage(asSent, { index: true });
    expect(await recordDeliveryReport(deps, published(CAMEL_REPORT))).toEqual({
      kind: 'applied',
      messageId: record.messageId,
      status: 'delivered',
    });
  });

  it('reads the docs example\'s capitalised "Tag" when it is a batch id', async () => {
    const record = await sentMessage(`Outgoing_20200918002213${GUID}_noam`, { index: false });
    const [event] = structuredClone(eventsOf(DOCS_TAG_REPORT));
    event.data.Tag = BATCH;
    expect(await recordDeliveryReport(deps, event)).toMatchObject({ kind: 'applied', messageId: record.messageId });
  });

  it('parks a report whose tag and recipient find a message with another id', async () => {
    await sentMessage(`Outgoing_20200918002213${'0'.repeat(8)}-0cbf-4304-9b03-1546683bb910`, { index: false });
    const event = structuredClone(published(CAMEL_REPORT));
    event.data.tag = BATCH;
    expect(await recordDeliveryReport(deps, event)).toMatchObject({ kind: 'unknownMessage' });
    expect(tracker.parkedReports).toHaveLength(1);
  });
});

describe('a Failed report in the published form', () => {
  /** The published camelCase report, failed with `details`. */
  function failed(details: string): PublishedJson {
    const event = structuredClone(published(CAMEL_REPORT));
    event.data.deliveryStatus = 'Failed';
    event.data.deliveryStatusDetails = details;
    event.data.deliveryAttempts[0].segmentsSucceeded = 0;
    event.data.deliveryAttempts[0].segmentsFailed = 1;
    return event;
  }

  it.each([
    ["the SMS FAQ's text, no code", 'Sender blocked for given recipient.', 'text'],
    ['"4007: " and the text', '4007: Sender blocked for given recipient.', 'details'],
  ])('with 4007 as %s: failed, carrier opt-out, one consent entry and one event', async (_name, details, codeSource) => {
    const record = await sentMessage(`Outgoing_20200918002213${GUID}_noam`, { index: true });
    await recordDeliveryReport(deps, failed(details));
    await recordDeliveryReport(deps, failed(details));
    const stored = messages.rows.get(record.messageId)!;
    expect(stored.status).toBe('failed');
    expect(stored.error).toEqual({ code: '4007', message: details });
    expect(stored.history.at(-1)).toMatchObject({ status: 'failed', code: '4007', codeSource, reason: details });
    expect(await optOuts.optedOut(record.from, [record.to])).toEqual(new Set([record.to]));
    expect(consentLog.entries).toHaveLength(1);
    expect(consentLog.entries[0]).toMatchObject({ source: 'carrier', reason: '4007: Sender blocked for given recipient.' });
    expect(outbox.published.map((e) => e.type)).toEqual(['sms.optout.added']);
  });

  it('with a code table text: failed with that code from the text, no opt-out', async () => {
    const record = await sentMessage(`Outgoing_20200918002213${GUID}_noam`, { index: true });
    await recordDeliveryReport(deps, failed('Message is blocked by Destination carrier.'));
    const stored = messages.rows.get(record.messageId)!;
    expect(stored).toMatchObject({ status: 'failed', error: { code: '4005' } });
    expect(stored.history.at(-1)).toMatchObject({ code: '4005', codeSource: 'text' });
    expect(await optOuts.optedOut(record.from, [record.to])).toEqual(new Set());
  });

  it('with an unknown text: failed, no code, the raw text kept, no opt-out', async () => {
    const record = await sentMessage(`Outgoing_20200918002213${GUID}_noam`, { index: true });
    await recordDeliveryReport(deps, failed('Handset rejected the message (NACK 0x41).'));
    const stored = messages.rows.get(record.messageId)!;
    expect(stored.status).toBe('failed');
    expect(stored.error).toEqual({ code: 'delivery-failed', message: 'Handset rejected the message (NACK 0x41).' });
    expect(stored.history.at(-1)).toMatchObject({ status: 'failed', reason: 'Handset rejected the message (NACK 0x41).' });
    expect(stored.history.at(-1)!.code).toBeUndefined();
    expect(consentLog.entries).toHaveLength(0);
  });

  it('"No error." with deliveryStatus Failed is still a failure: the status decides, never the details', async () => {
    const record = await sentMessage(`Outgoing_20200918002213${GUID}_noam`, { index: true });
    await recordDeliveryReport(deps, failed('No error.'));
    expect(messages.rows.get(record.messageId)!.status).toBe('failed');
  });
});

describe('CloudEvents detection', () => {
  it('reads the published example that spells the attribute "specVersion"', () => {
    const event = published('events/cloud-events-schema/sms_received.pascal.specVersion.1951c1a9.json');
    expect(parseInboundSms(event)).toMatchObject({ ok: true, value: { message: 'Great to connect with ACS events' } });
  });

  it('takes type + source without eventType for a CloudEvent, even without a spec version', () => {
    const event = structuredClone(published('events/cloud-events-schema/sms_delivery_report_received.pascal.04c2cb7b.json'));
    delete event.specversion;
    expect(parseDeliveryReport(event)).toMatchObject({ ok: true, value: { eventTime: '2020-09-18T00:22:20.0000000Z' } });
  });
});
