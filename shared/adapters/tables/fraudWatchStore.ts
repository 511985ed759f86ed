// The pumping watch in Table Storage (table "fraudWatch"): one partition per destination country,
// its prefixes spread over WATCH_SHARDS rows (a JSON map of prefix → recent traffic) and one row for
// the country's OTP conversions. A request's observations of a country are one entity group
// transaction over the rows they touch, conditional on the etags read (or last written by this
// instance, which then needs no read): counting is shared by every instance, and a race is a retry.
// Prefixes that no longer matter are dropped on every write (domain observe), so rows stay small.
import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import {
  CONVERSION_SHARD,
  observe,
  shardOf,
  shardsOf,
  touchedPrefixes,
  trimShard,
  type ConversionState,
  type Observation,
  type PrefixState,
  type PumpingPolicy,
  type Suspicion,
  type WatchState,
} from '../../domain/fraudWatch.js';
import type { FraudWatchStore } from '../../ports/guard.js';
import { storageCall } from '../outage.js';
import { escapeKey } from './keys.js';
import type { ClientFor } from './tableClients.js';

type Row = Record<string, unknown>;

interface KnownRow {
  etag: string;
  /** Prefix states of a shard row, or the conversion state of the country's row. */
  state: Record<string, PrefixState> | ConversionState;
}

const MAX_ROUNDS = 30;
/** Rows remembered per instance (a few hundred bytes each). */
const MAX_KNOWN = 2000;

const statusOf = (error: unknown) => (error as { statusCode?: number })?.statusCode;

export class TableFraudWatchStore implements FraudWatchStore {
  private readonly known = new Map<string, KnownRow>();
  /** Per country: this instance's write now running, so its own writes take turns instead of racing. */
  private readonly turns = new Map<string, Promise<unknown>>();

  constructor(
    private readonly client: ClientFor,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async observe(policy: PumpingPolicy, country: string, observations: readonly Observation[], now: Date): Promise<Suspicion[]> {
    if (observations.length === 0) return [];
    const pk = escapeKey(country);
    const previous = this.turns.get(pk) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(() => this.observeNow(policy, pk, observations, now));
    this.turns.set(pk, mine);
    try {
      return await mine;
    } finally {
      if (this.turns.get(pk) === mine) this.turns.delete(pk);
    }
  }

  private async observeNow(
    policy: PumpingPolicy,
    pk: string,
    observations: readonly Observation[],
    now: Date,
  ): Promise<Suspicion[]> {
    const client = await this.client('fraudWatch');
    const rowKeys = shardsOf(observations);
    for (let round = 1; ; round++) {
      const rows = await Promise.all(
        rowKeys.map(
          async (rowKey) => [rowKey, this.known.get(`${pk}/${rowKey}`) ?? (await this.read(client, pk, rowKey))] as const,
        ),
      );
      const state: WatchState = { prefixes: {} };
      for (const [rowKey, row] of rows) {
        if (!row) continue;
        if (rowKey === CONVERSION_SHARD) state.conversions = row.state as ConversionState;
        else Object.assign(state.prefixes, row.state);
      }
      const result = observe(policy, state, observations, now.getTime());
      const byRow = new Map<string, KnownRow['state']>(rowKeys.filter((k) => k !== CONVERSION_SHARD).map((k) => [k, {}]));
      for (const [prefix, s] of Object.entries(result.state.prefixes)) {
        const shard = byRow.get(shardOf(prefix)) as Record<string, PrefixState> | undefined;
        if (shard) shard[prefix] = s;
      }
      if (rowKeys.includes(CONVERSION_SHARD))
        byRow.set(CONVERSION_SHARD, result.state.conversions ?? [now.getTime(), 0, 0, 0, 0]);
      const stored = new Map(rows);
      // A row is one string property of at most 64 KiB: traffic spread over many prefixes keeps the busiest.
      const touched = touchedPrefixes(observations);
      for (const [rowKey, s] of byRow)
        if (rowKey !== CONVERSION_SHARD) byRow.set(rowKey, trimShard(policy, s as Record<string, PrefixState>, now.getTime(), touched));
      const actions = [...byRow].map(([rowKey, s]): TransactionAction => {
        const entity = { partitionKey: pk, rowKey, state: JSON.stringify(s) };
        const before = stored.get(rowKey);
        return before ? ['update', entity, 'Replace', { etag: before.etag }] : ['create', entity];
      });
      try {
        const response = await storageCall('record traffic', () => client.submitTransaction(actions));
        [...byRow].forEach(([rowKey, s], i) => {
          const etag = response.subResponses[i]?.etag;
          if (etag) this.remember(`${pk}/${rowKey}`, { etag, state: s });
          else this.known.delete(`${pk}/${rowKey}`);
        });
        return result.suspicions;
      } catch (error) {
        for (const rowKey of rowKeys) this.known.delete(`${pk}/${rowKey}`);
        const status = statusOf(error);
        // Another instance wrote (or created) a row since: read again and count again.
        if ((status !== 409 && status !== 412) || round >= MAX_ROUNDS) throw error;
        if (round > 1) await this.sleep(5 + Math.random() * Math.min(300, 15 * round));
      }
    }
  }

  private remember(key: string, row: KnownRow): void {
    this.known.delete(key);
    this.known.set(key, row);
    if (this.known.size > MAX_KNOWN) this.known.delete(this.known.keys().next().value!);
  }

  private async read(client: TableClient, pk: string, rowKey: string): Promise<KnownRow | undefined> {
    const entity = await storageCall('read traffic', async () => {
      try {
        return await client.getEntity<Row>(pk, rowKey);
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
    if (!entity) return undefined;
    return { etag: (entity as TableEntityResult<Row>).etag, state: parseState(entity.state) };
  }
}

function parseState(text: unknown): KnownRow['state'] {
  try {
    const value = JSON.parse(String(text)) as unknown;
    return typeof value === 'object' && value !== null ? (value as KnownRow['state']) : {};
  } catch {
    return {};
  }
}
