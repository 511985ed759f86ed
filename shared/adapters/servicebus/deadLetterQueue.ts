// The Service Bus queue's dead-letter sub-queue: where Service Bus moves a send job after the
// function failed on it maxDeliveryCount times (or its lock was lost that often). Read for
// `npm run dead-letters`; Service Bus keeps the reason it gave with each message.
import type { ServiceBusClient, ServiceBusReceivedMessage } from '@azure/service-bus';
import Long from 'long';
import type { DeadLetter } from '../../domain/deadLetter.js';
import type { TransportDeadLetters } from '../../ports/deadLetters.js';
import { DependencyUnavailableError } from '../../ports/errors.js';
import { createServiceBusClient, isServiceBusOutage, serviceBusErrorMessage, type ServiceBusSettings } from './outboundQueue.js';

const ID_PREFIX = 'dlq-';

export class ServiceBusDeadLetterQueue implements TransportDeadLetters {
  readonly name: string;
  private client?: Promise<ServiceBusClient>;

  constructor(
    private readonly settings: ServiceBusSettings,
    private readonly queueName: string,
    private readonly createClient?: () => Promise<ServiceBusClient>,
  ) {
    this.name = `${queueName}/$deadletterqueue`;
  }

  private connect(): Promise<ServiceBusClient> {
    this.client ??= this.createClient ? this.createClient() : createServiceBusClient(this.settings);
    return this.client;
  }

  async list(limit: number): Promise<DeadLetter[]> {
    const receiver = (await this.connect()).createReceiver(this.queueName, {
      subQueueType: 'deadLetter',
      receiveMode: 'peekLock',
    });
    try {
      // From the first message every time: without fromSequenceNumber the SDK continues after the last
      // message it peeked on this client (its $management client, and the position, outlive the receiver).
      return (await guard(() => receiver.peekMessages(limit, { fromSequenceNumber: Long.ONE }))).map((m) => this.toDeadLetter(m));
    } finally {
      await receiver.close();
    }
  }

  /** Receives dead letters under a lock, completes the chosen ones and abandons the others. */
  async remove(ids: readonly string[]): Promise<void> {
    const wanted = new Set(ids.filter((id) => id.startsWith(ID_PREFIX)));
    if (wanted.size === 0) return;
    const receiver = (await this.connect()).createReceiver(this.queueName, {
      subQueueType: 'deadLetter',
      receiveMode: 'peekLock',
    });
    const others: ServiceBusReceivedMessage[] = [];
    try {
      while (wanted.size > 0) {
        const batch = await guard(() => receiver.receiveMessages(50, { maxWaitTimeInMs: 2000 }));
        if (batch.length === 0) break;
        for (const message of batch) {
          if (wanted.delete(idOf(message))) await guard(() => receiver.completeMessage(message));
          else others.push(message);
        }
      }
    } finally {
      await Promise.all(others.map((m) => receiver.abandonMessage(m).catch(() => undefined)));
      await receiver.close();
    }
  }

  private toDeadLetter(message: ServiceBusReceivedMessage): DeadLetter {
    const body = bodyText(message.body);
    const job = (typeof message.body === 'object' && message.body !== null ? message.body : {}) as {
      jobId?: unknown;
      batchId?: unknown;
    };
    const description = message.deadLetterErrorDescription ? `: ${message.deadLetterErrorDescription}` : '';
    return {
      id: idOf(message),
      at: (message.enqueuedTimeUtc ?? new Date()).toISOString(),
      reason: `${message.deadLetterReason ?? 'dead-lettered by Service Bus'}${description}`,
      body,
      source: this.name,
      ...(typeof job.jobId === 'string'
        ? { jobId: job.jobId }
        : typeof message.messageId === 'string'
          ? { jobId: message.messageId }
          : {}),
      ...(typeof job.batchId === 'string' ? { batchId: job.batchId } : {}),
    };
  }
}

function idOf(message: ServiceBusReceivedMessage): string {
  return `${ID_PREFIX}${String(message.sequenceNumber ?? message.messageId)}`;
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  return JSON.stringify(body) ?? String(body);
}

async function guard<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isServiceBusOutage(error)) {
      throw new DependencyUnavailableError('queue', `Service Bus dead-letter queue: ${serviceBusErrorMessage(error)}`, {
        cause: error,
      });
    }
    throw error;
  }
}
