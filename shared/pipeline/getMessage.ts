// Reading one message and its history, or the messages of one of the app's references — as the
// caller's app may see them: a caller confined to its app (domain/apps.ts) finds no other app's.
import { appOf, canSee, visibleApp } from '../domain/apps.js';
import { DEFAULT_APP } from '../domain/caller.js';
import type { MessageRecord } from '../domain/message.js';
import type { MessageStore } from '../ports/messages.js';
import type { Page, PageRequest } from '../ports/paging.js';

/** The message, unless `viewer` may not see it: then it is as absent. */
export async function getMessage(
  messages: MessageStore,
  messageId: string,
  viewer: string = DEFAULT_APP,
): Promise<MessageRecord | undefined> {
  const record = await messages.get(messageId);
  return record && canSee(viewer, record) ? record : undefined;
}

/**
 * The messages the app gave `reference`, oldest batch first, a page at a time: of `app` when
 * asked, and only of the viewer's own when it is confined. A page may then hold fewer than the
 * limit (the others' are left out of it); the continuation token goes on as before.
 */
export async function findMessagesByReference(
  messages: MessageStore,
  reference: string,
  page: PageRequest,
  filter: { viewer?: string; app?: string } = {},
): Promise<Page<MessageRecord>> {
  const confined = visibleApp(filter.viewer ?? DEFAULT_APP);
  if (confined !== undefined && filter.app !== undefined && filter.app !== confined) return { items: [] };
  const only = confined ?? filter.app;
  const found = await messages.findByReference(reference, page);
  return only === undefined ? found : { ...found, items: found.items.filter((r) => appOf(r) === only) };
}
