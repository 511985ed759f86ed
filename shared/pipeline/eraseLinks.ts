// Erasure of a person's tracked links with their messages: each link of the messages (found from
// the codes in their texts, before the texts are erased) and its clicks, and the messages' click
// marks. Found by the text and confirmed by the stored link's message, so a change of LINK_DOMAIN
// since the send does not hide a link, and a code-like token of the text never erases another's.
import { candidateCodes } from '../domain/links.js';
import type { MessageRecord } from '../domain/message.js';
import type { LinkStore } from '../ports/links.js';

/** Erases the links of `records` (with texts) and their clicks; returns how many links. */
export async function eraseLinks(links: LinkStore, records: readonly MessageRecord[]): Promise<number> {
  const codes: string[] = [];
  for (const record of records) {
    for (const code of candidateCodes(record.body)) {
      if ((await links.get(code))?.link.messageId === record.messageId) codes.push(code);
    }
  }
  await links.erase(
    codes,
    records.map((r) => r.messageId),
  );
  return codes.length;
}
