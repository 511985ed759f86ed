// Phone numbers: normalising what apps send into E.164, and masking numbers for logs.
import { E164, NANP_LENGTH } from './acsFacts.js';
import { hasAssignedCallingCode } from './countries.js';

/** Result of normalising one number. */
export type NormalizedPhoneNumber = { ok: true; e164: string } | { ok: false; reason: string };

/** E.164 as ACS applies it (acsFacts.ts): "+", 8 to 15 digits, the first not 0, and "+1" with exactly 10 more. */
export function isE164(s: string): boolean {
  return E164.test(s) && (!s.startsWith('+1') || s.length === NANP_LENGTH);
}

/** Alphanumeric sender ids: 1–11 letters, digits or spaces, with at least one letter. */
export function isAlphanumericSenderId(s: string): boolean {
  return /^(?=[A-Za-z0-9 ]*[A-Za-z])[A-Za-z0-9 ]{1,11}$/.test(s);
}

/**
 * Accepts E.164 with or without "+", with spaces, dashes, dots and parentheses; "00" as an
 * international prefix becomes "+". A number without "+" is taken as including its country code,
 * which must be an assigned one.
 */
export function normalizePhoneNumber(input: string): NormalizedPhoneNumber {
  const trimmed = input.trim();
  if (trimmed === '') return { ok: false, reason: 'is empty' };
  if (/[A-Za-z]/.test(trimmed)) return { ok: false, reason: 'contains a letter' };
  if (/[^\d+\s().-]/.test(trimmed))
    return { ok: false, reason: 'contains characters other than digits, +, spaces, dashes, dots and parentheses' };
  if (trimmed.indexOf('+') > 0 || (trimmed.match(/\+/g) ?? []).length > 1)
    return { ok: false, reason: 'has a "+" that is not at the start' };
  let digits = trimmed.replace(/[^\d]/g, '');
  if (!trimmed.startsWith('+') && digits.startsWith('00')) digits = digits.slice(2);
  if (digits.length === 0) return { ok: false, reason: 'has no digits' };
  if (digits.startsWith('0')) return { ok: false, reason: 'must start with a country calling code, not 0' };
  if (digits.length > 15) return { ok: false, reason: `has ${digits.length} digits; E.164 allows at most 15` };
  if (digits.length < 8) return { ok: false, reason: `has ${digits.length} digits; a full international number has at least 8` };
  if (!hasAssignedCallingCode(digits)) {
    // Typically a national number without its country code: "(425) 555-0124" is not +425 55 50 124.
    return {
      ok: false,
      reason: `does not start with a country calling code (no country has +${digits.slice(0, 3)}); write the number with its country code, e.g. +1 for the US and Canada`,
    };
  }
  if (digits.startsWith('1')) {
    if (digits.length !== 11) return { ok: false, reason: 'North American numbers have 10 digits after +1' };
    if (/^[01]/.test(digits.slice(1))) return { ok: false, reason: 'NANP area code cannot start with 0 or 1' };
    if (/^[01]/.test(digits.slice(4))) return { ok: false, reason: 'NANP exchange code cannot start with 0 or 1' };
  }
  return { ok: true, e164: `+${digits}` };
}

/** "+14255550123" → "+1425***0123": enough to recognise in a log, never the whole number. */
export function maskPhoneNumber(s: string): string {
  const plus = s.startsWith('+') ? '+' : '';
  const digits = s.replace(/[^\dA-Za-z]/g, '');
  if (digits.length >= 10) return `${plus}${digits.slice(0, 4)}***${digits.slice(-4)}`;
  if (digits.length >= 6) return `${plus}${digits.slice(0, 2)}***${digits.slice(-2)}`;
  return `${plus}***`;
}
