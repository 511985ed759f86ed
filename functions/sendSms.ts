// sendSms — takes send jobs off the outbound queue and hands them to ACS. The same handler runs
// behind a Service Bus trigger (Azure) or a Storage queue trigger (local, or by choice).
import type { InvocationContext, ServiceBusQueueFunctionOptions, StorageQueueFunctionOptions } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { processSendJob } from '../shared/pipeline/send/processSendJob.js';

async function handler(message: unknown, context: InvocationContext): Promise<void> {
  const log = contextLogger(context);
  // Storage queue: dequeueCount counts from 1; Service Bus: deliveryCount from 1 (the host adds 1 to the broker's).
  const deliveries = Number(context.triggerMetadata?.dequeueCount ?? context.triggerMetadata?.deliveryCount ?? 1);
  const outcome = await processSendJob(deps().send(log), message, { redelivered: deliveries > 1 });
  log.info(`send job ${outcome.kind}`, outcome);
}

export const sendSms = {
  serviceBus: {
    queueName: '%OUTBOUND_QUEUE_NAME%',
    connection: 'ServiceBusConnection',
    handler,
  } satisfies ServiceBusQueueFunctionOptions,
  storageQueue: {
    queueName: '%OUTBOUND_QUEUE_NAME%',
    connection: 'AzureWebJobsStorage',
    handler,
  } satisfies StorageQueueFunctionOptions,
};
