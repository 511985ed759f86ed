// The AnalyticsStore on Table Storage. A partition is one UTC day × one of 16 shards (chosen by a
// hash of the fact's key), holding the facts recorded there and their counters per hour and per
// day, for each tag and sender. A fact and the counters it adds to are written in ONE entity group
// transaction — the fact as an insert (fails if it exists: a duplicate), the counters as updates
// conditional on their etag — so a fact is counted exactly once or not at all. Layout and limits:
// docs/analytics.md.
import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { dayOf, hourOf, isTallyProperty, type AnalyticsFact, type AnalyticsRow, type Tally } from '../../domain/analytics.js';
import type { AnalyticsReadQuery, AnalyticsStore } from '../../pipeline/analytics.js';
import { escapeKey, odataString } from './keys.js';
import { storageCall } from './tableClients.js';

/** Shards per day. Changing it would move facts to other partitions, so it is not a setting. */
export const ANALYTICS_SHARDS = 16;
/** Entity group transactions hold at most 100 operations. */
const MAX_ACTIONS = 100;
/** Tries of one transaction that lost a race (a counter changed meanwhile) before giving up. */
const MAX_TRIES = 30;
/** Partitions written at once by one record() call. */
const PARALLEL_PARTITIONS = 8;

type ClientFor = (table: 'analytics') => Promise<TableClient>;

/** FNV-1a: a stable, well-spread hash of the fact key, so a duplicate lands where the original did. */
export function shardOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % ANALYTICS_SHARDS;
}

/** "20261125-07": the day of the fact's time and its shard. */
export function partitionKeyOf(fact: Pick<AnalyticsFact, 'key' | 'at'>): string {
  return `${dayOf(fact.at).replace(/-/g, '')}-${String(shardOf(fact.key)).padStart(2, '0')}`;
}

export const factRowKey = (key: string) => `f|${escapeKey(key)}`;
const hourRowKey = (hour: string, tag: string, sender: string) => `h|${hour.slice(11, 13)}|${escapeKey(tag)}|${escapeKey(sender)}`;
const dayRowKey = (tag: string, sender: string) => `d|${escapeKey(tag)}|${escapeKey(sender)}`;

interface CounterChange {
  rowKey: string;
  /** What the row is: "hour" or "day", with its bucket ("2026-11-25T10" / "2026-11-25"), tag and sender. */
  identity: { kind: 'hour' | 'day'; bucket: string; tag: string; sender: string };
  tally: Tally;
}

function counterChanges(facts: readonly AnalyticsFact[]): Map<string, CounterChange> {
  const out = new Map<string, CounterChange>();
  const add = (rowKey: string, identity: CounterChange['identity'], tally: Tally) => {
    const change = out.get(rowKey) ?? { rowKey, identity, tally: {} };
    for (const [name, amount] of Object.entries(tally)) change.tally[name] = (change.tally[name] ?? 0) + amount;
    out.set(rowKey, change);
  };
  for (const fact of facts) {
    const hour = hourOf(fact.at);
    add(hourRowKey(hour, fact.tag, fact.sender), { kind: 'hour', bucket: hour, tag: fact.tag, sender: fact.sender }, fact.tally);
    add(dayRowKey(fact.tag, fact.sender), { kind: 'day', bucket: dayOf(fact.at), tag: fact.tag, sender: fact.sender }, fact.tally);
  }
  return out;
}

/** Splits one partition's facts so that facts plus the counter rows they touch fit one transaction. */
function chunks(facts: readonly AnalyticsFact[]): AnalyticsFact[][] {
  const out: AnalyticsFact[][] = [];
  let current: AnalyticsFact[] = [];
  let rows = new Set<string>();
  for (const fact of facts) {
    const hour = hourOf(fact.at);
    const touched = [hourRowKey(hour, fact.tag, fact.sender), dayRowKey(fact.tag, fact.sender)];
    const added = touched.filter((k) => !rows.has(k)).length;
    if (current.length > 0 && current.length + 1 + rows.size + added > MAX_ACTIONS) {
      out.push(current);
      current = [];
      rows = new Set();
    }
    current.push(fact);
    for (const k of touched) rows.add(k);
  }
  if (current.length > 0) out.push(current);
  return out;
}

const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;

