// How the Storage queue transport looks from outside, once a minute (functions/observeQueues.ts):
// the age of the oldest send job waiting, by peeking (peeking changes nothing; a Storage queue
// shows at most its first 32 messages, roughly oldest first), and how many jobs the poison queue
// holds (its approximate count: listing it would have to receive them).
import type { Config } from '../../config.js';
import type { QueueObservation, QueueProbe } from '../telemetry/queueObserver.js';
import { queueCall } from '../outage.js';
import { queueClient } from './queueClients.js';

export class StorageQueueProbe implements QueueProbe {
  readonly system = 'azure.storage.queue';

  constructor(
    private readonly storage: Config['storage'],
    readonly queueName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async observe(): Promise<QueueObservation> {
    const [queue, poison] = await Promise.all([
      queueClient(this.storage, this.queueName),
      queueClient(this.storage, `${this.queueName}-poison`),
    ]);
    const [peeked, deadLetters] = await Promise.all([
      queueCall('peek send jobs', () => queue.peekMessages({ numberOfMessages: 32 })),
      queueCall('count poison send jobs', async () => {
        try {
          return (await poison.getProperties()).approximateMessagesCount ?? 0;
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 404) return 0;
          throw error;
        }
      }),
    ]);
    const now = this.now();
    // A job deferred with a visibility timeout shows up only once visible, but its insertion time is
    // its enqueue time: it has waited since it became due, which its notBefore says.
    const ages = peeked.peekedMessageItems.map((m) => (now - Math.max(m.insertedOn.getTime(), notBefore(m.messageText))) / 1000);
    return { oldestAgeSeconds: Math.max(0, ...ages), transportDeadLetters: deadLetters };
  }
}

function notBefore(base64: string): number {
  try {
    const job = JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as { notBefore?: unknown };
    return typeof job.notBefore === 'string' ? Date.parse(job.notBefore) || 0 : 0;
  } catch {
    return 0;
  }
}
