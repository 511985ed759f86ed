// The send rules at submit (docs/sending.md "Send rules"): a request's category, and a message's
// time moved out of quiet hours in its recipient's time zone — onto the same scheduledAt every
// scheduled message has, so the queue's notBefore and the sender's last look apply unchanged.
import { categoryOf, type MessageCategory } from '../../domain/category.js';
import { countryOf } from '../../domain/countries.js';
import { quietHoursDeferral, type QuietHoursDeferral, type QuietHoursRules } from '../../domain/quietHours.js';
import type { SendRules } from '../../domain/sendRules.js';
import type { TimeZoneLookup } from '../../ports/sendRules.js';

export interface SendRuleDeps {
  sendRules: SendRules;
  timeZones: TimeZoneLookup;
}

/** The category of a request's messages: its own, else its template's, else its tag's, else transactional. */
export function requestCategory(
  deps: SendRuleDeps,
  request: { category?: MessageCategory; tag?: string },
  template: { category?: MessageCategory } | undefined,
): MessageCategory {
  return categoryOf(
    { requested: request.category, template: template?.category, tag: request.tag },
    deps.sendRules.categoriesByTag,
  );
}

/** Where a message of `category` to `to`, due at `at`, goes instead when `at` is in its recipient's quiet hours. */
export function quietHoursFor(
  deps: SendRuleDeps,
  category: MessageCategory,
  to: string,
  at: Date,
): QuietHoursDeferral | undefined {
  const rules = deps.sendRules.quietHours;
  // Most traffic has no rule (transactional, OTP): no time-zone lookup for it at all.
  if (!rules.rules.some((r) => r.category === category)) return undefined;
  const country = countryOf(to);
  const zones = deps.timeZones.zonesOf(to);
  // A bulk request asks the same question for every number of a zone: answered once.
  let memo = answers.get(rules);
  if (!memo || memo.size > 10_000) answers.set(rules, (memo = new Map()));
  const key = `${category}|${country}|${zones.join(',')}|${at.getTime()}`;
  if (!memo.has(key)) memo.set(key, quietHoursDeferral(rules, category, country, zones, at));
  return memo.get(key);
}

const answers = new WeakMap<QuietHoursRules, Map<string, QuietHoursDeferral | undefined>>();