export class TableAnalyticsStore implements AnalyticsStore {
  constructor(
    private readonly clientFor: ClientFor,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async record(facts: readonly AnalyticsFact[]): Promise<void> {
    const byPartition = new Map<string, Map<string, AnalyticsFact>>();
    for (const fact of facts) {
      const pk = partitionKeyOf(fact);
      const partition = byPartition.get(pk) ?? new Map<string, AnalyticsFact>();
      // The same fact twice in one delivery: the first one counts.
      if (!partition.has(fact.key)) partition.set(fact.key, fact);
      byPartition.set(pk, partition);
    }
    const work = [...byPartition.entries()];
    const client = await this.clientFor('analytics');
    const failures: unknown[] = [];
    // A few partitions at a time; one that fails does not stop the others (their facts are kept).
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL_PARTITIONS, work.length) }, async () => {
        for (let next = work.shift(); next; next = work.shift()) {
          const [pk, partitionFacts] = next;
          try {
            for (const chunk of chunks([...partitionFacts.values()])) await this.recordChunk(client, pk, chunk);
          } catch (error) {
            failures.push(error);
          }
        }
      }),
    );
    if (failures.length > 0) throw failures[0];
  }

  private async recordChunk(client: TableClient, pk: string, facts: AnalyticsFact[]): Promise<void> {
    let pending = facts;
    let checkFacts = false;
    for (let attempt = 1; ; attempt++) {
      if (checkFacts) {
        const seen = await this.existingFacts(client, pk, pending);
        pending = pending.filter((f) => !seen.has(f.key));
        if (pending.length === 0) return;
      }
      const changes = [...counterChanges(pending).values()];
      const current = await Promise.all(changes.map((c) => this.getRow(client, pk, c.rowKey)));
      const actions: TransactionAction[] = pending.map((f) => [
        'create',
        { partitionKey: pk, rowKey: factRowKey(f.key), at: f.at, tag: f.tag, sender: f.sender, tally: JSON.stringify(f.tally) },
      ]);
      changes.forEach((change, i) => {
        const row = current[i];
        if (!row) {
          actions.push(['create', { partitionKey: pk, rowKey: change.rowKey, ...change.identity, ...change.tally }]);
          return;
        }
        const updated: Record<string, number> = {};
        for (const [name, amount] of Object.entries(change.tally)) {
          const before = row[name];
          updated[name] = (typeof before === 'number' ? before : 0) + amount;
        }
        actions.push(['update', { partitionKey: pk, rowKey: change.rowKey, ...updated }, 'Merge', { etag: row.etag }]);
      });
      try {
        await storageCall('record analytics', () => client.submitTransaction(actions));
        return;
      } catch (error) {
        const status = statusOf(error);
        // 409: a fact is already there (a duplicate) or another writer created a counter row first;
        // 412: a counter changed since it was read. Either way: look again and retry.
        if ((status !== 409 && status !== 412) || attempt >= MAX_TRIES) throw error;
        if (status === 409) checkFacts = true;
        await this.sleep(5 + Math.random() * Math.min(500, 20 * attempt));
      }
    }
  }

  private async existingFacts(client: TableClient, pk: string, facts: readonly AnalyticsFact[]): Promise<Set<string>> {
    const found = await Promise.all(facts.map(async (f) => ((await this.getRow(client, pk, factRowKey(f.key))) ? f.key : undefined)));
    return new Set(found.filter((k): k is string => k !== undefined));
  }

  private async getRow(client: TableClient, pk: string, rowKey: string): Promise<TableEntityResult<Record<string, unknown>> | undefined> {
    try {
      return await storageCall('read analytics', () => client.getEntity<Record<string, unknown>>(pk, rowKey));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async read(query: AnalyticsReadQuery): Promise<AnalyticsRow[]> {
    const client = await this.clientFor('analytics');
    const firstDay = dayOf(query.from).replace(/-/g, '');
    // The day after the last day of the range (to is exclusive).
    const afterLastDay = dayOf(new Date(Date.parse(`${dayOf(new Date(query.to.getTime() - 1))}T00:00:00Z`) + 86_400_000)).replace(/-/g, '');
    const prefix = query.resolution === 'day' ? 'd' : 'h';
    const conditions = [
      `PartitionKey ge ${odataString(firstDay)}`,
      `PartitionKey lt ${odataString(afterLastDay)}`,
      `RowKey ge '${prefix}|'`,
      `RowKey lt '${prefix}}'`,
    ];
    if (query.resolution === 'hour') {
      conditions.push(`bucket ge ${odataString(hourOf(query.from))}`, `bucket lt ${odataString(hourOf(query.to))}`);
    }
    if (query.tag !== undefined) conditions.push(`tag eq ${odataString(query.tag)}`);
    if (query.sender !== undefined) conditions.push(`sender eq ${odataString(query.sender)}`);
    const rows: AnalyticsRow[] = [];
    await storageCall('read analytics', async () => {
      for await (const entity of client.listEntities<Record<string, unknown>>({ queryOptions: { filter: conditions.join(' and ') } })) {
        const tally: Tally = {};
        for (const [name, value] of Object.entries(entity)) if (typeof value === 'number' && isTallyProperty(name)) tally[name] = value;
        rows.push({ bucket: String(entity.bucket), tag: String(entity.tag ?? ''), sender: String(entity.sender ?? ''), tally });
      }
    });
    return rows;
  }
}
