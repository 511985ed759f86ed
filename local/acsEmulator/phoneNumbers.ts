// Number and sender-id rules the emulator applies (E.164 handsets, toll-free / short code /
// alphanumeric senders) and the masking every log line uses. The rules themselves are ACS facts,
// declared with their sources in acsFacts.ts.
import { ALPHANUMERIC_SENDER_ID, E164, NANP_LENGTH, SHORT_CODE } from '../../shared/domain/acsFacts.js';

/** The kinds of sender ACS offers; they differ in default rate limits and opt-out handling. */
export type SenderType = 'tollFree' | 'shortCode' | 'tenDlc' | 'alphanumeric' | 'mobile';

export const SENDER_TYPES = ['tollFree', 'shortCode', 'tenDlc', 'alphanumeric', 'mobile'] as const;

// US/Canada toll-free area codes.
const TOLL_FREE_NPA = new Set(['800', '833', '844', '855', '866', '877', '888']);

/**
 * `+` and 8 to 15 digits. North American numbers (+1) must have exactly 10 digits after the
 * country code: ACS refuses "+1425555012345" per recipient although it is E.164-shaped.
 */
export function isE164(value: string): boolean {
  if (!E164.test(value)) return false;
  if (value.startsWith('+1') && value.length !== NANP_LENGTH) return false;
  return true;
}

export function isShortCode(value: string): boolean {
  return SHORT_CODE.test(value);
}

export function isAlphanumericSenderId(value: string): boolean {
  return ALPHANUMERIC_SENDER_ID.test(value) && !/^\d+$/.test(value);
}

/** A `from` ACS could accept at all (ownership is checked separately). */
export function isValidSenderFormat(value: string): boolean {
  return isE164(value) || isShortCode(value) || isAlphanumericSenderId(value);
}

/** Guesses a sender's type from its shape when the configuration does not say. */
export function inferSenderType(number: string): SenderType {
  if (isShortCode(number)) return 'shortCode';
  if (!number.startsWith('+') && isAlphanumericSenderId(number)) return 'alphanumeric';
  if (number.startsWith('+1') && TOLL_FREE_NPA.has(number.slice(2, 5))) return 'tollFree';
  return 'mobile';
}

/**
 * Masks a phone number for logs: "+14255550123" → "+1425***0123". Short codes and
 * alphanumeric sender ids identify a business, not a person, and are shown as they are.
 */
export function maskPhone(value: string): string {
  if (!/^\+?\d{7,}$/.test(value)) return value;
  return `${value.slice(0, 5)}***${value.slice(-4)}`;
}

/** Handset keys in the admin API may arrive without "+" (a "+" in a URL is easy to lose). */
export function normalizeHandset(value: string): string {
  const trimmed = value.trim();
  return /^\d{8,15}$/.test(trimmed) ? `+${trimmed}` : trimmed;
}
