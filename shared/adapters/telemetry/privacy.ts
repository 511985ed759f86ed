// What may leave the process in a log entry or a span, metric or log attribute: phone numbers
// masked (+1425***0123), message texts never, nesting bounded. The one place these rules live; the
// logger (adapters/functions/logger.ts) and every span and metric go through it.
import type { AttributeValue, Attributes } from '@opentelemetry/api';
import { maskPhoneNumber } from '../../domain/phoneNumber.js';
import type { LogProperties } from '../../ports/runtime.js';

/** Properties that hold a phone number (or an array of them) by name. */
const PHONE_KEYS = new Set(['to', 'from', 'phone', 'recipient', 'sender', 'number', 'ourNumber', 'theirNumber', 'sms.sender']);
/** Properties that hold message texts: never logged. */
const TEXT_KEYS = new Set(['body', 'text', 'messageText', 'message']);
/** An E.164 number inside free text (an error message, say). */
const E164_IN_TEXT = /\+[1-9]\d{7,14}/g;

/** Masks every E.164 number in a text. */
export function maskText(text: string): string {
  return text.replace(E164_IN_TEXT, (n) => maskPhoneNumber(n));
}

/** The properties as they may be logged: phone numbers masked, texts dropped, depth bounded. */
export function maskProperties(properties: LogProperties): LogProperties {
  return mask(properties, 0) as LogProperties;
}

function mask(value: unknown, depth: number, key?: string): unknown {
  if (key !== undefined && TEXT_KEYS.has(key)) return '[text not logged]';
  if (typeof value === 'string') {
    // A value already masked at the call site keeps its form: masking again would garble it.
    if (key !== undefined && PHONE_KEYS.has(key)) return value.includes('***') ? value : maskPhoneNumber(value);
    return maskText(value);
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 4) return '[nested]';
  if (value instanceof Error) return maskText(value.message);
  if (Array.isArray(value)) return value.map((v) => mask(v, depth + 1, key));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = mask(v, depth + 1, k);
  return out;
}

/**
 * Masked properties as OpenTelemetry attributes (custom dimensions in Application Insights):
 * strings, numbers and booleans as they are, arrays of those as arrays, anything else as JSON.
 */
export function toAttributes(properties: LogProperties): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(maskProperties(properties))) {
    if (value === undefined || value === null) continue;
    out[key] = attributeValue(value);
  }
  return out;
}

function attributeValue(value: unknown): AttributeValue {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return value as number[];
  return JSON.stringify(value);
}
