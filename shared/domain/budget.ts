// Spend budgets, pure: daily and monthly limits in messages and in estimated cost, pool-wide and per
// tag; which counters a request is charged to, whether it fits, when a full budget frees up, and
// which thresholds (80 %, 100 %) a charge crosses. Periods are UTC days and months. A request is
// charged whole or not at all, so a budget is never overspent, however many instances charge it.
import { MAX_SCHEDULE_AHEAD_MS } from './message.js';

export type BudgetPeriod = 'day' | 'month';
export type BudgetMetric = 'messages' | 'cost';
/** The percentages of a limit whose crossing is announced (sms.budget.reached). */
export const BUDGET_THRESHOLDS = [80, 100] as const;
export type BudgetThreshold = (typeof BUDGET_THRESHOLDS)[number];

/** One limit: of the pool ("*"), of one tag, or of one app ("@<app>"), per day or month, in messages and/or cost. */
export interface BudgetRule {
  /** "*" for the whole pool, "@<app id>" for an app of SMS_APPS (no tag has an "@"), else the tag. */
  scope: string;
  period: BudgetPeriod;
  messages?: number;
  /** Millionths of the currency unit (pricing.ts's costMicros). */
  costMicros?: number;
}

/** What the settings say (SMS_BUDGETS): limits in messages and in currency units. */
export interface BudgetLimitsSetting {
  messages?: number;
  cost?: number;
}
export interface BudgetSettings {
  daily?: BudgetLimitsSetting;
  monthly?: BudgetLimitsSetting;
  tags?: Record<string, { daily?: BudgetLimitsSetting; monthly?: BudgetLimitsSetting }>;
}

export type WhenBudgetReached = 'refuse' | 'queue';

export interface BudgetPolicy {
  rules: readonly BudgetRule[];
  whenReached: WhenBudgetReached;
}

export const NO_BUDGETS: BudgetPolicy = { rules: [], whenReached: 'refuse' };

/** The scope of an app's budget rules: "@" is in no tag, so it never meets one. */
export const appScope = (app: string): string => `@${app}`;

/** The rules of SMS_BUDGETS and of each app's budgets (SMS_APPS); limits left out are no limit. */
export function budgetRules(
  settings: BudgetSettings | undefined,
  apps: Record<string, Pick<BudgetSettings, 'daily' | 'monthly'>> = {},
): BudgetRule[] {
  const rules: BudgetRule[] = [];
  const add = (scope: string, period: BudgetPeriod, limits: BudgetLimitsSetting | undefined) => {
    if (!limits || (limits.messages === undefined && limits.cost === undefined)) return;
    rules.push({
      scope,
      period,
      ...(limits.messages !== undefined ? { messages: limits.messages } : {}),
      ...(limits.cost !== undefined ? { costMicros: Math.round(limits.cost * 1_000_000) } : {}),
    });
  };
  add('*', 'day', settings?.daily);
  add('*', 'month', settings?.monthly);
  for (const [tag, limits] of Object.entries(settings?.tags ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    add(tag, 'day', limits.daily);
    add(tag, 'month', limits.monthly);
  }
  for (const [app, limits] of Object.entries(apps).sort(([a], [b]) => a.localeCompare(b))) {
    add(appScope(app), 'day', limits.daily);
    add(appScope(app), 'month', limits.monthly);
  }
  return rules;
}

/** "d2026-11-25" or "m2026-11": the period containing `at`. Sorts in time order within a kind. */
export function periodKey(period: BudgetPeriod, at: Date): string {
  return period === 'day' ? `d${at.toISOString().slice(0, 10)}` : `m${at.toISOString().slice(0, 7)}`;
}

export function periodStart(period: BudgetPeriod, at: Date): Date {
  return period === 'day'
    ? new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()))
    : new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

/** The first instant of the next period: when a full budget takes requests again. */
export function periodEnd(period: BudgetPeriod, at: Date): Date {
  return period === 'day'
    ? new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1))
    : new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
}

/** The counter a rule keeps for the period containing `at`. */
export function counterKey(rule: Pick<BudgetRule, 'scope' | 'period'>, at: Date): string {
  return `${periodKey(rule.period, at)}|${rule.scope}`;
}

/** The rules a request with `tag` from `app` is charged to: the pool's, its tag's and its app's. */
export function rulesFor(rules: readonly BudgetRule[], tag: string | undefined, app?: string): BudgetRule[] {
  return rules.filter((r) => r.scope === '*' || r.scope === tag || (app !== undefined && r.scope === appScope(app)));
}

