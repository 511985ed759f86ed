// Reading one message and its history, or the messages of one of the app's references.
import type { MessageRecord } from '../domain/message.js';
import type { MessageStore } from '../ports/messages.js';
import type { Page, PageRequest } from '../ports/paging.js';

export function getMessage(messages: MessageStore, messageId: string): Promise<MessageRecord | undefined> {
  return messages.get(messageId);
}

/** The messages the app gave `reference`, oldest batch first, a page at a time. */
export function findMessagesByReference(
  messages: MessageStore,
  reference: string,
  page: PageRequest,
): Promise<Page<MessageRecord>> {
  return messages.findByReference(reference, page);
}
