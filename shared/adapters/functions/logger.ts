// The one logger: the pipeline's Logger port on the Functions InvocationContext. A log entry is a
// fixed message and named properties; the properties are masked (adapters/telemetry/privacy.ts:
// phone numbers show as +1425***0123, texts never appear) and every entry also names its function
// and invocation. Each entry goes two ways:
// - to the host, as one line — the message, then the properties as JSON — for the console, the
//   log stream and `func start`;
// - to OpenTelemetry as a log record whose attributes are the properties, inside the active span:
//   in Application Insights a `traces` row with the properties as customDimensions and the
//   message's trace as operation_Id. When the app exports to Azure Monitor itself, it tells the host
//   so (WorkerOpenTelemetryEnabled, functions/index.ts) and the host does not send the line again.
import type { InvocationContext } from '@azure/functions';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import type { Logger, LogProperties } from '../../ports/runtime.js';
import { LOG_PROPERTIES } from '../telemetry/names.js';
import { maskProperties, toAttributes } from '../telemetry/privacy.js';

export { maskProperties } from '../telemetry/privacy.js';

/** One log line: the message, then the masked properties as JSON. */
export function formatLogEntry(message: string, properties?: LogProperties): string {
  if (!properties || Object.keys(properties).length === 0) return message;
  return `${message} ${JSON.stringify(maskProperties(properties))}`;
}

const SEVERITY = {
  info: { number: SeverityNumber.INFO, text: 'Information' },
  warn: { number: SeverityNumber.WARN, text: 'Warning' },
  error: { number: SeverityNumber.ERROR, text: 'Error' },
} as const;

/** Emits the entry as an OpenTelemetry log record (a no-op until telemetry is started). */
export function emitLogRecord(level: keyof typeof SEVERITY, message: string, properties: LogProperties): void {
  logs.getLogger('sms-pipeline').emit({
    severityNumber: SEVERITY[level].number,
    severityText: SEVERITY[level].text,
    body: message,
    attributes: toAttributes(properties),
  });
}

export function contextLogger(context: InvocationContext): Logger {
  const named = (properties?: LogProperties): LogProperties => ({
    [LOG_PROPERTIES.function]: context.functionName,
    [LOG_PROPERTIES.invocationId]: context.invocationId,
    ...properties,
  });
  return {
    info: (message, properties) => {
      context.log(formatLogEntry(message, properties));
      emitLogRecord('info', message, named(properties));
    },
    warn: (message, properties) => {
      context.warn(formatLogEntry(message, properties));
      emitLogRecord('warn', message, named(properties));
    },
    error: (message, properties) => {
      context.error(formatLogEntry(message, properties));
      emitLogRecord('error', message, named(properties));
    },
  };
}
