// SMS pumping detection, pure. Pumping is a bot making an app text numbers it does not own — often
// many numbers of one premium range abroad, one OTP at a time — so the range's operator is paid per
// text. Two signals, each compared with the traffic's own baseline:
// - a burst: per number prefix (the number without its last 4 digits: a block of 10,000 numbers, a
//   North American exchange), the requests that reached it in the last minute (a sliding window)
//   against a floor and a multiple of the prefix's usual rate (a moving average that forgets in
//   about an hour). Requests, not recipients: a bot triggers one OTP per request, while one bulk
//   request to many numbers of a range is a campaign (and is capped by budgets and geo permissions);
// - a collapse of conversions: per destination country, the share of OTP messages the app reports
//   as used (POST /api/messages/{id}/conversion) over the last quarter hour against that country's
//   own share over the last day (moving averages with those half-lives). Judged only where the app
//   reports conversions at all.
// Either holds further sends (a Hold: the prefix, or the country's OTP traffic).
import { countryOf } from './countries.js';

export interface PumpingPolicy {
  enabled: boolean;
  /** A prefix reached by more requests than this in a minute is a burst, unless its baseline is higher. */
  burstPerMinute: number;
  /** … and more than this many times its usual rate per minute. */
  burstFactor: number;
  /** Tags of one-time-password traffic, whose conversions are watched. */
  otpTags: readonly string[];
  /** OTP messages in the last quarter hour (weighted) before a country's conversions are judged. */
  minOtpVolume: number;
  /** Conversions below this percentage of the country's own share are a collapse. */
  collapsePercent: number;
  /** After a hold is released, no new hold on the same prefix or country for this long. */
  exemptHours: number;
  /** A held message looks again this often: a release takes effect within about this long. */
  heldRecheckSeconds: number;
}

export const DEFAULT_PUMPING_POLICY: PumpingPolicy = {
  enabled: true,
  burstPerMinute: 20,
  burstFactor: 10,
  otpTags: ['otp'],
  minOtpVolume: 30,
  collapsePercent: 25,
  exemptHours: 24,
  heldRecheckSeconds: 30,
};

/** Digits kept off a number to make its prefix: 4, a block of 10,000 numbers. */
const PREFIX_DROP = 4;

/** "+447700900123" → "+44770090": the block of numbers a pumping range is sold in. */
export function prefixOf(e164: string): string {
  return e164.slice(0, Math.max(3, e164.length - PREFIX_DROP));
}

/** Weight of the newest minute in a prefix's baseline (forgets in about an hour). */
const BASELINE_ALPHA = 1 / 60;
const FAST_HALF_LIFE_MS = 15 * 60_000;
const SLOW_HALF_LIFE_MS = 24 * 3600_000;
/** Conversions are judged only where the app reports them: a day's share of at least this. */
const MIN_BASELINE_CONVERSION = 0.05;

/** A prefix's recent traffic: [minute, this minute's requests, the previous minute's, baseline per minute]. */
export type PrefixState = [minute: number, current: number, previous: number, baseline: number];
/** A country's OTP traffic: [time (ms), OTP fast, conversions fast, OTP slow, conversions slow] (exponentially decayed). */
export type ConversionState = [at: number, otpFast: number, convFast: number, otpSlow: number, convSlow: number];

/** The watch of one country: prefix states by prefix, and the country's conversion state. */
export interface WatchState {
  prefixes: Record<string, PrefixState>;
  conversions?: ConversionState;
}

export type Observation =
  /** A request accepted to `count` numbers of a prefix (`otp`: of them, messages tagged as one-time passwords). */
  | { kind: 'sent'; prefix: string; count: number; otp: number }
  /** The app reported an OTP message as used. */
  | { kind: 'converted' };

/** What the watch found: a burst on a prefix, or a country whose OTP conversions collapsed. */
export type Suspicion =
  | { rule: 'burst'; prefix: string; requestsPerMinute: number; baselinePerMinute: number }
  | { rule: 'conversions'; conversionRate: number; baselineConversionRate: number; otpVolume: number };

const minuteOf = (ms: number) => Math.floor(ms / 60_000);

