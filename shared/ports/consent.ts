// Opt-outs in force and the consent log behind them.
import type { ConsentChange, ConsentLogEntry, ConsentState, OptOutEntry } from '../domain/consent.js';
import type { Page, PageRequest } from './paging.js';

/** Opt-outs, keyed (sender, recipient); "*" as sender means the whole pool. */
export interface OptOutStore {
  /** Of `recipients`, those opted out of `sender` or of the whole pool. */
  optedOut(sender: string, recipients: readonly string[]): Promise<Set<string>>;
  /** Records an opt-out (idempotent). */
  add(change: ConsentChange): Promise<void>;
  /** Removes an opt-out (idempotent). */
  remove(change: ConsentChange): Promise<void>;
  /** The opt-outs of `recipient` for each of `senders` ("*" for the pool-wide one): point reads. */
  find(recipient: string, senders: readonly string[]): Promise<OptOutEntry[]>;
  /** Opt-outs in key order (sender, then recipient), of one sender ("*" included) or all. */
  list(options: PageRequest & { sender?: string }): Promise<Page<OptOutEntry>>;
}

/** The consent log (for ever, per person) and the latest change per (person, sender). */
export interface ConsentLog {
  /** Adds an entry; an entry with the same id is left as it is (a redelivery). */
  append(entry: ConsentLogEntry): Promise<void>;
  /** The person's log, oldest first. */
  history(recipient: string, options: PageRequest): Promise<Page<ConsentLogEntry>>;
  state(recipient: string, sender: string): Promise<ConsentState | undefined>;
  /** Writes the state conditionally (on its etag, or as new); throws ConcurrencyError when it changed. */
  saveState(recipient: string, sender: string, state: ConsentState): Promise<void>;
}
