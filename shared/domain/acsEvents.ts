// Reads the events ACS publishes through Event Grid — delivery reports and inbound SMS — in the
// Event Grid schema or CloudEvents 1.0, with data in camelCase or PascalCase, numbers with or
// without "+", and message ids in any of their published decorations (matched by their key).
import { CARRIER_OPT_OUT_CODE as OPT_OUT_CODE } from './acsFacts.js';
import { field, readStatusDetails, type CodeSource } from './deliveryStatusDetails.js';
import { acsMessageKey, normalizeAcsMessageId } from './ids.js';
import type { DeliveryAttempt } from './message.js';

export const DELIVERY_REPORT_EVENT = 'Microsoft.Communication.SMSDeliveryReportReceived';
export const SMS_RECEIVED_EVENT = 'Microsoft.Communication.SMSReceived';

/** ACS's code for a recipient who opted out (acsFacts.ts), as the pipeline carries codes: a string. */
export const CARRIER_OPT_OUT_CODE = String(OPT_OUT_CODE);

/** A delivery report, normalised. */
export interface DeliveryReport {
  eventId: string;
  /** The message id exactly as the event carries it. */
  acsMessageId: string;
  /** Its key (ids.ts acsMessageKey): what it is matched by. */
  acsMessageKey: string;
  from: string;
  to: string;
  status: 'delivered' | 'failed';
  /** ACS's deliveryStatus as sent, e.g. "Delivered", "Failed". */
  deliveryStatus: string;
  /** deliveryStatusDetails exactly as received, e.g. "No error." */
  detail?: string;
  /** The detail code (2000, 4000–4010, 5000–5002, 9999 …) when the report gives one or its text is a published one. */
  code?: string;
  /** Where `code` came from (deliveryStatusDetails.ts). */
  codeSource?: CodeSource;
  deliveryAttempts: DeliveryAttempt[];
  receivedAt?: string;
  tag?: string;
  eventTime?: string;
}

/** An inbound SMS, normalised. */
export interface InboundSms {
  eventId: string;
  /** The id without its "Incoming_" prefix: a redelivery carries the identical id, so it is what duplicates are recognised by. */
  acsMessageId: string;
  /** Its key (ids.ts acsMessageKey). */
  acsMessageKey: string;
  /** The handset that wrote. */
  from: string;
  /** Our number. */
  to: string;
  message: string;
  receivedAt: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

interface Envelope {
  id: string;
  type: string;
  data: Record<string, unknown>;
  time?: string;
}

/** Unwraps one event of either schema; `data` must be an object. */
export function readEnvelope(event: unknown): Parsed<Envelope> {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return { ok: false, reason: 'event is not an object' };
  const e = event as Record<string, unknown>;
  // CloudEvents 1.0 names the attribute "specversion"; one published SMSReceived example spells it
  // "specVersion" (test/fixtures/published, 1951c1a9). Without either, type + source and no
  // eventType can only be a CloudEvent.
  const isCloudEvent =
    typeof e.specversion === 'string' ||
    typeof e.specVersion === 'string' ||
    (typeof e.type === 'string' && typeof e.source === 'string' && e.eventType === undefined);
  const type = isCloudEvent ? e.type : e.eventType;
  const time = isCloudEvent ? e.time : e.eventTime;
  let data = e.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      return { ok: false, reason: 'event data is a string that is not JSON' };
    }
  }
  if (typeof type !== 'string') return { ok: false, reason: `event has no ${isCloudEvent ? 'type' : 'eventType'}` };
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return { ok: false, reason: 'event data is not an object' };
  return {
    ok: true,
    value: {
      id: typeof e.id === 'string' ? e.id : '',
      type,
      data: data as Record<string, unknown>,
      ...(typeof time === 'string' ? { time } : {}),
    },
  };
}

/** A UTF-16 surrogate without its other half: not a character, and not storable as text. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** True when `value` has no lone surrogate (String.prototype.isWellFormed, ES2024). */
export function isWellFormed(value: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  return !LONE_SURROGATE.test(value);
}

function text(data: Record<string, unknown>, camel: string): string | undefined {
  const v = field(data, camel);
  return typeof v === 'string' ? v : undefined;
}

/** ACS writes numbers as "+14255550123" or "14255550123"; alphanumeric senders stay as they are. */
export function normalizeEventNumber(value: string): string {
  const trimmed = value.trim();
  return /^\d{8,15}$/.test(trimmed) ? `+${trimmed}` : trimmed;
}

