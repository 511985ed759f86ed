// Storage queue clients for the adapters here: one service client per storage setting, the SDK
// (and @azure/identity for managed identity) imported on first use so cold starts do not pay for
// them. A queue call's outage is reported by queueCall (shared/adapters/outage.ts).
import type { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import type { Config } from '../../config.js';

const services = new WeakMap<Config['storage'], Promise<QueueServiceClient>>();

function queueService(storage: Config['storage']): Promise<QueueServiceClient> {
  let service = services.get(storage);
  if (!service) {
    service = (async () => {
      const { QueueServiceClient } = await import('@azure/storage-queue');
      const options = { retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 1000 } };
      if (storage.kind === 'connectionString') return QueueServiceClient.fromConnectionString(storage.connectionString, options);
      const { DefaultAzureCredential } = await import('@azure/identity');
      const credential = new DefaultAzureCredential(storage.clientId ? { managedIdentityClientId: storage.clientId } : {});
      return new QueueServiceClient(storage.queueUrl, credential, options);
    })();
    services.set(storage, service);
  }
  return service;
}

/** The client of one queue of the pipeline's storage account. */
export async function queueClient(storage: Config['storage'], name: string): Promise<QueueClient> {
  return (await queueService(storage)).getQueueClient(name);
}
