// Where a recipient is in time: the IANA time zones a phone number may be in, for quiet hours.

export interface TimeZoneLookup {
  /**
   * The zones a number (E.164) may be in: one for most numbers (a country with one zone, a NANP
   * area code), several when the number does not tell (then a window must be open in all of
   * them), none when nothing is known (then no quiet hours apply).
   */
  zonesOf(e164: string): readonly string[];
}
