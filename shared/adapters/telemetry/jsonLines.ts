// Spans, metric points and log records as plain JSON objects, one per line: what the console and
// file exporters write and what the memory exporter hands to the local host's /admin/telemetry.
// One shape everywhere, so what a developer reads locally is what a test asserts on.
import { hrTimeToMilliseconds, ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, DataPointType, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { SpanKind } from '@opentelemetry/api';

export interface SpanLine {
  type: 'span';
  name: string;
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: Array<{ traceId: string; spanId: string }>;
  start: string;
  durationMs: number;
  status: 'unset' | 'ok' | 'error';
  attributes: Record<string, unknown>;
}

export interface MetricLine {
  type: 'metric';
  name: string;
  unit: string;
  attributes: Record<string, unknown>;
  /** A counter's or gauge's value; a histogram's sum. */
  value: number;
  /** A histogram's count of measurements. */
  count?: number;
  time: string;
}

export interface LogLine {
  type: 'log';
  severity: string;
  body: string;
  traceId?: string;
  spanId?: string;
  attributes: Record<string, unknown>;
  time: string;
}

export type TelemetryLine = SpanLine | MetricLine | LogLine;

const KINDS: Record<SpanKind, SpanLine['kind']> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

export function spanLine(span: ReadableSpan): SpanLine {
  const context = span.spanContext();
  const parent = span.parentSpanContext?.spanId;
  return {
    type: 'span',
    name: span.name,
    kind: KINDS[span.kind],
    traceId: context.traceId,
    spanId: context.spanId,
    ...(parent ? { parentSpanId: parent } : {}),
    links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    start: new Date(hrTimeToMilliseconds(span.startTime)).toISOString(),
    durationMs: Math.round(hrTimeToMilliseconds(span.duration) * 10) / 10,
    status: span.status.code === 2 ? 'error' : span.status.code === 1 ? 'ok' : 'unset',
    attributes: { ...span.attributes },
  };
}

export function metricLines(resourceMetrics: ResourceMetrics): MetricLine[] {
  const lines: MetricLine[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints) {
        const time = new Date(hrTimeToMilliseconds(point.endTime)).toISOString();
        const base = {
          type: 'metric' as const,
          name: metric.descriptor.name,
          unit: metric.descriptor.unit,
          attributes: { ...point.attributes },
          time,
        };
        if (metric.dataPointType === DataPointType.HISTOGRAM) {
          const h = point.value as { sum?: number; count: number };
          lines.push({ ...base, value: h.sum ?? 0, count: h.count });
        } else {
          lines.push({ ...base, value: point.value as number });
        }
      }
    }
  }
  return lines;
}

export function logLine(record: ReadableLogRecord): LogLine {
  return {
    type: 'log',
    severity: record.severityText ?? String(record.severityNumber ?? ''),
    body: typeof record.body === 'string' ? record.body : JSON.stringify(record.body),
    ...(record.spanContext ? { traceId: record.spanContext.traceId, spanId: record.spanContext.spanId } : {}),
    attributes: { ...record.attributes },
    time: new Date(hrTimeToMilliseconds(record.hrTime)).toISOString(),
  };
}

const done = (callback: (result: ExportResult) => void) => callback({ code: ExportResultCode.SUCCESS });

/** Writes every span, metric point and log record as a JSON line to `write`. */
export function jsonLineExporters(write: (lines: TelemetryLine[]) => void): {
  spans: SpanExporter;
  metrics: PushMetricExporter;
  logs: LogRecordExporter;
} {
  return {
    spans: {
      export: (spans, callback) => {
        write(spans.map(spanLine));
        done(callback);
      },
      shutdown: async () => undefined,
    },
    metrics: {
      export: (metrics, callback) => {
        write(metricLines(metrics));
        done(callback);
      },
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
      // Each line says what happened in its interval, as Azure Monitor's customMetrics rows do.
      selectAggregationTemporality: () => AggregationTemporality.DELTA,
    },
    logs: {
      export: (records, callback) => {
        write(records.map(logLine));
        done(callback);
      },
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    },
  };
}
