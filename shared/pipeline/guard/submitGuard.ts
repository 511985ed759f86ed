// The guard at submit, after the plan (geo permissions are part of it) and before the point of no
// return: the request's traffic is counted for pumping detection (a burst to one prefix places a
// hold, which the sender enforces), and the batch is charged against the budgets — once per batch,
// whatever retries: a retry with the same Idempotency-Key works under the same batch id, and the
// ledger answers a repeated charge with what the first one did.
import { rulesFor, type BudgetBinding, type BudgetCrossing, type BudgetPolicy } from '../../domain/budget.js';
import { countryOf } from '../../domain/countries.js';
import type { PipelineEvent } from '../../domain/events.js';
import { observationsOf, type PumpingPolicy } from '../../domain/fraudWatch.js';
import { budgetEvent, holdEvent } from '../../domain/guardEvents.js';
import { batchTimeOf } from '../../domain/ids.js';
import { costMicros, pricePerSegment, type PriceTable } from '../../domain/pricing.js';
import type { Sender } from '../../domain/sender.js';
import { holdOf } from '../../domain/sendingControls.js';
import { DependencyUnavailableError } from '../../ports/errors.js';
import type { EventPublisher } from '../../ports/events.js';
import type { BudgetLedger, FraudWatchStore, SendingControlStore } from '../../ports/guard.js';
import type { Clock, Logger } from '../../ports/runtime.js';
import { refusalEvents, type GeoRefused } from './geoPermissions.js';

/** The guard's settings, as the submit needs them. */
export interface SubmitGuardPolicy {
  budgets: BudgetPolicy;
  pumping: PumpingPolicy;
  prices: PriceTable;
  currency: string;
}

export interface SubmitGuardDeps {
  budgets: BudgetLedger;
  fraudWatch: FraudWatchStore;
  controls: SendingControlStore;
  publisher: EventPublisher;
  clock: Clock;
  log: Logger;
  guardPolicy: SubmitGuardPolicy;
  eventSource: string;
}

/** What the guard needs of a plan: its batch, time, sendable recipients (each with its text's segments) and geo refusals. */
export interface GuardedPlan {
  batchId: string;
  /** The app the batch is attributed to (its budgets apply). */
  app?: string;
  scheduledAt?: Date;
  recipients: ReadonlyArray<{
    to: string;
    from: Sender;
    optedOut: boolean;
    segments: number;
    expired?: boolean;
    capped?: string;
  }>;
  geoRefused?: Record<string, number>;
}

/** A budget is reached: refused, to be tried again at `retryAt`. */
export interface BudgetExceeded {
  kind: 'budgetExceeded';
  binding: BudgetBinding;
  retryAt: Date;
}

export type SubmitGuardVerdict =
  | BudgetExceeded
  /**
   * Go on with `plan` — scheduled for a later period (`deferredUntil`) when the budgets queued it.
   * `announce` is published once the batch is accepted; `refund` takes the charge back if it certainly is not.
   */
  | { kind: 'go'; plan: P; deferredUntil?: Date; announce: PipelineEvent[]; refund?: () => Promise<void> };

type P = GuardedPlan;

/** Counts the traffic (not again for a resumed attempt: the first did) and charges the budgets. */
export async function guardSubmit<T extends GuardedPlan>(
  deps: SubmitGuardDeps,
  plan: T,
  tag: string | undefined,
  resumed: boolean,
): Promise<BudgetExceeded | (Omit<Extract<SubmitGuardVerdict, { kind: 'go' }>, 'plan'> & { plan: T })> {
  const sendable = plan.recipients.filter((r) => !r.optedOut && !r.expired && !r.capped);
  if (!resumed && deps.guardPolicy.pumping.enabled && sendable.length > 0)
    await watchTraffic(
      deps,
      sendable.map((r) => r.to),
      tag,
    );
  const charge = await chargeBudgets(deps, plan, sendable, tag);
  if (charge.kind === 'budgetExceeded') return charge;
  const refusals = refusalEvents(
    deps,
    { ...(plan.geoRefused ? { byCountry: plan.geoRefused } : {}), batchId: plan.batchId },
    tag,
  );
  return {
    kind: 'go',
    plan: charge.notBefore ? { ...plan, scheduledAt: charge.notBefore } : plan,
    ...(charge.notBefore ? { deferredUntil: charge.notBefore } : {}),
    announce: [...charge.events, ...refusals],
    ...(charge.charged ? { refund: () => refundQuietly(deps, plan.batchId) } : {}),
  };
}

/** A request refused whole by the geo permissions: counted (sms.destination.refused), then answered. */
export async function refuseDestinations(
  deps: SubmitGuardDeps,
  refused: GeoRefused,
  tag: string | undefined,
): Promise<GeoRefused> {
  await publishQuietly(deps, refusalEvents(deps, refused, tag));
  return refused;
}

type Charge = { kind: 'pass'; notBefore?: Date; events: PipelineEvent[]; charged: boolean } | BudgetExceeded;

