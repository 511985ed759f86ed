// The estimated cost of sending: segments × a price per segment that depends on the sender's
// number type and the recipient's country. The defaults are ACS's published pay-as-you-go send
// prices in USD (excluding carrier surcharges and taxes); ANALYTICS_SMS_PRICES overrides them.
import type { SenderType } from './sender.js';

/** Price per segment sent, by destination country (ISO alpha-2) and "*" for every other country. */
export type CountryPrices = Readonly<Record<string, number>>;

/** Prices per sender number type. */
export type PriceTable = Readonly<Record<SenderType, CountryPrices>>;

/** Mobile-number send prices ACS lists per country; also used for alphanumeric sender ids. */
const EUROPE_AND_AUSTRALIA: CountryPrices = {
  AU: 0.049,
  BE: 0.105,
  DK: 0.0499,
  FI: 0.082,
  IE: 0.07,
  LV: 0.065,
  NL: 0.092,
  PL: 0.041,
  SE: 0.055,
  GB: 0.04,
};

/**
 * List prices, USD per segment sent. Toll-free, short code and 10DLC numbers send within North
 * America only ($0.0075); mobile numbers and alphanumeric sender ids are priced per country,
 * with 0.05 for a country not listed. Check the ACS pricing page for your agreement.
 */
export const DEFAULT_PRICES: PriceTable = {
  tollFree: { US: 0.0075, CA: 0.0075, PR: 0.0075, '*': 0.0075 },
  shortCode: { US: 0.0075, '*': 0.0075 },
  tenDlc: { US: 0.0075, '*': 0.0075 },
  mobile: { ...EUROPE_AND_AUSTRALIA, '*': 0.05 },
  alphanumeric: { ...EUROPE_AND_AUSTRALIA, '*': 0.05 },
};

export const PRICE_CURRENCY = 'USD';

/** The defaults with `overrides` laid over them, per type and country. */
export function mergePrices(overrides: Partial<Record<SenderType, CountryPrices>> = {}): PriceTable {
  const out = {} as Record<SenderType, CountryPrices>;
  for (const type of Object.keys(DEFAULT_PRICES) as SenderType[])
    out[type] = { ...DEFAULT_PRICES[type], ...(overrides[type] ?? {}) };
  return out;
}

/** Price of one segment from a sender of `type` to `country`; 0 when nothing matches. */
export function pricePerSegment(prices: PriceTable, type: SenderType, country: string | undefined): number {
  const table = prices[type];
  return (country !== undefined ? table[country] : undefined) ?? table['*'] ?? 0;
}

/**
 * Cost in millionths of the currency unit, a whole number, so that sums of many messages are exact
 * (adding 0.0075 a million times in floating point is not).
 */
export function costMicros(segments: number, price: number): number {
  return Math.round(segments * price * 1_000_000);
}

/** The sender type of a number outside the configured pool: guessed from its shape. */
export function guessSenderType(sender: string): SenderType {
  if (!sender.startsWith('+')) return /^\d{5,6}$/.test(sender) ? 'shortCode' : 'alphanumeric';
  if (/^\+1(800|833|844|855|866|877|888)/.test(sender)) return 'tollFree';
  return sender.startsWith('+1') ? 'tenDlc' : 'mobile';
}
