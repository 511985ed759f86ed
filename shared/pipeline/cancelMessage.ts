// Canceling a message that has not been handed to ACS yet. The sender skips messages in a final
// status, so a canceled message is never sent. A cancel racing the sender is decided by the
// store: both write conditionally on the version they read, whoever writes first wins, and the
// loser reads again and decides again (the sender then sees "canceled", the cancel "sending").
import { canSee } from '../domain/apps.js';
import { DEFAULT_APP } from '../domain/caller.js';
import { moveTo, type MessageRecord } from '../domain/message.js';
import { PENDING_STATUSES, type MessageStatus } from '../domain/messageStatus.js';
import type { StatusEventSink } from '../ports/events.js';
import type { MessageStore } from '../ports/messages.js';
import type { Clock, Logger } from '../ports/runtime.js';
import { retryOnConflict } from './optimistic.js';

export interface CancelDeps {
  messages: MessageStore;
  clock: Clock;
  log: Logger;
  events: StatusEventSink;
}

export const CANCEL_REASON = 'canceled by API';

export type CancelResult =
  /** Canceled now, or already canceled before (DELETE is idempotent: same answer). */
  | { kind: 'canceled'; message: MessageRecord; alreadyCanceled: boolean }
  /** Too late: it was handed to ACS (or ended otherwise) before the cancel. */
  | { kind: 'notCancelable'; status: MessageStatus; message: MessageRecord }
  | { kind: 'notFound' };

/** Cancels the message as `viewer` (the caller's app): another app's message is as absent to a confined caller. */
export function cancelMessage(deps: CancelDeps, messageId: string, viewer: string = DEFAULT_APP): Promise<CancelResult> {
  return retryOnConflict(async () => {
    const record = await deps.messages.get(messageId);
    if (!record || !canSee(viewer, record)) return { kind: 'notFound' };
    if (record.status === 'canceled') {
      // A repeated cancel may follow one whose event was not published: publish again (same id).
      await deps.events.statusChanged([record]);
      return { kind: 'canceled', message: record, alreadyCanceled: true };
    }
    if (!PENDING_STATUSES.has(record.status) || !moveTo(record, 'canceled', deps.clock.now(), { reason: CANCEL_REASON })) {
      return { kind: 'notCancelable', status: record.status, message: record };
    }
    await deps.messages.save(record);
    // When this fails the caller gets a 503 and retries; the retry publishes the event.
    await deps.events.statusChanged([record]);
    deps.log.info('message canceled', { messageId });
    return { kind: 'canceled', message: record, alreadyCanceled: false };
  });
}
