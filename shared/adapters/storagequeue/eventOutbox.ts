// The event outbox on a Storage queue: events are kept here, durably and cheaply, the moment the
// change behind them is stored; the dispatchEvents function delivers them later and retries.
// One queue message carries as many events as fit (Storage queue messages hold 64 KiB).
import type { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import type { Config } from '../../config.js';
import type { PipelineEvent } from '../../domain/events.js';
import { encodeOutboxMessages, type OutboxMessage } from '../../domain/outbox.js';
import { DependencyUnavailableError, type EventOutbox } from '../../ports.js';
import { isUnavailable } from '../tables/tableClients.js';

const MAX_VISIBILITY_SECONDS = 7 * 24 * 3600 - 60;

export class StorageEventOutbox implements EventOutbox {
  private service?: Promise<QueueServiceClient>;

  constructor(
    private readonly storage: Config['storage'],
    readonly queueName: string,
  ) {}

  private async queue(name: string): Promise<QueueClient> {
    this.service ??= (async () => {
      const { QueueServiceClient } = await import('@azure/storage-queue');
      const options = { retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 1000 } };
      if (this.storage.kind === 'connectionString') return QueueServiceClient.fromConnectionString(this.storage.connectionString, options);
      const { DefaultAzureCredential } = await import('@azure/identity');
      const credential = new DefaultAzureCredential(this.storage.clientId ? { managedIdentityClientId: this.storage.clientId } : {});
      return new QueueServiceClient(this.storage.queueUrl, credential, options);
    })();
    return (await this.service).getQueueClient(name);
  }

  async publish(events: readonly PipelineEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.enqueue({ v: 1, events: [...events] });
  }

  async enqueue(message: OutboxMessage, delayMs = 0): Promise<void> {
    const visibilityTimeout = Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
    await this.send(this.queueName, message, visibilityTimeout);
  }

  async poison(message: OutboxMessage): Promise<void> {
    await this.send(`${this.queueName}-poison`, message, 0, true);
  }

  async ensureQueue(): Promise<void> {
    const queue = await this.queue(this.queueName);
    await guard('create events queue', () => queue.createIfNotExists());
  }

  private async send(name: string, message: OutboxMessage, visibilityTimeout: number, create = false): Promise<void> {
    const queue = await this.queue(name);
    if (create) await guard('create poison queue', () => queue.createIfNotExists());
    for (const text of encodeOutboxMessages(message)) {
      await guard('enqueue events', () =>
        queue.sendMessage(Buffer.from(text, 'utf8').toString('base64'), {
          messageTimeToLive: -1,
          ...(visibilityTimeout > 0 ? { visibilityTimeout } : {}),
        }),
      );
    }
  }
}

async function guard<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isUnavailable(error)) throw new DependencyUnavailableError('queue', `${what}: ${(error as Error).message}`, { cause: error });
    throw error;
  }
}
