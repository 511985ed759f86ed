// The send rules that protect recipients (docs/sending.md "Send rules"): message categories,
// quiet hours in the recipient's time, frequency caps; parsed from settings (settingsSendRules.ts).
import type { CategoriesByTag } from './category.js';
import type { FrequencyCaps } from './frequencyCap.js';
import type { QuietHoursRules } from './quietHours.js';

export interface SendRules {
  /** SMS_CATEGORY_BY_TAG: a tag's category, for requests without one of their own or a template's. */
  categoriesByTag: CategoriesByTag;
  /** SMS_QUIET_HOURS and SMS_QUIET_HOLIDAYS. */
  quietHours: QuietHoursRules;
  /** SMS_FREQUENCY_CAPS: most messages of a category per recipient per day and week. */
  caps: FrequencyCaps;
}

/** No rules at all: every message transactional, no quiet hours. */
export const NO_SEND_RULES: SendRules = {
  categoriesByTag: new Map(),
  quietHours: { rules: [], holidays: new Map() },
  caps: new Map(),
};