/** Brings a prefix's state to `minute`: the minutes gone by fold into the baseline. */
function rollPrefix(state: PrefixState | undefined, minute: number): PrefixState {
  if (!state) return [minute, 0, 0, 0];
  const [m, current, previous, baseline] = state;
  // A clock a little behind another instance's counts into the newest minute.
  if (minute <= m) return [m, current, previous, baseline];
  const closed = baseline + BASELINE_ALPHA * (current - baseline);
  if (minute === m + 1) return [minute, 0, current, closed];
  // The minutes in between were empty: they only decay the baseline.
  return [minute, 0, 0, closed * (1 - BASELINE_ALPHA) ** (minute - m - 1)];
}

/** Requests to the prefix in the last minute: this minute's, and the part of the previous one's still inside the window. */
export function ratePerMinute(state: PrefixState, nowMs: number): number {
  const [, current, previous] = rollPrefix(state, minuteOf(nowMs));
  const elapsed = (nowMs % 60_000) / 60_000;
  return current + previous * (1 - elapsed);
}

function decay(value: number, ms: number, halfLife: number): number {
  return value * 0.5 ** (Math.max(0, ms) / halfLife);
}

function rollConversions(state: ConversionState | undefined, nowMs: number): ConversionState {
  if (!state) return [nowMs, 0, 0, 0, 0];
  const gone = nowMs - state[0];
  return [
    Math.max(nowMs, state[0]),
    decay(state[1], gone, FAST_HALF_LIFE_MS),
    decay(state[2], gone, FAST_HALF_LIFE_MS),
    decay(state[3], gone, SLOW_HALF_LIFE_MS),
    decay(state[4], gone, SLOW_HALF_LIFE_MS),
  ];
}

/**
 * Applies observations of one country at `nowMs` and judges the prefixes and the country they touch.
 * Returns the new state (prefixes that no longer matter are dropped, so a country's state stays
 * small) and what looks like pumping now.
 */
