// Dead-lettered send jobs, newest first, with the reason; kept until replayed or discarded.
import { randomBytes } from 'node:crypto';
import type { DeadLetter } from '../../domain/deadLetter.js';
import type { DeadLetterStore } from '../../ports/deadLetters.js';
import { storageCall } from '../outage.js';
import type { ClientFor } from './tableClients.js';

const PARTITION = 'deadletter';
/** A send job is at most ~20 KB; anything larger than a string property holds is cut, and says so. */
const MAX_BODY = 60 * 1024;

export class TableDeadLetterStore implements DeadLetterStore {
  constructor(private readonly client: ClientFor) {}

  async add(letter: Omit<DeadLetter, 'id' | 'at'>): Promise<DeadLetter> {
    const now = Date.now();
    // Inverted time first, so the newest letter comes first in key order.
    const id = `${String(9_999_999_999_999 - now).padStart(13, '0')}-${randomBytes(3).toString('hex')}`;
    const body =
      letter.body.length > MAX_BODY
        ? `${letter.body.slice(0, MAX_BODY)}…[truncated from ${letter.body.length} characters]`
        : letter.body;
    const full: DeadLetter = { ...letter, body, id, at: new Date(now).toISOString() };
    const client = await this.client('deadLetters');
    await storageCall('add dead letter', () =>
      client.createEntity({
        partitionKey: PARTITION,
        rowKey: id,
        ...Object.fromEntries(Object.entries(full).filter(([k, v]) => k !== 'id' && v !== undefined)),
      }),
    );
    return full;
  }

  async list(options: { limit?: number } = {}): Promise<DeadLetter[]> {
    const client = await this.client('deadLetters');
    const out: DeadLetter[] = [];
    const limit = options.limit ?? 100;
    await storageCall('list dead letters', async () => {
      for await (const e of client.listEntities<Omit<DeadLetter, 'id'>>({
        queryOptions: { filter: `PartitionKey eq '${PARTITION}'` },
      })) {
        out.push({
          id: e.rowKey!,
          at: e.at,
          reason: e.reason,
          body: e.body,
          ...(e.jobId ? { jobId: e.jobId } : {}),
          ...(e.batchId ? { batchId: e.batchId } : {}),
        });
        if (out.length >= limit) break;
      }
    });
    return out;
  }

  async remove(id: string): Promise<void> {
    const client = await this.client('deadLetters');
    await storageCall('remove dead letter', async () => {
      try {
        await client.deleteEntity(PARTITION, id);
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      }
    });
  }
}
