// sendSms — takes send jobs off the outbound queue and hands them to ACS. The same handler runs
// behind a Service Bus trigger (Azure) or a Storage queue trigger (local, or by choice).
import type { InvocationContext, ServiceBusQueueFunctionOptions, StorageQueueFunctionOptions } from '@azure/functions';
import { services } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { processSendJob } from '../shared/pipeline/sendMessages.js';

async function handler(message: unknown, context: InvocationContext): Promise<void> {
  const s = services();
  const outcome = await processSendJob(
    { ...s, log: contextLogger(context), senders: s.config.senders, maxAttempts: s.config.sendMaxAttempts },
    message,
  );
  context.log(`send job ${outcome.kind}`, JSON.stringify(outcome));
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
