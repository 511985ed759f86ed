// The outbound queue on Azure Storage queues (Azurite locally). Messages are base64 JSON, as the
// Functions queue trigger expects by default, never expire (an accepted message is never dropped
// silently), and a job with `notBefore` stays invisible until then (at most 7 days at a time).
import type { QueueClient } from '@azure/storage-queue';
import type { Config } from '../../config.js';
import type { SendJob } from '../../domain/sendJob.js';
import type { OutboundQueue } from '../../ports/queue.js';
import { forEachLimited } from '../../lib/concurrency.js';
import { queueCall } from '../outage.js';
import { queueClient } from './queueClients.js';

const MAX_VISIBILITY_SECONDS = 7 * 24 * 3600 - 60;

export class StorageOutboundQueue implements OutboundQueue {
  private client?: Promise<QueueClient>;

  constructor(
    private readonly storage: Config['storage'],
    readonly queueName: string,
    private readonly now: () => number = Date.now,
  ) {}

  private queue(): Promise<QueueClient> {
    this.client ??= queueClient(this.storage, this.queueName);
    return this.client;
  }

  async enqueue(jobs: readonly SendJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const queue = await this.queue();
    await forEachLimited(jobs, 8, async (job) => {
      const delayMs = job.notBefore ? Date.parse(job.notBefore) - this.now() : 0;
      const visibilityTimeout = Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
      await queueCall('enqueue send job', () =>
        queue.sendMessage(Buffer.from(JSON.stringify(job), 'utf8').toString('base64'), {
          messageTimeToLive: -1,
          ...(visibilityTimeout > 0 ? { visibilityTimeout } : {}),
        }),
      );
    });
  }

  async ensureQueue(): Promise<void> {
    const queue = await this.queue();
    await queueCall('create queue', () => queue.createIfNotExists());
  }

  async ping(): Promise<void> {
    const queue = await this.queue();
    await queueCall('ping queue', () => queue.getProperties());
  }
}
