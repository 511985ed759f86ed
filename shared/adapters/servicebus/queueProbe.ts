// How the Service Bus transport looks from outside, once a minute (functions/observeQueues.ts): the
// age of the oldest active send job, by peeking from the first sequence number (peeking takes no
// lock and changes nothing; scheduled and deferred messages are not waiting yet), and how many jobs
// the dead-letter sub-queue holds (peeked, up to 100).
import type { ServiceBusClient } from '@azure/service-bus';
import Long from 'long';
import type { QueueObservation, QueueProbe } from '../telemetry/queueObserver.js';
import { createServiceBusClient, type ServiceBusSettings } from './outboundQueue.js';

export class ServiceBusQueueProbe implements QueueProbe {
  readonly system = 'servicebus';
  private client?: Promise<ServiceBusClient>;

  constructor(
    private readonly settings: ServiceBusSettings,
    readonly queueName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async observe(): Promise<QueueObservation> {
    this.client ??= createServiceBusClient(this.settings);
    const client = await this.client;
    const peek = async (subQueueType: 'deadLetter' | undefined, max: number) => {
      const receiver = client.createReceiver(this.queueName, {
        receiveMode: 'peekLock',
        ...(subQueueType ? { subQueueType } : {}),
      });
      try {
        return await receiver.peekMessages(max, { fromSequenceNumber: Long.ONE });
      } finally {
        await receiver.close();
      }
    };
    const [waiting, dead] = await Promise.all([peek(undefined, 32), peek('deadLetter', 100)]);
    const now = this.now();
    const ages = waiting
      .filter((m) => m.state === 'active')
      .map((m) => (now - Math.max(m.enqueuedTimeUtc?.getTime() ?? now, m.scheduledEnqueueTimeUtc?.getTime() ?? 0)) / 1000);
    return { oldestAgeSeconds: Math.max(0, ...ages), transportDeadLetters: dead.length };
  }
}