/** An event of `type`: its envelope and the texts of `fields` (camelCase or PascalCase), or which are missing. */
function readEvent<K extends string>(
  event: unknown,
  type: string,
  fields: readonly K[],
): Parsed<{ envelope: Envelope; texts: Record<K, string | undefined>; missing: string[] }> {
  const env = readEnvelope(event);
  if (!env.ok) return env;
  if (env.value.type !== type) return { ok: false, reason: `unexpected event type ${env.value.type}` };
  const texts = Object.fromEntries(fields.map((f) => [f, text(env.value.data, f)])) as Record<K, string | undefined>;
  // Text no storage key or URL can hold (a lone surrogate) is refused here, as bad input, rather
  // than failing later in a store as a server error that Event Grid would retry all day.
  const broken = fields.filter((f) => texts[f] !== undefined && !isWellFormed(texts[f]!));
  if (broken.length > 0)
    return { ok: false, reason: `${broken.join(', ')} ${broken.length > 1 ? 'are' : 'is'} not well-formed text` };
  return { ok: true, value: { envelope: env.value, texts, missing: fields.filter((f) => !texts[f]) } };
}

/** The numbers every SMS event carries, in the one form the pipeline keeps, and the key of its id. */
function addressing(eventId: string, t: { messageId?: string; from?: string; to?: string }) {
  return {
    eventId,
    acsMessageKey: acsMessageKey(t.messageId!),
    from: normalizeEventNumber(t.from!),
    to: normalizeEventNumber(t.to!),
  };
}

export function parseDeliveryReport(event: unknown): Parsed<DeliveryReport> {
  const read = readEvent(event, DELIVERY_REPORT_EVENT, ['messageId', 'from', 'to', 'deliveryStatus'] as const);
  if (!read.ok) return read;
  const { envelope, texts, missing } = read.value;
  const { data } = envelope;
  const { deliveryStatus } = texts;
  if (missing.length > 0) return { ok: false, reason: `delivery report lacks ${missing.join(', ')}` };
  const status = deliveryStatus!.toLowerCase();
  if (status !== 'delivered' && status !== 'failed') {
    return { ok: false, reason: `deliveryStatus "${deliveryStatus!.slice(0, 40)}" is neither Delivered nor Failed` };
  }

  const details = readStatusDetails(
    field(data, 'deliveryStatusDetails'),
    field(data, 'deliveryStatusCode') ?? field(data, 'errorCode'),
  );

  const attemptsRaw = field(data, 'deliveryAttempts');
  const deliveryAttempts: DeliveryAttempt[] = [];
  if (Array.isArray(attemptsRaw)) {
    for (const a of attemptsRaw) {
      if (typeof a !== 'object' || a === null) continue;
      const attempt = a as Record<string, unknown>;
      deliveryAttempts.push({
        timestamp: String(field(attempt, 'timestamp') ?? ''),
        segmentsSucceeded: Number(field(attempt, 'segmentsSucceeded') ?? 0) || 0,
        segmentsFailed: Number(field(attempt, 'segmentsFailed') ?? 0) || 0,
      });
    }
  }
  const receivedAt = text(data, 'receivedTimestamp');
  const tag = text(data, 'tag');
  return {
    ok: true,
    value: {
      ...addressing(envelope.id, texts),
      acsMessageId: texts.messageId!,
      status,
      deliveryStatus: deliveryStatus!,
      ...details,
      deliveryAttempts,
      ...(receivedAt ? { receivedAt } : {}),
      ...(tag ? { tag } : {}),
      ...(envelope.time ? { eventTime: envelope.time } : {}),
    },
  };
}

export function parseInboundSms(event: unknown): Parsed<InboundSms> {
  const read = readEvent(event, SMS_RECEIVED_EVENT, ['messageId', 'from', 'to'] as const);
  if (!read.ok) return read;
  const { envelope, texts, missing } = read.value;
  const message = field(envelope.data, 'message');
  if (typeof message !== 'string') missing.push('message');
  if (missing.length > 0 || typeof message !== 'string') return { ok: false, reason: `inbound SMS lacks ${missing.join(', ')}` };
  return {
    ok: true,
    value: {
      ...addressing(envelope.id, texts),
      acsMessageId: normalizeAcsMessageId(texts.messageId!),
      // A lone surrogate cannot be stored or forwarded as text: it becomes U+FFFD, the rest is kept.
      message: message.replace(LONE_SURROGATE, '\uFFFD'),
      receivedAt: text(envelope.data, 'receivedTimestamp') ?? envelope.time ?? '',
    },
  };
}
