// The event outbox on a Storage queue: events are kept here, durably and cheaply, the moment the
// change behind them is stored; the dispatchEvents function delivers them later and retries.
// One queue message carries as many events as fit (Storage queue messages hold 64 KiB).
import type { Config } from '../../config.js';
import type { PipelineEvent } from '../../domain/events.js';
import { encodeOutboxMessages, type OutboxMessage } from '../../domain/outbox.js';
import type { EventOutbox } from '../../ports/events.js';
import { queueCall } from '../outage.js';
import { queueClient } from './queueClients.js';

const MAX_VISIBILITY_SECONDS = 7 * 24 * 3600 - 60;

export class StorageEventOutbox implements EventOutbox {
  constructor(
    private readonly storage: Config['storage'],
    readonly queueName: string,
  ) {}

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
    const queue = await queueClient(this.storage, this.queueName);
    await queueCall('create events queue', () => queue.createIfNotExists());
  }

  private async send(name: string, message: OutboxMessage, visibilityTimeout: number, create = false): Promise<void> {
    const queue = await queueClient(this.storage, name);
    if (create) await queueCall('create poison queue', () => queue.createIfNotExists());
    for (const text of encodeOutboxMessages(message)) {
      await queueCall('enqueue events', () =>
        queue.sendMessage(Buffer.from(text, 'utf8').toString('base64'), {
          messageTimeToLive: -1,
          ...(visibilityTimeout > 0 ? { visibilityTimeout } : {}),
        }),
      );
    }
  }
}
