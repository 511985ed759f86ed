// Reading one message and its history.
import type { MessageRecord } from '../domain/message.js';
import type { MessageStore } from '../ports/messages.js';

export function getMessage(messages: MessageStore, messageId: string): Promise<MessageRecord | undefined> {
  return messages.get(messageId);
}
