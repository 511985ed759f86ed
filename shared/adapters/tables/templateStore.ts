// Templates in Table Storage (table "templates"): one partition per name, holding the head (the
// current template, a deleted flag and the last version number) and one entity per version. A new
// version and the head that points at it are one entity group transaction, conditional on the head's
// etag, so two writers cannot both make version n+1. Contents are gzip-compressed JSON
// (compressedText.ts): a text and 50 variants of 2,048 characters exceed one property's 64 KiB.
import type { TableEntityResult, TransactionAction } from '@azure/data-tables';
import type { Template } from '../../domain/template.js';
import { ConcurrencyError, InvalidContinuationTokenError } from '../../ports/errors.js';
import type { Page, PageRequest } from '../../ports/paging.js';
import type { TemplateHead, TemplateStore } from '../../ports/templates.js';
import { storageCall } from '../outage.js';
import { compressedProperties, readCompressed } from './compressedText.js';
import { decodeContinuation, encodeContinuation, escapeKey, odataString } from './keys.js';
import type { ClientFor } from './tableClients.js';

const HEAD = 'head';
const versionKey = (version: number) => `v${String(version).padStart(10, '0')}`;

type Row = { lastVersion?: number; deleted?: boolean } & Record<string, unknown>;

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number })?.statusCode;
}

async function contentOf(entity: Record<string, unknown>): Promise<Template | undefined> {
  const text = await readCompressed(entity, 'content');
  return typeof text === 'string' ? (JSON.parse(text) as Template) : undefined;
}

export class TableTemplateStore implements TemplateStore {
  constructor(private readonly client: ClientFor) {}

  async head(name: string): Promise<TemplateHead | undefined> {
    const client = await this.client('templates');
    return storageCall('read template', async () => {
      try {
        const entity = await client.getEntity<Row>(escapeKey(name), HEAD);
        const template = entity.deleted ? undefined : await contentOf(entity);
        return { ...(template ? { template } : {}), lastVersion: Number(entity.lastVersion ?? 0), etag: entity.etag };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async version(name: string, version: number): Promise<Template | undefined> {
    const client = await this.client('templates');
    return storageCall('read template version', async () => {
      try {
        return await contentOf(await client.getEntity<Row>(escapeKey(name), versionKey(version)));
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async write(template: Template, etag: string | undefined): Promise<void> {
    const client = await this.client('templates');
    const partitionKey = escapeKey(template.name);
    const content = await compressedProperties('content', JSON.stringify(template), 'template');
    const head = { partitionKey, rowKey: HEAD, lastVersion: template.version, deleted: false, ...content };
    const actions: TransactionAction[] = [
      ['create', { partitionKey, rowKey: versionKey(template.version), ...content }],
      etag ? ['update', head, 'Replace', { etag }] : ['create', head],
    ];
    await storageCall('write template', async () => {
      try {
        await client.submitTransaction(actions);
      } catch (error) {
        const status = statusOf(error);
        if (status === 409 || status === 412 || status === 404) throw new ConcurrencyError('the template changed meanwhile');
        throw error;
      }
    });
  }

  async remove(name: string, head: Pick<TemplateHead, 'etag' | 'lastVersion'>): Promise<void> {
    const client = await this.client('templates');
    const entity = {
      partitionKey: escapeKey(name),
      rowKey: HEAD,
      lastVersion: head.lastVersion,
      deleted: true,
      contentChunks: -1,
    };
    await storageCall('delete template', async () => {
      try {
        await client.updateEntity(entity, 'Replace', { etag: head.etag });
      } catch (error) {
        const status = statusOf(error);
        if (status === 412 || status === 404) throw new ConcurrencyError('the template changed meanwhile');
        throw error;
      }
    });
  }

  /** Name order, with a token of our own (the last name), so a page boundary never depends on the service's paging. */
  async list(options: PageRequest): Promise<Page<Template>> {
    const client = await this.client('templates');
    let after: { p: string } | undefined;
    if (options.continuationToken !== undefined) {
      after = decodeContinuation('templates', options.continuationToken, ['p'] as const);
      if (!after) throw new InvalidContinuationTokenError();
    }
    const clauses = [`RowKey eq '${HEAD}'`, 'deleted eq false'];
    if (after) clauses.push(`PartitionKey gt ${odataString(after.p)}`);
    return storageCall('list templates', async () => {
      const items: Template[] = [];
      let last: TableEntityResult<Row> | undefined;
      for await (const page of client
        .listEntities<Row>({ queryOptions: { filter: clauses.join(' and ') } })
        .byPage({ maxPageSize: Math.min(1000, options.limit + 1) })) {
        for (const entity of page) {
          if (items.length === options.limit)
            return { items, continuationToken: encodeContinuation('templates', { p: last!.partitionKey! }) };
          const template = await contentOf(entity);
          if (template) items.push(template);
          last = entity;
        }
      }
      return { items };
    });
  }
}
