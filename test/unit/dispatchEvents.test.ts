import { describe, expect, it } from 'vitest';
import { messageEvent, type PipelineEvent } from '../../shared/domain/events.js';
import type { MessageRecord } from '../../shared/domain/message.js';
import { encodeOutboxMessages, MAX_OUTBOX_JSON_BYTES, parseOutboxMessage } from '../../shared/domain/outbox.js';
import { backoffMs, dispatchEvents, EVENT_MAX_ATTEMPTS, eventPublisher } from '../../shared/pipeline/dispatchEvents.js';
import { publishingSink } from '../../shared/pipeline/statusEvents.js';
import type { EventDestination } from '../../shared/ports/events.js';
import { FakeClock, FakeOutbox, silentLogger } from '../support/fakes.js';

function record(status: MessageRecord['status'] = 'delivered', metadata?: Record<string, string>): MessageRecord {
  return {
    messageId: '01m88zd555f36ymv0y9ngj-000',
    batchId: '01m88zd555f36ymv0y9ngj',
    from: '+18005550199',
    to: '+14255550123',
    body: 'Hello',
    encoding: 'GSM-7',
    segments: 1,
    tag: 'reminders',
    ...(metadata ? { metadata } : {}),
    deliveryReport: true,
    status,
    history: [
      { status: 'queued', at: '2026-11-25T10:00:00.000Z' },
      { status: 'sending', at: '2026-11-25T10:00:01.000Z' },
      { status: 'sent', at: '2026-11-25T10:00:02.000Z' },
      ...(status === 'delivered'
        ? [
            {
              status: 'delivered' as const,
              at: '2026-11-25T10:00:05.000Z',
              eventTime: '2026-11-25T10:00:04.000Z',
              deliveryAttempts: [{ timestamp: '2026-11-25T10:00:04.000Z', segmentsSucceeded: 1, segmentsFailed: 0 }],
            },
          ]
        : []),
    ],
    createdAt: '2026-11-25T10:00:00.000Z',
    updatedAt: '2026-11-25T10:00:05.000Z',
    acsMessageId: 'abc',
    attempts: 1,
  };
}

class Destination implements EventDestination {
  received: PipelineEvent[][] = [];
  failures = 0;
  constructor(
    readonly name: string,
    readonly types?: ReadonlySet<string>,
    readonly immediate?: boolean,
  ) {}
  async deliver(events: readonly PipelineEvent[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error(`${this.name} answered 500`);
    }
    this.received.push([...events]);
  }
}

const deps = (destinations: EventDestination[], outbox = new FakeOutbox()) => ({
  destinations,
  outbox,
  clock: new FakeClock(),
  log: silentLogger,
  random: () => 0.5,
});

describe('message events', () => {
  it('describe the latest change with a deterministic id, the tag, metadata, latency times and segments', () => {
    const event = messageEvent('/sms-pipeline/test', record('delivered', { order: '42' }));
    expect(event).toMatchObject({
      specversion: '1.0',
      id: '01m88zd555f36ymv0y9ngj-000.delivered',
      type: 'sms.message.delivered',
      subject: 'messages/01m88zd555f36ymv0y9ngj-000',
      time: '2026-11-25T10:00:05.000Z',
      data: {
        status: 'delivered',
        previousStatus: 'sent',
        tag: 'reminders',
        metadata: { order: '42' },
        sentAt: '2026-11-25T10:00:02.000Z',
        segmentsSucceeded: 1,
        segmentsFailed: 0,
      },
    });
    expect(messageEvent('/x', record('delivered'))).toEqual({ ...messageEvent('/x', record('delivered')) });
  });

  it('the sink publishes one event per record', async () => {
    const outbox = new FakeOutbox();
    await publishingSink(outbox, '/s').statusChanged([record('delivered'), record('sent')]);
    expect(outbox.published.map((e) => e.type)).toEqual(['sms.message.delivered', 'sms.message.sent']);
  });
});

