// The send rules' settings (docs/sending.md "Send rules"): categories by tag, quiet hours and their
// holidays; part of settingsSchema (settings.ts) like every other setting, kept apart so
// settings.ts stays readable.
import { z } from 'zod';
import { parseCategoriesByTag } from './domain/category.js';
import { parseFrequencyCaps } from './domain/frequencyCap.js';
import { DEFAULT_QUIET_HOURS, parseHolidays, parseQuietHours } from './domain/quietHours.js';
import { DEFAULT_RETENTION, MIN_TEXT_DAYS } from './domain/retention.js';

/** A number of days from `min` to 10 years. */
const days = (min: number, fallback: number) =>
  z.coerce
    .number({ message: `must be a whole number of days from ${min} to 3650` })
    .int(`must be a whole number of days from ${min} to 3650`)
    .min(min, `must be a whole number of days from ${min} to 3650`)
    .max(3650, `must be a whole number of days from ${min} to 3650`)
    .default(fallback);

/** A text setting parsed by `parse`, whose problem becomes the setting's message. */
const parsed = <T>(parse: (text: string) => ({ ok: true } & T) | { ok: false; message: string }) =>
  z.string().transform((text, ctx) => {
    const result = parse(text);
    if (!result.ok) {
      ctx.addIssue({ code: 'custom', message: result.message });
      return z.NEVER;
    }
    return result;
  });

export const sendRuleSettings = {
  /** Categories by tag for messages whose request and template name none: "promo=marketing,login=otp". */
  SMS_CATEGORY_BY_TAG: parsed(parseCategoriesByTag).prefault(''),
  /**
   * Quiet hours: per category and country (ISO alpha-2, or * for the others) the window of the
   * recipient's local time in which messages go, "category:country=HH:MM-HH:MM[/Mon-Sat]" separated
   * by ";"; "none" for no quiet hours. A category without a rule has none.
   */
  SMS_QUIET_HOURS: parsed(parseQuietHours).prefault(DEFAULT_QUIET_HOURS),
  /** Public holidays on which a country's windows stay shut: "FR:2026-12-25,FR:2027-01-01". */
  SMS_QUIET_HOLIDAYS: parsed(parseHolidays).prefault(''),
  /** Frequency caps per recipient and category: "marketing:3/day,10/week;transactional:20/day"; default none. */
  SMS_FREQUENCY_CAPS: parsed(parseFrequencyCaps).prefault(''),
  /** Days a message record keeps its text (status, times, metadata and analytics stay); outlives any schedule. */
  SMS_RETENTION_TEXT_DAYS: days(MIN_TEXT_DAYS, DEFAULT_RETENTION.textDays),
  /** Days a message record is kept at all (analytics stay: they hold counts, not messages). */
  SMS_RETENTION_RECORD_DAYS: days(MIN_TEXT_DAYS, DEFAULT_RETENTION.recordDays),
  /** Days a conversation entry (a text sent or received, in its thread) is kept. */
  SMS_RETENTION_CONVERSATION_DAYS: days(1, DEFAULT_RETENTION.conversationDays),
};
