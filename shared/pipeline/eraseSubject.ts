// Erasure at a person's request (DELETE /api/subjects/{phone}): the texts they were sent and
// sent us, and their conversations, are erased; what the law requires or the pipeline needs to
// keep its promises is kept, and the answer says what, how much and why.
//
// Message records are partitioned by batch, so finding a person's records reads the whole
// messages table: acceptable for a rare, deliberate request, and the reason the send path never
// does it. Erasing twice is harmless: the second time finds nothing left to erase.
import { WHOLE_POOL } from '../domain/consent.js';
import { moveTo, type MessageRecord } from '../domain/message.js';
import { PENDING_STATUSES } from '../domain/messageStatus.js';
import { maskPhoneNumber } from '../domain/phoneNumber.js';
import type { Sender } from '../domain/sender.js';
import { groupBy } from '../lib/collections.js';
import type { ConsentLog, OptOutStore } from '../ports/consent.js';
import type { ConversationStore } from '../ports/conversations.js';
import type { LinkStore } from '../ports/links.js';
import type { StatusEventSink } from '../ports/events.js';
import type { MessageStore } from '../ports/messages.js';
import type { Clock, Logger } from '../ports/runtime.js';
import { eraseLinks } from './eraseLinks.js';
import { retryOnConflict } from './optimistic.js';

export interface EraseDeps {
  messages: MessageStore;
  conversations: ConversationStore;
  consentLog: ConsentLog;
  optOuts: OptOutStore;
  senders: readonly Sender[];
  clock: Clock;
  log: Logger;
  events: StatusEventSink;
  links: LinkStore;
}

export interface ErasureReport {
  phone: string;
  erasedAt: string;
  erased: {
    /** Message records whose text and metadata were erased now. */
    messageTexts: number;
    /** Conversation entries (texts sent and received) deleted. */
    conversationEntries: number;
    /** Messages not yet handed to ACS, canceled so their text is never sent. */
    canceledMessages: number;
    /** Tracked short links of their messages, with their clicks, deleted (the links answer 404 after). */
    trackedLinks: number;
  };
  kept: Array<{ data: string; count?: number; why: string }>;
}

export const ERASURE_REASON = "erased at the recipient's request";

export async function eraseSubject(deps: EraseDeps, phone: string): Promise<ErasureReport> {
  const now = deps.clock.now();
  const erasedAt = now.toISOString();

  const records = await deps.messages.listByRecipient(phone);
  // Links first: their codes are found in the texts about to be erased.
  const trackedLinks = await eraseLinks(deps.links, records);
  let messageTexts = 0;
  let canceledMessages = 0;
  for (const [batchId, group] of groupBy(records, (r) => r.batchId)) {
    await retryOnConflict(async (round) => {
      // A delivery report or the sender may change one of them meanwhile: then read again, erase again.
      const current =
        round === 1
          ? group
          : [
              ...(
                await deps.messages.getMany(
                  batchId,
                  group.map((r) => r.messageId),
                )
              ).values(),
            ];
      const changed: MessageRecord[] = [];
      const canceled: MessageRecord[] = [];
      for (const record of current) {
        if (record.erasedAt && record.body === '' && !record.metadata) continue;
        // A message still waiting would be sent with its text from the queue: it is canceled.
        if (PENDING_STATUSES.has(record.status) && moveTo(record, 'canceled', now, { reason: ERASURE_REASON }))
          canceled.push(record);
        record.body = '';
        delete record.metadata;
        record.erasedAt = erasedAt;
        changed.push(record);
      }
      await deps.messages.saveAll(changed);
      messageTexts += changed.length;
      canceledMessages += canceled.length;
      if (canceled.length > 0) await deps.events.statusChanged(canceled);
    });
  }

  const ourNumbers = [...new Set([...deps.senders.map((s) => s.number), ...records.map((r) => r.from)])];
  const conversationEntries = await deps.conversations.eraseThreads(phone, ourNumbers);

  let consentEntries = 0;
  let token: string | undefined;
  do {
    const page = await deps.consentLog.history(phone, { limit: 1000, ...(token ? { continuationToken: token } : {}) });
    consentEntries += page.items.length;
    token = page.continuationToken;
  } while (token);
  const optOuts = await deps.optOuts.find(phone, [WHOLE_POOL, ...deps.senders.map((s) => s.number)]);

  deps.log.info('subject erased', { phone: maskPhoneNumber(phone), messageTexts, conversationEntries, canceledMessages });
  return {
    phone,
    erasedAt,
    erased: { messageTexts, conversationEntries, canceledMessages, trackedLinks },
    kept: [
      {
        data: 'consent log',
        count: consentEntries,
        why: 'Every opt-out and opt-in, with who, which number, how and when, is the evidence of consent that telemarketing and SMS rules require to be kept; it holds no message text.',
      },
      {
        data: 'opt-outs in force',
        count: optOuts.length,
        why: 'Erasing an opt-out would allow texting the person again; it is kept so their STOP is still honoured.',
      },
      {
        data: 'message records without text',
        count: records.length,
        why: 'Number, sender, status history and timestamps of each message stay for delivery accounting and billing; their text and metadata are erased, and GET /api/messages/{id} never returns a text.',
      },
      {
        data: 'events already delivered',
        why: 'sms.inbound.received events carried inbound texts to your app when they arrived; erase them there too.',
      },
      {
        data: 'Idempotency-Key answers',
        why: 'The stored answer to a POST /api/messages sent with an Idempotency-Key lists its numbers (no texts) so a retry gets the same answer; it expires 24 hours after the request.',
      },
      {
        data: 'dead-lettered send jobs',
        why: 'A send job that could not be processed keeps its text for replay until it is replayed or removed (npm run dead-letters).',
      },
    ],
  };
}
