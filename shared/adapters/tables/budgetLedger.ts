// Spend budgets in Table Storage (table "budgets"), one partition so that a charge is one entity
// group transaction: the charge record of the batch (RowKey "c|<batchId>", inserted: it fails when
// the batch was charged before) and every counter it adds to ("n|<period>|<scope>", each updated
// conditionally on the etag it was read with). Either all of it is stored or none, so two instances
// charging at once cannot both spend the last of a budget: the second one's etag check fails, it
// reads again and decides again (domain planCharge). The charges an instance takes while its last
// one of the same day is written go together in its next transaction (up to 50), planned one after
// another on the same counters. Batch ids sort by time, so old charge records can be found by range
// when a retention job is wanted.
import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import {
  counterRange,
  planCharge,
  type BudgetCounter,
  type BudgetCrossing,
  type BudgetPolicy,
  type ChargePlan,
  type ChargeRequest,
  periodKey,
} from '../../domain/budget.js';
import type { BudgetLedger, ChargeOutcome } from '../../ports/guard.js';
import { storageCall } from '../outage.js';
import { odataString } from './keys.js';
import type { ClientFor } from './tableClients.js';

type Row = Record<string, unknown>;

const PARTITION = 'budget';
const MAX_ROUNDS = 40;

const statusOf = (error: unknown) => (error as { statusCode?: number })?.statusCode;
const counterRow = (key: string) => `n|${key}`;
const chargeRow = (batchId: string) => `c|${batchId}`;

interface StoredCounter extends BudgetCounter {
  etag: string;
}

function counterOf(entity: TableEntityResult<Row>): StoredCounter {
  return {
    messages: Number(entity.messages ?? 0),
    costMicros: Number(entity.costMicros ?? 0),
    flags: Number(entity.flags ?? 0),
    etag: entity.etag,
  };
}

/** A charge waiting for its day's write. */
interface PendingCharge {
  policy: BudgetPolicy;
  request: ChargeRequest;
  resolve: (outcome: ChargeOutcome) => void;
  reject: (error: unknown) => void;
}

/** Most charges written together: with their counters, well within a transaction's 100 operations. */
const MAX_GROUP = 50;

/** Takes the next group off `queue` (in place): one policy, distinct batches, at most MAX_GROUP. */
function takeCharges(queue: PendingCharge[]): PendingCharge[] {
  const batches = new Set([queue[0]!.request.batchId]);
  let n = 1;
  while (n < queue.length && n < MAX_GROUP && queue[n]!.policy === queue[0]!.policy && !batches.has(queue[n]!.request.batchId)) {
    batches.add(queue[n]!.request.batchId);
    n++;
  }
  return queue.splice(0, n);
}

/** The record of a batch's charge: inserted, so a second charge of the batch fails with 409. */
function chargeEntity(request: ChargeRequest, plan: Extract<ChargePlan, { kind: 'fits' }>) {
  return {
    partitionKey: PARTITION,
    rowKey: chargeRow(request.batchId),
    at: plan.at.toISOString(),
    messages: request.amounts.messages,
    costMicros: request.amounts.costMicros,
    counters: JSON.stringify([...plan.counters.keys()]),
    crossings: JSON.stringify(plan.crossings),
  };
}

/** A write of several charges met one already stored (or a counter another instance just created). */
class RepeatInGroup extends Error {}

export class TableBudgetLedger implements BudgetLedger {
  /** Per day: charges waiting while this instance's last charge of that day is written. */
  private readonly waiting = new Map<string, PendingCharge[]>();

