// Reading a conversation: the thread between one of our numbers and a person, a page at a time,
// newest first. (The send path and inboundSms write the entries.)
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
  deps: { conversations: ConversationStore; senders: readonly Sender[] },
  phone: string,
  query: { from?: string; limit: number; continuationToken?: string },
): Promise<ConversationResult> {
  let from = query.from;
  if (from === undefined) {
    if (deps.senders.length !== 1) {
      return {
        kind: 'invalid',
        field: 'from',
        message: `is required: name our number of the thread (${deps.senders.map((s) => s.number).join(', ')})`,
      };
    }
    from = deps.senders[0]!.number;
  }
  const page = await deps.conversations.thread(from, phone, query);
  return { kind: 'found', conversation: { phone, from, page } };
}
