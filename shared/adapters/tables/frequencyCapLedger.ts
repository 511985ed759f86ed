// Frequency-cap counts in Table Storage (table "frequencyCaps"): one entity per recipient and
// category (PartitionKey the number, RowKey the category) holding the ids of the messages counted
// per day and per week (domain countMessage). Like the budget ledger (budgetLedger.ts), a count is
// read, decided and written back conditionally on the etag it was read with (or inserted, which
// fails when another instance inserted first), and decided again after a 412 or 409: two instances
// counting at once cannot both take the last message a cap allows.
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import {
  countMessage,
  uncountMessage,
  type CapCount,
  type CapRequest,
  type CapVerdict,
  type FrequencyCaps,
} from '../../domain/frequencyCap.js';
import { forEachLimited } from '../../lib/concurrency.js';
import type { FrequencyCapLedger } from '../../ports/sendRules.js';
import { storageCall } from '../outage.js';
import type { ClientFor } from './tableClients.js';

type Row = Record<string, unknown>;

const MAX_ROUNDS = 40;
/** Recipients counted at once by one request. */
const PARALLEL = 16;

const statusOf = (error: unknown) => (error as { statusCode?: number })?.statusCode;

interface Stored {
  count: CapCount;
  etag: string;
}

function storedOf(entity: TableEntityResult<Row>): Stored {
  return {
    count: {
      days: JSON.parse(String(entity.days ?? '{}')) as CapCount['days'],
      weeks: JSON.parse(String(entity.weeks ?? '{}')) as CapCount['weeks'],
    },
    etag: entity.etag,
  };
}

export class TableFrequencyCapLedger implements FrequencyCapLedger {
  constructor(
    private readonly client: ClientFor,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  private table(): Promise<TableClient> {
    return this.client('frequencyCaps');
  }

  private async read(client: TableClient, r: CapRequest): Promise<Stored | undefined> {
    return storageCall('read frequency caps', async () => {
      try {
        return storedOf(await client.getEntity<Row>(r.to, r.category));
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  /** Writes `count` back if nobody changed it since `before` was read; false when somebody did. */
  private async write(client: TableClient, r: CapRequest, count: CapCount, before: Stored | undefined): Promise<boolean> {
    const entity = {
      partitionKey: r.to,
      rowKey: r.category,
      days: JSON.stringify(count.days),
      weeks: JSON.stringify(count.weeks),
    };
    try {
      await storageCall('count frequency caps', () =>
        before ? client.updateEntity(entity, 'Replace', { etag: before.etag }) : client.createEntity(entity),
      );
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 409 || status === 412 || status === 404) return false;
      throw error;
    }
  }

  async count(caps: FrequencyCaps, requests: readonly CapRequest[], today: string): Promise<Map<string, CapVerdict>> {
    const client = await this.table();
    const verdicts = new Map<string, CapVerdict>();
    // A request has one message per number; several for one number (other requests' retries) go one after another.
    const byRecipient = new Map<string, CapRequest[]>();
    for (const r of requests) {
      if (!caps.has(r.category)) verdicts.set(r.messageId, { allowed: true });
      else byRecipient.set(`${r.to}|${r.category}`, [...(byRecipient.get(`${r.to}|${r.category}`) ?? []), r]);
    }
    await forEachLimited([...byRecipient.values()], PARALLEL, async (mine) => {
      for (const r of mine) verdicts.set(r.messageId, await this.countOne(client, caps.get(r.category)!, r, today));
    });
    return verdicts;
  }

  private async countOne(
    client: TableClient,
    limits: NonNullable<ReturnType<FrequencyCaps['get']>>,
    r: CapRequest,
    today: string,
  ): Promise<CapVerdict> {
    for (let round = 1; ; round++) {
      const before = await this.read(client, r);
      const decided = countMessage(limits, before?.count, r, today);
      if (!decided.count || (await this.write(client, r, decided.count, before))) return decided.verdict;
      if (round >= MAX_ROUNDS) throw new Error('could not count a frequency cap: too much contention');
      if (round > 1) await this.sleep(5 + Math.random() * Math.min(400, 15 * round));
    }
  }

  async release(requests: readonly CapRequest[]): Promise<void> {
    const client = await this.table();
    await forEachLimited(requests, PARALLEL, async (r) => {
      for (let round = 1; round <= MAX_ROUNDS; round++) {
        const before = await this.read(client, r);
        const after = before && uncountMessage(before.count, r.messageId);
        if (!after || (await this.write(client, r, after, before))) return;
        await this.sleep(5 + Math.random() * Math.min(400, 15 * round));
      }
    });
  }
}
