// The shared pacing state per sender number: one entity per number holding its GCRA TAT, updated
// with an ETag-conditional write so every instance of the sender draws from the same bucket.
//
// An instance takes its reservations for one number one at a time (they would otherwise race
// each other for the same ETag), and remembers the entity as it last wrote it. While nobody else
// has written since, the next reservation is one conditional write instead of a read and a write;
// when another instance has, the write fails on the ETag and the reservation reads the entity and
// tries again — so the shortcut can cost a round-trip, never a slot.
import type { Sender } from '../../domain/sender.js';
import { reserveSlots } from '../../domain/pacing.js';
import type { RateLimiter } from '../../ports/pacing.js';
import { escapeKey } from './keys.js';
import { storageCall } from '../outage.js';
import type { ClientFor } from './tableClients.js';

interface KnownState {
  etag: string;
  tat: number;
}

export class TableRateLimiter implements RateLimiter {
  /** Per sender entity: the state this instance wrote last. */
  private readonly known = new Map<string, KnownState>();
  /** Per sender entity: the reservation of this instance now running or waiting last. */
  private readonly turns = new Map<string, Promise<unknown>>();

  constructor(private readonly client: ClientFor) {}

  async reserve(sender: Sender, count: number): Promise<Date> {
    const partitionKey = escapeKey(sender.number);
    const previous = this.turns.get(partitionKey) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(() => this.reserveNow(sender, count, partitionKey));
    this.turns.set(partitionKey, mine);
    try {
      return await mine;
    } finally {
      if (this.turns.get(partitionKey) === mine) this.turns.delete(partitionKey);
    }
  }

  private async reserveNow(sender: Sender, count: number, partitionKey: string): Promise<Date> {
    const client = await this.client('rateLimits');
    const rowKey = 'gcra';
    for (let round = 0; ; round++) {
      const remembered = this.known.get(partitionKey);
      const result = await storageCall('reserve pacing slot', async () => {
        let etag: string | undefined;
        let tat: number | undefined;
        if (remembered) {
          ({ etag, tat } = remembered);
        } else {
          try {
            const entity = await client.getEntity<{ tat: number }>(partitionKey, rowKey);
            etag = entity.etag;
            tat = Number(entity.tat);
          } catch (error) {
            if ((error as { statusCode?: number }).statusCode !== 404) throw error;
          }
        }
        const { startMs, newTatMs } = reserveSlots(tat, Date.now(), count, sender);
        try {
          const entity = { partitionKey, rowKey, tat: newTatMs };
          const written = etag ? await client.updateEntity(entity, 'Replace', { etag }) : await client.createEntity(entity);
          if (written.etag) this.known.set(partitionKey, { etag: written.etag, tat: newTatMs });
          else this.known.delete(partitionKey);
          return new Date(startMs);
        } catch (error) {
          const status = (error as { statusCode?: number }).statusCode;
          // 412/409: another instance reserved first. 404 after a remembered state: the entity was
          // removed. Either way what this instance remembered is stale.
          if (status === 412 || status === 409 || (status === 404 && remembered)) {
            this.known.delete(partitionKey);
            return remembered ? 'stale' : 'contended';
          }
          throw error;
        }
      });
      if (result instanceof Date) return result;
      if (round >= 20) throw new Error(`could not reserve a pacing slot for ${sender.number}: too much contention`);
      // A stale memory is not contention: read and try again at once.
      if (result === 'contended') await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (round + 1)));
    }
  }
}