export interface BudgetAmounts {
  messages: number;
  costMicros: number;
}

/** A counter: what its period has spent, and which thresholds were announced (bits: see flagOf). */
export interface BudgetCounter extends BudgetAmounts {
  flags: number;
}

export const EMPTY_COUNTER: BudgetCounter = { messages: 0, costMicros: 0, flags: 0 };

export function flagOf(metric: BudgetMetric, threshold: BudgetThreshold): number {
  return (metric === 'messages' ? 1 : 4) * (threshold === 80 ? 1 : 2);
}

/** A threshold of one limit crossed (or, for 100 %, a request refused for it): what sms.budget.reached says. */
export interface BudgetCrossing {
  scope: string;
  period: BudgetPeriod;
  periodKey: string;
  metric: BudgetMetric;
  threshold: BudgetThreshold;
  /** The limit: messages, or millionths of the currency unit. */
  limit: number;
  spent: number;
  periodStart: string;
  periodEnd: string;
}

/** The limit that does not let a request in. */
export interface BudgetBinding {
  rule: BudgetRule;
  metric: BudgetMetric;
  limit: number;
  spent: number;
  requested: number;
  periodKey: string;
  /** When it frees up: the end of its period. */
  resetsAt: Date;
}

export interface ChargeRequest {
  /** The batch charged: a retry of it is recognised and not charged again. */
  batchId: string;
  /** When the messages count: the batch's creation or its scheduled time. */
  at: Date;
  tag?: string;
  /** The app the batch is attributed to: its own limits (SMS_APPS budgets) apply too. */
  app?: string;
  amounts: BudgetAmounts;
}

export type ChargePlan =
  /** Charged in the period containing `at` (later than the request's when queued for a later period). */
  | { kind: 'fits'; at: Date; counters: Map<string, BudgetCounter>; crossings: BudgetCrossing[] }
  /** Refused: `binding` says which limit; `crossings` the 100 % announcement when not made before, its flag set in `counters`. */
  | { kind: 'exceeded'; binding: BudgetBinding; counters: Map<string, BudgetCounter>; crossings: BudgetCrossing[] };

function limitOf(rule: BudgetRule, metric: BudgetMetric): number | undefined {
  return metric === 'messages' ? rule.messages : rule.costMicros;
}

function amountOf(amounts: BudgetAmounts, metric: BudgetMetric): number {
  return metric === 'messages' ? amounts.messages : amounts.costMicros;
}

function crossing(
  rule: BudgetRule,
  at: Date,
  metric: BudgetMetric,
  threshold: BudgetThreshold,
  limit: number,
  spent: number,
): BudgetCrossing {
  return {
    scope: rule.scope,
    period: rule.period,
    periodKey: periodKey(rule.period, at),
    metric,
    threshold,
    limit,
    spent,
    periodStart: periodStart(rule.period, at).toISOString(),
    periodEnd: periodEnd(rule.period, at).toISOString(),
  };
}

/**
 * Whether the request fits the budgets of the period containing `at`, given the counters read
 * (a missing one is empty). Fits: the counters after the charge and the thresholds it crosses.
 * Refused: the first limit that does not let it in.
 */
export function judgeAt(
  rules: readonly BudgetRule[],
  request: Omit<ChargeRequest, 'at'>,
  at: Date,
  counters: ReadonlyMap<string, BudgetCounter>,
): { fits: true; counters: Map<string, BudgetCounter>; crossings: BudgetCrossing[] } | { fits: false; binding: BudgetBinding } {
  const updated = new Map<string, BudgetCounter>();
  const crossings: BudgetCrossing[] = [];
  for (const rule of rulesFor(rules, request.tag, request.app)) {
    const key = counterKey(rule, at);
    const before = updated.get(key) ?? counters.get(key) ?? EMPTY_COUNTER;
    const after: BudgetCounter = {
      messages: before.messages + request.amounts.messages,
      costMicros: before.costMicros + request.amounts.costMicros,
      flags: before.flags,
    };
    for (const metric of ['messages', 'cost'] as const) {
      const limit = limitOf(rule, metric);
      if (limit === undefined) continue;
      const spent = amountOf(before, metric);
      const requested = amountOf(request.amounts, metric);
      if (spent + requested > limit) {
        return {
          fits: false,
          binding: {
            rule,
            metric,
            limit,
            spent,
            requested,
            periodKey: periodKey(rule.period, at),
            resetsAt: periodEnd(rule.period, at),
          },
        };
      }
      for (const threshold of BUDGET_THRESHOLDS) {
        const flag = flagOf(metric, threshold);
        if ((after.flags & flag) === 0 && (spent + requested) * 100 >= limit * threshold) {
          after.flags |= flag;
          crossings.push(crossing(rule, at, metric, threshold, limit, spent + requested));
        }
      }
    }
    updated.set(key, after);
  }
  return { fits: true, counters: updated, crossings };
}

