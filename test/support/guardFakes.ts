// In-memory fakes of the fraud and spend guard's ports (shared/ports/guard.ts), used by fakeServices()
// (fakes.ts). They decide with the same domain functions the Table adapters use and keep the
// semantics that matter: a charge is all or nothing and recognised when repeated, a hold is not
// placed over an active or exempt one, a hold is saved only at the version it was read at.
import {
  counterKey,
  NO_BUDGETS,
  periodKey,
  planCharge,
  type BudgetCounter,
  type BudgetPolicy,
  type ChargeRequest,
} from '../../shared/domain/budget.js';
import { mergePrices } from '../../shared/domain/pricing.js';
import { FakeLinkStore, TEST_LINK_POLICY } from './linkFakes.js';
import {
  DEFAULT_PUMPING_POLICY,
  observe,
  shardOf,
  touchedPrefixes,
  trimShard,
  type Observation,
  type PrefixState,
  type PumpingPolicy,
  type Suspicion,
  type WatchState,
} from '../../shared/domain/fraudWatch.js';
import {
  CANCELING_HOLDS_FOR_MS,
  mayPlaceOver,
  pauseKey,
  type ControlsSnapshot,
  type Hold,
  type Pause,
  type PauseScope,
} from '../../shared/domain/sendingControls.js';
import { ConcurrencyError } from '../../shared/ports/errors.js';
import type { BudgetLedger, ChargeOutcome, FraudWatchStore, SendingControlStore } from '../../shared/ports/guard.js';

const clone = <T>(v: T): T => structuredClone(v);

export class FakeSendingControls implements SendingControlStore {
  readonly pauses = new Map<string, Pause>();
  readonly holds = new Map<string, Hold>();
  /** How many times the controls were read (not answered from the snapshot kept). */
  reads = 0;
  private version = 0;
  private kept: ControlsSnapshot | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  async snapshot(maxAgeMs: number): Promise<ControlsSnapshot> {
    const now = this.now();
    if (this.kept && now - this.kept.readAt <= maxAgeMs) return clone(this.kept);
    this.reads++;
    this.kept = {
      pauses: [...this.pauses.values()].map(clone),
      holds: [...this.holds.values()]
        .filter(
          (h) =>
            h.state === 'active' || (h.heldMessages === 'cancel' && Date.parse(h.releasedAt!) >= now - CANCELING_HOLDS_FOR_MS),
        )
        .map(clone),
      readAt: now,
    };
    return clone(this.kept);
  }

  async setPause(scope: PauseScope, pause: Pause | undefined): Promise<Pause | undefined> {
    const key = pauseKey(scope);
    const previous = this.pauses.get(key);
    if (pause) this.pauses.set(key, clone(previous ? { ...pause, since: previous.since } : pause));
    else this.pauses.delete(key);
    this.kept = undefined;
    return previous ? clone(previous) : undefined;
  }

  async placeHold(hold: Hold, now: Date): Promise<{ placed: boolean; hold: Hold }> {
    const existing = this.holds.get(hold.id);
    if (existing && !mayPlaceOver(existing, now)) return { placed: false, hold: clone(existing) };
    const stored = { ...clone(hold), etag: `h${++this.version}` };
    this.holds.set(hold.id, stored);
    this.kept = undefined;
    return { placed: true, hold: clone(stored) };
  }

  async getHold(id: string): Promise<Hold | undefined> {
    const hold = this.holds.get(id);
    return hold ? clone(hold) : undefined;
  }

  async listHolds(options: { state?: 'active' | 'released'; limit: number }): Promise<Hold[]> {
    return [...this.holds.values()]
      .filter((h) => options.state === undefined || h.state === options.state)
      .sort((a, b) => b.placedAt.localeCompare(a.placedAt) || a.id.localeCompare(b.id))
      .slice(0, options.limit)
      .map(clone);
  }

  async saveHold(hold: Hold): Promise<void> {
    const current = this.holds.get(hold.id);
    if (!current || current.etag !== hold.etag) throw new ConcurrencyError();
    this.holds.set(hold.id, { ...clone(hold), etag: `h${++this.version}` });
    this.kept = undefined;
  }
}

