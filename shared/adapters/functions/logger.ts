// The one logger: the pipeline's Logger port on the Functions InvocationContext. A log entry is a
// fixed message and named properties; the properties are masked here, whatever the caller passed
// (phone numbers show as +1425***0123, texts never appear), and written after the message as one
// JSON object, so a log query can parse them (Application Insights: `parse_json`) and the
// message itself stays the same for every occurrence.
import type { InvocationContext } from '@azure/functions';
import { maskPhoneNumber } from '../../domain/phoneNumber.js';
import type { Logger, LogProperties } from '../../ports/runtime.js';

/** Properties that hold a phone number (or an array of them) by name. */
const PHONE_KEYS = new Set(['to', 'from', 'phone', 'recipient', 'sender', 'number', 'ourNumber', 'theirNumber']);
/** Properties that hold message texts: never logged. */
const TEXT_KEYS = new Set(['body', 'text', 'messageText']);
/** An E.164 number inside free text (an error message, say). */
const E164_IN_TEXT = /\+[1-9]\d{7,14}/g;

/** The properties as they may be logged: phone numbers masked, texts dropped, depth bounded. */
export function maskProperties(properties: LogProperties): LogProperties {
  return mask(properties, 0) as LogProperties;
}

function mask(value: unknown, depth: number, key?: string): unknown {
  if (key !== undefined && TEXT_KEYS.has(key)) return '[text not logged]';
  if (typeof value === 'string') {
    // A value already masked at the call site keeps its form: masking again would garble it.
    if (key !== undefined && PHONE_KEYS.has(key)) return value.includes('***') ? value : maskPhoneNumber(value);
    return value.replace(E164_IN_TEXT, (n) => maskPhoneNumber(n));
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 4) return '[nested]';
  if (value instanceof Error) return value.message.replace(E164_IN_TEXT, (n) => maskPhoneNumber(n));
  if (Array.isArray(value)) return value.map((v) => mask(v, depth + 1, key));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = mask(v, depth + 1, k);
  return out;
}

/** One log line: the message, then the masked properties as JSON. */
export function formatLogEntry(message: string, properties?: LogProperties): string {
  if (!properties || Object.keys(properties).length === 0) return message;
  return `${message} ${JSON.stringify(maskProperties(properties))}`;
}

export function contextLogger(context: InvocationContext): Logger {
  return {
    info: (message, properties) => context.log(formatLogEntry(message, properties)),
    warn: (message, properties) => context.warn(formatLogEntry(message, properties)),
    error: (message, properties) => context.error(formatLogEntry(message, properties)),
  };
}
