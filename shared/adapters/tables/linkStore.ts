// Tracked links in Table Storage (table "links"): PartitionKey = the code, RowKey "link" — so the
// redirect is one point read — with the link's visits on the same entity (erasing the link erases
// its clicks). Beside them: "~key"/"codes", the deployment's code key (random, written once by the
// first caller), and "m|<message id>"/"clicked", a message's first human click, inserted once.
import { randomBytes } from 'node:crypto';
import type { TableEntityResult } from '@azure/data-tables';
import type { LinkVisits, TrackedLink } from '../../domain/links.js';
import { forEachLimited } from '../../lib/concurrency.js';
import { ConcurrencyError } from '../../ports/errors.js';
import type { LinkStore, StoredLink } from '../../ports/links.js';
import { storageCall } from '../outage.js';
import { escapeKey } from './keys.js';
import type { ClientFor } from './tableClients.js';

const LINK = 'link';
const KEY_PARTITION = '~key';
const KEY_ROW = 'codes';
/** Parallel writes of one submit's links (each its own partition, so no transaction can hold two). */
const WRITE_CONCURRENCY = 16;

type Row = {
  url: string;
  target: string;
  messageId: string;
  batchId: string;
  idx: number;
  round: number;
  sender: string;
  app?: string;
  tag?: string;
  template?: string;
  reference?: string;
  sentAt: string;
  expiresAt: string;
  clicks: number;
  previews: number;
  firstClickAt?: string;
  lastVisitAt?: string;
};

const statusOf = (error: unknown) => (error as { statusCode?: number })?.statusCode;
const claimKey = (messageId: string) => `m|${escapeKey(messageId)}`;

function rowOf(link: TrackedLink): Row {
  return {
    url: link.url,
    target: link.target,
    messageId: link.messageId,
    batchId: link.batchId,
    idx: link.index,
    round: link.round,
    sender: link.from,
    ...(link.app ? { app: link.app } : {}),
    ...(link.tag ? { tag: link.tag } : {}),
    ...(link.template ? { template: link.template } : {}),
    ...(link.reference ? { reference: link.reference } : {}),
    sentAt: link.sentAt,
    expiresAt: link.expiresAt,
    clicks: 0,
    previews: 0,
  };
}

function storedOf(code: string, e: TableEntityResult<Row>): StoredLink {
  return {
    link: {
      code,
      url: e.url,
      target: e.target,
      messageId: e.messageId,
      batchId: e.batchId,
      index: e.idx,
      round: e.round,
      from: e.sender,
      ...(e.app ? { app: e.app } : {}),
      ...(e.tag ? { tag: e.tag } : {}),
      ...(e.template ? { template: e.template } : {}),
      ...(e.reference ? { reference: e.reference } : {}),
      sentAt: e.sentAt,
      expiresAt: e.expiresAt,
    },
    visits: {
      clicks: e.clicks ?? 0,
      previews: e.previews ?? 0,
      ...(e.firstClickAt ? { firstClickAt: e.firstClickAt } : {}),
      ...(e.lastVisitAt ? { lastVisitAt: e.lastVisitAt } : {}),
    },
    etag: e.etag,
  };
}

export class TableLinkStore implements LinkStore {
  private key: Promise<Uint8Array> | undefined;

  constructor(private readonly client: ClientFor) {}

  codeKey(): Promise<Uint8Array> {
    // Kept for the life of the process once read: the key never changes.
    this.key ??= this.readOrCreateKey().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }

  private async readOrCreateKey(): Promise<Uint8Array> {
    const client = await this.client('links');
    return storageCall('read link code key', async () => {
      try {
        const e = await client.getEntity<{ key: string }>(KEY_PARTITION, KEY_ROW);
        return Buffer.from(e.key, 'base64');
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
      try {
        const key = randomBytes(32);
        await client.createEntity({ partitionKey: KEY_PARTITION, rowKey: KEY_ROW, key: key.toString('base64') });
        return key;
      } catch (error) {
        // Another instance made it first: theirs is the key.
        if (statusOf(error) !== 409) throw error;
        const e = await client.getEntity<{ key: string }>(KEY_PARTITION, KEY_ROW);
        return Buffer.from(e.key, 'base64');
      }
    });
  }

  async save(links: readonly TrackedLink[]): Promise<TrackedLink[]> {
    const client = await this.client('links');
    const taken: TrackedLink[] = [];
    await forEachLimited(links, WRITE_CONCURRENCY, (link) =>
      storageCall('store link', async () => {
        try {
          await client.createEntity({ partitionKey: link.code, rowKey: LINK, ...rowOf(link) });
        } catch (error) {
          if (statusOf(error) !== 409) throw error;
          const existing = await client.getEntity<Row>(link.code, LINK);
          // The same message's link at the same place: stored by an earlier attempt of this batch.
          if (existing.messageId !== link.messageId || existing.idx !== link.index) taken.push(link);
        }
      }),
    );
    return taken;
  }

  async get(code: string): Promise<StoredLink | undefined> {
    const client = await this.client('links');
    return storageCall('read link', async () => {
      try {
        return storedOf(code, await client.getEntity<Row>(code, LINK));
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async saveVisits(code: string, visits: LinkVisits, etag: string): Promise<void> {
    const client = await this.client('links');
    await storageCall('record link visit', async () => {
      try {
        await client.updateEntity(
          {
            partitionKey: code,
            rowKey: LINK,
            clicks: visits.clicks,
            previews: visits.previews,
            ...(visits.firstClickAt ? { firstClickAt: visits.firstClickAt } : {}),
            ...(visits.lastVisitAt ? { lastVisitAt: visits.lastVisitAt } : {}),
          },
          'Merge',
          { etag },
        );
      } catch (error) {
        const status = statusOf(error);
        if (status === 412 || status === 404) throw new ConcurrencyError('the link changed meanwhile');
        throw error;
      }
    });
  }

  async claimFirstClick(messageId: string, at: string): Promise<boolean> {
    const client = await this.client('links');
    return storageCall('mark message clicked', async () => {
      try {
        await client.createEntity({ partitionKey: claimKey(messageId), rowKey: 'clicked', at });
        return true;
      } catch (error) {
        if (statusOf(error) === 409) return false;
        throw error;
      }
    });
  }

  async erase(codes: readonly string[], messageIds: readonly string[]): Promise<void> {
    const client = await this.client('links');
    const keys = [...codes.map((c) => [c, LINK] as const), ...messageIds.map((m) => [claimKey(m), 'clicked'] as const)];
    await forEachLimited(keys, WRITE_CONCURRENCY, ([pk, rk]) =>
      storageCall('erase link', async () => {
        try {
          await client.deleteEntity(pk, rk);
        } catch (error) {
          if (statusOf(error) !== 404) throw error;
        }
      }),
    );
  }
}
