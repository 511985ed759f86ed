// Submissions in Table Storage (table "submissions"): PartitionKey = batch id, one entity each, the
// submission as gzip-compressed JSON (compressedText.ts: up to ~900 KiB compressed, far more than
// a 1,000-recipient request needs). A submission lives from its request's point of no return until
// its records and send jobs are written — seconds — so the table stays nearly empty and the
// recovery timer's query for unfinished ones reads little.
import type { TableEntityResult } from '@azure/data-tables';
import type { Submission } from '../../domain/submission.js';
import type { SubmissionStore } from '../../ports/submissions.js';
import { storageCall } from '../outage.js';
import { compressedProperties, readCompressed } from './compressedText.js';
import { escapeKey, odataString } from './keys.js';
import type { ClientFor } from './tableClients.js';

const ROW_KEY = 'submission';

type Row = { acceptedAt: string } & Record<string, unknown>;

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number })?.statusCode;
}

async function fromEntity(entity: TableEntityResult<Row>): Promise<Submission | undefined> {
  const text = await readCompressed(entity, 'plan');
  if (typeof text !== 'string') return undefined;
  return JSON.parse(text) as Submission;
}

export class TableSubmissionStore implements SubmissionStore {
  constructor(private readonly client: ClientFor) {}

  async create(submission: Submission): Promise<Submission> {
    const client = await this.client('submissions');
    const entity = {
      partitionKey: escapeKey(submission.batchId),
      rowKey: ROW_KEY,
      acceptedAt: submission.acceptedAt,
      ...(await compressedProperties('plan', JSON.stringify(submission), 'submission')),
    };
    return storageCall('store submission', async () => {
      try {
        await client.createEntity(entity);
        return submission;
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
        // Another attempt of the same request came first: its submission is the batch.
        const existing = await fromEntity(await client.getEntity<Row>(entity.partitionKey, ROW_KEY));
        if (!existing) throw new Error(`the stored submission of batch ${submission.batchId} cannot be read`, { cause: error });
        return existing;
      }
    });
  }

  async get(batchId: string): Promise<Submission | undefined> {
    const client = await this.client('submissions');
    return storageCall('read submission', async () => {
      try {
        return await fromEntity(await client.getEntity<Row>(escapeKey(batchId), ROW_KEY));
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async remove(batchId: string): Promise<void> {
    const client = await this.client('submissions');
    await storageCall('remove submission', async () => {
      try {
        await client.deleteEntity(escapeKey(batchId), ROW_KEY);
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
    });
  }

  async unfinished(before: Date, limit: number): Promise<Submission[]> {
    const client = await this.client('submissions');
    const filter = `acceptedAt lt ${odataString(before.toISOString())}`;
    return storageCall('list unfinished submissions', async () => {
      const out: Submission[] = [];
      for await (const entity of client.listEntities<Row>({ queryOptions: { filter } })) {
        const submission = await fromEntity(entity);
        if (submission) out.push(submission);
        if (out.length >= limit) break;
      }
      return out.sort((a, b) => a.acceptedAt.localeCompare(b.acceptedAt));
    });
  }
}
