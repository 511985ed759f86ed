import { beforeEach, describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../shared/domain/message.js';
import type { GatewayDeliveryReport } from '../../shared/ports/gateway.js';
import { reconcileDeliveries, type ReconcileDeps } from '../../shared/pipeline/reconcileDeliveries.js';
import { parseDeliveryReport as parseGatewayReport } from '../../shared/adapters/acs/smsGateway.js';
import {
  carrierConsent,
  FakeClock,
  FakeGateway,
  FakeMessageStore,
  FakeOptOuts,
  FakeQueue,
  FakeTracker,
  RecordingSink,
  silentLogger,
} from '../support/fakes.js';

const HOUR = 3600_000;
let clock: FakeClock;
let messages: FakeMessageStore;
let tracker: FakeTracker;
let gateway: FakeGateway;
let reports: Map<string, GatewayDeliveryReport>;
let deps: ReconcileDeps;

function record(i: number, overrides: Partial<MessageRecord> = {}): MessageRecord {
  const at = clock.now().toISOString();
  return {
    messageId: `01jdx7k9m2qh3v8s4t1cab-00${i}`,
    batchId: '01jdx7k9m2qh3v8s4t1cab',
    from: '+18005550100',
    to: `+1425555010${i}`,
    body: 'hi',
    encoding: 'GSM-7',
    segments: 1,
    deliveryReport: true,
    status: 'sent',
    history: [{ status: 'sent', at }],
    createdAt: at,
    updatedAt: at,
    acsMessageId: `acs-${i}`,
    attempts: 1,
    ...overrides,
  };
}

beforeEach(async () => {
  clock = new FakeClock();
  messages = new FakeMessageStore();
  tracker = new FakeTracker();
  gateway = new FakeGateway();
  reports = new Map();
  gateway.getDeliveryReport = async (id: string) => reports.get(id);
  deps = {
    messages,
    tracker,
    gateway,
    clock,
    log: silentLogger,
    events: new RecordingSink(),
    consent: carrierConsent({ optOuts: new FakeOptOuts(), clock }),
    reconcileAfterMs: HOUR / 2,
    deadlineMs: 72 * HOUR,
    queue: new FakeQueue(),
    uncertainPolicy: 'atMostOnce',
  };
});

describe('reconcileDeliveries', () => {
  it('leaves recent messages alone', async () => {
    await messages.insertBatch([record(1)]);
    await tracker.track([record(1).messageId], clock.now());
    clock.advance(10 * 60_000);
    expect(await reconcileDeliveries(deps)).toMatchObject({ checked: 0 });
  });

  it('brings overdue messages to their final status from GET /deliveryReports', async () => {
    await messages.insertBatch([record(1), record(2), record(3)]);
    await tracker.track(
      [1, 2, 3].map((i) => record(i).messageId),
      clock.now(),
    );
    reports.set('acs-1', { acsMessageId: 'acs-1', status: 'delivered', receivedAt: '2026-11-25T10:01:00Z' });
    reports.set('acs-2', { acsMessageId: 'acs-2', status: 'failed', code: '4005', detail: 'Message blocked by carrier' });
    clock.advance(HOUR);
    const summary = await reconcileDeliveries(deps);
    expect(summary).toMatchObject({ checked: 3, delivered: 1, failed: 1, stillPending: 1 });
    expect(messages.rows.get(record(1).messageId)!.status).toBe('delivered');
    const failed = messages.rows.get(record(2).messageId)!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({ code: '4005', message: 'Message blocked by carrier' });
    expect([...tracker.tracked.keys()]).toEqual([record(3).messageId]);
    // Not asked again at the very next run.
    expect((await reconcileDeliveries(deps)).checked).toBe(0);
  });

  it('ends a message "unknown" at the deadline, including one whose hand-over was uncertain', async () => {
    await messages.insertBatch([
      record(1),
      record(2, { status: 'sending', acsMessageId: undefined, history: [{ status: 'sending', at: 'x' }] }),
    ]);
    await tracker.track([record(1).messageId, record(2).messageId], clock.now());
    for (let h = 1; h <= 73; h++) {
      clock.advance(HOUR);
      await reconcileDeliveries(deps);
    }
    expect(messages.rows.get(record(1).messageId)!.status).toBe('unknown');
    expect(messages.rows.get(record(2).messageId)!.status).toBe('unknown');
    expect(tracker.tracked.size).toBe(0);
  });

  it('untracks messages whose report arrived in the meantime', async () => {
    await messages.insertBatch([record(1, { status: 'delivered' })]);
    await tracker.track([record(1).messageId], clock.now());
    clock.advance(HOUR);
    expect(await reconcileDeliveries(deps)).toMatchObject({ resolvedAlready: 1 });
    expect(tracker.tracked.size).toBe(0);
  });

  it('untracks every settled message in one run, however many there are', async () => {
    // More than a page of tracked messages and far more than the run's ACS lookups: a run that
    // stopped at a fixed count would fall behind for good at this volume.
    const many = Array.from({ length: 2500 }, (_, i) => ({
      ...record(0, { status: 'delivered' }),
      batchId: `batch${i % 25}`,
      messageId: `batch${i % 25}-${String(i).padStart(4, '0')}`,
    }));
    await messages.insertBatch(many);
    await tracker.track(
      many.map((r) => r.messageId),
      clock.now(),
    );
    let lookups = 0;
    gateway.getDeliveryReport = async () => {
      lookups++;
      return undefined;
    };
    clock.advance(HOUR);
    expect(await reconcileDeliveries({ ...deps, limit: 10 })).toMatchObject({ checked: 2500, resolvedAlready: 2500 });
    expect(tracker.tracked.size).toBe(0);
    expect(lookups).toBe(0);
  });

  it('asks ACS at most `limit` times a run and leaves the rest for the next run', async () => {
    await messages.insertBatch([1, 2, 3, 4, 5].map((i) => record(i)));
    await tracker.track(
      [1, 2, 3, 4, 5].map((i) => record(i).messageId),
      clock.now(),
    );
    let lookups = 0;
    gateway.getDeliveryReport = async (id: string) => {
      lookups++;
      return { acsMessageId: id, status: 'delivered' };
    };
    clock.advance(HOUR);
    expect(await reconcileDeliveries({ ...deps, limit: 2 })).toMatchObject({ checked: 2, delivered: 2 });
    expect(lookups).toBe(2);
    expect(tracker.tracked.size).toBe(3);
    expect(await reconcileDeliveries({ ...deps, limit: 2 })).toMatchObject({ checked: 2, delivered: 2 });
    expect(await reconcileDeliveries({ ...deps, limit: 2 })).toMatchObject({ checked: 1, delivered: 1 });
    expect(tracker.tracked.size).toBe(0);
  });

  it('applies parked reports once their message is known, and drops foreign ones after the deadline', async () => {
    const report = (id: string, to: string) => ({
      eventType: 'Microsoft.Communication.SMSDeliveryReportReceived',
      id: `e-${id}`,
      data: {
        messageId: `Outgoing_${id}`,
        from: '18005550100',
        to,
        deliveryStatus: 'Delivered',
        deliveryStatusDetails: 'No error.',
      },
    });
    await tracker.park(report('acs-1', '+14255550101'), clock.now());
    await tracker.park(report('foreign', '+14255559999'), clock.now());
    await messages.insertBatch([record(1)]);
    await messages.indexAcsMessageIds([{ acsMessageId: 'acs-1', messageId: record(1).messageId }]);
    expect(await reconcileDeliveries(deps)).toMatchObject({ parkedApplied: 1, parkedDropped: 0 });
    expect(messages.rows.get(record(1).messageId)!.status).toBe('delivered');
    clock.advance(73 * HOUR);
    expect(await reconcileDeliveries(deps)).toMatchObject({ parkedDropped: 1 });
    expect(tracker.parkedReports).toHaveLength(0);
  });
});

describe('reading GET /deliveryReports/{id} (2026-01-23)', () => {
  // The body of azure-rest-api-specs, specification/communication/data-plane/Sms/stable/2026-01-23/examples/DeliveryReportGet.json.
  const official = {
    deliveryStatus: 'Delivered',
    deliveryStatusDetails: '2000: No Error',
    deliveryAttempts: [
      { timestamp: '2025-08-12T14:40:00Z', segmentsSucceeded: 2, segmentsFailed: 0 },
      { timestamp: '2025-08-12T14:35:00Z', segmentsSucceeded: 1, segmentsFailed: 1 },
    ],
    receivedTimestamp: '2025-08-12T14:40:00Z',
    tag: 'customer-tag',
    messageId: 'abc123-message-id',
    from: '+1234567890',
    to: '+0987654321',
  };

  it('reads the official example, with the code from the "<code>: <text>" details', () => {
    expect(parseGatewayReport('abc123-message-id', JSON.stringify(official))).toEqual({
      acsMessageId: 'abc123-message-id',
      status: 'delivered',
      code: '2000',
      codeSource: 'details',
      detail: '2000: No Error',
      deliveryAttempts: official.deliveryAttempts,
      receivedAt: '2025-08-12T14:40:00Z',
    });
  });

  it.each([
    ["the SMS FAQ's text, no code", 'Sender blocked for given recipient.', { code: '4007', codeSource: 'text' }],
    ['a code table text', 'Message is blocked by Destination carrier.', { code: '4005', codeSource: 'text' }],
    ['a number inside a sentence', 'Retried 3 times after 5000 ms', {}],
  ])('reads a failure written as %s', (_name, details, expected) => {
    const failed = { ...official, deliveryStatus: 'Failed', deliveryStatusDetails: details };
    const report = parseGatewayReport('acs-1', JSON.stringify(failed));
    expect(report).toMatchObject({ status: 'failed', detail: details, ...expected });
    if (!('code' in expected)) expect(report.code).toBeUndefined();
  });

  it('asks GET for the id exactly as the send returned it, decoration and all', async () => {
    const asSent = 'Outgoing_202009180022138813a09b-0cbf-4304-9b03-1546683bb910_noam';
    const asked: string[] = [];
    gateway.getDeliveryReport = async (id: string) => {
      asked.push(id);
      return { acsMessageId: id, status: 'delivered' };
    };
    await messages.insertBatch([record(1, { acsMessageId: asSent })]);
    await tracker.track([record(1).messageId], clock.now());
    clock.advance(HOUR);
    await reconcileDeliveries(deps);
    expect(asked).toEqual([asSent]);
    expect(messages.rows.get(record(1).messageId)!.status).toBe('delivered');
  });

  it('keeps the code of a failure, so a 4007 from the reconciler records the carrier opt-out too', async () => {
    const failed = {
      ...official,
      deliveryStatus: 'Failed',
      deliveryStatusDetails: '4007: Destination/sender blocked for given recipient.',
    };
    const report = parseGatewayReport('acs-1', JSON.stringify(failed));
    expect(report).toMatchObject({ status: 'failed', code: '4007' });

    const optOuts = new FakeOptOuts();
    await messages.insertBatch([record(1)]);
    await tracker.track([record(1).messageId], clock.now());
    reports.set('acs-1', report);
    clock.advance(HOUR);
    await reconcileDeliveries({ ...deps, consent: carrierConsent({ optOuts, clock }) });
    expect(messages.rows.get(record(1).messageId)).toMatchObject({ status: 'failed', error: { code: '4007' } });
    expect(await optOuts.optedOut(record(1).from, [record(1).to])).toEqual(new Set([record(1).to]));
  });
});
