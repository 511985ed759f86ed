// The AnalyticsStore on Table Storage. A partition is one UTC day × one of 16 shards (chosen by a
// hash of the fact's key), holding the facts recorded there and their counters per hour and per
// day, for each tag, sender and template version. A fact and the counters it adds to are written in ONE entity group
// transaction — the fact as an insert (fails if it exists: a duplicate), the counters as updates
// conditional on their etag — so a fact is counted exactly once or not at all. Layout and limits:
// docs/analytics.md.
import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { dayOf, hourOf, isTallyProperty, type AnalyticsFact, type Tally } from '../../domain/analytics.js';
import { type AnalyticsRow } from '../../domain/analyticsReport.js';
import { DEFAULT_APP } from '../../domain/caller.js';
import type { AnalyticsReadQuery, AnalyticsStore } from '../../ports/analytics.js';
import { escapeKey, odataString } from './keys.js';
import { storageCall } from '../outage.js';

/** Shards per day. Changing it would move facts to other partitions, so it is not a setting. */
export const ANALYTICS_SHARDS = 16;
/** Entity group transactions hold at most 100 operations. */
const MAX_ACTIONS = 100;
/** Tries of one transaction that lost a race (a counter changed meanwhile) before giving up. */
const MAX_TRIES = 30;

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

const knownKey = (pk: string, rowKey: string) => `${pk}\n${rowKey}`;
export const factRowKey = (key: string) => `f|${escapeKey(key)}`;
/** A template's and an app's counters are rows of their own ("|@<app>": no template starts with "@"); others keep their keys. */
const templatePart = (template: string) => (template ? `|${escapeKey(template)}` : '');
const appPart = (app: string | undefined) => (app ? `|@${escapeKey(app)}` : '');
const rowKeyOf = (prefix: string, f: Pick<AnalyticsFact, 'tag' | 'sender' | 'template' | 'app'>) =>
  `${prefix}|${escapeKey(f.tag)}|${escapeKey(f.sender)}${templatePart(f.template)}${appPart(f.app)}`;
const hourRowKey = (hour: string, fact: AnalyticsFact) => rowKeyOf(`h|${hour.slice(11, 13)}`, fact);
const dayRowKey = (fact: AnalyticsFact) => rowKeyOf('d', fact);

interface CounterChange {
  rowKey: string;
  /** What the row is: "hour" or "day", with its bucket ("2026-11-25T10" / "2026-11-25"), tag, sender and template ("" for none). */
  identity: { kind: 'hour' | 'day'; bucket: string; tag: string; sender: string; template?: string; app?: string };
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
    const template = fact.template ? { template: fact.template } : {};
    const app = fact.app ? { app: fact.app } : {};
    add(
      hourRowKey(hour, fact),
      { kind: 'hour', bucket: hour, tag: fact.tag, sender: fact.sender, ...template, ...app },
      fact.tally,
    );
    add(
      dayRowKey(fact),
      { kind: 'day', bucket: dayOf(fact.at), tag: fact.tag, sender: fact.sender, ...template, ...app },
      fact.tally,
    );
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
    const touched = [hourRowKey(hour, fact), dayRowKey(fact)];
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

/** A counter row as this instance last wrote or read it. */
interface KnownRow {
  etag: string;
  values: Record<string, number>;
}

/** Counter rows remembered per instance; the oldest are forgotten past this (a few MiB at most). */
const MAX_KNOWN_ROWS = 20_000;

/** Facts waiting for their partition's next transaction, and who waits for them. */
interface PartitionTurn {
  waiting: { facts: AnalyticsFact[]; done: (error?: unknown) => void }[];
}

/**
 * Writing, per partition, one turn at a time: facts that arrive while a transaction of their
 * partition is in flight wait for it and then go together in the next one (group commit), so
 * concurrent invocations of one instance do not race each other for the same counter ETags. An
 * instance also remembers each counter row as it last wrote it: while nobody else has written
 * since, recording is one conditional transaction without a read; when another instance has, the
 * ETag check fails, the row is read again and the transaction retried — the shortcut can cost a
 * round-trip, never a count.
 */
export class TableAnalyticsStore implements AnalyticsStore {
  private readonly known = new Map<string, KnownRow>();
  private readonly turns = new Map<string, PartitionTurn>();

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
    // Every partition is written; one that fails does not stop the others (their facts are kept).
    const results = await Promise.allSettled(
      [...byPartition].map(([pk, partitionFacts]) => this.inTurn(pk, [...partitionFacts.values()])),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private inTurn(pk: string, facts: AnalyticsFact[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (error?: unknown) => (error === undefined ? resolve() : reject(error));
      const turn = this.turns.get(pk);
      if (turn) {
        turn.waiting.push({ facts, done });
        return;
      }
      const mine: PartitionTurn = { waiting: [{ facts, done }] };
      this.turns.set(pk, mine);
      void this.drain(pk, mine);
    });
  }