export class FakeBudgetLedger implements BudgetLedger {
  readonly stored = new Map<string, BudgetCounter>();
  readonly charges = new Map<
    string,
    { at: Date; amounts: ChargeRequest['amounts']; keys: string[]; crossings: ChargeOutcome['crossings'] }
  >();

  async charge(policy: BudgetPolicy, request: ChargeRequest): Promise<ChargeOutcome> {
    const earlier = this.charges.get(request.batchId);
    if (earlier)
      return { kind: 'fits', at: earlier.at, counters: new Map(), crossings: clone(earlier.crossings), repeated: true };
    const plan = planCharge(policy, request, this.stored);
    for (const [key, counter] of plan.counters) this.stored.set(key, { ...counter });
    if (plan.kind === 'exceeded') return plan;
    this.charges.set(request.batchId, {
      at: plan.at,
      amounts: { ...request.amounts },
      keys: [...plan.counters.keys()],
      crossings: clone(plan.crossings),
    });
    return { ...plan, repeated: false };
  }

  async refund(batchId: string): Promise<void> {
    const charge = this.charges.get(batchId);
    if (!charge) return;
    for (const key of charge.keys) {
      const c = this.stored.get(key);
      if (c)
        this.stored.set(key, {
          ...c,
          messages: c.messages - charge.amounts.messages,
          costMicros: c.costMicros - charge.amounts.costMicros,
        });
    }
    this.charges.delete(batchId);
  }

  async counters(at: Date): Promise<Map<string, BudgetCounter>> {
    const periods = [periodKey('day', at), periodKey('month', at)];
    return new Map(
      [...this.stored].filter(([key]) => periods.some((p) => key.startsWith(`${p}|`))).map(([k, v]) => [k, { ...v }]),
    );
  }

  /** Messages spent on a rule's counter (a test's view). */
  spent(rule: { scope: string; period: 'day' | 'month' }, at: Date): number {
    return this.stored.get(counterKey(rule, at))?.messages ?? 0;
  }
}

export class FakeFraudWatch implements FraudWatchStore {
  readonly states = new Map<string, WatchState>();
  readonly observed: Array<{ country: string; observations: Observation[] }> = [];

  async observe(policy: PumpingPolicy, country: string, observations: readonly Observation[], now: Date): Promise<Suspicion[]> {
    this.observed.push({ country, observations: clone([...observations]) });
    const result = observe(policy, this.states.get(country) ?? { prefixes: {} }, observations, now.getTime());
    // As the Table adapter keeps them: at most MAX_PREFIXES_PER_SHARD per shard row.
    const shards = new Map<string, Record<string, PrefixState>>();
    for (const [prefix, s] of Object.entries(result.state.prefixes)) {
      const shard = shards.get(shardOf(prefix)) ?? {};
      shard[prefix] = s;
      shards.set(shardOf(prefix), shard);
    }
    const prefixes = Object.assign(
      {},
      ...[...shards.values()].map((shard) => trimShard(policy, shard, now.getTime(), touchedPrefixes(observations))),
    ) as Record<string, PrefixState>;
    this.states.set(country, { ...result.state, prefixes });
    return result.suspicions;
  }
}

/**
 * The guard's part of a submit's deps, for tests that build deps by hand and are not about the
 * guard: every country allowed, no budgets, pumping detection off (fakeServices() has the defaults).
 */
export function openGuard() {
  return {
    allowedCountries: 'any' as const,
    links: new FakeLinkStore(),
    linkPolicy: TEST_LINK_POLICY,
    budgets: new FakeBudgetLedger(),
    fraudWatch: new FakeFraudWatch(),
    controls: new FakeSendingControls(),
    publisher: { async publish() {} },
    guardPolicy: {
      budgets: NO_BUDGETS,
      pumping: { ...DEFAULT_PUMPING_POLICY, enabled: false },
      prices: mergePrices(),
      currency: 'USD',
    },
    eventSource: '/sms-pipeline/test',
  };
}
