// Reads ACS's deliveryStatusDetails — in a delivery report event or a GET /deliveryReports body —
// into a code and the raw text. Microsoft documents the codes (2000, 4000–4010, 5000–5002, 9999) as
// "exposed through the DeliveryStatusDetails field" without saying how; what it has published is
// "No error." (every event example), "2000: No Error" (the GET example) and, for a recipient who
// sent STOP, "Sender blocked for given recipient." (SMS FAQ) — acsFacts.ts. So a code is taken only
// where its form is unmistakable, the text is classified otherwise, and the raw text is kept, so a
// wrong guess stays visible. Whether the message was delivered is decided by deliveryStatus alone.
import { CARRIER_OPT_OUT_CODE, DELIVERY_STATUS_CODES, DELIVERY_STATUS_DETAILS } from './acsFacts.js';

/**
 * Where a report's code came from: 'details' = a leading "<code>:" in the text ("2000: No Error");
 * 'text' = a published text without a code, recognised; 'field' = a separate property (an object
 * form of the details, or a code field beside them).
 */
export type CodeSource = 'details' | 'text' | 'field';

export interface StatusDetails {
  /** The code, when the report gives one or its text is a published one. */
  code?: string;
  codeSource?: CodeSource;
  /** The details exactly as received (the message of an object form). */
  detail?: string;
}

/** "  No error. " → "no error": the comparison ignores case, surrounding blanks and a final period. */
function comparable(text: string): string {
  return text.trim().replace(/\.+$/, '').trim().toLowerCase();
}

/** Published texts without a code, and the code each stands for. */
const KNOWN_TEXTS: ReadonlyMap<string, string> = new Map([
  // The code table's messages [sms-codes] …
  ...Object.entries(DELIVERY_STATUS_CODES).map(([code, text]) => [comparable(text), code] as const),
  // … then the forms the examples and the FAQ show, which win where they overlap.
  [comparable(DELIVERY_STATUS_DETAILS.deliveredText), '2000'],
  [comparable(DELIVERY_STATUS_DETAILS.optOutText), String(CARRIER_OPT_OUT_CODE)],
]);

/** The code a published text stands for, if it is one (case, blanks and a final period aside). */
export function codeOfPublishedText(text: string): string | undefined {
  return KNOWN_TEXTS.get(comparable(text));
}

function codeValue(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value).trim() || undefined : undefined;
}

/**
 * Reads the details (a string, or an object with code/message) and an optional code given beside
 * them. Never reads a number out of the middle of a sentence: only a leading "<4 digits>:" counts.
 */
export function readStatusDetails(details: unknown, codeBeside?: unknown): StatusDetails {
  let detail: string | undefined;
  let code: string | undefined;
  let codeSource: CodeSource | undefined;
  if (typeof details === 'string') {
    detail = details;
  } else if (typeof details === 'object' && details !== null && !Array.isArray(details)) {
    const d = details as Record<string, unknown>;
    code = codeValue(field(d, 'code') ?? field(d, 'statusCode'));
    if (code) codeSource = 'field';
    const message = field(d, 'message') ?? field(d, 'description');
    if (typeof message === 'string') detail = message;
  }
  if (!code && codeValue(codeBeside)) {
    code = codeValue(codeBeside);
    codeSource = 'field';
  }
  if (!code && detail !== undefined) {
    const leading = /^\s*(\d{4})\s*:/.exec(detail)?.[1];
    const published = leading ? undefined : codeOfPublishedText(detail);
    if (leading || published) {
      code = leading ?? published;
      codeSource = leading ? 'details' : 'text';
    }
  }
  return { ...(code ? { code, codeSource: codeSource! } : {}), ...(detail !== undefined ? { detail } : {}) };
}

/** A property in camelCase or PascalCase: ACS's examples use both ("messageId", "MessageId"). */
export function field(data: Record<string, unknown>, camel: string): unknown {
  if (Object.hasOwn(data, camel)) return data[camel];
  const pascal = camel[0]!.toUpperCase() + camel.slice(1);
  return Object.hasOwn(data, pascal) ? data[pascal] : undefined;
}
