// The outbound queue on Service Bus (Azure's default): the job id is the message id, so duplicate
// detection drops a job enqueued twice; a job with `notBefore` is a scheduled message.
import type { ServiceBusClient, ServiceBusMessage, ServiceBusSender } from '@azure/service-bus';
import type { Config } from '../../config.js';
import type { SendJob } from '../../domain/sendJob.js';
import { DependencyUnavailableError } from '../../ports/errors.js';
import { type OutboundQueue } from '../../ports/queue.js';

export type ServiceBusSettings = NonNullable<Config['outboundQueue']['serviceBus']>;

const OUTAGE_CODES = ['ServiceCommunicationProblem', 'ServiceBusy', 'ServiceTimeout', 'GeneralError'];

/**
 * Whether a Service Bus failure means "unavailable for now, try again later". After more than one
 * attempt the SDK throws an AggregateError of every attempt's error (@azure/core-amqp retry.ts), with
 * no code of its own: a dropped connection surfaced that way against the local Service Bus stand-in.
 */
export function isServiceBusOutage(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isServiceBusOutage);
  const e = error as { code?: string; retryable?: boolean } | undefined;
  return e?.retryable === true || OUTAGE_CODES.includes(e?.code ?? '');
}

/** The message of a Service Bus failure, including each attempt's when the SDK aggregated them. */
export function serviceBusErrorMessage(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(serviceBusErrorMessage).join('; ');
  return error instanceof Error ? error.message : String(error);
}

/**
 * Builds the Service Bus message for a job. Its trace context also goes where Service Bus tooling
 * looks for it: the `Diagnostic-Id` application property, in W3C traceparent form
 * (learn.microsoft.com/azure/service-bus-messaging/service-bus-end-to-end-tracing), and `traceparent`
 * beside it, as the Azure SDKs' messaging tracing convention writes both
 * (gist.github.com/lmolkova/e4215c0f44a49ef824983382762e6b92: "traceparent must match Diagnostic-Id"). The job body keeps it too: that is
 * what the sender reads, whatever the transport.
 */
export function toServiceBusMessage(job: SendJob): ServiceBusMessage {
  return {
    messageId: job.jobId,
    body: job,
    contentType: 'application/json',
    applicationProperties: {
      schema: job.schema,
      batchId: job.batchId,
      ...(job.traceparent ? { 'Diagnostic-Id': job.traceparent, traceparent: job.traceparent } : {}),
    },
  };
}

/** A client for the namespace: a connection string, or the managed identity. */
export async function createServiceBusClient(settings: ServiceBusSettings): Promise<ServiceBusClient> {
  const { ServiceBusClient, RetryMode } = await import('@azure/service-bus');
  // A few quick retries, as for Storage (queueClients.ts): the SDK's default is three retries 30 s
  // apart, so an outage or a refused token held a submit request for a minute and a half before the
  // caller heard "queue unavailable" (seen against the local Service Bus stand-in).
  const options = {
    retryOptions: {
      mode: RetryMode.Exponential,
      maxRetries: 3,
      retryDelayInMs: 200,
      maxRetryDelayInMs: 2000,
      timeoutInMs: 15_000,
    },
  };
  if (settings.kind === 'connectionString') return new ServiceBusClient(settings.connectionString, options);
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new ServiceBusClient(
    settings.fullyQualifiedNamespace,
    new DefaultAzureCredential(settings.clientId ? { managedIdentityClientId: settings.clientId } : {}),
    options,
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
      if (isServiceBusOutage(error)) {
        throw new DependencyUnavailableError('queue', `Service Bus: ${serviceBusErrorMessage(error)}`, { cause: error });
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
      throw new DependencyUnavailableError('queue', `Service Bus: ${serviceBusErrorMessage(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    if (!this.sender) return;
    const { client, sender } = await this.sender;
    await sender.close();
    await client.close();
  }
}
