// The pumping watch in Table Storage (table "fraudWatch"): one partition per destination country,
// its prefixes spread over WATCH_SHARDS rows (a JSON map of prefix → recent traffic) and one row for
// the country's OTP conversions. A request's observations of a country are one entity group
// transaction over the rows they touch, conditional on the etags read (or last written by this
// instance, which then needs no read): counting is shared by every instance, and a race is a retry.
// An instance writes a country's rows one write at a time; the requests that arrive meanwhile are
// written together in the next one, so a busy country costs a write per round trip, not per request.
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

/** A request's observations waiting for their country's write. */
interface Waiting {
  policy: PumpingPolicy;
  observations: readonly Observation[];
  now: Date;
  resolve: (suspicions: Suspicion[]) => void;
  reject: (error: unknown) => void;
}

/** Most requests written together: their rows are a country's at most 17 whatever their number. */
const MAX_GROUP = 100;

/** Takes the next group off `waiting` (in place): the first one's policy, at most MAX_GROUP. */
function takeGroup(waiting: Waiting[]): Waiting[] {
  let n = 1;
  while (n < waiting.length && n < MAX_GROUP && waiting[n]!.policy === waiting[0]!.policy) n++;
  return waiting.splice(0, n);
}

/** Whether a suspicion found in a group's write concerns one request of it: a prefix it reached, or its OTPs. */
function concerns(suspicion: Suspicion, observations: readonly Observation[]): boolean {
  return observations.some((o) => o.kind === 'sent' && (suspicion.rule === 'burst' ? o.prefix === suspicion.prefix : o.otp > 0));
}

export class TableFraudWatchStore implements FraudWatchStore {
  private readonly known = new Map<string, KnownRow>();
  /**
   * Per country: the observations waiting while this instance's write for that country runs. Its
   * own writes never race each other; the requests that arrive meanwhile go together in the next
   * write (one transaction), so a busy country costs one write per round trip, not per request.
   */
  private readonly groups = new Map<string, Waiting[]>();

  constructor(
    private readonly client: ClientFor,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  observe(policy: PumpingPolicy, country: string, observations: readonly Observation[], now: Date): Promise<Suspicion[]> {
    if (observations.length === 0) return Promise.resolve([]);
    const pk = escapeKey(country);
    return new Promise<Suspicion[]>((resolve, reject) => {
      const waiting = this.groups.get(pk);
      const item = { policy, observations, now, resolve, reject };
      if (waiting) waiting.push(item);
      else {
        this.groups.set(pk, [item]);
        void this.drain(pk);
      }
    });
  }

  /** Writes a country's waiting observations, a group at a time, until none wait. */
  private async drain(pk: string): Promise<void> {
    for (;;) {
      const waiting = this.groups.get(pk)!;
      if (waiting.length === 0) {
        this.groups.delete(pk);
        return;
      }
      // One policy per write (in practice there is one); at most MAX_GROUP requests.
      const group = takeGroup(waiting);
      const all = group.flatMap((w) => w.observations);
      const now = new Date(Math.max(...group.map((w) => w.now.getTime())));
      try {
        const suspicions = await this.observeNow(group[0]!.policy, pk, all, now);
        for (const w of group) w.resolve(suspicions.filter((s) => concerns(s, w.observations)));
      } catch (error) {
        for (const w of group) w.reject(error);
      }
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
        if (rowKey !== CONVERSION_SHARD)
          byRow.set(rowKey, trimShard(policy, s as Record<string, PrefixState>, now.getTime(), touched));
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
