// How values are written on the wire, per FormSettings: timestamps (7 fractional digits, trimmed,
// whole seconds), phone numbers with or without "+", property casing, deliveryStatusDetails. Each
// form is one that a published example or recording shows (acsFacts.ts, settings.ts).
import { DELIVERY_STATUS_DETAILS, failureText } from '../../shared/domain/acsFacts.js';
import type { FormSettings } from './settings.js';

/** A point in time to 100 ns, as .NET writes it: ACS timestamps have 7 fractional digits. */
export interface Instant {
  ms: number;
  /** The 100-ns units below the millisecond, 0–9999. */
  sub: number;
}

/** Now, with the sub-millisecond digits taken from the high-resolution clock. */
export function instant(ms: number = Date.now()): Instant {
  return { ms, sub: Number(process.hrtime.bigint() % 10_000n) };
}

function secondsPart(i: Instant): string {
  return new Date(i.ms).toISOString().slice(0, 19);
}

function fraction(i: Instant): string {
  return `${String(i.ms % 1000).padStart(3, '0')}${String(i.sub).padStart(4, '0')}`;
}

/** "2020-09-18T00:22:20.2855749Z" (delivery report receivedTimestamp and attempts in the examples). */
export function fraction7(i: Instant): string {
  return `${secondsPart(i)}.${fraction(i)}Z`;
}

/** "2020-09-18T00:27:45.32Z": trailing zeros trimmed (SMSReceived receivedTimestamp in the examples). */
export function trimmedFraction(i: Instant): string {
  const f = fraction(i).replace(/0+$/, '');
  return f ? `${secondsPart(i)}.${f}Z` : `${secondsPart(i)}Z`;
}

/** "2020-09-18T00:22:20Z" (eventTime in the Event Grid schema examples, GET /deliveryReports example). */
export function wholeSeconds(i: Instant): string {
  return `${secondsPart(i)}Z`;
}

/** "2020-09-18T00:22:20.0000000Z" (time in the CloudEvents examples: the same whole second). */
export function cloudEventTime(i: Instant): string {
  return `${secondsPart(i)}.0000000Z`;
}

export function milliseconds(i: Instant): string {
  return new Date(i.ms).toISOString();
}

/** The timestamp writers for one setting. */
export function timeWriters(forms: FormSettings) {
  const ms = forms.timestamps === 'milliseconds';
  return {
    reportTime: ms ? milliseconds : fraction7,
    inboundTime: ms ? milliseconds : trimmedFraction,
    eventTime: ms ? milliseconds : wholeSeconds,
    cloudEventTime: ms ? milliseconds : cloudEventTime,
    getTime: ms ? milliseconds : wholeSeconds,
  };
}

/** A phone number with or without its "+"; short codes and alphanumeric ids as they are. */
export function phone(value: string, plus: boolean): string {
  if (!/^\+?\d{8,15}$/.test(value)) return value;
  const digits = value.replace(/^\+/, '');
  return plus ? `+${digits}` : digits;
}

/** The numbers of one event, as FormSettings.eventNumbers says. */
export function eventNumbers(
  forms: FormSettings,
  kind: 'report' | 'inbound',
  from: string,
  to: string,
): { from: string; to: string } {
  switch (forms.eventNumbers) {
    case 'plus':
      return { from: phone(from, true), to: phone(to, true) };
    case 'digits':
      return { from: phone(from, false), to: phone(to, false) };
    case 'published':
      // SMSDeliveryReportReceived: "from": "15555555555", "to": "+15555555555"; SMSReceived: both bare.
      return kind === 'report'
        ? { from: phone(from, false), to: phone(to, true) }
        : { from: phone(from, false), to: phone(to, false) };
  }
}

/** deliveryStatusDetails in the 'text' or 'coded' form. */
export function statusDetails(form: 'text' | 'coded', code: number, customText?: string): string {
  if (code === 2000) return form === 'coded' ? DELIVERY_STATUS_DETAILS.deliveredCoded : DELIVERY_STATUS_DETAILS.deliveredText;
  const text = customText ?? failureText(code);
  return form === 'coded' ? `${code}: ${text}` : text;
}

/** "messageId" → "MessageId", recursively through objects and arrays (the PascalCase examples). */
export function pascalCase<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => pascalCase(v)) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k[0]!.toUpperCase() + k.slice(1), pascalCase(v)])) as T;
}
