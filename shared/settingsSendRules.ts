// The send rules' settings (docs/sending.md "Send rules"): categories by tag, quiet hours and their
// holidays; part of settingsSchema (settings.ts) like every other setting, kept apart so
// settings.ts stays readable.
import { z } from 'zod';
import { parseCategoriesByTag } from './domain/category.js';
import { parseFrequencyCaps } from './domain/frequencyCap.js';
import { DEFAULT_QUIET_HOURS, parseHolidays, parseQuietHours } from './domain/quietHours.js';

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
};
