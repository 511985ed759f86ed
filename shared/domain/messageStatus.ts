// The message status machine: status only moves forward, and final statuses never change.

/** Every status a message can have. */
export const MESSAGE_STATUSES = [
  'queued',
  'scheduled',
  'held',
  'sending',
  'sent',
  'delivered',
  'failed',
  'suppressed',
  'canceled',
  'expired',
  'unknown',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Statuses nothing moves a message out of. */
export const FINAL_STATUSES: ReadonlySet<MessageStatus> = new Set(['delivered', 'failed', 'suppressed', 'canceled', 'expired']);

/** Statuses in which the message has not been handed to ACS and can still be canceled. */
export const PENDING_STATUSES: ReadonlySet<MessageStatus> = new Set(['queued', 'scheduled', 'held']);

const NEXT: Record<MessageStatus, readonly MessageStatus[]> = {
  queued: ['held', 'sending', 'sent', 'delivered', 'failed', 'suppressed', 'canceled', 'expired', 'unknown'],
  scheduled: ['queued', 'held', 'sending', 'sent', 'delivered', 'failed', 'suppressed', 'canceled', 'expired', 'unknown'],
  // Held back from the hand-over by a fraud hold (reason "fraudSuspected"): it waits, and goes on when the hold is released.
  held: ['sending', 'sent', 'delivered', 'failed', 'suppressed', 'canceled', 'expired', 'unknown'],
  // A delivery report can overtake the sender's own "sent" record; it still moves forward.
  sending: ['sent', 'delivered', 'failed', 'suppressed', 'expired', 'unknown'],
  sent: ['delivered', 'failed', 'unknown'],
  // "unknown" is the verdict after the reporting deadline; a report that still arrives is the truth.
  unknown: ['delivered', 'failed'],
  delivered: [],
  failed: [],
  suppressed: [],
  canceled: [],
  expired: [],
};

/** Whether a message in status `from` may move to `to`. */
export function canTransition(from: MessageStatus, to: MessageStatus): boolean {
  return NEXT[from].includes(to);
}

export function isFinal(status: MessageStatus): boolean {
  return FINAL_STATUSES.has(status);
}
