// Fraud holds as an operator sees them: listed (GET /api/holds), read one by one, and released
// (POST /api/holds/{id}/release). Releasing sends the held messages on at their next look — or
// cancels them — and exempts the prefix (or country) from new holds for a while, so the same burst
// does not hold it again at once.
import { holdEvent } from '../../domain/guardEvents.js';
import type { PumpingPolicy } from '../../domain/fraudWatch.js';
import { releaseHold as released, type Hold } from '../../domain/sendingControls.js';
import type { EventPublisher } from '../../ports/events.js';
import type { SendingControlStore } from '../../ports/guard.js';
import type { Clock, Logger } from '../../ports/runtime.js';
import { retryOnConflict } from '../optimistic.js';
import { publishQuietly } from './submitGuard.js';

export interface HoldDeps {
  controls: SendingControlStore;
  publisher: EventPublisher;
  clock: Clock;
  log: Logger;
  pumping: PumpingPolicy;
  eventSource: string;
}

/** What a hold id looks like: a country code, and a dash and the digits of its prefix. */
export const HOLD_ID_PATTERN = /^[A-Z]{2}(-\d{1,15})?$/;

export function listHolds(
  deps: Pick<HoldDeps, 'controls'>,
  options: { state?: 'active' | 'released'; limit: number },
): Promise<Hold[]> {
  return deps.controls.listHolds(options);
}

export function getHold(deps: Pick<HoldDeps, 'controls'>, id: string): Promise<Hold | undefined> {
  return deps.controls.getHold(id);
}

export interface ReleaseRequest {
  /** What becomes of the messages it held: sent on (default) or canceled. */
  messages: 'send' | 'cancel';
  note?: string;
}

export type ReleaseOutcome = { kind: 'released'; hold: Hold; changed: boolean } | { kind: 'notFound' };

/** Releases a hold; releasing a released one answers it as it is (idempotent). */
export function releaseHold(deps: HoldDeps, id: string, request: ReleaseRequest): Promise<ReleaseOutcome> {
  return retryOnConflict(async () => {
    const hold = await deps.controls.getHold(id);
    if (!hold) return { kind: 'notFound' };
    if (hold.state === 'released') return { kind: 'released', hold, changed: false };
    const next = released(hold, deps.clock.now(), {
      heldMessages: request.messages,
      exemptHours: deps.pumping.exemptHours,
      ...(request.note ? { note: request.note } : {}),
    });
    await deps.controls.saveHold(next);
    deps.log.warn('fraud hold released', { holdId: id, heldMessages: request.messages });
    await publishQuietly(deps, [holdEvent(deps.eventSource, next)]);
    return { kind: 'released', hold: next, changed: true };
  });
}