  /** Writes the partition's waiting facts, all that came meanwhile together, until none wait. */
  private async drain(pk: string, turn: PartitionTurn): Promise<void> {
    try {
      while (turn.waiting.length > 0) {
        const taken = turn.waiting.splice(0);
        const facts = new Map<string, AnalyticsFact>();
        for (const entry of taken) for (const fact of entry.facts) if (!facts.has(fact.key)) facts.set(fact.key, fact);
        let failure: unknown;
        try {
          const client = await this.clientFor('analytics');
          for (const chunk of chunks([...facts.values()])) await this.recordChunk(client, pk, chunk);
        } catch (error) {
          failure = error ?? new Error('recording analytics failed');
        }
        for (const entry of taken) entry.done(failure);
      }
    } finally {
      this.turns.delete(pk);
    }
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
      const current = await Promise.all(
        changes.map(async (c) => this.known.get(knownKey(pk, c.rowKey)) ?? (await this.readCounter(client, pk, c.rowKey))),
      );
      const actions: TransactionAction[] = pending.map((f) => [
        'create',
        {
          partitionKey: pk,
          rowKey: factRowKey(f.key),
          at: f.at,
          tag: f.tag,
          sender: f.sender,
          ...(f.template ? { template: f.template } : {}),
          ...(f.app ? { app: f.app } : {}),
          tally: JSON.stringify(f.tally),
        },
      ]);
      const after = new Map<string, Record<string, number>>();
      changes.forEach((change, i) => {
        const row = current[i];
        if (!row) {
          actions.push(['create', { partitionKey: pk, rowKey: change.rowKey, ...change.identity, ...change.tally }]);
          after.set(change.rowKey, { ...change.tally });
          return;
        }
        const updated: Record<string, number> = {};
        for (const [name, amount] of Object.entries(change.tally)) updated[name] = (row.values[name] ?? 0) + amount;
        actions.push(['update', { partitionKey: pk, rowKey: change.rowKey, ...updated }, 'Merge', { etag: row.etag }]);
        after.set(change.rowKey, { ...row.values, ...updated });
      });
      try {
        const response = await storageCall('record analytics', () => client.submitTransaction(actions));
        // Sub-responses come in the order of the operations; an update's carries no row key, an
        // insert's the key URL-encoded.
        const rowKeys = actions.map((a) => a[1].rowKey as string);
        for (const [rowKey, values] of after) {
          const sub = response.subResponses[rowKeys.indexOf(rowKey)];
          const etag =
            sub && (sub.rowKey === undefined || sub.rowKey === rowKey || safeDecode(sub.rowKey) === rowKey)
              ? sub.etag
              : undefined;
          if (etag) this.remember(pk, rowKey, { etag, values });
          else this.known.delete(knownKey(pk, rowKey));
        }
        return;
      } catch (error) {
        // Whatever failed, what this instance remembers of these rows may be stale.
        for (const change of changes) this.known.delete(knownKey(pk, change.rowKey));
        const status = statusOf(error);
        // 409: a fact is already there (a duplicate) or another writer created a counter row first;
        // 412: a counter changed since it was read. Either way: look again and retry.
        if ((status !== 409 && status !== 412) || attempt >= MAX_TRIES) throw error;
        if (status === 409) checkFacts = true;
        // A stale memory is not contention: the first retry reads and goes again at once.
        if (attempt > 1) await this.sleep(5 + Math.random() * Math.min(500, 20 * attempt));
      }
    }
  }

  private remember(pk: string, rowKey: string, row: KnownRow): void {
    const key = knownKey(pk, rowKey);
    this.known.delete(key);
    this.known.set(key, row);
    if (this.known.size > MAX_KNOWN_ROWS) this.known.delete(this.known.keys().next().value!);
  }

  private async readCounter(client: TableClient, pk: string, rowKey: string): Promise<KnownRow | undefined> {
    const entity = await this.getRow(client, pk, rowKey);
    if (!entity) return undefined;
    const values: Record<string, number> = {};
    for (const [name, value] of Object.entries(entity))
      if (typeof value === 'number' && isTallyProperty(name)) values[name] = value;
    const row = { etag: entity.etag, values };
    this.remember(pk, rowKey, row);
    return row;
  }

  private async existingFacts(client: TableClient, pk: string, facts: readonly AnalyticsFact[]): Promise<Set<string>> {
    const found = await Promise.all(
      facts.map(async (f) => ((await this.getRow(client, pk, factRowKey(f.key))) ? f.key : undefined)),
    );
    return new Set(found.filter((k): k is string => k !== undefined));
  }

  private async getRow(
    client: TableClient,
    pk: string,
    rowKey: string,
  ): Promise<TableEntityResult<Record<string, unknown>> | undefined> {
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
    const afterLastDay = dayOf(new Date(Date.parse(`${dayOf(new Date(query.to.getTime() - 1))}T00:00:00Z`) + 86_400_000)).replace(
      /-/g,
      '',
    );
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
    // The default app's rows have no app property (they are the rows older than apps): filtered once read.
    if (query.app !== undefined && query.app !== DEFAULT_APP) conditions.push(`app eq ${odataString(query.app)}`);
    if (query.template !== undefined) {
      // "name@3" is one version; "name" every version of it ("name@" then digits, which sort before ":").
      if (query.template.includes('@')) conditions.push(`template eq ${odataString(query.template)}`);
      else
        conditions.push(`template ge ${odataString(`${query.template}@`)}`, `template lt ${odataString(`${query.template}@:`)}`);
    }
    const rows: AnalyticsRow[] = [];
    await storageCall('read analytics', async () => {
      for await (const entity of client.listEntities<Record<string, unknown>>({
        queryOptions: { filter: conditions.join(' and ') },
      })) {
        const tally: Tally = {};
        for (const [name, value] of Object.entries(entity))
          if (typeof value === 'number' && isTallyProperty(name)) tally[name] = value;
        rows.push({
          bucket: String(entity.bucket),
          tag: String(entity.tag ?? ''),
          sender: String(entity.sender ?? ''),
          template: String(entity.template ?? ''),
          ...(typeof entity.app === 'string' ? { app: entity.app } : {}),
          tally,
        });
      }
    });
    return query.app === undefined ? rows : rows.filter((r) => (r.app ?? DEFAULT_APP) === query.app);
  }
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
