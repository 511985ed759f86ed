// Senders: the numbers (or alphanumeric ids) the pipeline sends from, their kinds, their default
// pace, and which one of the pool a recipient gets.
import { createHash } from 'node:crypto';
import { RATE_PER_MINUTE } from './acsFacts.js';

/** What kind of number a sender is; it decides the default rate and whether the carrier answers STOP. */
export const SENDER_TYPES = ['tollFree', 'shortCode', 'tenDlc', 'alphanumeric', 'mobile'] as const;
export type SenderType = (typeof SENDER_TYPES)[number];

/**
 * Default rate per sender type, in messages per minute: the figures ACS publishes (toll-free,
 * short code, alphanumeric), and for 10DLC and mobile numbers, which have none, the toll-free
 * figure — declared once, with sources, in acsFacts.ts, so the emulator limits at the same pace.
 */
export const DEFAULT_RATE_PER_MINUTE: Readonly<Record<SenderType, number>> = RATE_PER_MINUTE;

/** A sender of the pool with every default filled in. */
export interface Sender {
  number: string;
  type: SenderType;
  ratePerMinute: number;
  /** Most messages that may go out at once before pacing applies (1-100). */
  burst: number;
}

/** A sender as configured: rate and burst may be left to the defaults of its type. */
export interface SenderSetting {
  number: string;
  type: SenderType;
  ratePerMinute?: number;
  burst?: number;
}

/** Fills in the defaults: the type's rate, and a burst of one second's worth (1-100). */
export function senderWithDefaults(setting: SenderSetting): Sender {
  const ratePerMinute = setting.ratePerMinute ?? DEFAULT_RATE_PER_MINUTE[setting.type];
  return {
    number: setting.number,
    type: setting.type,
    ratePerMinute,
    burst: setting.burst ?? Math.max(1, Math.min(100, Math.floor(ratePerMinute / 60))),
  };
}

/** Chooses the same sender of the pool for a recipient every time, so a conversation stays on one thread. */
export function stickySender(senders: readonly Sender[], to: string): Sender {
  const hash = createHash('sha256').update(to).digest().readUInt32BE(0);
  return senders[hash % senders.length]!;
}
