// What the rules that protect recipients need (docs/sending.md "Send rules", docs/security.md): the
// IANA time zones a phone number may be in (quiet hours, caps' days), the frequency caps' counts
// shared by every instance, and retention's work by day.
import type { CapRequest, CapVerdict, FrequencyCaps } from '../domain/frequencyCap.js';
import type { RetentionStage } from '../domain/retention.js';

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

/** Retention's work for one day, found through the index the stores write as they create records and entries. */
export interface RetentionStore {
  /** The days among `days` whose `stage` is done (marked). */
  doneDays(stage: RetentionStage, days: readonly string[]): Promise<Set<string>>;
  /**
   * Does `stage` for the records or entries made on `day`: erases the texts of the message records
   * (keeping everything else), deletes the message records, or deletes the conversation entries.
   * Safe to repeat; returns how many it changed. Then marks the day done for the stage.
   */
  apply(stage: RetentionStage, day: string, now: Date): Promise<number>;
}
