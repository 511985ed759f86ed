// Storage queue clients for the adapters here: one service client per storage setting, the SDK
// (and @azure/identity for managed identity) imported on first use so cold starts do not pay for
// them, and the one way a queue call's outage becomes DependencyUnavailableError.
import type { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import type { Config } from '../../config.js';
import { DependencyUnavailableError } from '../../ports.js';
import { isUnavailable } from '../tables/tableClients.js';

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

/** Runs a queue call; an outage (connection refused, timeouts, 5xx) becomes DependencyUnavailableError. */
export async function queueCall<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isUnavailable(error)) throw new DependencyUnavailableError('queue', `${what}: ${(error as Error).message}`, { cause: error });
    throw error;
  }
}
