// Where tracked links are kept: one entity per code (what the redirect reads, in one point read),
// with the visits it has seen, and the key that makes codes.
import type { LinkVisits, TrackedLink } from '../domain/links.js';

export interface StoredLink {
  link: TrackedLink;
  visits: LinkVisits;
  /** Optimistic concurrency token. */
  etag: string;
}

export interface LinkStore {
  /**
   * The deployment's code key: random bytes made once, by the first caller, and the same for every
   * instance after (codes are keyed hashes of message ids, so a retry makes the same codes).
   */
  codeKey(): Promise<Uint8Array>;
  /**
   * Stores links whose codes are free, and keeps those stored before for the same message and
   * position (a retry): returns the links whose code is taken by another message's link, which
   * are not stored (the caller moves them to another code).
   */
  save(links: readonly TrackedLink[]): Promise<TrackedLink[]>;
  /** The link of a code; undefined when none. */
  get(code: string): Promise<StoredLink | undefined>;
  /** Saves a link's visits, conditional on `etag`; throws ConcurrencyError when someone else wrote first. */
  saveVisits(code: string, visits: LinkVisits, etag: string): Promise<void>;
  /**
   * Marks a message as clicked, once: true for the first caller (its first human click), false after.
   */
  claimFirstClick(messageId: string, at: string): Promise<boolean>;
  /** Removes the links of these codes and the click marks of these messages (erasure); absent ones are skipped. */
  erase(codes: readonly string[], messageIds: readonly string[]): Promise<void>;
}
