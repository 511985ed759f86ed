// The Functions host's Service Bus queue trigger, played locally with the real @azure/service-bus
// receiver against whatever namespace the function's connection setting names (the stand-in, or
// Azure): the counterpart of the Storage queue trigger in local/host/server.ts.
//
// What the host does, per the docs (MicrosoftDocs/azure-docs articles/azure-functions/
// functions-bindings-service-bus.md, "PeekLock behavior"): "The Functions runtime receives a message
// in PeekLock mode. It calls Complete on the message if the function finishes successfully, or calls
// Abandon if the function fails. If the function runs longer than the PeekLock timeout, the lock is
// automatically renewed"; poison messages are Service Bus's business (maxDeliveryCount → dead-letter
// queue). host.json extensions.serviceBus maps onto the receiver: maxConcurrentCalls handlers at once
// (the receiver's link credit), maxAutoLockRenewalDuration of lock renewal (the SDK's LockRenewer
// renews through $management while the handler runs), autoCompleteMessages (default true in
// Microsoft.Azure.WebJobs.Extensions.ServiceBus 5.x ServiceBusOptions), prefetchCount 0 = no messages
// fetched beyond those being handled, clientRetryOptions the client's retries. maxMessageBatchSize only
// matters to batch (cardinality "many") triggers, which the pipeline does not use.
import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { invocationTraceContext } from '../host/invocation.js';

/** What the trigger needs of a registered function; local/host/functionsCore.ts RegisteredFunction has it. */
export interface ServiceBusTriggeredFunction {
  name: string;
  trigger: { type: string; queueName?: unknown; connection?: unknown };
  handler: (...args: unknown[]) => unknown;
}

/** host.json extensions.serviceBus, as a single-message queue trigger uses it. */
export interface ServiceBusTriggerSettings {
  prefetchCount: number;
  autoCompleteMessages: boolean;
  maxConcurrentCalls: number;
  maxAutoLockRenewalDurationMs: number;
  /** clientRetryOptions: how the host's Service Bus client retries (and so how soon it reconnects after an outage). */
  clientRetry: { mode: 'exponential' | 'fixed'; delayMs: number; maxDelayMs: number; maxRetries: number; tryTimeoutMs: number };
}

/** "00:05:00" (a .NET TimeSpan, as host.json writes durations) or milliseconds → milliseconds; as the host's own reader does. */
function timeSpanMs(value: unknown, fallback: number): number {
  if (typeof value === 'number') return value;
  const m = typeof value === 'string' ? /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(value) : null;
  if (!m) return fallback;
  const [, d, h, min, s, frac] = m;
  return (
    ((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1000 + (frac ? Number(`0.${frac}`) * 1000 : 0)
  );
}

/** Reads host.json's extensions.serviceBus; missing values take the extension's defaults. */
export function serviceBusTriggerSettings(hostJson: unknown): ServiceBusTriggerSettings {
  const sb = ((hostJson as { extensions?: { serviceBus?: Record<string, unknown> } } | undefined)?.extensions?.serviceBus ??
    {}) as Record<string, unknown>;
  const retry = (sb.clientRetryOptions ?? {}) as Record<string, unknown>;
  return {
    prefetchCount: typeof sb.prefetchCount === 'number' ? sb.prefetchCount : 0,
    autoCompleteMessages: sb.autoCompleteMessages !== false,
    maxConcurrentCalls: typeof sb.maxConcurrentCalls === 'number' ? sb.maxConcurrentCalls : 16,
    maxAutoLockRenewalDurationMs: timeSpanMs(sb.maxAutoLockRenewalDuration, 5 * 60_000),
    // The defaults are Azure.Messaging.ServiceBus ServiceBusRetryOptions' (exponential, 0.8 s, at most
    // 60 s apart, 3 retries, 60 s a try), which the extension uses when host.json sets none; the JS
    // SDK's own defaults (fixed, 30 s apart) would keep the trigger away for half a minute after a blip.
    clientRetry: {
      mode: String(retry.mode ?? 'exponential').toLowerCase() === 'fixed' ? 'fixed' : 'exponential',
      delayMs: timeSpanMs(retry.delay, 800),
      maxDelayMs: timeSpanMs(retry.maxDelay, 60_000),
      maxRetries: typeof retry.maxRetries === 'number' ? retry.maxRetries : 3,
      tryTimeoutMs: timeSpanMs(retry.tryTimeout, 60_000),
    },
  };
}

/** Resolves %NAME% app-setting expressions, as the host does in binding settings. */
function resolveSettings(value: string): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const v = process.env[name];
    if (v === undefined) throw new Error(`the binding expression %${name}% refers to a setting that is not set`);
    return v;
  });
}

/**
 * The trigger metadata the host gives a Service Bus-triggered function: the binding data of the
 * WebJobs Service Bus extension (Azure/azure-sdk-for-net sdk/servicebus/
 * Microsoft.Azure.WebJobs.Extensions.ServiceBus/src/Triggers/ServiceBusTriggerBindingStrategy.cs,
 * AddBindingData for a ServiceBusReceivedMessage), with the first letter of each key lowered as
 * @azure/functions does (fromRpcTriggerMetadata → toCamelCaseKey).
 *
 * deliveryCount is .NET's ServiceBusReceivedMessage.DeliveryCount: the AMQP header's delivery-count
 * plus one for a received (not peeked) message, so 1 on the first delivery
 * (sdk/servicebus/Azure.Messaging.ServiceBus/src/Amqp/AmqpMessageConverter.cs:
 * "isPeeked ? DeliveryCount.Value : DeliveryCount.Value + 1"). The JavaScript SDK reports the header
 * as it is (0 on the first delivery), hence the + 1.
 */
