// The shared pacing state per sender number: one entity per number holding its GCRA TAT, updated
// with an ETag-conditional write so every instance of the sender draws from the same bucket.
import type { Sender } from '../../config.js';
import { reserveSlots } from '../../domain/pacing.js';
import type { RateLimiter } from '../../ports.js';
import { escapeKey } from './keys.js';
import { storageCall, type ClientFor } from './tableClients.js';

export class TableRateLimiter implements RateLimiter {
  constructor(private readonly client: ClientFor) {}

  async reserve(sender: Sender, count: number): Promise<Date> {
    const client = await this.client('rateLimits');
    const partitionKey = escapeKey(sender.number);
    const rowKey = 'gcra';
    for (let round = 0; ; round++) {
      const result = await storageCall('reserve pacing slot', async () => {
        let etag: string | undefined;
        let tat: number | undefined;
        try {
          const entity = await client.getEntity<{ tat: number }>(partitionKey, rowKey);
          etag = entity.etag;
          tat = Number(entity.tat);
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode !== 404) throw error;
        }
        const { startMs, newTatMs } = reserveSlots(tat, Date.now(), count, sender);
        try {
          const entity = { partitionKey, rowKey, tat: newTatMs };
          if (etag) await client.updateEntity(entity, 'Replace', { etag });
          else await client.createEntity(entity);
          return new Date(startMs);
        } catch (error) {
          const status = (error as { statusCode?: number }).statusCode;
          if (status === 412 || status === 409) return undefined; // another instance reserved first
          throw error;
        }
      });
      if (result) return result;
      if (round >= 20) throw new Error(`could not reserve a pacing slot for ${sender.number}: too much contention`);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (round + 1)));
    }
  }
}
