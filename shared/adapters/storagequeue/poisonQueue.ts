// The Storage queue's poison queue (`<queue>-poison`): where the Functions host moves a send job
// after the function failed on it maxDequeueCount times. Read for `npm run dead-letters`.
//
// A Storage queue can only peek at its first 32 messages, so listing receives them in rounds
// (hidden for a short while) and makes every one visible again at the end.
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { Config } from '../../config.js';
import { type DeadLetter } from '../../domain/deadLetter.js';
import { type TransportDeadLetters } from '../../ports/deadLetters.js';
import { DependencyUnavailableError } from '../../ports/errors.js';
import { isUnavailable } from '../outage.js';
import { queueClient } from './queueClients.js';

const ID_PREFIX = 'poison-';
const SCAN_VISIBILITY_SECONDS = 60;
const MAX_SCAN = 5000;

export class StoragePoisonQueue implements TransportDeadLetters {
  readonly name: string;
  private client?: Promise<QueueClient>;

  /** `outboundQueueName` is the queue the poison queue belongs to. */
  constructor(
    private readonly storage: Config['storage'],
    outboundQueueName: string,
  ) {
    this.name = `${outboundQueueName}-poison`;
  }

  private queue(): Promise<QueueClient> {
    this.client ??= queueClient(this.storage, this.name);
    return this.client;
  }

  async list(limit: number): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
    await this.scan(limit, async (message) => {
      letters.push(this.toDeadLetter(message));
      return 'keep';
    });
    return letters;
  }

  async remove(ids: readonly string[]): Promise<void> {
    const wanted = new Set(ids.filter((id) => id.startsWith(ID_PREFIX)));
    if (wanted.size === 0) return;
    await this.scan(
      MAX_SCAN,
      async (message) => (wanted.delete(`${ID_PREFIX}${message.messageId}`) ? 'delete' : 'keep'),
      () => wanted.size === 0,
    );
  }

  /** Visits up to `limit` messages; kept ones are made visible again once the scan is over. */
  private async scan(
    limit: number,
    visit: (message: DequeuedMessageItem) => Promise<'keep' | 'delete'>,
    done: () => boolean = () => false,
  ): Promise<void> {
    const queue = await this.queue();
    const kept: DequeuedMessageItem[] = [];
    try {
      let seen = 0;
      while (seen < limit && !done()) {
        let received;
        try {
          received = await queue.receiveMessages({
            numberOfMessages: Math.min(32, limit - seen),
            visibilityTimeout: SCAN_VISIBILITY_SECONDS,
          });
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 404) return; // no poison queue: nothing ever failed
          throw error;
        }
        if (received.receivedMessageItems.length === 0) break;
        for (const message of received.receivedMessageItems) {
          seen++;
          if ((await visit(message)) === 'delete') await queue.deleteMessage(message.messageId, message.popReceipt);
          else kept.push(message);
        }
      }
    } catch (error) {
      if (isUnavailable(error))
        throw new DependencyUnavailableError('queue', `${this.name}: ${(error as Error).message}`, { cause: error });
      throw error;
    } finally {
      await Promise.all(kept.map((m) => queue.updateMessage(m.messageId, m.popReceipt, undefined, 0).catch(() => undefined)));
    }
  }

  private toDeadLetter(message: DequeuedMessageItem): DeadLetter {
    const body = decode(message.messageText);
    let ids: { jobId?: string; batchId?: string } = {};
    try {
      const job = JSON.parse(body) as { jobId?: unknown; batchId?: unknown };
      ids = {
        ...(typeof job.jobId === 'string' ? { jobId: job.jobId } : {}),
        ...(typeof job.batchId === 'string' ? { batchId: job.batchId } : {}),
      };
    } catch {
      // not JSON: shown as it is
    }
    return {
      id: `${ID_PREFIX}${message.messageId}`,
      at: (message.insertedOn ?? new Date()).toISOString(),
      reason: `the function failed on every delivery of this job; the Functions host moved it to ${this.name}`,
      body,
      source: this.name,
      ...ids,
    };
  }
}

/** The host's queue messages are base64 (host.json messageEncoding); anything else is kept as is. */
function decode(text: string): string {
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0) {
    const decoded = Buffer.from(text, 'base64').toString('utf8');
    if (Buffer.from(decoded, 'utf8').toString('base64') === text) return decoded;
  }
  return text;
}
