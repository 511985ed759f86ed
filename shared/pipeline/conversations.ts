// Conversations: every text sent and received, one thread per (our number, their number). The
// send path adds outbound entries at the hand-over (one write per send job); inboundSms adds the
// inbound ones; the API reads a thread a page at a time, newest first.
import type { Sender } from '../config.js';
import type { MessageRecord } from '../domain/message.js';
import type { ConversationStore, Page, ThreadEntry } from '../ports.js';

/** The thread entry of a message handed to ACS at `sentAt`. */
export function outboundEntry(record: MessageRecord, sentAt: string): ThreadEntry {
  return {
    ourNumber: record.from,
    theirNumber: record.to,
    direction: 'outbound',
    at: sentAt,
    body: record.body,
    messageId: record.messageId,
    batchId: record.batchId,
    ...(record.tag ? { tag: record.tag } : {}),
  };
}

/**
 * The thread entry of a record that was handed over before (a redelivered job): its stored `sent`
 * time makes it the same entry as the first time. None for erased records or ones never sent.
 */
export function storedOutboundEntry(record: MessageRecord): ThreadEntry | undefined {
  const sent = record.history.find((h) => h.status === 'sent');
  if (!sent || record.erasedAt) return undefined;
  return outboundEntry(record, sent.at);
}

/** One message of a thread as the API shows it. */
export interface ConversationMessage {
  direction: 'inbound' | 'outbound';
  at: string;
  body: string;
  messageId?: string;
  batchId?: string;
  tag?: string;
  inboundMessageId?: string;
  keyword?: 'optOut' | 'optIn' | 'help' | null;
  inReplyTo?: { messageId: string; batchId: string; tag?: string; sentAt: string };
}

export interface Conversation {
  phone: string;
  from: string;
  messages: ConversationMessage[];
  continuationToken?: string;
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
  const page: Page<ThreadEntry> = await deps.conversations.thread(from, phone, query);
  return {
    kind: 'found',
    conversation: {
      phone,
      from,
      messages: page.items.map(toView),
      ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
    },
  };
}

function toView(e: ThreadEntry): ConversationMessage {
  return {
    direction: e.direction,
    at: e.at,
    body: e.body,
    ...(e.messageId ? { messageId: e.messageId } : {}),
    ...(e.batchId ? { batchId: e.batchId } : {}),
    ...(e.tag ? { tag: e.tag } : {}),
    ...(e.inboundMessageId ? { inboundMessageId: e.inboundMessageId } : {}),
    ...(e.direction === 'inbound' ? { keyword: e.keyword ?? null } : {}),
    ...(e.inReplyTo ? { inReplyTo: e.inReplyTo } : {}),
  };
}
