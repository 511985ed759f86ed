// Telemetry around the ports, added by the composition root, so the use cases stay as they are:
// the queue put is a PRODUCER span whose context every new job carries; the ACS request a CLIENT
// span with its duration; the pacing wait a histogram; a new message record keeps the trace it was
// created in; and every status event becomes a count (the telemetry destination).
import {
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Counter,
  type Gauge,
  type Histogram,
  type MeterProvider,
} from '@opentelemetry/api';
import type { MessageEventData, PipelineEvent, ConsentEventData, InboundEventData } from '../../domain/events.js';
import type { MessageRecord } from '../../domain/message.js';
import type { EventDestination } from '../../ports/events.js';
import { GatewayError, type SmsGateway } from '../../ports/gateway.js';
import type { MessageStore } from '../../ports/messages.js';
import type { RateLimiter } from '../../ports/pacing.js';
import type { OutboundQueue } from '../../ports/queue.js';
import type { LogProperties } from '../../ports/runtime.js';
import { ATTRIBUTES, METRICS, SPANS } from './names.js';
import { maskText, toAttributes } from './privacy.js';
import { activeTraceparent } from './traceparent.js';

const tracer = () => trace.getTracer('sms-pipeline');

type Instruments = {
  [K in keyof typeof METRICS]: (typeof METRICS)[K]['kind'] extends 'counter'
    ? Counter
    : (typeof METRICS)[K]['kind'] extends 'histogram'
      ? Histogram
      : Gauge;
};

let made: { provider: MeterProvider; instruments: Instruments } | undefined;

/**
 * The metric instruments, made from the global meter provider. The metrics API has no proxy (unlike
 * traces), so they are made on first use — after functions/index.ts started telemetry — and again
 * if the provider changed.
 */
export function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (made?.provider !== provider) {
    const meter = provider.getMeter('sms-pipeline');
    const out: Record<string, Counter | Histogram | Gauge> = {};
    for (const [key, spec] of Object.entries(METRICS)) {
      const options = { unit: spec.unit, description: spec.description };
      out[key] =
        spec.kind === 'counter'
          ? meter.createCounter(spec.name, options)
          : spec.kind === 'histogram'
            ? meter.createHistogram(spec.name, options)
            : meter.createGauge(spec.name, options);
    }
    made = { provider, instruments: out as Instruments };
  }
  return made.instruments;
}

/** Masked attributes for a metric point or a span. */
const attrs = (properties: LogProperties) => toAttributes(properties);

