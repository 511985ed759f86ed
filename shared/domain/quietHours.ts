// Quiet hours: when a category of message may reach a recipient, in the recipient's own time.
// A rule gives, per category and country, the window of local time in which sending is allowed
// (the US TCPA: marketing 08:00–21:00 recipient time; France, Code de la consommation L.34-5 and
// the CNIL: commercial texts 08:00–20:00, not on Sundays or public holidays). The recipient's time
// zone comes from the number (ports/timeZones.ts); a number that may be in several zones is sent
// when the window is open in all of them. A message outside its window is scheduled for the next
// minute the window opens. Time-zone arithmetic uses Intl (Node ships full ICU).
import type { MessageCategory } from './category.js';
import { isCategory, MESSAGE_CATEGORIES } from './category.js';

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** Where sending is allowed: [start, end) in minutes after local midnight, on these weekdays (0 = Sunday). */
export interface SendWindow {
  start: number;
  end: number;
  days: readonly number[];
}

export interface QuietHoursRule {
  category: MessageCategory;
  /** ISO 3166 alpha-2, or "*" for every country without a rule of its own. */
  country: string;
  window: SendWindow;
}

/** Rules and public holidays (ISO dates by country, on which no window opens). */
export interface QuietHoursRules {
  rules: readonly QuietHoursRule[];
  holidays: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The defaults: US and Canadian (TCPA) marketing 08:00–21:00; French commercial texts 08:00–20:00, Monday to Saturday. */
export const DEFAULT_QUIET_HOURS = 'marketing:US=08:00-21:00;marketing:CA=08:00-21:00;marketing:FR=08:00-20:00/Mon-Sat';

const RULE_EXAMPLE = 'marketing:US=08:00-21:00;marketing:FR=08:00-20:00/Mon-Sat;otp:*=07:00-23:00';

/** Parses SMS_QUIET_HOURS ("category:country=HH:MM-HH:MM[/Mon-Sat]" separated by ";"); "" or "none" is no rule. */
export function parseQuietHours(text: string): { ok: true; rules: QuietHoursRule[] } | { ok: false; message: string } {
  const rules: QuietHoursRule[] = [];
  if (text.trim().toLowerCase() === 'none') return { ok: true, rules };
  for (const part of text.split(';').map((p) => p.trim())) {
    if (part === '') continue;
    const m = /^([a-z]+):(\*|[A-Z]{2})=(\d{2}):(\d{2})-(\d{2}):(\d{2})(?:\/([A-Za-z]{3})-([A-Za-z]{3}))?$/.exec(part);
    const bad = (why: string) => ({ ok: false as const, message: `"${part.slice(0, 80)}" ${why} (for example ${RULE_EXAMPLE})` });
    if (!m) return bad('is not category:country=HH:MM-HH:MM[/Day-Day]');
    const [, category, country, h1, m1, h2, m2, d1, d2] = m;
    if (!isCategory(category)) return bad(`has no category of ${MESSAGE_CATEGORIES.join(', ')}`);
    const start = Number(h1) * 60 + Number(m1);
    const end = Number(h2) * 60 + Number(m2);
    if (Number(m1) > 59 || Number(m2) > 59 || end > 24 * 60 || start >= end)
      return bad('needs a start before its end, 00:00 to 24:00');
    const from = d1 ? DAY_NAMES.findIndex((d) => d.toLowerCase() === d1.toLowerCase()) : 0;
    const to = d2 ? DAY_NAMES.findIndex((d) => d.toLowerCase() === d2.toLowerCase()) : 6;
    if (from < 0 || to < 0) return bad('names a day that is not Sun, Mon, Tue, Wed, Thu, Fri or Sat');
    const days: number[] = [];
    for (let d = from; ; d = (d + 1) % 7) {
      days.push(d);
      if (d === to) break;
    }
    rules.push({ category, country: country!, window: { start, end, days } });
  }
  return { ok: true, rules };
}

/** Parses SMS_QUIET_HOLIDAYS ("FR:2026-12-25,FR:2027-01-01"): days on which the country's windows stay shut. */
export function parseHolidays(text: string): { ok: true; holidays: Map<string, Set<string>> } | { ok: false; message: string } {
  const holidays = new Map<string, Set<string>>();
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const m = /^([A-Z]{2}):(\d{4}-\d{2}-\d{2})$/.exec(part);
    if (!m || Number.isNaN(Date.parse(`${m[2]}T00:00:00Z`)))
      return { ok: false, message: `"${part.slice(0, 40)}" is not COUNTRY:YYYY-MM-DD, for example FR:2026-12-25,FR:2027-01-01` };
    const set = holidays.get(m[1]!) ?? new Set<string>();
    set.add(m[2]!);
    holidays.set(m[1]!, set);
  }
  return { ok: true, holidays };
}

