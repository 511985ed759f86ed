// The telemetry adapters in one process with the in-memory exporter: what each wrapper around a
// port emits, that it never changes what the port does, and that nothing it emits carries a phone
// number or a text. The trace of a whole message on the local stack is test/e2e/telemetry.test.ts.
import { SpanKind, trace } from '@opentelemetry/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { messageEvent } from '../../shared/domain/events.js';
import { newMessageRecord, moveTo, type MessageRecord } from '../../shared/domain/message.js';
import { parseSendJob, SEND_JOB_SCHEMA_VERSION, type SendJob, type SendJobV1 } from '../../shared/domain/sendJob.js';
import { traceIdOf } from '../../shared/domain/traceContext.js';
import { toMessageView } from '../../shared/http/messages.js';
import { GatewayError, type SmsGateway } from '../../shared/ports/gateway.js';
import type { OutboundQueue } from '../../shared/ports/queue.js';
import { contextLogger } from '../../shared/adapters/functions/logger.js';
import {
  measuredGateway,
  measuredRateLimiter,
  telemetryDestination,
  tracedMessageStore,
  tracedQueue,
} from '../../shared/adapters/telemetry/instrumented.js';
import type { LogLine, MetricLine, SpanLine, TelemetryLine } from '../../shared/adapters/telemetry/jsonLines.js';
import { METRIC_NAMES, SPAN_NAMES } from '../../shared/adapters/telemetry/names.js';
import { startTelemetry, type TelemetryHandle } from '../../shared/adapters/telemetry/setup.js';
import { fakeServices } from '../support/fakes.js';

let handle: TelemetryHandle;
const lines = async (): Promise<TelemetryLine[]> => handle.memory!();
const spans = async () => (await lines()).filter((l): l is SpanLine => l.type === 'span');
const points = async (name: string) => (await lines()).filter((l): l is MetricLine => l.type === 'metric' && l.name === name);

beforeAll(() => {
  handle = startTelemetry({ exporter: 'memory', serviceName: 'unit' });
});

const job = (overrides: Partial<SendJobV1> = {}): SendJobV1 => ({
  schema: SEND_JOB_SCHEMA_VERSION,
  jobId: 'b1.0',
  batchId: 'b1',
  from: '+18005550100',
  message: 'secret text 1234',
  recipients: [{ messageId: 'b1-000', to: '+14255550123' }],
  deliveryReport: true,
  attempt: 1,
  kind: 'message',
  ...overrides,
});

describe('the send job carries its trace context (sms.sendjob/1, optional field)', () => {
  it('accepts jobs without it, as before, and keeps a valid one', () => {
    const { traceparent: _none, ...old } = job();
    expect(parseSendJob(old).ok).toBe(true);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const parsed = parseSendJob({ ...old, traceparent });
    expect(parsed.ok && parsed.job.traceparent).toBe(traceparent);
  });

  it('refuses one that is not a W3C traceparent, naming the field', () => {
    for (const bad of [
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    ]) {
      const parsed = parseSendJob({ ...job(), traceparent: bad });
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.reason).toMatch(/^traceparent: must be a W3C traceparent/);
    }
  });
});

describe('the queue wrapper', () => {
  it('puts each job on the queue inside a PRODUCER span whose context a job without one gets; a job with its own keeps it', async () => {
    const put: SendJob[] = [];
    const queue: OutboundQueue = { enqueue: async (jobs) => void put.push(...jobs), ping: async () => undefined };
    const own = '00-11111111111111111111111111111111-2222222222222222-01';
    await tracedQueue(queue, 'storage', 'sms-outbound').enqueue([job(), job({ jobId: 'b1.1', traceparent: own })]);
    const span = (await spans()).find((s) => s.name === 'sms.enqueue')!;
    expect(span.kind).toBe('producer');
    expect(put[0]!.traceparent).toBe(`00-${span.traceId}-${span.spanId}-01`);
    expect(put[1]!.traceparent).toBe(own);
    expect(span.attributes).toMatchObject({
      'messaging.destination.name': 'sms-outbound',
      'messaging.batch.message_count': 2,
      'sms.recipients': 2,
    });
  });

  it('reports a failed put on the span and throws it on', async () => {
    const queue: OutboundQueue = {
      enqueue: async () => Promise.reject(new Error('queue down for +14255550123')),
      ping: async () => undefined,
    };
    await expect(tracedQueue(queue, 'servicebus', 'q').enqueue([job({ jobId: 'fail.0' })])).rejects.toThrow('queue down');
    const span = (await spans()).filter((s) => s.name === 'sms.enqueue').at(-1)!;
    expect(span.status).toBe('error');
  });
});

