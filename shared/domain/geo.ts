// Geo permissions: which destination countries the pipeline may text. By default, the countries the
// configured senders can reach; SMS_ALLOWED_COUNTRIES replaces that list. A recipient elsewhere is
// refused at submit (and failed at the hand-over, for jobs enqueued directly), so a bot cannot make
// the pipeline text premium ranges abroad.
import { countryOf } from './countries.js';
import type { Sender, SenderType } from './sender.js';

/** Allowed destination countries (ISO 3166-1 alpha-2), or every country. */
export type AllowedCountries = ReadonlySet<string> | 'any';

/**
 * Where each number type can send, as Microsoft documents it:
 * - toll-free: US, CA and PR — "Toll-free numbers aren't capable of sending or receiving messages
 *   to/from countries/regions outside of US, CA, and PR" (MicrosoftDocs/azure-docs,
 *   articles/communication-services/concepts/sms/sms-faq.md);
 * - 10DLC: United States (concepts/sms/sms-number-types.md, "Availability: United States");
 * - short codes and mobile numbers are domestic: "Short codes are domestic numbers and aren't capable
 *   of sending or receiving messages to/from outside of the country/region it was registered for"
 *   (sms-faq.md); mobile numbers are offered per country (sms-number-types.md) and "to send messages
 *   across multiple countries, customers must request different numbers based on the number types
 *   supported in each destination" — so both reach the country of the number itself;
 * - alphanumeric sender ids: the 22 countries sms-number-types.md lists under "Alphanumeric Sender
 *   IDs — Availability".
 */
export const ALPHANUMERIC_COUNTRIES: readonly string[] = [
  'AT',
  'DK',
  'EE',
  'FR',
  'DE',
  'IE',
  'LV',
  'LT',
  'NL',
  'PL',
  'PT',
  'ES',
  'SE',
  'CH',
  'AU',
  'CZ',
  'FI',
  'IT',
  'NO',
  'SK',
  'SI',
  'GB',
];

const FIXED_REACH: Partial<Record<SenderType, readonly string[]>> = {
  tollFree: ['US', 'CA', 'PR'],
  tenDlc: ['US'],
  alphanumeric: ALPHANUMERIC_COUNTRIES,
};

/** The countries a sender can text. A short code or mobile number written as E.164 reaches its own country. */
export function reachOf(sender: Pick<Sender, 'number' | 'type'>): readonly string[] {
  const fixed = FIXED_REACH[sender.type];
  if (fixed) return fixed;
  // Short codes and mobile numbers are domestic. A short code given without its country (not E.164)
  // is taken as a US one, the market ACS sells most of them in.
  return [countryOf(sender.number) ?? 'US'];
}

/** The default geo permissions: every country some sender of the pool can reach. */
export function defaultAllowedCountries(senders: readonly Pick<Sender, 'number' | 'type'>[]): ReadonlySet<string> {
  return new Set(senders.flatMap((s) => reachOf(s)));
}

/** Whether a sender can reach `country` (an unknown country: no). */
export function canReach(sender: Pick<Sender, 'number' | 'type'>, country: string | undefined): boolean {
  return country !== undefined && reachOf(sender).includes(country);
}

export type GeoVerdict =
  { allowed: true; country: string | undefined } | { allowed: false; country: string | undefined; reason: string };

/** Whether a recipient (E.164) may be texted under `allowed`; the reason names the rule, never the number. */
export function geoVerdict(allowed: AllowedCountries, to: string): GeoVerdict {
  const country = countryOf(to);
  if (allowed === 'any') return { allowed: true, country };
  if (country !== undefined && allowed.has(country)) return { allowed: true, country };
  const list = [...allowed].sort().join(', ');
  return {
    allowed: false,
    country,
    reason: country
      ? `is in ${country}, where sending is not permitted: geo permissions allow ${list} (SMS_ALLOWED_COUNTRIES)`
      : `is in no country sending is permitted to: geo permissions allow ${list} (SMS_ALLOWED_COUNTRIES)`,
  };
}

/** The senders of the pool that can reach the country of `to`; all of them when none can (ACS then says why). */
export function sendersReaching<T extends Pick<Sender, 'number' | 'type'>>(senders: readonly T[], to: string): readonly T[] {
  const country = countryOf(to);
  const reaching = senders.filter((s) => canReach(s, country));
  return reaching.length > 0 ? reaching : senders;
}
