// Table Storage clients for the configured account (connection string locally, managed identity
// in Azure), created on first use so loading the function app does not load the SDK.
import type { TableClient } from '@azure/data-tables';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { Config } from '../../config.js';
import type { TableName } from '../../resourceNames.js';

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
          const insecure = /UseDevelopmentStorage=true|DefaultEndpointsProtocol=http;|Endpoint=http:\/\//i.test(
            storage.connectionString,
          );
          return TableClient.fromConnectionString(storage.connectionString, table, {
            ...common,
            allowInsecureConnection: insecure,
          });
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
