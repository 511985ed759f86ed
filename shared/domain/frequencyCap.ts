// Frequency caps: at most so many messages of a category to one recipient per day and per week
// (SMS_FREQUENCY_CAPS, e.g. "marketing:3/day,10/week"); the excess is suppressed with the reason
// "frequencyCap". Days and weeks are the recipient's own (its time zone; UTC when not known), and
// a message counts in the day it is due to go (a scheduled one in the day of its schedule).
// A recipient's count keeps the ids of the messages it counted, so counting a message again (a
// retry of its submit) changes nothing, and a message taken back leaves no trace.
import type { MessageCategory } from './category.js';
import { isCategory, MESSAGE_CATEGORIES } from './category.js';
import { localClock } from './quietHours.js';

/** The status code (history, events, analytics) of a message suppressed by a cap. */
export const FREQUENCY_CAP_CODE = 'frequencyCap';

/** Most messages a cap may allow per period: each counted message's id is kept with the count. */
export const MAX_CAP = 100;

export interface CapLimits {
  day?: number;
  week?: number;
}

/** Caps by category; a category without one is not capped. */
export type FrequencyCaps = ReadonlyMap<MessageCategory, CapLimits>;

const EXAMPLE = 'marketing:3/day,10/week;transactional:20/day';

/** Parses SMS_FREQUENCY_CAPS: "category:N/day,M/week" separated by ";"; "" or "none" caps nothing. */
export function parseFrequencyCaps(text: string): { ok: true; caps: FrequencyCaps } | { ok: false; message: string } {
  const caps = new Map<MessageCategory, CapLimits>();
  if (text.trim().toLowerCase() === 'none') return { ok: true, caps };
  for (const part of text.split(';').map((p) => p.trim())) {
    if (part === '') continue;
    const bad = (why: string) => ({ ok: false as const, message: `"${part.slice(0, 80)}" ${why} (for example ${EXAMPLE})` });
    const [category, limits, extra] = part.split(':').map((p) => p.trim());
    if (!isCategory(category) || !limits || extra !== undefined)
      return bad(`is not category:N/day,M/week (category one of ${MESSAGE_CATEGORIES.join(', ')})`);
    const cap: { day?: number; week?: number } = {};
    for (const limit of limits.split(',').map((l) => l.trim())) {
      const m = /^(\d{1,3})\/(day|week)$/.exec(limit);
      if (!m || Number(m[1]) < 1 || Number(m[1]) > MAX_CAP)
        return bad(`has "${limit}", not N/day or N/week with N from 1 to ${MAX_CAP}`);
      if (cap[m[2] as 'day' | 'week'] !== undefined) return bad(`names ${m[2]} twice`);
      cap[m[2] as 'day' | 'week'] = Number(m[1]);
    }
    caps.set(category, cap);
  }
  return { ok: true, caps };
}

/** The periods a message due at `at` counts in, in its recipient's time: "2026-11-25" and "2026-W48". */
export function capPeriods(zones: readonly string[], at: Date): { day: string; week: string } {
  const day = zones[0] ? localClock(zones[0], at).date : at.toISOString().slice(0, 10);
  return { day, week: isoWeek(day) };
}

/** The ISO 8601 week of a date ("2026-W48"). */
export function isoWeek(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 4 - (d.getUTCDay() || 7)); // the Thursday of its week decides the year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** What a recipient's count of one category holds: the ids counted, per day and per week. */
export interface CapCount {
  days: Record<string, string[]>;
  weeks: Record<string, string[]>;
}

/** One message to count. */
export interface CapRequest {
  messageId: string;
  to: string;
  category: MessageCategory;
  day: string;
  week: string;
}

export type CapVerdict = { allowed: true } | { allowed: false; period: 'day' | 'week'; limit: number };

/**
 * Counts `request` into `count` (a new count; the old is not changed) when its caps allow it:
 * its day and week have fewer messages than their limits, or already have it. Periods that ended
 * before `today` are dropped, so a count stays small.
 */
export function countMessage(
  limits: CapLimits,
  count: CapCount | undefined,
  request: CapRequest,
  today: string,
): { verdict: CapVerdict; count?: CapCount } {
  const days = { ...(count?.days ?? {}) };
  const weeks = { ...(count?.weeks ?? {}) };
  const dayIds = days[request.day] ?? [];
  const weekIds = weeks[request.week] ?? [];
  if (dayIds.includes(request.messageId) || weekIds.includes(request.messageId)) return { verdict: { allowed: true } };
  if (limits.day !== undefined && dayIds.length >= limits.day)
    return { verdict: { allowed: false, period: 'day', limit: limits.day } };
  if (limits.week !== undefined && weekIds.length >= limits.week)
    return { verdict: { allowed: false, period: 'week', limit: limits.week } };
  const thisWeek = isoWeek(today);
  for (const d of Object.keys(days)) if (d < today) delete days[d];
  for (const w of Object.keys(weeks)) if (w < thisWeek) delete weeks[w];
  days[request.day] = [...dayIds, request.messageId];
  weeks[request.week] = [...weekIds, request.messageId];
  return { verdict: { allowed: true }, count: { days, weeks } };
}

/** `count` without `messageId` (a message counted but never accepted); undefined when it was not there. */
export function uncountMessage(count: CapCount, messageId: string): CapCount | undefined {
  const drop = (periods: Record<string, string[]>) =>
    Object.fromEntries(Object.entries(periods).map(([k, ids]) => [k, ids.filter((id) => id !== messageId)]));
  const found = [...Object.values(count.days), ...Object.values(count.weeks)].some((ids) => ids.includes(messageId));
  return found ? { days: drop(count.days), weeks: drop(count.weeks) } : undefined;
}

/** The reason a capped message's history gives. */
export function capReason(category: MessageCategory, verdict: Extract<CapVerdict, { allowed: false }>): string {
  return `${FREQUENCY_CAP_CODE}: at most ${verdict.limit} ${category} message${verdict.limit === 1 ? '' : 's'} a ${verdict.period} to this recipient (SMS_FREQUENCY_CAPS)`;
}
