// The Functions glue's door to telemetry: functions start it, and the local host reads what the
// memory exporter captured. (functions/ reach adapters only through adapters/functions.)
export { startTelemetry, telemetryHandle, type TelemetryHandle } from '../telemetry/setup.js';
export { SPANS, METRICS, ATTRIBUTES, LOG_EVENTS } from '../telemetry/names.js';
export { instruments } from '../telemetry/instrumented.js';
