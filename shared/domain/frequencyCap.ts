// Frequency caps: at most so many messages of a category to one recipient per day and per week
// (SMS_FREQUENCY_CAPS, e.g. "marketing=3/day,10/week"); the excess is suppressed with the reason
// "frequencyCap". Days and weeks are the recipient's own (its time zone), else UTC.

/** The status code (history, events, analytics) of a message suppressed by a cap. */
export const FREQUENCY_CAP_CODE = 'frequencyCap';