  constructor(
    private readonly client: ClientFor,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  private table(): Promise<TableClient> {
    return this.client('budgets');
  }

  /** Every counter a charge from `at` may touch (its periods and those up to 35 days on), by counter key. */
  private async readRange(client: TableClient, at: Date): Promise<Map<string, StoredCounter>> {
    const { days, months } = counterRange(at);
    const range = ([from, to]: [string, string]) =>
      `(RowKey ge ${odataString(counterRow(from))} and RowKey lt ${odataString(`${counterRow(to)}|~`)})`;
    const filter = `PartitionKey eq '${PARTITION}' and (${range(days)} or ${range(months)})`;
    const counters = new Map<string, StoredCounter>();
    await storageCall('read budgets', async () => {
      for await (const entity of client.listEntities<Row>({ queryOptions: { filter } }))
        counters.set(entity.rowKey!.slice(2), counterOf(entity));
    });
    return counters;
  }

  private counterActions(
    counters: ReadonlyMap<string, BudgetCounter>,
    stored: ReadonlyMap<string, StoredCounter>,
  ): TransactionAction[] {
    return [...counters].map(([key, c]): TransactionAction => {
      const entity = {
        partitionKey: PARTITION,
        rowKey: counterRow(key),
        messages: c.messages,
        costMicros: c.costMicros,
        flags: c.flags,
      };
      const before = stored.get(key);
      return before ? ['update', entity, 'Replace', { etag: before.etag }] : ['create', entity];
    });
  }

  /**
   * Charges taken by this instance while its last charge of the same day was being written go
   * together in the next write: one read and one transaction for all of them, planned one after
   * another on the same counters, so a busy budget costs a write per round trip, not per request.
   */
  charge(policy: BudgetPolicy, request: ChargeRequest): Promise<ChargeOutcome> {
    const day = periodKey('day', request.at);
    return new Promise<ChargeOutcome>((resolve, reject) => {
      const item = { policy, request, resolve, reject };
      const queue = this.waiting.get(day);
      if (queue) queue.push(item);
      else {
        this.waiting.set(day, [item]);
        void this.drain(day);
      }
    });
  }

  private async drain(day: string): Promise<void> {
    for (;;) {
      const queue = this.waiting.get(day)!;
      if (queue.length === 0) {
        this.waiting.delete(day);
        return;
      }
      const group = takeCharges(queue);
      let outcomes: ChargeOutcome[] | undefined;
      try {
        outcomes =
          group.length === 1
            ? [await this.chargeOne(group[0]!.policy, group[0]!.request)]
            : await this.chargeGroup(
                group[0]!.policy,
                group.map((g) => g.request),
              );
      } catch (error) {
        if (!(error instanceof RepeatInGroup)) {
          for (const g of group) g.reject(error);
          continue;
        }
        // A batch among them was charged before (a retry): each on its own, which answers a repeat.
        await Promise.all(group.map((g) => this.chargeOne(g.policy, g.request).then(g.resolve, g.reject)));
        continue;
      }
      group.forEach((g, i) => g.resolve(outcomes[i]!));
    }
  }

  private async chargeGroup(policy: BudgetPolicy, requests: readonly ChargeRequest[]): Promise<ChargeOutcome[]> {
    const client = await this.table();
    for (let round = 1; ; round++) {
      const stored = await this.readRange(client, requests[0]!.at);
      const working = new Map<string, BudgetCounter>(stored);
      const outcomes: ChargeOutcome[] = [];
      const charges: TransactionAction[] = [];
      for (const request of requests) {
        const plan = planCharge(policy, request, working);
        if (plan.kind === 'exceeded') {
          const earlier = await this.chargeOf(client, request.batchId);
          if (earlier) {
            outcomes.push(earlier);
            continue;
          }
        }
        for (const [key, counter] of plan.counters) working.set(key, counter);
        if (plan.kind === 'fits') {
          charges.push(['create', chargeEntity(request, plan)]);
          outcomes.push({ ...plan, repeated: false });
        } else outcomes.push(plan);
      }
      const changed = new Map([...working].filter(([key, counter]) => stored.get(key) !== counter));
      const actions = [...charges, ...this.counterActions(changed, stored)];
      if (actions.length === 0) return outcomes;
      try {
        await storageCall('charge budget', () => client.submitTransaction(actions));
        return outcomes;
      } catch (error) {
        const status = statusOf(error);
        if (status === 409) throw new RepeatInGroup();
        if (status !== 412) throw error;
        if (round >= MAX_ROUNDS) throw new Error('could not charge the budget: too much contention', { cause: error });
        if (round > 1) await this.sleep(5 + Math.random() * Math.min(400, 15 * round));
      }
    }
  }

  private async chargeOne(policy: BudgetPolicy, request: ChargeRequest): Promise<ChargeOutcome> {
    const client = await this.table();
    for (let round = 1; ; round++) {
      const stored = await this.readRange(client, request.at);
      const plan = planCharge(policy, request, stored);
      if (plan.kind === 'exceeded') {
        // A batch charged before may have filled the budget itself: its retry is answered as charged.
        const earlier = await this.chargeOf(client, request.batchId);
        if (earlier) return earlier;
      }
      const actions = this.counterActions(plan.counters, stored);
      if (plan.kind === 'fits') actions.unshift(['create', chargeEntity(request, plan)]);
      if (actions.length === 0) return plan.kind === 'fits' ? { ...plan, repeated: false } : plan;
      try {
        await storageCall('charge budget', () => client.submitTransaction(actions));
        return plan.kind === 'fits' ? { ...plan, repeated: false } : plan;
      } catch (error) {
        const status = statusOf(error);
        if (status !== 409 && status !== 412) throw error;
        // 409: the batch was charged before (or another instance created a counter first); 412: a
        // counter changed since it was read. A repeat answers what the first charge did.
        if (status === 409 && plan.kind === 'fits') {
          const earlier = await this.chargeOf(client, request.batchId);
          if (earlier) return earlier;
        }
        if (round >= MAX_ROUNDS) throw new Error('could not charge the budget: too much contention', { cause: error });
        if (round > 1) await this.sleep(5 + Math.random() * Math.min(400, 15 * round));
      }
    }
  }

  private async chargeOf(client: TableClient, batchId: string): Promise<ChargeOutcome | undefined> {
    const entity = await this.getRow(client, chargeRow(batchId));
    if (!entity) return undefined;
    return {
      kind: 'fits',
      at: new Date(String(entity.at)),
      counters: new Map(),
      crossings: JSON.parse(String(entity.crossings ?? '[]')) as BudgetCrossing[],
      repeated: true,
    };
  }

  private async getRow(client: TableClient, rowKey: string): Promise<TableEntityResult<Row> | undefined> {
    return storageCall('read budgets', async () => {
      try {
        return await client.getEntity<Row>(PARTITION, rowKey);
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async refund(batchId: string): Promise<void> {
    const client = await this.table();
    for (let round = 1; ; round++) {
      const charge = await this.getRow(client, chargeRow(batchId));
      if (!charge) return;
      const keys = JSON.parse(String(charge.counters ?? '[]')) as string[];
      const counters = await Promise.all(keys.map(async (key) => [key, await this.getRow(client, counterRow(key))] as const));
      // The counters' etags make the whole transaction conditional; a second refund finds no charge (404) and stops.
      const actions: TransactionAction[] = [['delete', { partitionKey: PARTITION, rowKey: chargeRow(batchId) }]];
      for (const [key, entity] of counters) {
        if (!entity) continue;
        const c = counterOf(entity);
        actions.push([
          'update',
          {
            partitionKey: PARTITION,
            rowKey: counterRow(key),
            messages: Math.max(0, c.messages - Number(charge.messages ?? 0)),
            costMicros: Math.max(0, c.costMicros - Number(charge.costMicros ?? 0)),
            flags: c.flags,
          },
          'Replace',
          { etag: c.etag },
        ]);
      }
      try {
        await storageCall('refund budget', () => client.submitTransaction(actions));
        return;
      } catch (error) {
        const status = statusOf(error);
        if ((status !== 412 && status !== 404) || round >= MAX_ROUNDS) throw error;
        await this.sleep(5 + Math.random() * Math.min(400, 15 * round));
      }
    }
  }

  async counters(at: Date): Promise<Map<string, BudgetCounter>> {
    const client = await this.table();
    const filter =
      `PartitionKey eq '${PARTITION}' and ((RowKey ge ${odataString(counterRow(periodKey('day', at)))} and RowKey lt ${odataString(`${counterRow(periodKey('day', at))}|~`)}) or ` +
      `(RowKey ge ${odataString(counterRow(periodKey('month', at)))} and RowKey lt ${odataString(`${counterRow(periodKey('month', at))}|~`)}))`;
    const counters = new Map<string, BudgetCounter>();
    await storageCall('read budgets', async () => {
      for await (const entity of client.listEntities<Row>({ queryOptions: { filter } })) {
        const { etag: _etag, ...counter } = counterOf(entity);
        counters.set(entity.rowKey!.slice(2), counter);
      }
    });
    return counters;
  }
}
