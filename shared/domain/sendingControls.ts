// What may be handed to ACS right now, pure: the pause switch (the pool, one sender or one tag) and
// fraud holds (a number prefix, or a country's OTP traffic). Both are looked at right before every
// hand-over; a paused or held message waits on the queue — its validity still runs — and goes on
// once the pause is lifted or the hold released.
import { countryOf } from './countries.js';
import type { Suspicion } from './fraudWatch.js';
import { prefixOf } from './fraudWatch.js';

export type PauseScope = { kind: 'pool' } | { kind: 'sender'; sender: string } | { kind: 'tag'; tag: string };

export interface Pause {
  scope: PauseScope;
  /** When it was paused (ISO). */
  since: string;
  reason?: string;
}

/** The reason of every hold, as the message history and events carry it. */
export const FRAUD_SUSPECTED = 'fraudSuspected';

export interface Hold {
  /** "GB-44770090" for a prefix, "GB" for a country's OTP traffic. */
  id: string;
  country: string;
  /** The prefix held ("+44770090"); absent: the whole country. */
  prefix?: string;
  /** Only messages with one of these tags are held (a country's OTP traffic); absent: all. */
  tags?: string[];
  rule: Suspicion['rule'];
  reason: typeof FRAUD_SUSPECTED;
  /** What was seen, in words. */
  detail: string;
  state: 'active' | 'released';
  placedAt: string;
  releasedAt?: string;
  /** Who or why, as given when releasing. */
  releaseNote?: string;
  /** What became of the messages it held: sent on, or canceled. */
  heldMessages?: 'send' | 'cancel';
  /** No new hold on the same prefix or country before then. */
  exemptUntil?: string;
  /** Optimistic concurrency token of the stored entity. */
  etag?: string;
}

/**
 * A hold released with "cancel" is looked at this long after its release: its held messages come
 * back to the queue within seconds and are canceled then; after a week none can be left.
 */
export const CANCELING_HOLDS_FOR_MS = 7 * 24 * 3600_000;

/** The controls in force, as read at `readAt` (ms). */
export interface ControlsSnapshot {
  pauses: Pause[];
  /** Active holds, and released ones whose messages are to be canceled. */
  holds: Hold[];
  readAt: number;
}

export function pauseKey(scope: PauseScope): string {
  return scope.kind === 'pool' ? '*' : scope.kind === 'sender' ? `sender:${scope.sender}` : `tag:${scope.tag}`;
}

export function describePause(scope: PauseScope): string {
  return scope.kind === 'pool' ? 'the whole pool' : scope.kind === 'sender' ? `sender ${scope.sender}` : `tag "${scope.tag}"`;
}

/** The pause that stops a job of sender `from` with `tag`, if any (the pool's first). */
export function pauseFor(pauses: readonly Pause[], from: string, tag: string | undefined): Pause | undefined {
  return (
    pauses.find((p) => p.scope.kind === 'pool') ??
    pauses.find((p) => p.scope.kind === 'sender' && p.scope.sender === from) ??
    pauses.find((p) => p.scope.kind === 'tag' && p.scope.tag === tag)
  );
}

function covers(hold: Hold, to: string, tag: string | undefined): boolean {
  if (hold.tags && (tag === undefined || !hold.tags.includes(tag))) return false;
  if (hold.prefix !== undefined) return to.startsWith(hold.prefix);
  return countryOf(to) === hold.country;
}

/** The active hold a message to `to` with `tag` falls under, if any. */
export function holdFor(holds: readonly Hold[], to: string, tag: string | undefined): Hold | undefined {
  return holds.find((h) => h.state === 'active' && covers(h, to, tag));
}

/** A released hold whose held messages are to be canceled, covering `to`. */
export function cancelingHoldFor(holds: readonly Hold[], to: string, tag: string | undefined): Hold | undefined {
  return holds.find((h) => h.state === 'released' && h.heldMessages === 'cancel' && covers(h, to, tag));
}

/** The hold a suspicion calls for, in `country`. */
export function holdOf(country: string, suspicion: Suspicion, otpTags: readonly string[], now: Date): Hold {
  const placedAt = now.toISOString();
  if (suspicion.rule === 'burst') {
    return {
      id: `${country}-${suspicion.prefix.slice(1)}`,
      country,
      prefix: suspicion.prefix,
      rule: 'burst',
      reason: FRAUD_SUSPECTED,
      detail:
        `${suspicion.requestsPerMinute} requests in the last minute to numbers starting ${suspicion.prefix}, ` +
        `against a usual ${suspicion.baselinePerMinute} per minute: a burst to one range looks like SMS pumping`,
      state: 'active',
      placedAt,
    };
  }
  const pct = (n: number) => `${Math.round(n * 1000) / 10} %`;
  return {
    id: country,
    country,
    tags: [...otpTags],
    rule: 'conversions',
    reason: FRAUD_SUSPECTED,
    detail:
      `only ${pct(suspicion.conversionRate)} of the last quarter hour's ${Math.round(suspicion.otpVolume)} OTP messages to ${country} were used, ` +
      `against ${pct(suspicion.baselineConversionRate)} over the last day: OTPs nobody uses look like SMS pumping`,
    state: 'active',
    placedAt,
  };
}

/** Whether a new hold may replace the stored one: not while it is active, nor while a release exempts it. */
export function mayPlaceOver(existing: Hold, now: Date): boolean {
  if (existing.state === 'active') return false;
  return !existing.exemptUntil || Date.parse(existing.exemptUntil) <= now.getTime();
}

/** Releases a hold: its messages go on (or are canceled), and no new hold is placed on it for `exemptHours`. */
export function releaseHold(
  hold: Hold,
  now: Date,
  options: { note?: string; heldMessages: 'send' | 'cancel'; exemptHours: number },
): Hold {
  return {
    ...hold,
    state: 'released',
    releasedAt: now.toISOString(),
    heldMessages: options.heldMessages,
    exemptUntil: new Date(now.getTime() + options.exemptHours * 3600_000).toISOString(),
    ...(options.note ? { releaseNote: options.note } : {}),
  };
}

/** The id a hold of `to`'s prefix would have: what an operator looks for. */
export function prefixHoldId(to: string): string | undefined {
  const country = countryOf(to);
  return country ? `${country}-${prefixOf(to).slice(1)}` : undefined;
}
