import { describe, expect, it } from 'vitest';
import { isE164, maskPhoneNumber, normalizePhoneNumber } from '../../shared/domain/phoneNumber.js';

describe('normalizePhoneNumber', () => {
  it.each([
    ['+14255550123', '+14255550123'],
    ['14255550123', '+14255550123'],
    ['+1 (425) 555-0123', '+14255550123'],
    ['1.425.555.0123', '+14255550123'],
    ['0044 20 7946 0958', '+442079460958'],
    ['+44 20 7946 0958', '+442079460958'],
    [' +49 30 901820 ', '+4930901820'],
    ['+420 601 123 456', '+420601123456'],
    ['+7 701 123 4567', '+77011234567'],
    ['+881 6 1234 5678', '+881612345678'],
  ])('%s → %s', (input, e164) => {
    expect(normalizePhoneNumber(input)).toEqual({ ok: true, e164 });
  });

  it.each([
    ['', 'is empty'],
    ['call me', 'contains a letter'],
    ['0425550123', 'must start with a country calling code, not 0'],
    ['+1234567890123456', 'has 16 digits; E.164 allows at most 15'],
    ['+1425555', 'has 7 digits; a full international number has at least 8'],
    ['+1425555012', 'North American numbers have 10 digits after +1'],
    ['+10255550123', 'NANP area code cannot start with 0 or 1'],
    ['+14251550123', 'NANP exchange code cannot start with 0 or 1'],
    ['+1425+5550123', 'has a "+" that is not at the start'],
    ['+1425_555_0123', 'contains characters other than digits, +, spaces, dashes, dots and parentheses'],
    // A national number without its country code reads as an unassigned one.
    [
      '(425) 555-0124',
      'does not start with a country calling code (no country has +425); write the number with its country code, e.g. +1 for the US and Canada',
    ],
    [
      '+2895550124',
      'does not start with a country calling code (no country has +289); write the number with its country code, e.g. +1 for the US and Canada',
    ],
  ])('refuses %j: %s', (input, reason) => {
    expect(normalizePhoneNumber(input)).toEqual({ ok: false, reason });
  });

  it('isE164 is strict', () => {
    expect(isE164('+14255550123')).toBe(true);
    expect(isE164('14255550123')).toBe(false);
    expect(isE164('+04255550123')).toBe(false);
  });
});

describe('maskPhoneNumber', () => {
  it('shows enough to recognise a number, never all of it', () => {
    expect(maskPhoneNumber('+14255550123')).toBe('+1425***0123');
    expect(maskPhoneNumber('+442079460958')).toBe('+4420***0958');
    for (const n of ['+14255550123', '+4930901820', '+123456789', '12345']) {
      const masked = maskPhoneNumber(n);
      expect(masked).not.toContain(n.replace('+', ''));
      expect(masked).toContain('***');
    }
  });
});
