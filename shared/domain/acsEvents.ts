// Reads the events ACS publishes through Event Grid — delivery reports and inbound SMS — in the
// Event Grid schema or CloudEvents 1.0, with data in camelCase or PascalCase, numbers with or
// without "+", message ids with or without their "Outgoing_"/"Incoming_" prefix.
import { normalizeAcsMessageId } from './ids.js';
import type { DeliveryAttempt } from './message.js';

export const DELIVERY_REPORT_EVENT = 'Microsoft.Communication.SMSDeliveryReportReceived';
export const SMS_RECEIVED_EVENT = 'Microsoft.Communication.SMSReceived';

/** A delivery report, normalised. */
export interface DeliveryReport {
  eventId: string;
  acsMessageId: string;
  from: string;
  to: string;
  status: 'delivered' | 'failed';
  /** ACS's deliveryStatus as sent, e.g. "Delivered", "Failed". */
  deliveryStatus: string;
  /** deliveryStatusDetails text, e.g. "No error." */
  detail?: string;
  /** Numeric detail code when ACS gives one (2000, 4000–4010, 5000–5002, 9999 …). */
  code?: string;
  deliveryAttempts: DeliveryAttempt[];
  receivedAt?: string;
  tag?: string;
  eventTime?: string;
}

/** An inbound SMS, normalised. */
export interface InboundSms {
  eventId: string;
  acsMessageId: string;
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
  const isCloudEvent = typeof e.specversion === 'string';
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
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, reason: 'event data is not an object' };
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

/** Reads a data field in camelCase or PascalCase. */
function field(data: Record<string, unknown>, camel: string): unknown {
  if (Object.hasOwn(data, camel)) return data[camel];
  const pascal = camel[0]!.toUpperCase() + camel.slice(1);
  return Object.hasOwn(data, pascal) ? data[pascal] : undefined;
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

export function parseDeliveryReport(event: unknown): Parsed<DeliveryReport> {
  const env = readEnvelope(event);
  if (!env.ok) return env;
  const { data } = env.value;
  if (env.value.type !== DELIVERY_REPORT_EVENT) return { ok: false, reason: `unexpected event type ${env.value.type}` };
  const messageId = text(data, 'messageId');
  const from = text(data, 'from');
  const to = text(data, 'to');
  const deliveryStatus = text(data, 'deliveryStatus');
  const missing = [
    ['messageId', messageId],
    ['from', from],
    ['to', to],
    ['deliveryStatus', deliveryStatus],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0) return { ok: false, reason: `delivery report lacks ${missing.join(', ')}` };
  const status = deliveryStatus!.toLowerCase();
  if (status !== 'delivered' && status !== 'failed') {
    return { ok: false, reason: `deliveryStatus "${deliveryStatus!.slice(0, 40)}" is neither Delivered nor Failed` };
  }

  const detailsRaw = field(data, 'deliveryStatusDetails');
  let detail: string | undefined;
  let code: string | undefined;
  if (typeof detailsRaw === 'string') {
    detail = detailsRaw;
  } else if (typeof detailsRaw === 'object' && detailsRaw !== null) {
    const d = detailsRaw as Record<string, unknown>;
    const c = field(d, 'code') ?? field(d, 'statusCode');
    if (typeof c === 'string' || typeof c === 'number') code = String(c);
    const m = field(d, 'message') ?? field(d, 'description');
    if (typeof m === 'string') detail = m;
  }
  const codeField = field(data, 'deliveryStatusCode') ?? field(data, 'errorCode');
  if (!code && (typeof codeField === 'string' || typeof codeField === 'number')) code = String(codeField);
  // Some reports carry the code only inside the text, e.g. "4007: Destination/sender blocked".
  if (!code && detail) code = /\b([2459]\d{3})\b/.exec(detail)?.[1];

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
      eventId: env.value.id,
      acsMessageId: normalizeAcsMessageId(messageId!),
      from: normalizeEventNumber(from!),
      to: normalizeEventNumber(to!),
      status,
      deliveryStatus: deliveryStatus!,
      ...(detail !== undefined ? { detail } : {}),
      ...(code !== undefined ? { code } : {}),
      deliveryAttempts,
      ...(receivedAt ? { receivedAt } : {}),
      ...(tag ? { tag } : {}),
      ...(env.value.time ? { eventTime: env.value.time } : {}),
    },
  };
}

export function parseInboundSms(event: unknown): Parsed<InboundSms> {
  const env = readEnvelope(event);
  if (!env.ok) return env;
  const { data } = env.value;
  if (env.value.type !== SMS_RECEIVED_EVENT) return { ok: false, reason: `unexpected event type ${env.value.type}` };
  const messageId = text(data, 'messageId');
  const from = text(data, 'from');
  const to = text(data, 'to');
  const message = field(data, 'message');
  const missing = [
    ['messageId', messageId],
    ['from', from],
    ['to', to],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (typeof message !== 'string') missing.push('message');
  if (missing.length > 0) return { ok: false, reason: `inbound SMS lacks ${missing.join(', ')}` };
  return {
    ok: true,
    value: {
      eventId: env.value.id,
      acsMessageId: normalizeAcsMessageId(messageId!),
      from: normalizeEventNumber(from!),
      to: normalizeEventNumber(to!),
      message: message as string,
      receivedAt: text(data, 'receivedTimestamp') ?? env.value.time ?? '',
    },
  };
}
