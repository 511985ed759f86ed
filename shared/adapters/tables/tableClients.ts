// Table Storage clients for the configured account (connection string locally, managed identity
// in Azure), created on first use so loading the function app does not load the SDK.
import type { TableClient } from '@azure/data-tables';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { Config } from '../../config.js';
import { TABLES, type TableName } from '../../resourceNames.js';
import { DependencyUnavailableError, type DeadLetterStore, type MessageStore, type RateLimiter } from '../../ports.js';
import { TableMessageStore } from './messageStore.js';
import { TableOptOutStore } from './optOutStore.js';
import { TableDeadLetterStore } from './deadLetterStore.js';
import { TableRateLimiter } from './rateLimiter.js';
import { TableDeliveryTracker } from './deliveryTracker.js';
import { TableConsentLog } from './consentLog.js';
import { TableConversationStore } from './conversationStore.js';

export type ClientFor = (table: TableName) => Promise<TableClient>;

export interface TableClientOptions {
  /** Extra pipeline policies (e.g. the benchmark's request counter). */
  policies?: PipelinePolicy[];
}

export function createTableClientFactory(storage: Config['storage'], options: TableClientOptions = {}): ClientFor {
  const clients = new Map<string, Promise<TableClient>>();
  return (table) => {
    let client = clients.get(table);
    if (!client) {
      client = (async () => {
        const { TableClient } = await import('@azure/data-tables');
        const common = {
          // An outage should be reported in seconds, not after minutes of SDK retries.
          retryOptions: { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000 },
          additionalPolicies: (options.policies ?? []).map((policy) => ({ policy, position: 'perCall' as const })),
        };
        if (storage.kind === 'connectionString') {
          const insecure = /UseDevelopmentStorage=true|DefaultEndpointsProtocol=http;|Endpoint=http:\/\//i.test(storage.connectionString);
          return TableClient.fromConnectionString(storage.connectionString, table, { ...common, allowInsecureConnection: insecure });
        }
        const { DefaultAzureCredential } = await import('@azure/identity');
        const credential = new DefaultAzureCredential(storage.clientId ? { managedIdentityClientId: storage.clientId } : {});
        return new TableClient(storage.tableUrl, table, credential, common);
      })();
      clients.set(table, client);
    }
    return client;
  };
}

/** True for failures that mean "storage cannot be reached", as opposed to a refused request. */
export function isUnavailable(error: unknown): boolean {
  const e = error as { statusCode?: number; code?: string; name?: string };
  if (typeof e?.statusCode === 'number') return e.statusCode >= 500 || e.statusCode === 408;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(e?.code ?? '') || e?.name === 'AbortError' || e?.code === 'REQUEST_SEND_ERROR';
}

/** Runs a storage call, reporting an unreachable account as DependencyUnavailableError. */
export async function storageCall<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isUnavailable(error)) throw new DependencyUnavailableError('storage', `${what}: ${(error as Error).message}`, { cause: error });
    throw error;
  }
}

export interface TableAdapters {
  messages: MessageStore & TableMessageStore;
  optOuts: TableOptOutStore;
  deadLetters: DeadLetterStore;
  rateLimiter: RateLimiter;
  tracker: TableDeliveryTracker;
  consentLog: TableConsentLog;
  conversations: TableConversationStore;
  clientFor: ClientFor;
  ensureTables(): Promise<void>;
}

export function createTableAdapters(storage: Config['storage'], options: TableClientOptions = {}): TableAdapters {
  const clientFor = createTableClientFactory(storage, options);
  return {
    messages: new TableMessageStore(clientFor),
    optOuts: new TableOptOutStore(clientFor),
    deadLetters: new TableDeadLetterStore(clientFor),
    rateLimiter: new TableRateLimiter(clientFor),
    tracker: new TableDeliveryTracker(clientFor as (t: 'deliveryTracking' | 'parkedReports') => Promise<TableClient>),
    consentLog: new TableConsentLog(clientFor),
    conversations: new TableConversationStore(clientFor),
    clientFor,
    async ensureTables() {
      await Promise.all(
        Object.values(TABLES).map(async (name) => {
          const client = await clientFor(name);
          await storageCall(`create table ${name}`, () => client.createTable());
        }),
      );
    },
  };
}