describe('the message store wrapper', () => {
  it('stamps a new record with the active trace, leaves stored ones and ones that have a trace alone', async () => {
    const { messages } = fakeServices();
    const store = tracedMessageStore(messages);
    const fresh = record('b2-000');
    const stored = record('b2-001');
    stored.etag = 'W/"1"';
    await trace.getTracer('t').startActiveSpan('outer', async (span) => {
      await store.insertBatch([fresh]);
      await store.saveAll([stored]).catch(() => undefined);
      span.end();
    });
    const outer = (await spans()).find((s) => s.name === 'outer')!;
    expect(fresh.traceparent).toBe(`00-${outer.traceId}-${outer.spanId}-01`);
    expect(stored.traceparent).toBeUndefined();
    expect((await store.get('b2-000'))?.traceparent).toBe(fresh.traceparent);
    // GET /api/messages/{id} shows the trace id.
    expect(toMessageView(fresh).traceId).toBe(outer.traceId);
    expect(traceIdOf(fresh.traceparent)).toBe(outer.traceId);
  });
});

describe('the ACS wrapper', () => {
  const gateway = (send: SmsGateway['send']): SmsGateway => ({
    send,
    getDeliveryReport: async () => undefined,
    setOptOut: async () => undefined,
    ping: async () =>
      Promise.reject(new GatewayError('ACS refused the app', { transient: false, uncertain: false, status: 403 })),
  });

  it('makes the send a CLIENT span with its duration, and counts a refusal by status', async () => {
    const acs = measuredGateway(
      gateway(async (r) => r.recipients.map((x) => ({ to: x.to, outcome: 'accepted' as const, repeated: false }))),
      'acs.example',
    );
    await acs.send({
      from: '+18005550100',
      message: 'hi +14255550123',
      deliveryReport: true,
      tag: 'b3',
      recipients: [{ to: '+14255550123', messageId: 'b3-000', repeatabilityRequestId: 'r', repeatabilityFirstSent: 'x' }],
    });
    await expect(acs.ping('+18005550100')).rejects.toThrow(GatewayError);
    const span = (await spans()).find((s) => s.name === 'sms.acs.send')!;
    expect(span.kind).toBe('client');
    expect(span.attributes).toMatchObject({
      'server.address': 'acs.example',
      'sms.sender': '+1800***0100',
      'sms.recipients': 1,
      'sms.accepted': 1,
    });
    const durations = await points('sms.acs.duration');
    expect(durations.find((p) => p.attributes['sms.acs.operation'] === 'send')?.attributes['http.response.status_code']).toBe(
      202,
    );
    expect(durations.find((p) => p.attributes['sms.acs.operation'] === 'ping')?.attributes['http.response.status_code']).toBe(
      403,
    );
  });

  it('records how far ahead each pacing slot was, per masked sender', async () => {
    const limiter = measuredRateLimiter({ reserve: async () => new Date(10_000 + 1_500) }, () => 10_000);
    expect((await limiter.reserve({ number: '+18005550100', type: 'tollFree', ratePerMinute: 200, burst: 3 }, 1)).getTime()).toBe(
      11_500,
    );
    const delay = (await points('sms.pacing.delay')).find((p) => p.attributes['sms.sender'] === '+1800***0100')!;
    expect(delay.value).toBe(1500);
  });
});

describe('the telemetry destination', () => {
  it('counts accepted, handed over, delivered, failed by code and suppressed, and the report lag, per masked sender', async () => {
    const destination = telemetryDestination();
    const queued = record('b4-000');
    const suppressed = newMessageRecord({ ...base('b4-001'), status: 'suppressed' }, new Date('2026-01-01T00:00:00Z'));
    const events = [messageEvent('/t', queued), messageEvent('/t', suppressed)];
    moveTo(queued, 'sending', new Date('2026-01-01T00:00:01Z'));
    moveTo(queued, 'sent', new Date('2026-01-01T00:00:02Z'));
    events.push(messageEvent('/t', queued));
    moveTo(queued, 'delivered', new Date('2026-01-01T00:00:12Z'));
    events.push(messageEvent('/t', queued));
    const failing = record('b4-002');
    moveTo(failing, 'failed', new Date('2026-01-01T00:00:03Z'), { code: '4003', reason: 'unreachable +14255550123' });
    events.push(messageEvent('/t', failing));
    await destination.deliver(events);
    const sum = async (name: string, attributes: Record<string, unknown> = {}) =>
      (await points(name))
        .filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))
        .reduce((n, p) => n + p.value, 0);
    expect(await sum('sms.messages.accepted', { 'sms.sender': '+1800***0100', 'sms.status': 'queued' })).toBe(1);
    expect(await sum('sms.messages.suppressed')).toBe(1);
    expect(await sum('sms.messages.handed_over')).toBe(1);
    expect(await sum('sms.messages.delivered')).toBe(1);
    expect(await sum('sms.messages.failed', { 'sms.failure_code': '4003' })).toBe(1);
    const lag = (await points('sms.delivery_report.lag'))[0]!;
    expect(lag.value).toBe(10);
  });
});