export function triggerMetadata(message: ServiceBusReceivedMessage): Record<string, unknown> {
  const enqueued = message.enqueuedTimeUtc?.toISOString();
  const expires = message.expiresAtUtc?.toISOString();
  const properties = message.applicationProperties ?? {};
  return {
    deliveryCount: (message.deliveryCount ?? 0) + 1,
    deadLetterSource: message.deadLetterSource,
    lockToken: message.lockToken,
    // ExpiresAtUtc and EnqueuedTimeUtc are kept "for backcompat" beside ExpiresAt and EnqueuedTime.
    expiresAtUtc: expires,
    expiresAt: expires,
    enqueuedTimeUtc: enqueued,
    enqueuedTime: enqueued,
    messageId: message.messageId,
    contentType: message.contentType,
    replyTo: message.replyTo,
    sequenceNumber: message.sequenceNumber?.toNumber(),
    to: message.to,
    subject: message.subject,
    label: message.subject,
    correlationId: message.correlationId,
    applicationProperties: properties,
    userProperties: properties,
    sessionId: message.sessionId,
    replyToSessionId: message.replyToSessionId,
    partitionKey: message.partitionKey,
  };
}

/**
 * Starts receiving for one function; returns a stop that lets running invocations finish. Pass the
 * host's in-flight set as `tracker` so the host's close waits for them too.
 */
export function startServiceBusTrigger(
  fn: ServiceBusTriggeredFunction,
  settings: ServiceBusTriggerSettings,
  log: (line: string) => void,
  tracker?: Set<Promise<unknown>>,
): () => Promise<void> {
  const queueName = resolveSettings(String(fn.trigger.queueName));
  const connectionName = String(fn.trigger.connection ?? 'AzureWebJobsServiceBus');
  const connectionString = process.env[connectionName];
  if (!connectionString)
    throw new Error(`Service Bus trigger ${fn.name}: setting ${connectionName} (a connection string) is not set`);
  if (settings.prefetchCount > 0)
    log(
      `Service Bus trigger ${fn.name}: prefetchCount ${settings.prefetchCount} is not emulated; messages are fetched as handlers free up`,
    );

  const inFlight = new Set<Promise<void>>();
  let stopped = false;

  const started = (async () => {
    const { ServiceBusClient, RetryMode } = await import('@azure/service-bus');
    // CommonJS: its classes are reachable through the default export only (as in local/host/server.ts).
    const functions = ((await import('@azure/functions')) as unknown as { default: typeof import('@azure/functions') }).default;
    const retry = settings.clientRetry;
    const client = new ServiceBusClient(connectionString, {
      retryOptions: {
        mode: retry.mode === 'fixed' ? RetryMode.Fixed : RetryMode.Exponential,
        retryDelayInMs: retry.delayMs,
        maxRetryDelayInMs: retry.maxDelayMs,
        maxRetries: retry.maxRetries,
        timeoutInMs: retry.tryTimeoutMs,
      },
    });
    const receiver = client.createReceiver(queueName, {
      receiveMode: 'peekLock',
      maxAutoLockRenewalDurationInMs: settings.maxAutoLockRenewalDurationMs,
    });

    const handle = async (message: ServiceBusReceivedMessage) => {
      const context: InvocationContext = new functions.InvocationContext({
        invocationId: randomUUID(),
        functionName: fn.name,
        options: { trigger: fn.trigger as never, extraInputs: [], extraOutputs: [] },
        triggerMetadata: triggerMetadata(message),
        // A new trace per invocation, as for the Storage queue trigger; the app parents its `sms.send`
        // span on the job's own traceparent (which the message also carries as Diagnostic-Id).
        traceContext: invocationTraceContext(),
        logHandler: (level, ...args) =>
          log(`${fn.name} [${level}] ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`),
      });
      const startedAt = Date.now();
      try {
        await fn.handler(message.body, context);
        log(`Executed '${fn.name}' (Succeeded, ${Date.now() - startedAt} ms)`);
      } catch (error) {
        log(`Executed '${fn.name}' (Failed, ${Date.now() - startedAt} ms): ${(error as Error)?.stack ?? String(error)}`);
        // Abandon: Service Bus counts the delivery and, past maxDeliveryCount, dead-letters the message.
        await receiver
          .abandonMessage(message)
          .catch((e: Error) => log(`Service Bus trigger ${fn.name}: abandon failed: ${e.message}`));
        return;
      }
      if (settings.autoCompleteMessages) {
        await receiver
          .completeMessage(message)
          .catch((e: Error) => log(`Service Bus trigger ${fn.name}: complete failed: ${e.message}`));
      }
    };

    const subscription = receiver.subscribe(
      {
        processMessage: (message) => {
          const p = handle(message);
          inFlight.add(p);
          tracker?.add(p);
          return p.finally(() => {
            inFlight.delete(p);
            tracker?.delete(p);
          });
        },
        processError: async (args) => {
          if (!stopped) log(`Service Bus trigger ${fn.name} (${args.errorSource}): ${args.error.message}`);
        },
      },
      // Settling is done above, so a failure is logged the way the host logs it before the abandon.
      { autoCompleteMessages: false, maxConcurrentCalls: settings.maxConcurrentCalls },
    );
    return { client, receiver, subscription };
  })();
  started.catch((error: Error) => log(`Service Bus trigger ${fn.name} did not start: ${error.message}`));

  return async () => {
    stopped = true;
    const running = await started.catch(() => undefined);
    if (!running) return;
    const { client, receiver, subscription } = running;
    await subscription.close();
    await Promise.allSettled([...inFlight]);
    await receiver.close();
    await client.close();
  };
}
