// Reading a message and its history as the API shows it.
import type { MessageRecord } from '../domain/message.js';
import type { MessageStore } from '../ports.js';
import type { z } from 'zod';
import type { messageView } from '../http/schemas.js';

export type MessageView = z.infer<typeof messageView>;

/** The API's view of a record: everything but the body and internal bookkeeping. */
export function toMessageView(record: MessageRecord): MessageView {
  return {
    messageId: record.messageId,
    batchId: record.batchId,
    from: record.from,
    to: record.to,
    status: record.status,
    segments: record.segments,
    encoding: record.encoding,
    ...(record.tag ? { tag: record.tag } : {}),
    ...(record.metadata ? { metadata: record.metadata } : {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.scheduledAt ? { scheduledAt: record.scheduledAt } : {}),
    ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
    ...(record.acsMessageId ? { acsMessageId: record.acsMessageId } : {}),
    ...(record.error ? { error: record.error } : {}),
    history: record.history,
  };
}

export async function getMessage(messages: MessageStore, messageId: string): Promise<MessageView | undefined> {
  const record = await messages.get(messageId);
  return record ? toMessageView(record) : undefined;
}
