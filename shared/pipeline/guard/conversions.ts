// Conversions (POST /api/messages/{id}/conversion): the app says a message was used — the one-time
// password in it was entered. Recorded once on the message; for OTP traffic (SMS_PUMPING_PROTECTION
// otpTags) it feeds the country's conversion rate, whose collapse against its own baseline is a
// sign of SMS pumping (domain/fraudWatch.ts).
import { canSee } from '../../domain/apps.js';
import { DEFAULT_APP } from '../../domain/caller.js';
import type { PumpingPolicy } from '../../domain/fraudWatch.js';
import { watchCountryOf } from '../../domain/fraudWatch.js';
import type { MessageRecord } from '../../domain/message.js';
import type { FraudWatchStore } from '../../ports/guard.js';
import type { MessageStore } from '../../ports/messages.js';
import type { Clock, Logger } from '../../ports/runtime.js';
import { retryOnConflict } from '../optimistic.js';

export interface ConversionDeps {
  messages: MessageStore;
  fraudWatch: FraudWatchStore;
  clock: Clock;
  log: Logger;
  pumping: PumpingPolicy;
}

export type ConversionOutcome =
  /** `counted`: it feeds pumping detection (an OTP message, reported for the first time). */
  { kind: 'recorded'; message: MessageRecord; counted: boolean; repeated: boolean } | { kind: 'notFound' };

/** Records the conversion as `viewer` (the caller's app): another app's message is as absent to a confined caller. */
export async function recordConversion(
  deps: ConversionDeps,
  messageId: string,
  viewer: string = DEFAULT_APP,
): Promise<ConversionOutcome> {
  const outcome = await retryOnConflict(async (): Promise<ConversionOutcome> => {
    const record = await deps.messages.get(messageId);
    if (!record || !canSee(viewer, record)) return { kind: 'notFound' };
    if (record.convertedAt) return { kind: 'recorded', message: record, counted: false, repeated: true };
    record.convertedAt = deps.clock.now().toISOString();
    await deps.messages.save(record);
    const otp = record.tag !== undefined && deps.pumping.otpTags.includes(record.tag);
    return { kind: 'recorded', message: record, counted: otp && deps.pumping.enabled, repeated: false };
  });
  if (outcome.kind === 'recorded' && outcome.counted) {
    // Counted after the record says so: a failure here loses one conversion of a rate, never counts one twice.
    try {
      await deps.fraudWatch.observe(deps.pumping, watchCountryOf(outcome.message.to), [{ kind: 'converted' }], deps.clock.now());
    } catch (error) {
      deps.log.warn('conversion not counted for pumping detection', { messageId, error: String(error) });
    }
  }
  return outcome;
}
