// Spend budgets in Table Storage (table "budgets"), one partition so that a charge is one entity
// group transaction: the charge record of the batch (RowKey "c|<batchId>", inserted: it fails when
// the batch was charged before) and every counter it adds to ("n|<period>|<scope>", each updated
// conditionally on the etag it was read with). Either all of it is stored or none, so two instances
// charging at once cannot both spend the last of a budget: the second one's etag check fails, it
// reads again and decides again (domain planCharge). Batch ids sort by time, so old charge records
// can be found by range when a retention job is wanted.
import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import {
  counterRange,
  planCharge,
  type BudgetCounter,
  type BudgetCrossing,
  type BudgetPolicy,
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

export class TableBudgetLedger implements BudgetLedger {
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

  async charge(policy: BudgetPolicy, request: ChargeRequest): Promise<ChargeOutcome> {
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
      if (plan.kind === 'fits') {
        actions.unshift([
          'create',
          {
            partitionKey: PARTITION,
            rowKey: chargeRow(request.batchId),
            at: plan.at.toISOString(),
            messages: request.amounts.messages,
            costMicros: request.amounts.costMicros,
            counters: JSON.stringify([...plan.counters.keys()]),
            crossings: JSON.stringify(plan.crossings),
          },
        ]);
      }
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