/** The window of a category in a country: the country's own rule, else the "*" rule, else none (no quiet hours). */
export function windowFor(rules: readonly QuietHoursRule[], category: MessageCategory, country: string | undefined) {
  const mine = rules.filter((r) => r.category === category);
  return (mine.find((r) => r.country === country) ?? mine.find((r) => r.country === '*'))?.window;
}

interface LocalClock {
  date: string;
  weekday: number;
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The wall-clock time in `zone` at `at`, as milliseconds of a UTC date with the same fields. */
function wallMs(zone: string, at: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(at))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/** The local date, weekday and minute of the day in `zone` at `at`. */
export function localClock(zone: string, at: Date | number): LocalClock {
  const wall = new Date(wallMs(zone, Math.floor(+at / 1000) * 1000));
  return {
    date: wall.toISOString().slice(0, 10),
    weekday: wall.getUTCDay(),
    minutes: wall.getUTCHours() * 60 + wall.getUTCMinutes(),
  };
}

/** The instant at which `zone`'s clock shows `minutes` after midnight on `date` (a time skipped by DST moves on by the gap). */
export function instantOf(zone: string, date: string, minutes: number): number {
  const wall = Date.parse(`${date}T00:00:00Z`) + minutes * 60_000;
  const offset1 = wallMs(zone, wall) - wall;
  const guess = wall - offset1;
  const offset2 = wallMs(zone, guess) - guess;
  return offset2 === offset1 ? guess : wall - offset2;
}

function openIn(window: SendWindow, holidays: ReadonlySet<string> | undefined, zone: string, at: number): boolean {
  const c = localClock(zone, at);
  return window.days.includes(c.weekday) && !holidays?.has(c.date) && c.minutes >= window.start && c.minutes < window.end;
}

/** How far ahead the next opening is looked for: a week and a few holidays. */
const LOOK_AHEAD_DAYS = 16;

/**
 * The next instant at or after `at` when the window is open in every one of `zones`, or `at`
 * itself when it is open now. Openings can only begin where some zone's window starts, so only
 * those instants are tried. When the zones never share an open minute (a number that may be in
 * zones far apart), the latest of their own next openings: too early nowhere.
 */
export function nextOpening(
  window: SendWindow,
  holidays: ReadonlySet<string> | undefined,
  zones: readonly string[],
  at: Date,
): Date {
  const t = at.getTime();
  if (zones.every((z) => openIn(window, holidays, z, t))) return at;
  const startsAfter = (zone: string): number[] => {
    const today = localClock(zone, t).date;
    const starts: number[] = [];
    for (let d = 0; d <= LOOK_AHEAD_DAYS; d++) {
      const date = new Date(Date.parse(`${today}T00:00:00Z`) + d * 86_400_000).toISOString().slice(0, 10);
      const start = instantOf(zone, date, window.start);
      if (start > t && openIn(window, holidays, zone, start)) starts.push(start);
    }
    return starts;
  };
  const perZone = zones.map(startsAfter);
  const shared = perZone
    .flat()
    .sort((a, b) => a - b)
    .find((c) => zones.every((z) => openIn(window, holidays, z, c)));
  if (shared !== undefined) return new Date(shared);
  return new Date(Math.max(...perZone.map((s) => s[0] ?? t)));
}

/** A message's send time moved out of quiet hours, and why. */
export interface QuietHoursDeferral {
  until: Date;
  reason: string;
}

/** The status code (history and events) of a message scheduled by quiet hours; counted in analytics. */
export const QUIET_HOURS_CODE = 'quietHours';

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/**
 * Where a message of `category` to a number of `country` in `zones` would go at `at` in quiet
 * hours: the next opening and the reason; undefined when it may go at `at` (or no rule applies,
 * or its zone is not known).
 */
export function quietHoursDeferral(
  rules: QuietHoursRules,
  category: MessageCategory,
  country: string | undefined,
  zones: readonly string[],
  at: Date,
): QuietHoursDeferral | undefined {
  const window = windowFor(rules.rules, category, country);
  if (!window || zones.length === 0) return undefined;
  const holidays = country ? rules.holidays.get(country) : undefined;
  const until = nextOpening(window, holidays, zones, at);
  if (until.getTime() === at.getTime()) return undefined;
  const days = window.days.length === 7 ? '' : `, ${DAY_NAMES[window.days[0]!]}–${DAY_NAMES[window.days.at(-1)!]}`;
  const local = localClock(zones[0]!, until);
  return {
    until,
    reason:
      `quiet hours: ${category} messages to ${country ?? 'this number'} go ${hhmm(window.start)}–${hhmm(window.end)}${days} ` +
      `recipient time (${zones.length === 1 ? zones[0] : `${zones.length} possible time zones`}); scheduled for ` +
      `${local.date} ${hhmm(local.minutes)} ${zones[0]}`,
  };
}
