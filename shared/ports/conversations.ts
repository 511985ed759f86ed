// Conversations: one thread per (our number, their number), newest first.
import type { ThreadEntry } from '../domain/conversation.js';
import type { Page, PageRequest } from './paging.js';

export interface ConversationStore {
  /** Writes outbound entries (idempotent: the same message, the same entry); one request per sender and 100 entries. */
  recordOutbound(entries: readonly ThreadEntry[]): Promise<void>;
  /** Writes (or replaces) an inbound entry. */
  saveInbound(entry: ThreadEntry): Promise<void>;
  /** The inbound entry of an ACS message id received at `at`, if recorded. */
  getInbound(ourNumber: string, theirNumber: string, at: string, inboundMessageId: string): Promise<ThreadEntry | undefined>;
  /** The newest outbound entry of the thread sent at or before `at`. */
  lastOutbound(ourNumber: string, theirNumber: string, at: string): Promise<ThreadEntry | undefined>;
  /** A page of the thread, newest first. */
  thread(ourNumber: string, theirNumber: string, options: PageRequest): Promise<Page<ThreadEntry>>;
  /** Deletes every entry of `theirNumber` on each of `ourNumbers`; returns how many there were. */
  eraseThreads(theirNumber: string, ourNumbers: readonly string[]): Promise<number>;
}
