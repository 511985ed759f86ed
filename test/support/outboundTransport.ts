// The outbound queue of a test stack, whichever transport it runs on (the Storage queue on Azurite
// or the Service Bus stand-in), for the e2e tests that act as another app enqueueing send jobs or
// that look at where the transport keeps the jobs the function failed on.
import { ServiceBusClient } from '@azure/service-bus';
import { QueueClient } from '@azure/storage-queue';
import type { TestStack } from './localStack.js';

export interface OutboundTransport {
  readonly kind: 'storage' | 'servicebus';
  /** Where `npm run dead-letters` says such a job is kept, and the form of its ids there. */
  readonly deadLetterSource: string;
  readonly deadLetterId: RegExp;
  /** The reason the transport gives for a job the function failed on at every try. */
  readonly deadLetterReason: RegExp;
  /** Puts a body on the outbound queue as another app would: a job object, or any text. */
  enqueue(body: unknown): Promise<void>;
  /**
   * Leaves a job where the transport keeps one the function failed on at every try: the poison
   * queue (the Functions host's move after maxDequeueCount), or the dead-letter sub-queue.
   */
  deadLetter(job: { jobId: string }): Promise<void>;
  /** Messages waiting in the dead-letter place; 0 when it does not exist. */
  deadLetterCount(): Promise<number>;
  /** Messages still on the outbound queue, in flight included. */
  queuedCount(): Promise<number>;
  close(): Promise<void>;
}

const QUEUE = 'sms-outbound';

export function outboundTransport(stack: TestStack): OutboundTransport {
  return stack.serviceBus ? serviceBusTransport(stack) : storageTransport(stack);
}

function storageTransport(stack: TestStack): OutboundTransport {
  const outbound = new QueueClient(stack.storageConnectionString, QUEUE);
  const poison = new QueueClient(stack.storageConnectionString, `${QUEUE}-poison`);
  // host.json messageEncoding base64, as the trigger expects.
  const encode = (body: unknown) =>
    Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8').toString('base64');
  return {
    kind: 'storage',
    deadLetterSource: `${QUEUE}-poison`,
    deadLetterId: /^poison-/,
    deadLetterReason: /failed on every delivery/,
    async enqueue(body) {
      await outbound.sendMessage(encode(body));
    },
    async deadLetter(job) {
      await poison.createIfNotExists();
      await poison.sendMessage(encode(job));
    },
    async deadLetterCount() {
      return (await poison.exists()) ? ((await poison.getProperties()).approximateMessagesCount ?? 0) : 0;
    },
    async queuedCount() {
      return (await outbound.getProperties()).approximateMessagesCount ?? 0;
    },
    async close() {},
  };
}

function serviceBusTransport(stack: TestStack): OutboundTransport {
  const client = new ServiceBusClient(stack.settings.ServiceBusConnection!);
  const count = async (subQueueType?: 'deadLetter') => {
    const receiver = client.createReceiver(QUEUE, subQueueType ? { subQueueType } : {});
    try {
      return (await receiver.peekMessages(1000)).length;
    } finally {
      await receiver.close();
    }
  };
  return {
    kind: 'servicebus',
    deadLetterSource: `${QUEUE}/$deadletterqueue`,
    deadLetterId: /^dlq-/,
    deadLetterReason: /^MaxDeliveryCountExceeded/,
    async enqueue(body) {
      const sender = client.createSender(QUEUE);
      try {
        const jobId = (body as { jobId?: unknown } | null)?.jobId;
        await sender.sendMessages({
          body,
          ...(typeof jobId === 'string' ? { messageId: jobId } : {}),
          ...(typeof body === 'string' ? {} : { contentType: 'application/json' }),
        });
      } finally {
        await sender.close();
      }
    },
    async deadLetter(job) {
      // Only the broker moves a message to the dead-letter sub-queue, when a receiver asks or after
      // maxDeliveryCount. With the host stopped, this receiver is the only one: it takes the job and
      // dead-letters it with the reason Service Bus gives after the last delivery.
      await stack.host.stop();
      const sender = client.createSender(QUEUE);
      const receiver = client.createReceiver(QUEUE);
      try {
        await sender.sendMessages({ body: job, messageId: job.jobId, contentType: 'application/json' });
        const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 10_000 });
        if (!message) throw new Error('the job did not come back from the Service Bus stand-in');
        await receiver.deadLetterMessage(message, {
          deadLetterReason: 'MaxDeliveryCountExceeded',
          deadLetterErrorDescription: 'Message could not be consumed after 10 delivery attempts.',
        });
      } finally {
        await receiver.close();
        await sender.close();
        await stack.restartHost();
      }
    },
    deadLetterCount: () => count('deadLetter'),
    queuedCount: () => count(),
    close: () => client.close(),
  };
}
