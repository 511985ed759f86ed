// What the fraud and spend guard keeps, shared by every instance: the pause switch and fraud holds
// (read before every hand-over), spend budgets (charged at submit), and the traffic watch behind
// pumping detection.
import type { BudgetCounter, BudgetPolicy, ChargePlan, ChargeRequest } from '../domain/budget.js';
import type { Observation, PumpingPolicy, Suspicion } from '../domain/fraudWatch.js';
import type { ControlsSnapshot, Hold, Pause, PauseScope } from '../domain/sendingControls.js';

export interface SendingControlStore {
  /**
   * The pauses and holds in force, read at most `maxAgeMs` ago: an instance reads them once however
   * many jobs ask within that time (0 reads now).
   */
  snapshot(maxAgeMs: number): Promise<ControlsSnapshot>;
  /** Sets (a pause) or lifts (undefined) the pause of a scope; returns the pause that was in force. */
  setPause(scope: PauseScope, pause: Pause | undefined): Promise<Pause | undefined>;
  /**
   * Places a hold unless one stands for its id: an active one, or a released one still exempt
   * (domain mayPlaceOver). Returns the hold now stored and whether it is this one.
   */
  placeHold(hold: Hold, now: Date): Promise<{ placed: boolean; hold: Hold }>;
  getHold(id: string): Promise<Hold | undefined>;
  /** Holds, newest first, active ones or all (released ones are kept for reference). */
  listHolds(options: { state?: 'active' | 'released'; limit: number }): Promise<Hold[]>;
  /** Saves a changed hold, conditional on its etag; throws ConcurrencyError when it changed meanwhile. */
  saveHold(hold: Hold): Promise<void>;
}

/** What a charge came to. */
export type ChargeOutcome =
  /** Charged now, or (repeated) by an earlier attempt of the same batch, which is not charged again. */
  (Extract<ChargePlan, { kind: 'fits' }> & { repeated: boolean }) | Extract<ChargePlan, { kind: 'exceeded' }>;

export interface BudgetLedger {
  /**
   * Charges a batch against the budgets (domain planCharge decides), atomically with a record of
   * the charge keyed by the batch id: charging the same batch again changes nothing and answers
   * what the first charge did. Counting is shared by every instance (conditional writes).
   */
  charge(policy: BudgetPolicy, request: ChargeRequest): Promise<ChargeOutcome>;
  /** Takes back a batch's charge (it was never accepted); nothing when there is none. */
  refund(batchId: string): Promise<void>;
  /** The counters of the periods containing `at`, by counter key (domain counterKey). */
  counters(at: Date): Promise<Map<string, BudgetCounter>>;
}

export interface FraudWatchStore {
  /**
   * Applies observations of one country's traffic to the shared watch (domain observe) and
   * returns what now looks like pumping there.
   */
  observe(policy: PumpingPolicy, country: string, observations: readonly Observation[], now: Date): Promise<Suspicion[]>;
}
