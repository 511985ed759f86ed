// ACS access-key authentication, checked exactly as @azure/communication-common signs: HMAC-SHA256
// with the base64-decoded key over "VERB\npath?query\nx-ms-date;host;x-ms-content-sha256".
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The base64 SHA-256 of a body, as sent in x-ms-content-sha256 (empty body: hash of ""). */
export function contentHash(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

function hmac(accessKey: string, stringToSign: string): Buffer {
  return createHmac('sha256', Buffer.from(accessKey, 'base64')).update(stringToSign, 'utf8').digest();
}

/**
 * The headers the SDK's policy would add to a request, for clients that do not use the SDK
 * (curl scripts, the admin tooling, tests).
 */
export function signAcsRequest(input: {
  method: string;
  url: string;
  body?: string;
  accessKey: string;
  date?: Date;
}): Record<string, string> {
  const url = new URL(input.url);
  const query = url.searchParams.toString();
  const pathAndQuery = query ? `${url.pathname}?${query}` : url.pathname;
  const date = (input.date ?? new Date()).toUTCString();
  const hash = contentHash(input.body ?? '');
  const signature = hmac(input.accessKey, `${input.method.toUpperCase()}\n${pathAndQuery}\n${date};${url.host};${hash}`).toString(
    'base64',
  );
  return {
    host: url.host,
    'x-ms-date': date,
    'x-ms-content-sha256': hash,
    authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
  };
}

export type AuthResult = { ok: true } | { ok: false; message: string };

const AUTHORIZATION = /^HMAC-SHA256\s+SignedHeaders=([^&]+)&Signature=(.+)$/i;
const REQUIRED_SIGNED = ['host', 'x-ms-content-sha256'];

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Checks a request's signature. `rawUrl` is the request target as received; the SDK signs
 * `URL.pathname + "?" + searchParams.toString()`, which can re-encode a query, so both the raw
 * and the normalised forms are accepted.
 */
export function verifyAcsRequest(input: {
  method: string;
  rawUrl: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  accessKey: string;
  now: number;
  maxClockSkewMs: number;
}): AuthResult {
  const authorization = header(input.headers, 'authorization');
  if (!authorization) return { ok: false, message: 'Authorization header is missing.' };
  if (/^bearer\s/i.test(authorization)) {
    return { ok: false, message: 'The emulator accepts access-key (HMAC-SHA256) authentication only.' };
  }
  const match = AUTHORIZATION.exec(authorization.trim());
  if (!match)
    return { ok: false, message: 'Authorization header is not of the form "HMAC-SHA256 SignedHeaders=...&Signature=...".' };
  const signedHeaders = match[1]!.split(';').map((h) => h.trim().toLowerCase());
  const signature = match[2]!.trim();
  const dateHeader = signedHeaders.includes('x-ms-date') ? 'x-ms-date' : signedHeaders.includes('date') ? 'date' : undefined;
  if (!dateHeader || REQUIRED_SIGNED.some((h) => !signedHeaders.includes(h))) {
    return { ok: false, message: 'SignedHeaders must include x-ms-date, host and x-ms-content-sha256.' };
  }

  const date = header(input.headers, dateHeader);
  const dateMs = date ? Date.parse(date) : NaN;
  if (!Number.isFinite(dateMs)) return { ok: false, message: `Request '${dateHeader}' header is missing or not a valid date.` };
  if (Math.abs(input.now - dateMs) > input.maxClockSkewMs) {
    return {
      ok: false,
      message: `Request '${dateHeader}' is not within ${Math.round(input.maxClockSkewMs / 60_000)} minutes of the server time.`,
    };
  }

  const sentHash = header(input.headers, 'x-ms-content-sha256');
  if (sentHash !== contentHash(input.body)) {
    // ACS's own wording (OptOutCheck example in the REST spec).
    return { ok: false, message: "Request 'x-ms-content-sha256' differs from generated content hash." };
  }

  const values: string[] = [];
  for (const name of signedHeaders) {
    const value = header(input.headers, name);
    if (value === undefined) return { ok: false, message: `Signed header '${name}' is missing from the request.` };
    values.push(value);
  }
  const candidates = new Set<string>([input.rawUrl]);
  try {
    const url = new URL(input.rawUrl, 'http://emulator.invalid');
    const query = url.searchParams.toString();
    candidates.add(query ? `${url.pathname}?${query}` : url.pathname);
  } catch {
    // An unparsable target can still match in its raw form.
  }
  let expected: Buffer;
  try {
    expected = Buffer.from(signature, 'base64');
  } catch {
    return { ok: false, message: 'Signature is not base64.' };
  }
  for (const pathAndQuery of candidates) {
    const computed = hmac(input.accessKey, `${input.method.toUpperCase()}\n${pathAndQuery}\n${values.join(';')}`);
    if (computed.length === expected.length && timingSafeEqual(computed, expected)) return { ok: true };
  }
  return { ok: false, message: 'The request signature does not match: check the access key.' };
}
