// Reading a conversation: the thread between one of our numbers and a person, a page at a time,
// newest first, as the caller's app may see it. (The send path and inboundSms write the entries.)
import { canSee, NO_APPS, sendersOfApp, visibleApp, type AppDirectory } from '../domain/apps.js';
import { DEFAULT_APP } from '../domain/caller.js';
import type { ThreadEntry } from '../domain/conversation.js';
import type { Sender } from '../domain/sender.js';
import type { ConversationStore } from '../ports/conversations.js';
import type { Page } from '../ports/paging.js';

export interface Conversation {
  /** Their number. */
  phone: string;
  /** Our number. */
  from: string;
  page: Page<ThreadEntry>;
}

export type ConversationResult =
  { kind: 'found'; conversation: Conversation } | { kind: 'invalid'; field: string; message: string };

/**
 * A page of the thread between `from` (ours; may be omitted when the pool has one number) and
 * `phone`, newest first. Numbers that left the pool still have their threads.
 */
export async function getConversation(
  deps: { conversations: ConversationStore; senders: readonly Sender[]; apps?: AppDirectory },
  phone: string,
  query: { from?: string; limit: number; continuationToken?: string },
  viewer: string = DEFAULT_APP,
): Promise<ConversationResult> {
  // `from` may be left out when the viewer's pool (its own numbers, or the whole pool) has one number.
  const pool = sendersOfApp(deps.senders, deps.apps ?? NO_APPS, viewer);
  let from = query.from;
  if (from === undefined) {
    if (pool.length !== 1) {
      return {
        kind: 'invalid',
        field: 'from',
        message: `is required: name our number of the thread (${pool.map((s) => s.number).join(', ')})`,
      };
    }
    from = pool[0]!.number;
  }
  const page = await deps.conversations.thread(from, phone, query);
  // A confined viewer sees only its app's entries (each entry carries its app); a page may then hold fewer.
  const mine = visibleApp(viewer) === undefined ? page : { ...page, items: page.items.filter((e) => canSee(viewer, e)) };
  return { kind: 'found', conversation: { phone, from, page: mine } };
}
