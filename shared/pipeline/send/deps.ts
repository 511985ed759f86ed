// What the send path needs, and what it says it did with a job.
import type { AppDirectory } from '../../domain/apps.js';
import type { AllowedCountries } from '../../domain/geo.js';
import type { Sender } from '../../domain/sender.js';
import type { OptOutStore } from '../../ports/consent.js';
import type { ConversationStore } from '../../ports/conversations.js';
import type { DeadLetterStore } from '../../ports/deadLetters.js';
import type { StatusEventSink } from '../../ports/events.js';
import type { SmsGateway } from '../../ports/gateway.js';
import type { SendingControlStore } from '../../ports/guard.js';
import type { MessageStore } from '../../ports/messages.js';
import type { RateLimiter } from '../../ports/pacing.js';
import type { OutboundQueue } from '../../ports/queue.js';
import type { Clock, Logger } from '../../ports/runtime.js';
import type { DeliveryTracker } from '../../ports/tracking.js';
import type { UncertainPolicy } from './uncertain.js';

export interface SendDeps {
  messages: MessageStore;
  optOuts: OptOutStore;
  queue: OutboundQueue;
  gateway: SmsGateway;
  rateLimiter: RateLimiter;
  deadLetters: DeadLetterStore;
  clock: Clock;
  log: Logger;
  senders: readonly Sender[];
  /** The apps of SMS_APPS: a job of an app with its own numbers is sent only from one of them. */
  apps?: AppDirectory;
  maxAttempts: number;
  events: StatusEventSink;
  /** Follows handed-over messages to a final status (reconciliation). */
  tracker: DeliveryTracker;
  /** Conversations: each message handed over becomes an entry of its thread (one write per job). */
  conversations: ConversationStore;
  /** What to do with a hand-over whose outcome cannot be known (see uncertain.ts). */
  uncertainPolicy: UncertainPolicy;
  /** The pause switch and fraud holds, looked at before every hand-over (guard.ts). */
  controls: SendingControlStore;
  /** Geo permissions: recipients elsewhere fail at the hand-over (jobs enqueued directly skip the submit's check). */
  allowedCountries: AllowedCountries;
  /** How often a message held by a fraud hold looks again (default HOLD_RECHECK_MS, guard.ts). */
  holdRecheckMs?: number;
  random?: () => number;
}

/** What happened to a job, for logs and tests. */
export type SendOutcome =
  | { kind: 'deadLettered'; reason: string }
  | { kind: 'deferred'; until: string; reason: 'notBefore' | 'pacing' | 'paused' | 'held' }
  | ({ kind: 'processed' } & Tally);

/** Counts of a processed job, filled in step by step. */
export type Tally = {
  sent: number;
  failed: number;
  suppressed: number;
  expired: number;
  skipped: number;
  retrying: number;
  uncertain: number;
  /** Waiting for a pause to be lifted, or held by a fraud hold (guard.ts). */
  paused: number;
  held: number;
};

export function newTally(): Tally {
  return { sent: 0, failed: 0, suppressed: 0, expired: 0, skipped: 0, retrying: 0, uncertain: 0, paused: 0, held: 0 };
}

export function processed(tally: Tally): SendOutcome {
  return { kind: 'processed', ...tally };
}
