// The pause switch (PUT /api/sending) and the state of sending (GET /api/sending): what is paused,
// how far each budget is spent, how many fraud holds stand. A pause is stored at once and read by
// every instance right before its next hand-over, so sending stops within one pacing slot; lifting
// it sends every waiting message, once.
import { standings, type BudgetPolicy, type BudgetStanding } from '../../domain/budget.js';
import type { AllowedCountries } from '../../domain/geo.js';
import { sendingEvent } from '../../domain/guardEvents.js';
import type { Sender } from '../../domain/sender.js';
import { describePause, type Pause, type PauseScope } from '../../domain/sendingControls.js';
import type { FieldError } from '../../domain/validation.js';
import type { EventPublisher } from '../../ports/events.js';
import type { BudgetLedger, SendingControlStore } from '../../ports/guard.js';
import type { Clock, Logger } from '../../ports/runtime.js';
import { publishQuietly } from './submitGuard.js';

export interface SendingDeps {
  controls: SendingControlStore;
  budgets: BudgetLedger;
  publisher: EventPublisher;
  clock: Clock;
  log: Logger;
  senders: readonly Sender[];
  budgetPolicy: BudgetPolicy;
  allowedCountries: AllowedCountries;
  eventSource: string;
}

export interface PauseRequest {
  paused: boolean;
  /** One sender of the pool; with neither sender nor tag, the whole pool. */
  sender?: string;
  tag?: string;
  reason?: string;
}

export interface SendingState {
  /** The pauses in force; empty: sending. */
  pauses: Pause[];
  budgets: BudgetStanding[];
  whenBudgetReached: BudgetPolicy['whenReached'];
  activeHolds: number;
  allowedCountries: string[] | '*';
}

export type PauseOutcome = { kind: 'done'; changed: boolean; state: SendingState } | { kind: 'invalid'; errors: FieldError[] };

/** Pauses or resumes the pool, a sender or a tag; repeating either changes nothing. */
export async function setPause(deps: SendingDeps, request: PauseRequest): Promise<PauseOutcome> {
  if (request.sender !== undefined && !deps.senders.some((s) => s.number === request.sender)) {
    return {
      kind: 'invalid',
      errors: [
        { field: 'sender', message: `is not one of the configured senders (${deps.senders.map((s) => s.number).join(', ')})` },
      ],
    };
  }
  const scope: PauseScope =
    request.sender !== undefined
      ? { kind: 'sender', sender: request.sender }
      : request.tag !== undefined
        ? { kind: 'tag', tag: request.tag }
        : { kind: 'pool' };
  const now = deps.clock.now();
  const pause: Pause = { scope, since: now.toISOString(), ...(request.reason ? { reason: request.reason } : {}) };
  const previous = await deps.controls.setPause(scope, request.paused ? pause : undefined);
  const changed = request.paused !== (previous !== undefined);
  if (changed) {
    deps.log.warn(request.paused ? 'sending paused' : 'sending resumed', { scope: describePause(scope), reason: request.reason });
    await publishQuietly(deps, [sendingEvent(deps.eventSource, request.paused ? pause : previous!, request.paused, now)]);
  }
  return { kind: 'done', changed, state: await sendingState(deps) };
}

/** What is paused now, the budgets' spend of the current day and month, and the holds standing. */
export async function sendingState(deps: SendingDeps): Promise<SendingState> {
  const now = deps.clock.now();
  const [snapshot, counters] = await Promise.all([
    deps.controls.snapshot(0),
    deps.budgetPolicy.rules.length > 0 ? deps.budgets.counters(now) : Promise.resolve(new Map()),
  ]);
  return {
    pauses: snapshot.pauses,
    budgets: standings(deps.budgetPolicy.rules, now, counters),
    whenBudgetReached: deps.budgetPolicy.whenReached,
    activeHolds: snapshot.holds.filter((h) => h.state === 'active').length,
    allowedCountries: deps.allowedCountries === 'any' ? '*' : [...deps.allowedCountries].sort(),
  };
}
