// The pause switch and fraud holds in Table Storage (table "sendingControls"): partition "pause",
// one entity per paused scope; partition "hold", one entity per hold id (a prefix or a country),
// kept after release so a release's exemption and history survive. Every send job looks at them
// right before its hand-over, so an instance reads both partitions in one query and keeps the
// answer for the few hundred milliseconds the caller allows: one read per instance per interval,
// however many jobs it runs.
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import {
  CANCELING_HOLDS_FOR_MS,
  mayPlaceOver,
  pauseKey,
  type ControlsSnapshot,
  type Hold,
  type Pause,
  type PauseScope,
} from '../../domain/sendingControls.js';
import { ConcurrencyError } from '../../ports/errors.js';
import type { SendingControlStore } from '../../ports/guard.js';
import { storageCall } from '../outage.js';
import { escapeKey, odataString } from './keys.js';
import type { ClientFor } from './tableClients.js';

type Row = Record<string, unknown>;

const PAUSES = 'pause';
const HOLDS = 'hold';

const statusOf = (error: unknown) => (error as { statusCode?: number })?.statusCode;

function pauseFromEntity(entity: TableEntityResult<Row>): Pause | undefined {
  try {
    const scope = JSON.parse(String(entity.scope)) as PauseScope;
    return {
      scope,
      since: String(entity.since),
      ...(typeof entity.reason === 'string' && entity.reason ? { reason: entity.reason } : {}),
    };
  } catch {
    return undefined;
  }
}

function holdToEntity(hold: Hold): Row & { partitionKey: string; rowKey: string } {
  const { etag: _etag, tags, ...rest } = hold;
  const entity: Row & { partitionKey: string; rowKey: string } = { partitionKey: HOLDS, rowKey: escapeKey(hold.id) };
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) entity[key] = value;
  if (tags) entity.tags = JSON.stringify(tags);
  return entity;
}

function holdFromEntity(entity: TableEntityResult<Row>): Hold {
  const hold: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entity)) {
    if (['partitionKey', 'rowKey', 'etag', 'timestamp', 'odata.metadata'].includes(key)) continue;
    hold[key] = key === 'tags' && typeof value === 'string' ? (JSON.parse(value) as string[]) : value;
  }
  hold.etag = entity.etag;
  return hold as unknown as Hold;
}

export class TableSendingControlStore implements SendingControlStore {
  private cached: { at: number; snapshot: Promise<ControlsSnapshot> } | undefined;

  constructor(
    private readonly client: ClientFor,
    private readonly now: () => number = Date.now,
  ) {}

  private table(): Promise<TableClient> {
    return this.client('sendingControls');
  }

  snapshot(maxAgeMs: number): Promise<ControlsSnapshot> {
    const now = this.now();
    if (this.cached && now - this.cached.at <= maxAgeMs) return this.cached.snapshot;
    const snapshot = this.read(now);
    const entry = { at: now, snapshot };
    this.cached = entry;
    // A failed read is not kept: the next caller tries again.
    snapshot.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return snapshot;
  }

  private async read(now: number): Promise<ControlsSnapshot> {
    const client = await this.table();
    const since = new Date(now - CANCELING_HOLDS_FOR_MS).toISOString();
    const filter =
      `PartitionKey eq '${PAUSES}' or (PartitionKey eq '${HOLDS}' and ` +
      `(state eq 'active' or (heldMessages eq 'cancel' and releasedAt ge ${odataString(since)})))`;
    const pauses: Pause[] = [];
    const holds: Hold[] = [];
    await storageCall('read sending controls', async () => {
      for await (const entity of client.listEntities<Row>({ queryOptions: { filter } })) {
        if (entity.partitionKey === PAUSES) {
          const pause = pauseFromEntity(entity);
          if (pause) pauses.push(pause);
        } else {
          holds.push(holdFromEntity(entity));
        }
      }
    });
    return { pauses, holds, readAt: now };
  }

  async setPause(scope: PauseScope, pause: Pause | undefined): Promise<Pause | undefined> {
    const client = await this.table();
    const rowKey = escapeKey(pauseKey(scope));
    const previous = await storageCall('read pause', async () => {
      try {
        return pauseFromEntity(await client.getEntity<Row>(PAUSES, rowKey));
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
    await storageCall(pause ? 'pause sending' : 'resume sending', async () => {
      if (pause) {
        // A pause already in force keeps its time: pausing twice is one pause.
        const kept = previous ?? pause;
        await client.upsertEntity(
          {
            partitionKey: PAUSES,
            rowKey,
            scope: JSON.stringify(scope),
            since: kept.since,
            reason: pause.reason ?? kept.reason ?? '',
          },
          'Replace',
        );
      } else {
        try {
          await client.deleteEntity(PAUSES, rowKey);
        } catch (error) {
          if (statusOf(error) !== 404) throw error;
        }
      }
    });
    this.cached = undefined;
    return previous;
  }

  async placeHold(hold: Hold, now: Date): Promise<{ placed: boolean; hold: Hold }> {
    const client = await this.table();
    for (let round = 1; ; round++) {
      const outcome = await storageCall('place hold', async () => {
        try {
          const created = await client.createEntity(holdToEntity(hold));
          return { placed: true, hold: { ...hold, ...(created.etag ? { etag: created.etag } : {}) } };
        } catch (error) {
          if (statusOf(error) !== 409) throw error;
        }
        const existing = await this.getHold(hold.id);
        if (!existing) return undefined; // removed meanwhile: try again
        if (!mayPlaceOver(existing, now)) return { placed: false, hold: existing };
        try {
          const written = await client.updateEntity(holdToEntity(hold), 'Replace', { etag: existing.etag! });
          return { placed: true, hold: { ...hold, ...(written.etag ? { etag: written.etag } : {}) } };
        } catch (error) {
          if (statusOf(error) !== 412 && statusOf(error) !== 404) throw error;
          return undefined;
        }
      });
      if (outcome) {
        if (outcome.placed) this.cached = undefined;
        return outcome;
      }
      if (round >= 10) throw new Error(`could not place hold ${hold.id}: too much contention`);
    }
  }

  async getHold(id: string): Promise<Hold | undefined> {
    const client = await this.table();
    return storageCall('read hold', async () => {
      try {
        return holdFromEntity(await client.getEntity<Row>(HOLDS, escapeKey(id)));
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async listHolds(options: { state?: 'active' | 'released'; limit: number }): Promise<Hold[]> {
    const client = await this.table();
    const filter = `PartitionKey eq '${HOLDS}'${options.state ? ` and state eq ${odataString(options.state)}` : ''}`;
    const holds: Hold[] = [];
    await storageCall('list holds', async () => {
      for await (const entity of client.listEntities<Row>({ queryOptions: { filter } })) holds.push(holdFromEntity(entity));
    });
    return holds.sort((a, b) => b.placedAt.localeCompare(a.placedAt) || a.id.localeCompare(b.id)).slice(0, options.limit);
  }

  async saveHold(hold: Hold): Promise<void> {
    const client = await this.table();
    await storageCall('save hold', async () => {
      try {
        await client.updateEntity(holdToEntity(hold), 'Replace', { etag: hold.etag ?? '*' });
      } catch (error) {
        if (statusOf(error) === 412 || statusOf(error) === 404) throw new ConcurrencyError();
        throw error;
      }
    });
    this.cached = undefined;
  }
}
