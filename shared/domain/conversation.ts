// Conversations: every text sent and received on one of our numbers, one thread per (our number,
// their number). The thread entry, and the entry a message handed to ACS becomes.
import { appOf } from './apps.js';
import type { InboundKeyword } from './events.js';
import type { MessageRecord } from './message.js';
import { templateKey } from './template.js';

/** One message of a conversation: a text sent or received on one of our numbers. */
export interface ThreadEntry {
  /** Our number. */
  ourNumber: string;
  /** The person's number. */
  theirNumber: string;
  direction: 'inbound' | 'outbound';
  /** When it was sent (outbound: handed to ACS) or received (inbound). */
  at: string;
  /** The text. */
  body: string;
  /** The app it belongs to: outbound, its message's; inbound, the number's owner, else the app of the message it answers. */
  app?: string;
  /** Outbound: the message id. */
  messageId?: string;
  batchId?: string;
  tag?: string;
  /** Outbound: the template and version the text was rendered from ("appointment-reminder@3"). */
  template?: string;
  /** Inbound: ACS's id of the message. */
  inboundMessageId?: string;
  keyword?: InboundKeyword;
  /** Inbound: the outbound message it answers. */
  inReplyTo?: { messageId: string; batchId: string; app?: string; tag?: string; template?: string; sentAt: string };
  /** Inbound: everything the message asked for is done (idempotency under redelivery). */
  processed?: boolean;
}

/** The thread entry of a message handed to ACS at `sentAt`. */
export function outboundEntry(record: MessageRecord, sentAt: string): ThreadEntry {
  return {
    ourNumber: record.from,
    theirNumber: record.to,
    direction: 'outbound',
    at: sentAt,
    body: record.body,
    app: appOf(record),
    messageId: record.messageId,
    batchId: record.batchId,
    ...(record.tag ? { tag: record.tag } : {}),
    ...(record.template ? { template: templateKey(record.template) } : {}),
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