function failSpan(span: import('@opentelemetry/api').Span, error: unknown): void {
  const message = maskText(error instanceof Error ? error.message : String(error)).slice(0, 500);
  span.recordException({ name: error instanceof Error ? error.name : 'Error', message });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/**
 * The outbound queue, traced: each put is a PRODUCER span, and a job that has no trace context yet
 * gets that span's — it keeps it from then on (retries and splits copy it), so every attempt at
 * sending it is a child of the put that first carried it. A job from another app that brings its
 * own `traceparent` keeps it.
 */
export function tracedQueue(queue: OutboundQueue, transport: 'servicebus' | 'storage', queueName: string): OutboundQueue {
  return {
    enqueue: (jobs) => {
      if (jobs.length === 0) return queue.enqueue(jobs);
      const attributes = attrs({
        [ATTRIBUTES.messagingSystem]: transport === 'servicebus' ? 'servicebus' : 'azure.storage.queue',
        [ATTRIBUTES.messagingDestination]: queueName,
        [ATTRIBUTES.messagingBatchCount]: jobs.length,
        [ATTRIBUTES.batchId]: jobs[0]!.batchId,
        [ATTRIBUTES.recipients]: jobs.reduce((n, j) => n + j.recipients.length, 0),
      });
      return tracer().startActiveSpan(SPANS.enqueue, { kind: SpanKind.PRODUCER, attributes }, async (span) => {
        try {
          const traceparent = activeTraceparent();
          await queue.enqueue(traceparent ? jobs.map((j) => (j.traceparent ? j : { ...j, traceparent })) : jobs);
        } catch (error) {
          failSpan(span, error);
          throw error;
        } finally {
          span.end();
        }
      });
    },
    ping: () => queue.ping(),
  };
}

/** A new record keeps the trace it is created in (the submit's, or the send's of a job enqueued directly). */
function stamp(records: readonly MessageRecord[]): void {
  const traceparent = activeTraceparent();
  if (!traceparent) return;
  for (const record of records) if (!record.etag && !record.traceparent) record.traceparent = traceparent;
}

/** The message store, stamping each new record with the active trace context. */
export function tracedMessageStore(store: MessageStore): MessageStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'insertBatch' || property === 'saveAll') {
        return (records: MessageRecord[]) => {
          stamp(records);
          return target[property](records);
        };
      }
      if (property === 'save') {
        return (record: MessageRecord) => {
          stamp([record]);
          return target.save(record);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * ACS, measured: every request's duration by operation and HTTP status (the 401/403 alert reads
 * it), and the send as a CLIENT span — active while the SDK sends, so the ACS adapter's policy puts
 * its `traceparent` on the request (smsGateway.ts).
 */
export function measuredGateway(gateway: SmsGateway, serverAddress: string): SmsGateway {
  const measure = async <T>(
    operation: string,
    call: () => Promise<T>,
    statusOf: (result: T) => number | undefined,
  ): Promise<T> => {
    const started = performance.now();
    try {
      const result = await call();
      const status = statusOf(result);
      instruments().acsDuration.record(
        performance.now() - started,
        attrs({ [ATTRIBUTES.acsOperation]: operation, ...(status ? { [ATTRIBUTES.httpStatusCode]: status } : {}) }),
      );
      return result;
    } catch (error) {
      const details = error instanceof GatewayError ? error.details : undefined;
      instruments().acsDuration.record(
        performance.now() - started,
        attrs({
          [ATTRIBUTES.acsOperation]: operation,
          [ATTRIBUTES.httpStatusCode]: details?.status ?? 0,
          [ATTRIBUTES.errorType]: details?.status ? String(details.status) : details?.uncertain ? 'no-answer' : 'unreachable',
        }),
      );
      throw error;
    }
  };
  return {
    send: (request) =>
      tracer().startActiveSpan(
        SPANS.acsSend,
        {
          kind: SpanKind.CLIENT,
          attributes: attrs({
            [ATTRIBUTES.serverAddress]: serverAddress,
            [ATTRIBUTES.sender]: request.from,
            [ATTRIBUTES.recipients]: request.recipients.length,
            ...(request.tag ? { [ATTRIBUTES.batchId]: request.tag } : {}),
          }),
        },
        async (span) => {
          try {
            // ACS answers a send it took with 202 and per-recipient verdicts (SMS REST API, Sms_Send).
            const results = await measure(
              'send',
              () => gateway.send(request),
              () => 202,
            );
            span.setAttributes(
              attrs({
                [ATTRIBUTES.httpStatusCode]: 202,
                'sms.accepted': results.filter((r) => r.outcome === 'accepted').length,
                'sms.rejected': results.filter((r) => r.outcome === 'rejected').length,
              }),
            );
            return results;
          } catch (error) {
            if (error instanceof GatewayError && error.details.status)
              span.setAttribute(ATTRIBUTES.httpStatusCode, error.details.status);
            failSpan(span, error);
            throw error;
          } finally {
            span.end();
          }
        },
      ),
    getDeliveryReport: (acsMessageId) =>
      measure(
        'deliveryReport',
        () => gateway.getDeliveryReport(acsMessageId),
        (r) => (r ? 200 : 404),
      ),
    setOptOut: (action, from, to) =>
      measure(
        `optOut.${action}`,
        () => gateway.setOptOut(action, from, to),
        () => 200,
      ),
    ping: (from) =>
      measure(
        'ping',
        () => gateway.ping(from),
        () => undefined,
      ),
  };
}

/** The pacing wait per sender number: how far ahead the reserved slot was. */
export function measuredRateLimiter(limiter: RateLimiter, now: () => number = Date.now): RateLimiter {
  return {
    async reserve(sender, count) {
      const slot = await limiter.reserve(sender, count);
      instruments().pacingDelay.record(Math.max(0, slot.getTime() - now()), attrs({ [ATTRIBUTES.sender]: sender.number }));
      return slot;
    },
  };
}

/** The name of the telemetry destination among the event destinations. */
export const TELEMETRY_DESTINATION = 'telemetry';

/**
 * Counts the pipeline's events as metrics: accepted, handed over, delivered, failed by code,
 * suppressed, the rest of the final statuses, the delivery-report lag, opt-outs and inbound texts.
 * Delivered where the change is recorded (immediate), and it never fails, so the outbox never
 * carries events for it; a redelivered change is counted again, as metrics are approximate anyway.
 */
export function telemetryDestination(): EventDestination {
  return {
    name: TELEMETRY_DESTINATION,
    immediate: true,
    deliver: async (events) => {
      for (const event of events) {
        try {
          count(event);
        } catch {
          // Telemetry never stands in the way of the pipeline.
        }
      }
    },
  };
}

function count(event: PipelineEvent): void {
  const i = instruments();
  if (event.type === 'sms.optout.added' || event.type === 'sms.optout.removed') {
    const data = event.data as ConsentEventData;
    i.optOuts.add(
      1,
      attrs({
        [ATTRIBUTES.status]: event.type === 'sms.optout.added' ? 'added' : 'removed',
        [ATTRIBUTES.optOutSource]: data.source,
      }),
    );
    return;
  }
  if (event.type === 'sms.inbound.received') {
    i.inbound.add(1, attrs({ [ATTRIBUTES.keyword]: (event.data as InboundEventData).keyword ?? 'none' }));
    return;
  }
  const data = event.data as MessageEventData;
  const sender = { [ATTRIBUTES.sender]: data.from };
  switch (data.status) {
    case 'queued':
    case 'scheduled':
      i.accepted.add(1, attrs({ ...sender, [ATTRIBUTES.status]: data.status }));
      break;
    case 'sent':
      i.handedOver.add(1, attrs(sender));
      break;
    case 'delivered':
      i.delivered.add(1, attrs(sender));
      break;
    case 'failed':
      i.failed.add(1, attrs({ ...sender, [ATTRIBUTES.failureCode]: data.code ?? 'unknown' }));
      break;
    case 'suppressed':
      i.suppressed.add(1, attrs(sender));
      break;
    case 'expired':
    case 'canceled':
    case 'unknown':
      i.notDelivered.add(
        1,
        attrs({ ...sender, [ATTRIBUTES.status]: data.status, ...(data.code ? { [ATTRIBUTES.failureCode]: data.code } : {}) }),
      );
      break;
    default:
      return;
  }
  // A final status that came after a hand-over: how long its report took.
  if ((data.status === 'delivered' || data.status === 'failed' || data.status === 'unknown') && data.sentAt) {
    const lag = (Date.parse(event.time) - Date.parse(data.sentAt)) / 1000;
    if (Number.isFinite(lag) && lag >= 0) i.deliveryReportLag.record(lag, attrs({ ...sender, [ATTRIBUTES.status]: data.status }));
  }
}
