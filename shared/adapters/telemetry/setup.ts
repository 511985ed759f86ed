// Starts the process's OpenTelemetry providers — traces, metrics, logs — and picks where they go
// (TELEMETRY_EXPORTER). The app's code only ever uses @opentelemetry/api; this is the one place
// that knows the SDK and the exporters.
//
// Why this shape, rather than @azure/monitor-opentelemetry's useAzureMonitor() (docs/operations.md):
// - Microsoft's Node.js setup for Functions (learn.microsoft.com/azure/azure-functions/opentelemetry-howto,
//   JavaScript pivot; sample Azure/azure-functions-nodejs-samples ts/src/otelAppInsights.ts) is the
//   SDK's providers with @azure/monitor-opentelemetry-exporter's exporters, plus three calls into
//   @azure/functions (app.setup capability, a log hook, a preInvocation hook). The distro would bring
//   a dozen auto-instrumentations (http, mongodb, redis …) into a bundled app where require hooks
//   cannot see the bundled modules anyway.
// - @azure/functions-opentelemetry-instrumentation does those three calls by patching
//   require('@azure/functions'), which never happens inside an esbuild bundle (the library is in the
//   bundle); its ESM variant needs @opentelemetry/instrumentation. functions/index.ts makes the one
//   call that matters here (WorkerOpenTelemetryEnabled) itself, and shared/adapters/functions/tracing.ts
//   reads InvocationContext.traceContext directly, which works the same under the local host.
// - The Azure Monitor exporters are imported on first export, not at start: the app's cold start
//   pays for the small SDK providers only (docs/benchmarks.md).
import { context, diag, DiagLogLevel, metrics, propagation, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type LogRecordExporter,
  type LogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  InstrumentType,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { appendFile } from 'node:fs/promises';
import type { TelemetryConfig } from '../../config.js';
import { AsyncLocalContextManager } from './contextManager.js';
import { jsonLineExporters, logLine, metricLines, spanLine, type TelemetryLine } from './jsonLines.js';

/** What the process's telemetry is, once started. */
export interface TelemetryHandle {
  exporter: TelemetryConfig['exporter'];
  /** Exports whatever is buffered (spans, metric points, log records). */
  flush(): Promise<void>;
  /** With TELEMETRY_EXPORTER=memory: everything captured so far, as JSON lines (metrics collected now). */
  memory?: () => Promise<TelemetryLine[]>;
}

// On globalThis, so a second copy of this module (a test importing the sources beside the compiled
// app) finds the providers the first one started instead of starting another set.
const HANDLE = Symbol.for('sms-pipeline.telemetry');
type Global = typeof globalThis & { [HANDLE]?: TelemetryHandle };

/** The telemetry this process started, if any. */
export function telemetryHandle(): TelemetryHandle | undefined {
  return (globalThis as Global)[HANDLE];
}

/** Starts telemetry once per process; later calls return the first handle. */
export function startTelemetry(config: TelemetryConfig): TelemetryHandle {
  const existing = telemetryHandle();
  if (existing) return existing;
  const handle = config.exporter === 'none' ? { exporter: 'none' as const, flush: async () => undefined } : start(config);
  (globalThis as Global)[HANDLE] = handle;
  return handle;
}

function start(config: Exclude<TelemetryConfig, { exporter: 'none' }>): TelemetryHandle {
  diag.setLogger(
    {
      error: (m) => console.error(`telemetry: ${m}`),
      warn: () => undefined,
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.ERROR,
  );
  const resource = resourceFromAttributes({ 'service.name': config.serviceName });
  context.setGlobalContextManager(new AsyncLocalContextManager());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());

  let spanProcessor: SpanProcessor;
  let metricReader: IMetricReader;
  let logProcessor: LogRecordProcessor;
  let memory: TelemetryHandle['memory'];

  if (config.exporter === 'azureMonitor') {
    const exporters = azureMonitorExporters(config);
    spanProcessor = new BatchSpanProcessor(exporters.spans);
    // One point per minute per dimension set, as Application Insights' own SDKs send them.
    metricReader = new PeriodicExportingMetricReader({ exporter: exporters.metrics, exportIntervalMillis: 60_000 });
    logProcessor = new BatchLogRecordProcessor({ exporter: exporters.logs });
  } else if (config.exporter === 'memory') {
    const spans = new InMemorySpanExporter();
    const records = new InMemoryLogRecordExporter();
    const reader = new OnDemandMetricReader();
    spanProcessor = new SimpleSpanProcessor(spans);
    metricReader = reader;
    logProcessor = new SimpleLogRecordProcessor({ exporter: records });
    memory = async () => {
      const { resourceMetrics } = await reader.collect();
      return [
        ...spans.getFinishedSpans().map(spanLine),
        ...metricLines(resourceMetrics),
        ...records.getFinishedLogRecords().map(logLine),
      ];
    };
  } else {
    const write =
      config.exporter !== 'file'
        ? (lines: TelemetryLine[]) => {
            for (const line of lines) process.stdout.write(`telemetry ${JSON.stringify(line)}\n`);
          }
        : fileWriter(config.file);
    const exporters = jsonLineExporters(write);
    spanProcessor = new SimpleSpanProcessor(exporters.spans);
    metricReader = new PeriodicExportingMetricReader({ exporter: exporters.metrics, exportIntervalMillis: 10_000 });
    logProcessor = new SimpleLogRecordProcessor({ exporter: exporters.logs });
  }

  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  const meterProvider = new MeterProvider({ resource, readers: [metricReader] });
  const loggerProvider = new LoggerProvider({ resource, processors: [logProcessor] });
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  logs.setGlobalLoggerProvider(loggerProvider);

  return {
    exporter: config.exporter,
    ...(memory ? { memory } : {}),
    async flush() {
      await Promise.allSettled([tracerProvider.forceFlush(), meterProvider.forceFlush(), loggerProvider.forceFlush()]);
    },
  };
}

/** Appends JSON lines to a file, in order, never blocking the caller. */
function fileWriter(file: string): (lines: TelemetryLine[]) => void {
  let queue = Promise.resolve();
  return (lines) => {
    if (lines.length === 0) return;
    const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
    queue = queue
      .then(() => appendFile(file, text))
      .catch((error: Error) => console.error(`telemetry: cannot write ${file}: ${error.message}`));
  };
}

/** A metric reader that collects when asked (the memory exporter's). */
class OnDemandMetricReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/**
 * Azure Monitor's exporters, imported on first export. Application Insights here accepts only Entra
 * tokens (DisableLocalAuth, infra/modules/monitoring.bicep), so they get the managed identity named
 * by APPLICATIONINSIGHTS_AUTHENTICATION_STRING — the setting the Functions host reads for its own
 * telemetry (Azure/azure-webjobs-sdk#2986; for the host's OpenTelemetry mode, Azure/azure-functions-host#10457).
 */
function azureMonitorExporters(config: Extract<TelemetryConfig, { exporter: 'azureMonitor' }>) {
  let loaded: Promise<typeof import('@azure/monitor-opentelemetry-exporter')> | undefined;
  let options: Promise<{ connectionString: string; credential?: import('@azure/core-auth').TokenCredential }> | undefined;
  const load = () => (loaded ??= import('@azure/monitor-opentelemetry-exporter'));
  const exporterOptions = () =>
    (options ??= (async () => {
      if (!config.entra) return { connectionString: config.connectionString };
      const { ManagedIdentityCredential } = await import('@azure/identity');
      const credential = config.entra.clientId
        ? new ManagedIdentityCredential({ clientId: config.entra.clientId })
        : new ManagedIdentityCredential();
      return { connectionString: config.connectionString, credential };
    })());
  return {
    spans: lazySpanExporter(async () => new (await load()).AzureMonitorTraceExporter(await exporterOptions())),
    metrics: lazyMetricExporter(async () => new (await load()).AzureMonitorMetricExporter(await exporterOptions())),
    logs: lazyLogExporter(async () => new (await load()).AzureMonitorLogExporter(await exporterOptions())),
  };
}

type Callback = (result: ExportResult) => void;
const failed = (callback: Callback) => (error: unknown) => callback({ code: ExportResultCode.FAILED, error: error as Error });

function lazySpanExporter(create: () => Promise<SpanExporter>): SpanExporter {
  let exporter: Promise<SpanExporter> | undefined;
  const get = () => (exporter ??= create());
  return {
    export: (spans, callback) => void get().then((e) => e.export(spans, callback), failed(callback)),
    shutdown: async () => (exporter ? (await exporter).shutdown() : undefined),
    forceFlush: async () => (exporter ? (await exporter).forceFlush?.() : undefined),
  };
}

function lazyLogExporter(create: () => Promise<LogRecordExporter>): LogRecordExporter {
  let exporter: Promise<LogRecordExporter> | undefined;
  const get = () => (exporter ??= create());
  return {
    export: (records, callback) => void get().then((e) => e.export(records, callback), failed(callback)),
    shutdown: async () => (exporter ? (await exporter).shutdown() : undefined),
    forceFlush: async () => (exporter ? (await exporter).forceFlush() : undefined),
  };
}

function lazyMetricExporter(create: () => Promise<PushMetricExporter>): PushMetricExporter {
  let exporter: Promise<PushMetricExporter> | undefined;
  const get = () => (exporter ??= create());
  return {
    export: (resourceMetrics, callback) => void get().then((e) => e.export(resourceMetrics, callback), failed(callback)),
    shutdown: async () => (exporter ? (await exporter).shutdown() : undefined),
    forceFlush: async () => (exporter ? (await exporter).forceFlush() : undefined),
    // Asked before the exporter is loaded: AzureMonitorMetricExporter's own choice (export/metric.ts,
    // selectAggregationTemporality): cumulative for up-down counters, delta for everything else.
    selectAggregationTemporality: (type) =>
      type === InstrumentType.UP_DOWN_COUNTER || type === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER
        ? AggregationTemporality.CUMULATIVE
        : AggregationTemporality.DELTA,
  };
}
