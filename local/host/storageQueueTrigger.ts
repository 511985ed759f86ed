// The Storage queue trigger as the Functions host runs it: received messages stay invisible for
// the lease while the function runs (renewed at half-time), a success deletes the message, a
// failure makes it visible again after visibilityTimeout, and after maxDequeueCount failures it
// moves to <queue>-poison.
import type { QueueClient } from '@azure/storage-queue';
import type { RegisteredFunction } from './functionsCore.js';
import type { QueueSettings } from './hostJson.js';
import { context, invoke, resolveSettings, type Log } from './invocation.js';

export function startQueueTrigger(fn: RegisteredFunction, settings: QueueSettings, log: Log, tracker: Set<Promise<unknown>>) {
  let stopped = false;
  let wake: (() => void) | undefined;
  const queueName = resolveSettings(String(fn.trigger.queueName));
  const connectionName = String(fn.trigger.connection ?? 'AzureWebJobsStorage');
  const connectionString = process.env[connectionName];
  if (!connectionString) throw new Error(`queue trigger ${fn.name}: setting ${connectionName} is not set`);

  const loop = (async () => {
    const { QueueServiceClient } = await import('@azure/storage-queue');
    const service = QueueServiceClient.fromConnectionString(connectionString);
    const queue: QueueClient = service.getQueueClient(queueName);
    const poison: QueueClient = service.getQueueClient(`${queueName}-poison`);
    let created = false;
    let delay = 100;
    const inFlight = new Set<Promise<void>>();

    const handle = async (message: {
      messageId: string;
      popReceipt: string;
      messageText: string;
      dequeueCount: number;
      insertedOn?: Date;
      expiresOn?: Date;
      nextVisibleOn?: Date;
    }) => {
      const text = settings.base64 ? Buffer.from(message.messageText, 'base64').toString('utf8') : message.messageText;
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the handler gets the string, as in the real host
      }
      const ctx = context(fn, log, {
        triggerMetadata: {
          id: message.messageId,
          dequeueCount: message.dequeueCount,
          insertionTime: message.insertedOn,
          expirationTime: message.expiresOn,
          nextVisibleTime: message.nextVisibleOn,
          popReceipt: message.popReceipt,
          queueTrigger: text,
        },
      });
      // The lease is renewed while the function runs; each renewal changes the pop receipt.
      let popReceipt = message.popReceipt;
      const renew = setInterval(() => {
        queue
          .updateMessage(message.messageId, popReceipt, undefined, Math.round(settings.leaseMs / 1000))
          .then((r) => {
            if (r.popReceipt) popReceipt = r.popReceipt;
          })
          .catch(() => undefined);
      }, settings.leaseMs / 2);
      try {
        await invoke(fn, log, [body], ctx).finally(() => clearInterval(renew));
        await queue.deleteMessage(message.messageId, popReceipt);
      } catch {
        if (message.dequeueCount >= settings.maxDequeueCount) {
          await poison.createIfNotExists();
          await poison.sendMessage(message.messageText, { messageTimeToLive: -1 });
          await queue.deleteMessage(message.messageId, popReceipt).catch(() => undefined);
          log(
            `Message ${message.messageId} has reached MaxDequeueCount of ${settings.maxDequeueCount}. Moving message to queue '${queueName}-poison'.`,
          );
        } else {
          await queue
            .updateMessage(message.messageId, popReceipt, undefined, Math.round(settings.visibilityTimeoutMs / 1000))
            .catch(() => undefined);
        }
      }
    };

    while (!stopped) {
      try {
        if (!created) {
          await queue.createIfNotExists();
          created = true;
        }
        if (inFlight.size > settings.newBatchThreshold) {
          await Promise.race(inFlight);
          continue;
        }
        // Kept invisible while it runs (10 minutes by default, as the host does; renewed meanwhile).
        // If storage is down when the function fails, the message reappears once the lease ends.
        const received = await queue.receiveMessages({
          numberOfMessages: settings.batchSize,
          visibilityTimeout: Math.round(settings.leaseMs / 1000),
        });
        if (received.receivedMessageItems.length === 0) {
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, delay);
          });
          delay = Math.min(settings.maxPollingIntervalMs, delay * 2);
          continue;
        }
        delay = 100;
        for (const m of received.receivedMessageItems) {
          const p: Promise<void> = handle(m).catch((e) => log(`${fn.name}: ${(e as Error).message}`));
          inFlight.add(p);
          tracker.add(p);
          void p.finally(() => {
            inFlight.delete(p);
            tracker.delete(p);
          });
        }
      } catch (error) {
        if (!stopped) log(`queue trigger ${fn.name}: ${(error as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    await Promise.allSettled([...inFlight]);
  })();

  return async () => {
    stopped = true;
    wake?.();
    await loop;
  };
}