describe('the logger', () => {
  it('sends each entry as a log record with its masked properties, function and invocation, in the active span', async () => {
    const context = {
      functionName: 'fn',
      invocationId: 'inv-1',
      log: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    } as never;
    await trace.getTracer('t').startActiveSpan('logging', { kind: SpanKind.INTERNAL }, async (span) => {
      contextLogger(context).warn('something happened', {
        to: '+14255550123',
        message: 'a text',
        batchId: 'b5',
        nested: { phone: '+14255550124' },
      });
      span.end();
    });
    const entry = (await lines()).find((l): l is LogLine => l.type === 'log' && l.body === 'something happened')!;
    const span = (await spans()).find((s) => s.name === 'logging')!;
    expect(entry.traceId).toBe(span.traceId);
    expect(entry.severity).toBe('Warning');
    expect(entry.attributes).toEqual({
      function: 'fn',
      invocationId: 'inv-1',
      to: '+1425***0123',
      message: '[text not logged]',
      batchId: 'b5',
      nested: '{"phone":"+1425***0124"}',
    });
  });
});

describe('the queue observer (observeQueues timer)', () => {
  it("records the oldest waiting job's age and the dead letters waiting, in the table and in the transport", async () => {
    const services = fakeServices();
    expect(await services.observeQueues()).toEqual({ oldestAgeSeconds: 0, transportDeadLetters: 0, tableDeadLetters: 0 });
    await services.queue.enqueue([job()]);
    services.clock.time += 90_000;
    await services.queue.enqueue([job({ jobId: 'b1.1' })]);
    services.clock.time += 30_000;
    await services.deadLetters.add({ reason: 'max-attempts', body: '{}' });
    services.transportDeadLetters.letters.push({
      id: 'p1',
      at: services.clock.now().toISOString(),
      reason: 'poison',
      body: '{}',
    });
    services.transportDeadLetters.letters.push({
      id: 'p2',
      at: services.clock.now().toISOString(),
      reason: 'poison',
      body: '{}',
    });

    expect(await services.observeQueues()).toEqual({ oldestAgeSeconds: 120, transportDeadLetters: 2, tableDeadLetters: 1 });
    const ages = await points('sms.queue.oldest_age');
    expect(ages.at(-1)).toMatchObject({ value: 120, attributes: { 'messaging.destination.name': 'sms-outbound' } });
    const dead = await points('sms.dead_letters.waiting');
    expect(dead.find((p) => p.attributes['sms.dead_letter.store'] === 'table')?.value).toBe(1);
    expect(dead.find((p) => p.attributes['sms.dead_letter.store'] === 'transport')?.value).toBe(2);

    services.queue.take();
    expect((await services.observeQueues()).oldestAgeSeconds).toBe(30);
  });
});

describe('everything emitted', () => {
  it('uses only registered names and carries no phone number or text', async () => {
    const all = await lines();
    for (const l of all) {
      if (l.type === 'metric') expect(METRIC_NAMES).toContain(l.name);
      if (l.type === 'span' && !['outer', 'logging'].includes(l.name)) expect(SPAN_NAMES).toContain(l.name);
    }
    const exposed = JSON.stringify(all.map((l) => (l.type === 'log' ? [l.body, l.attributes] : l.attributes)));
    expect(exposed).not.toMatch(/\+[1-9]\d{7,14}/);
    expect(exposed).not.toContain('secret text');
    expect(exposed).not.toContain('a text');
  });
});

function base(messageId: string) {
  return {
    messageId,
    batchId: messageId.split('-')[0]!,
    from: '+18005550100',
    to: '+14255550123',
    body: 'secret text 1234',
    deliveryReport: true,
  };
}

function record(messageId: string): MessageRecord {
  return newMessageRecord({ ...base(messageId), status: 'queued' }, new Date('2026-01-01T00:00:00Z'));
}
