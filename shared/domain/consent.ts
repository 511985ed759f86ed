// Consent: who opted out of which of our numbers, how and when, and the log of every change.
// The records the consent use cases write and the stores keep.

/** The pool-wide sender key: an opt-out of every number of the pool. */
export const WHOLE_POOL = '*';

/** How a change of consent came: a keyword texted by the person, the API, or the carrier. */
export type ConsentSource = 'keyword' | 'api' | 'carrier';

/** A change of consent: who, for which sender, how, and when. */
export interface ConsentChange {
  /** Our number, or "*" for the whole pool. */
  sender: string;
  /** The person, E.164. */
  recipient: string;
  source: ConsentSource;
  keyword?: string;
  reason?: string;
  inboundMessageId?: string;
  /** ISO 8601. */
  at: string;
}

/** An opt-out in force: the change that made it. */
export type OptOutEntry = ConsentChange;

/** One entry of the consent log: a change of consent as it was asked for, kept for ever. */
export interface ConsentLogEntry extends ConsentChange {
  /** Unique per change; derived from the inbound message id for keywords, so a redelivery is the same entry. */
  id: string;
  action: 'optOut' | 'optIn';
  /**
   * False when the change was not applied because a later one had already been recorded (texts
   * can arrive out of order); the entry is kept as evidence all the same.
   */
  applied: boolean;
  /** Why it was not applied, or what else it did. */
  note?: string;
}

/** The latest change of consent of one (recipient, sender): what orders late or repeated changes. */
export interface ConsentState {
  at: string;
  optedOut: boolean;
  changeId: string;
  /** The change asked for what was already so (a START from someone not opted out): it lifted nothing. */
  quiet?: boolean;
  etag?: string;
}
