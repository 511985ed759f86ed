// sendSms — takes send jobs off the outbound queue and hands them to ACS. The same handler runs
// behind a Service Bus trigger (Azure) or a Storage queue trigger (local, or by choice). Each job is
// an `sms.send` span in the trace its `traceparent` names: the submit's.
import type { InvocationContext, ServiceBusQueueFunctionOptions, StorageQueueFunctionOptions } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { jobTraceparent } from '../shared/adapters/functions/jobTrace.js';
import { ATTRIBUTES, SPANS } from '../shared/adapters/functions/telemetry.js';
import { SpanKind, traced } from '../shared/adapters/functions/tracing.js';
import { processSendJob } from '../shared/pipeline/send/processSendJob.js';

async function handler(message: unknown, context: InvocationContext): Promise<void> {
  // Storage queue: dequeueCount counts from 1; Service Bus: deliveryCount from 1 (the host adds 1 to the broker's).
  const deliveries = Number(context.triggerMetadata?.dequeueCount ?? context.triggerMetadata?.deliveryCount ?? 1);
  const job = jobTraceparent(message);
  await traced(
    context,
    {
      name: SPANS.send,
      kind: SpanKind.CONSUMER,
      ...(job.traceparent ? { parent: job.traceparent } : {}),
      attributes: { ...job.attributes, [ATTRIBUTES.deliveryCount]: deliveries },
    },
    async ({ log, set, elapsedMs }) => {
      const outcome = await processSendJob(deps().send(log), message, { redelivered: deliveries > 1 });
      set({
        [ATTRIBUTES.outcome]: outcome.kind,
        ...(outcome.kind === 'processed'
          ? { 'sms.sent': outcome.sent, 'sms.failed': outcome.failed, 'sms.retrying': outcome.retrying }
          : {}),
      });
      log.info(`send job ${outcome.kind}`, { ...outcome, ...job.ids, durationMs: elapsedMs() });
    },
  );
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
