// What the send rules need (docs/sending.md "Send rules"): the IANA time zones a phone number may
// be in (quiet hours, caps' days), and the frequency caps' counts, shared by every instance.
import type { CapRequest, CapVerdict, FrequencyCaps } from '../domain/frequencyCap.js';

export interface TimeZoneLookup {
  /**
   * The zones a number (E.164) may be in: one for most numbers (a country with one zone, a NANP
   * area code), several when the number does not tell (then a window must be open in all of
   * them), none when nothing is known (then no quiet hours apply).
   */
  zonesOf(e164: string): readonly string[];
}

export interface FrequencyCapLedger {
  /**
   * Counts each message against its recipient's caps of its category (domain countMessage
   * decides), atomically per recipient across instances (conditional writes): a message over a
   * cap is not counted and comes back refused; counting a message again changes nothing and
   * answers allowed. Verdicts by message id.
   */
  count(caps: FrequencyCaps, requests: readonly CapRequest[], today: string): Promise<Map<string, CapVerdict>>;
  /** Takes the messages back out of their counts (their batch was certainly not accepted). */
  release(requests: readonly CapRequest[]): Promise<void>;
}