describe('outbox messages', () => {
  it('split to fit a Storage queue message, never splitting an event, and read back whole', () => {
    const events = Array.from({ length: 200 }, (_, i) => ({
      ...messageEvent('/s', record('delivered', { note: 'x'.repeat(400) })),
      id: `e${i}`,
    }));
    const texts = encodeOutboxMessages({ v: 1, events });
    expect(texts.length).toBeGreaterThan(1);
    const back = texts.flatMap((t) => {
      expect(Buffer.byteLength(t)).toBeLessThanOrEqual(MAX_OUTBOX_JSON_BYTES);
      const parsed = parseOutboxMessage(t);
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.message.events.map((e) => e.id);
    });
    expect(back).toEqual(events.map((e) => e.id));
  });

  it.each([
    ['not json', 'not JSON'],
    [[1], 'not a JSON object'],
    [{ v: 2, events: [] }, 'v must be 1'],
    [{ v: 1, events: {} }, 'events must be an array'],
    [{ v: 1, events: [{ id: 1 }] }, 'events[0] is not a pipeline event'],
    [{ v: 1, events: [], attempt: -1 }, 'attempt must be a whole number'],
    [{ v: 1, events: [], destinations: 'a' }, 'destinations must be an array'],
  ])('reject %j with a reason', (body, reason) => {
    const parsed = parseOutboxMessage(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(reason);
  });
});

describe('dispatchEvents', () => {
  const events = [messageEvent('/s', record('delivered'))];

  it('delivers to every destination, filtered by type', async () => {
    const all = new Destination('webhook:1');
    const onlyInbound = new Destination('analytics', new Set(['sms.inbound.received']));
    const outcome = await dispatchEvents(deps([all, onlyInbound]), { v: 1, events });
    expect(outcome).toMatchObject({ kind: 'dispatched', delivered: ['webhook:1'], skipped: ['analytics'] });
    expect(all.received).toEqual([events]);
    expect(onlyInbound.received).toEqual([]);
  });

  it('retries only the destination that failed, with backoff, and gives up into the poison queue', async () => {
    const ok = new Destination('a');
    const failing = new Destination('b');
    failing.failures = 100;
    const outbox = new FakeOutbox();
    await dispatchEvents(deps([ok, failing], outbox), { v: 1, events });
    expect(ok.received).toHaveLength(1);
    expect(outbox.enqueued).toHaveLength(1);
    let retry = outbox.enqueued[0]!;
    expect(retry.message).toMatchObject({ destination: 'b', attempt: 2, lastError: 'b answered 500' });
    expect(retry.delayMs).toBe(backoffMs(1, () => 0.5));
    // Each retry goes to b only, later each time, until the attempts run out.
    for (let n = 2; n <= EVENT_MAX_ATTEMPTS; n++) {
      outbox.enqueued = [];
      await dispatchEvents(deps([ok, failing], outbox), JSON.stringify(retry.message));
      if (n < EVENT_MAX_ATTEMPTS) {
        expect(outbox.enqueued[0]!.delayMs).toBeGreaterThanOrEqual(retry.delayMs);
        retry = outbox.enqueued[0]!;
      }
    }
    expect(ok.received).toHaveLength(1);
    expect(outbox.poisoned).toHaveLength(1);
    expect(outbox.poisoned[0]).toMatchObject({ destination: 'b', lastError: 'b answered 500' });
  });

  it('a retry that succeeds ends the retries', async () => {
    const flaky = new Destination('w');
    flaky.failures = 1;
    const outbox = new FakeOutbox();
    await dispatchEvents(deps([flaky], outbox), { v: 1, events });
    const outcome = await dispatchEvents(deps([flaky], outbox), outbox.enqueued[0]!.message);
    expect(outcome).toMatchObject({ delivered: ['w'] });
    expect(outbox.enqueued).toHaveLength(1);
    expect(flaky.received).toEqual([events]);
  });

  it('drops a retry for a destination no longer configured, and rejects a malformed message', async () => {
    expect(await dispatchEvents(deps([new Destination('a')]), { v: 1, events, destination: 'gone', attempt: 3 })).toMatchObject({
      skipped: ['gone'],
    });
    expect(await dispatchEvents(deps([]), '{')).toEqual({ kind: 'malformed', reason: 'not JSON' });
  });

  it('backs off exponentially from 10 s to an hour, with jitter', () => {
    expect(backoffMs(1, () => 1)).toBe(10_000);
    expect(backoffMs(2, () => 1)).toBe(20_000);
    expect(backoffMs(1, () => 0)).toBe(5_000);
    expect(backoffMs(30, () => 1)).toBe(3600_000);
  });
});

describe('publishing events', () => {
  const sent = messageEvent('/s', record('sent'));
  const delivered = messageEvent('/s', record('delivered'));

  it('delivers to the immediate destinations at once and puts one outbox message for the others, naming them', async () => {
    const analytics = new Destination('analytics', undefined, true);
    const webhook = new Destination('webhook', new Set(['sms.message.delivered']));
    const topic = new Destination('topic', new Set(['sms.inbound.received']));
    const outbox = new FakeOutbox();
    await eventPublisher({ destinations: [webhook, analytics, topic], outbox }).publish([sent, delivered]);
    expect(analytics.received).toEqual([[sent, delivered]]);
    // The topic takes none of these types: it is not named, and nothing is delivered to it later.
    expect(outbox.enqueued).toEqual([{ message: { v: 1, events: [sent, delivered], destinations: ['webhook'] }, delayMs: 0 }]);
    expect(outbox.published).toEqual([]);

    // The dispatcher then delivers to the named destinations only.
    const outcome = await dispatchEvents(deps([webhook, analytics, topic], outbox), outbox.enqueued[0]!.message);
    expect(outcome).toMatchObject({ delivered: ['webhook'], retrying: [], skipped: [] });
    expect(webhook.received).toEqual([[delivered]]);
    expect(analytics.received).toHaveLength(1);
  });

  it('writes nothing to the outbox when every destination was reached at once', async () => {
    const outbox = new FakeOutbox();
    const analytics = new Destination('analytics', undefined, true);
    await eventPublisher({ destinations: [analytics], outbox }).publish([delivered]);
    expect(outbox.enqueued).toEqual([]);
    expect(analytics.received).toEqual([[delivered]]);
  });

  it('puts the events of an immediate destination that failed on the outbox as its retry, after the first backoff', async () => {
    const outbox = new FakeOutbox();
    const analytics = new Destination('analytics', undefined, true);
    analytics.failures = 1;
    await eventPublisher({ destinations: [analytics], outbox, random: () => 0.5, retryBaseMs: 1000 }).publish([delivered]);
    expect(outbox.enqueued).toEqual([
      {
        message: { v: 1, events: [delivered], destination: 'analytics', attempt: 2, lastError: 'analytics answered 500' },
        delayMs: 750,
      },
    ]);
    await dispatchEvents(deps([analytics], outbox), outbox.enqueued[0]!.message);
    expect(analytics.received).toEqual([[delivered]]);
  });

  it('throws when the outbox cannot keep what a destination still needs, so the trigger tries again', async () => {
    const outbox = new FakeOutbox();
    outbox.enqueue = async () => {
      throw new Error('queue unavailable');
    };
    const analytics = new Destination('analytics', undefined, true);
    analytics.failures = 1;
    await expect(eventPublisher({ destinations: [analytics], outbox }).publish([delivered])).rejects.toThrow('queue unavailable');
    await expect(eventPublisher({ destinations: [new Destination('webhook')], outbox }).publish([delivered])).rejects.toThrow(
      'queue unavailable',
    );
  });
});