async function chargeBudgets(
  deps: SubmitGuardDeps,
  plan: GuardedPlan,
  sendable: GuardedPlan['recipients'],
  tag: string | undefined,
): Promise<Charge> {
  const policy = deps.guardPolicy.budgets;
  const applies = rulesFor(policy.rules, tag, plan.app).length > 0;
  if (!applies || sendable.length === 0) return { kind: 'pass', events: [], charged: false };
  const created = batchTimeOf(plan.batchId) ?? deps.clock.now();
  // A batch counts in the period it is sent in: its creation (the same for every retry), or its schedule.
  const at = new Date(Math.max(created.getTime(), plan.scheduledAt?.getTime() ?? 0));
  const amounts = {
    messages: sendable.length,
    costMicros: sendable.reduce(
      (sum, r) => sum + costMicros(r.segments, pricePerSegment(deps.guardPolicy.prices, r.from.type, countryOf(r.to))),
      0,
    ),
  };
  const outcome = await deps.budgets.charge(policy, {
    batchId: plan.batchId,
    at,
    ...(tag ? { tag } : {}),
    ...(plan.app ? { app: plan.app } : {}),
    amounts,
  });
  const events = crossingEvents(deps, outcome.crossings);
  if (outcome.kind === 'exceeded') {
    await publishQuietly(deps, events);
    deps.log.warn('submit refused: budget reached', {
      batchId: plan.batchId,
      scope: outcome.binding.rule.scope,
      period: outcome.binding.rule.period,
      metric: outcome.binding.metric,
    });
    return { kind: 'budgetExceeded', binding: outcome.binding, retryAt: outcome.binding.resetsAt };
  }
  const later = outcome.at.getTime() > at.getTime() ? { notBefore: outcome.at } : {};
  if (later.notBefore)
    deps.log.info('budget reached: batch queued for the next period', {
      batchId: plan.batchId,
      notBefore: later.notBefore.toISOString(),
    });
  return { kind: 'pass', events, charged: !outcome.repeated, ...later };
}

function crossingEvents(deps: SubmitGuardDeps, crossings: readonly BudgetCrossing[]): PipelineEvent[] {
  const now = deps.clock.now();
  // The log entry the "budget reached" alert reads (infra/modules/alerts.bicep, named in
  // adapters/telemetry/names.ts LOG_EVENTS.budgetReached): once per limit and period, as the event.
  for (const c of crossings) {
    if (c.threshold === 100)
      deps.log.warn('sms.budget.reached', { scope: c.scope, period: c.period, metric: c.metric, limit: c.limit, spent: c.spent });
  }
  return crossings.map((c) => budgetEvent(deps.eventSource, c, now, deps.guardPolicy.currency));
}

/**
 * Counts the request's recipients per country and prefix; a burst or a collapse of conversions
 * places a hold. Detection never refuses a request — the hold stops the sends — and a failure of
 * it other than an outage is logged, not answered as an error.
 */
export async function watchTraffic(deps: SubmitGuardDeps, recipients: readonly string[], tag: string | undefined): Promise<void> {
  const policy = deps.guardPolicy.pumping;
  const now = deps.clock.now();
  await Promise.all(
    [...observationsOf(recipients, tag, policy)].map(async ([country, observations]) => {
      try {
        const suspicions = await deps.fraudWatch.observe(policy, country, observations, now);
        for (const suspicion of suspicions) await placeHold(deps, holdOf(country, suspicion, policy.otpTags, now));
      } catch (error) {
        if (error instanceof DependencyUnavailableError) throw error;
        deps.log.error('pumping detection failed; the request goes on', { country, error: String(error) });
      }
    }),
  );
}

async function placeHold(
  deps: Pick<SubmitGuardDeps, 'controls' | 'publisher' | 'log' | 'eventSource' | 'clock'>,
  hold: Parameters<SendingControlStore['placeHold']>[0],
): Promise<void> {
  const result = await deps.controls.placeHold(hold, deps.clock.now());
  if (!result.placed) return;
  deps.log.warn('fraud hold placed: sends held', { holdId: hold.id, rule: hold.rule, detail: hold.detail });
  await publishQuietly(deps, [holdEvent(deps.eventSource, result.hold)]);
}

/** Publishes the guard's events; they inform, so a failure is logged rather than failing the request. */
export async function publishQuietly(
  deps: Pick<SubmitGuardDeps, 'publisher' | 'log'>,
  events: readonly PipelineEvent[],
): Promise<void> {
  if (events.length === 0) return;
  try {
    await deps.publisher.publish(events);
  } catch (error) {
    deps.log.error('guard events not published', {
      types: [...new Set(events.map((e) => e.type))].join(','),
      error: String(error),
    });
  }
}

/** Takes back the charge of a batch that was certainly not accepted; a failure leaves the budget counted (never under). */
export async function refundQuietly(deps: Pick<SubmitGuardDeps, 'budgets' | 'log'>, batchId: string): Promise<void> {
  try {
    await deps.budgets.refund(batchId);
  } catch (error) {
    deps.log.warn('budget charge of a refused batch not taken back; the budget counts it', { batchId, error: String(error) });
  }
}
