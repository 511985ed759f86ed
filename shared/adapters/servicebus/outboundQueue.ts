// The outbound queue on Service Bus (Azure's default): the job id is the message id, so duplicate
// detection drops a job enqueued twice; a job with `notBefore` is a scheduled message.
import type { ServiceBusClient, ServiceBusMessage, ServiceBusSender } from '@azure/service-bus';
import type { Config } from '../../config.js';
import { SEND_JOB_SCHEMA_VERSION, type SendJob } from '../../domain/sendJob.js';
import { DependencyUnavailableError } from '../../ports/errors.js';
import { type OutboundQueue } from '../../ports/queue.js';

export type ServiceBusSettings = NonNullable<Config['outboundQueue']['serviceBus']>;

/** Builds the Service Bus message for a job. */
export function toServiceBusMessage(job: SendJob): ServiceBusMessage {
  return {
    messageId: job.jobId,
    body: job,
    contentType: 'application/json',
    applicationProperties: { schema: SEND_JOB_SCHEMA_VERSION, batchId: job.batchId },
  };
}

/** A client for the namespace: a connection string, or the managed identity. */
export async function createServiceBusClient(settings: ServiceBusSettings): Promise<ServiceBusClient> {
  const { ServiceBusClient } = await import('@azure/service-bus');
  if (settings.kind === 'connectionString') return new ServiceBusClient(settings.connectionString);
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new ServiceBusClient(
    settings.fullyQualifiedNamespace,
    new DefaultAzureCredential(settings.clientId ? { managedIdentityClientId: settings.clientId } : {}),
  );
}

export class ServiceBusOutboundQueue implements OutboundQueue {
  private sender?: Promise<{ client: ServiceBusClient; sender: ServiceBusSender }>;

  constructor(
    private readonly settings: ServiceBusSettings,
    readonly queueName: string,
    private readonly createClient?: () => Promise<ServiceBusClient>,
    private readonly now: () => number = Date.now,
  ) {}

  private connect() {
    this.sender ??= (async () => {
      const client = this.createClient ? await this.createClient() : await createServiceBusClient(this.settings);
      return { client, sender: client.createSender(this.queueName) };
    })();
    return this.sender;
  }

  async enqueue(jobs: readonly SendJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const { sender } = await this.connect();
    const now = this.now();
    const scheduled = jobs.filter((j) => j.notBefore && Date.parse(j.notBefore) > now);
    const immediate = jobs.filter((j) => !scheduled.includes(j));
    try {
      for (const job of scheduled) await sender.scheduleMessages(toServiceBusMessage(job), new Date(job.notBefore!));
      let batch = await sender.createMessageBatch();
      for (const job of immediate) {
        const message = toServiceBusMessage(job);
        if (!batch.tryAddMessage(message)) {
          await sender.sendMessages(batch);
          batch = await sender.createMessageBatch();
          if (!batch.tryAddMessage(message)) throw new Error(`send job ${job.jobId} is larger than a Service Bus message may be`);
        }
      }
      if (batch.count > 0) await sender.sendMessages(batch);
    } catch (error) {
      const e = error as { code?: string; retryable?: boolean; name?: string };
      if (e.retryable || ['ServiceCommunicationProblem', 'ServiceBusy', 'ServiceTimeout', 'GeneralError'].includes(e.code ?? '')) {
        throw new DependencyUnavailableError('queue', `Service Bus: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
  }

  /** Creating a batch opens the link and checks the queue exists and we may send to it. */
  async ping(): Promise<void> {
    const { sender } = await this.connect();
    try {
      await sender.createMessageBatch();
    } catch (error) {
      throw new DependencyUnavailableError('queue', `Service Bus: ${(error as Error).message}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    if (!this.sender) return;
    const { client, sender } = await this.sender;
    await sender.close();
    await client.close();
  }
}