export function observe(
  policy: PumpingPolicy,
  state: WatchState,
  observations: readonly Observation[],
  nowMs: number,
): { state: WatchState; suspicions: Suspicion[] } {
  const minute = minuteOf(nowMs);
  const prefixes: Record<string, PrefixState> = {};
  for (const [prefix, s] of Object.entries(state.prefixes)) {
    const rolled = rollPrefix(s, minute);
    // A prefix idle for two minutes whose baseline cannot raise its threshold above the floor is no
    // different from one never seen: forget it.
    if (rolled[1] === 0 && rolled[2] === 0 && rolled[3] * policy.burstFactor < policy.burstPerMinute) continue;
    prefixes[prefix] = rolled;
  }
  let conversions = state.conversions ? rollConversions(state.conversions, nowMs) : undefined;
  const touched = new Set<string>();
  let otpTouched = false;
  for (const o of observations) {
    if (o.kind === 'sent') {
      const s = prefixes[o.prefix] ?? [minute, 0, 0, 0];
      s[1] += 1;
      prefixes[o.prefix] = s;
      touched.add(o.prefix);
      if (o.otp > 0) {
        conversions ??= [nowMs, 0, 0, 0, 0];
        conversions[1] += o.otp;
        conversions[3] += o.otp;
        otpTouched = true;
      }
    } else {
      conversions ??= [nowMs, 0, 0, 0, 0];
      conversions[2] += 1;
      conversions[4] += 1;
    }
  }
  if (conversions && conversions[3] < 0.5 && conversions[4] < 0.5) conversions = undefined;

  const suspicions: Suspicion[] = [];
  for (const prefix of touched) {
    const s = prefixes[prefix]!;
    const rate = ratePerMinute(s, nowMs);
    if (rate > Math.max(policy.burstPerMinute, policy.burstFactor * s[3])) {
      suspicions.push({ rule: 'burst', prefix, requestsPerMinute: round(rate), baselinePerMinute: round(s[3]) });
    }
  }
  if (otpTouched && conversions) {
    const [, otpFast, convFast, otpSlow, convSlow] = conversions;
    const baseline = otpSlow > 0 ? Math.min(1, convSlow / otpSlow) : 0;
    const recent = otpFast > 0 ? Math.min(1, convFast / otpFast) : 1;
    if (
      otpFast >= policy.minOtpVolume &&
      baseline >= MIN_BASELINE_CONVERSION &&
      recent < (baseline * policy.collapsePercent) / 100
    ) {
      suspicions.push({
        rule: 'conversions',
        conversionRate: round(recent),
        baselineConversionRate: round(baseline),
        otpVolume: round(otpFast),
      });
    }
  }
  return { state: { prefixes, ...(conversions ? { conversions } : {}) }, suspicions };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** The country a recipient's traffic is watched under ("XX" for none). */
export function watchCountryOf(e164: string): string {
  return countryOf(e164) ?? 'XX';
}

/** Observations of one request's sendable recipients, by country. */
export function observationsOf(
  recipients: readonly string[],
  tag: string | undefined,
  policy: PumpingPolicy,
): Map<string, Observation[]> {
  const otp = tag !== undefined && policy.otpTags.includes(tag);
  const counts = new Map<string, Map<string, number>>();
  for (const to of recipients) {
    const country = watchCountryOf(to);
    const prefixes = counts.get(country) ?? new Map<string, number>();
    prefixes.set(prefixOf(to), (prefixes.get(prefixOf(to)) ?? 0) + 1);
    counts.set(country, prefixes);
  }
  return new Map(
    [...counts].map(([country, prefixes]) => [
      country,
      [...prefixes].map(([prefix, count]): Observation => ({ kind: 'sent', prefix, count, otp: otp ? count : 0 })),
    ]),
  );
}

/** Spreads a country's prefixes over this many rows, so concurrent writers rarely meet. */
export const WATCH_SHARDS = 16;
/** The row of a country's conversion state. */
export const CONVERSION_SHARD = 'conv';

/** The row (shard) of a prefix: FNV-1a of it, modulo WATCH_SHARDS. */
export function shardOf(prefix: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < prefix.length; i++) {
    h ^= prefix.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `s${String(h % WATCH_SHARDS).padStart(2, '0')}`;
}

/**
 * Prefixes kept in one shard row. A row holds its prefixes as one Table Storage string property, at
 * most 64 KiB (32,768 UTF-16 characters: learn.microsoft.com, "Understanding the Table service data
 * model", property types); a prefix takes about 50 characters, so 400 fill well under half of it.
 */
export const MAX_PREFIXES_PER_SHARD = 400;

/**
 * The prefixes of one shard row to keep when traffic spreads over more than `max` of them (a big
 * campaign sent one request per recipient): first those this request touched (so a range that is
 * starting a burst keeps counting), then those nearest to a burst — most requests in the last
 * minute, or the usual rate that raises their threshold most. The ones dropped had about one
 * request each among hundreds of others; forgetting one loses that request and a baseline too
 * small to raise its threshold above the floor. A burst is judged before this, on the whole state.
 */
export function trimShard(
  policy: Pick<PumpingPolicy, 'burstFactor'>,
  prefixes: Record<string, PrefixState>,
  nowMs: number,
  touched: ReadonlySet<string>,
  max = MAX_PREFIXES_PER_SHARD,
): Record<string, PrefixState> {
  const entries = Object.entries(prefixes);
  if (entries.length <= max) return prefixes;
  const weight = (s: PrefixState) => Math.max(ratePerMinute(s, nowMs), policy.burstFactor * s[3]);
  return Object.fromEntries(
    entries
      .map(([prefix, s]) => [prefix, s, touched.has(prefix) ? 1 : 0, weight(s)] as const)
      .sort((a, b) => b[2] - a[2] || b[3] - a[3])
      .slice(0, max)
      .map(([prefix, s]) => [prefix, s]),
  );
}

/** The prefixes observations count a request for. */
export function touchedPrefixes(observations: readonly Observation[]): Set<string> {
  return new Set(observations.flatMap((o) => (o.kind === 'sent' ? [o.prefix] : [])));
}

/** Which rows of a country observations touch. */
export function shardsOf(observations: readonly Observation[]): string[] {
  const shards = new Set<string>();
  for (const o of observations) {
    if (o.kind === 'sent') shards.add(shardOf(o.prefix));
    if (o.kind === 'converted' || o.otp > 0) shards.add(CONVERSION_SHARD);
  }
  return [...shards].sort();
}