/**
 * Plans a charge: in the request's own period, or — when budgets queue instead of refusing — in the
 * first later period (day or month start) that takes it, up to 35 days ahead. Counters not in
 * `counters` are empty: the caller reads every counter of the horizon (counterKeysUpTo).
 */
export function planCharge(
  policy: BudgetPolicy,
  request: ChargeRequest,
  counters: ReadonlyMap<string, BudgetCounter>,
): ChargePlan {
  const horizon = request.at.getTime() + MAX_SCHEDULE_AHEAD_MS;
  let at = request.at;
  let first: BudgetBinding | undefined;
  for (;;) {
    const verdict = judgeAt(policy.rules, request, at, counters);
    if (verdict.fits) {
      // Queued for a later period: the request's own period is full, which is announced once too.
      if (first) announceFull(first, request.at, counters, verdict.counters, verdict.crossings);
      return { kind: 'fits', at, counters: verdict.counters, crossings: verdict.crossings };
    }
    first ??= verdict.binding;
    const binding = verdict.binding;
    if (policy.whenReached === 'refuse' || binding.resetsAt.getTime() > horizon || binding.requested > binding.limit) break;
    at = binding.resetsAt;
  }
  // Refused. The first refusal in a period of a full budget announces it as reached (100 %).
  const updated = new Map<string, BudgetCounter>();
  const crossings: BudgetCrossing[] = [];
  announceFull(first, request.at, counters, updated, crossings);
  return { kind: 'exceeded', binding: first, counters: updated, crossings };
}

/** A limit that refused a request is announced as reached (100 %) once per period: its flag is set in `into`. */
function announceFull(
  binding: BudgetBinding,
  at: Date,
  counters: ReadonlyMap<string, BudgetCounter>,
  into: Map<string, BudgetCounter>,
  crossings: BudgetCrossing[],
): void {
  const key = counterKey(binding.rule, at);
  const counter = into.get(key) ?? counters.get(key) ?? EMPTY_COUNTER;
  const flag = flagOf(binding.metric, 100);
  if ((counter.flags & flag) !== 0) return;
  into.set(key, { ...counter, flags: counter.flags | flag });
  crossings.push(crossing(binding.rule, at, binding.metric, 100, binding.limit, binding.spent));
}

/** The first and last counter keys a charge from `at` may touch (queued up to 35 days ahead): read them all at once. */
export function counterRange(at: Date): { days: [string, string]; months: [string, string] } {
  const last = new Date(at.getTime() + MAX_SCHEDULE_AHEAD_MS + 86_400_000);
  return {
    days: [periodKey('day', at), periodKey('day', last)],
    months: [periodKey('month', at), periodKey('month', last)],
  };
}

/** Where a budget stands now: what a GET /api/sending shows per limit. */
export interface BudgetStanding {
  scope: string;
  period: BudgetPeriod;
  periodStart: string;
  periodEnd: string;
  messages?: { limit: number; spent: number };
  costMicros?: { limit: number; spent: number };
}

export function standings(
  rules: readonly BudgetRule[],
  at: Date,
  counters: ReadonlyMap<string, BudgetCounter>,
): BudgetStanding[] {
  return rules.map((rule) => {
    const counter = counters.get(counterKey(rule, at)) ?? EMPTY_COUNTER;
    return {
      scope: rule.scope,
      period: rule.period,
      periodStart: periodStart(rule.period, at).toISOString(),
      periodEnd: periodEnd(rule.period, at).toISOString(),
      ...(rule.messages !== undefined ? { messages: { limit: rule.messages, spent: counter.messages } } : {}),
      ...(rule.costMicros !== undefined ? { costMicros: { limit: rule.costMicros, spent: counter.costMicros } } : {}),
    };
  });
}
