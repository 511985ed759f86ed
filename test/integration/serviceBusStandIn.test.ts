// The Service Bus stand-in (local/serviceBus) driven by the real @azure/service-bus SDK over AMQP, as
// the pipeline drives Service Bus: the connection string the Service Bus emulator hands out
// (UseDevelopmentEmulator=true, plain AMQP on loopback), CBS with SAS tokens, send, schedule and
// cancel, peek-lock receive and settlement, lock renewal and expiry, the dead-letter queue — then
// the project's own adapters and the local Service Bus trigger against it.
import { readFileSync } from 'node:fs';
import { ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver } from '@azure/service-bus';
import Long from 'long';
import rhea from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BICEP_QUEUE_DEFAULTS, type QueueOptions } from '../../local/serviceBus/entities.js';
import { startServiceBusStandIn, type ServiceBusStandIn } from '../../local/serviceBus/server.js';
import { serviceBusTriggerSettings, startServiceBusTrigger } from '../../local/serviceBus/trigger.js';
import { ServiceBusDeadLetterQueue } from '../../shared/adapters/servicebus/deadLetterQueue.js';
import { ServiceBusOutboundQueue } from '../../shared/adapters/servicebus/outboundQueue.js';
import { SEND_JOB_SCHEMA_VERSION, type SendJobV1 } from '../../shared/domain/sendJob.js';
import { DependencyUnavailableError } from '../../shared/ports/errors.js';

const hostJson = JSON.parse(readFileSync(new URL('../../host.json', import.meta.url), 'utf8')) as unknown;

let sb: ServiceBusStandIn;
let client: ServiceBusClient;
let queueCount = 0;

/** A fresh queue for each test, so tests cannot see each other's messages. */
function newQueue(options: Partial<QueueOptions> = {}): string {
  const name = `queue-${++queueCount}`;
  sb.createQueue({ name, lockDurationMs: 5000, ...options });
  return name;
}

async function failureOf(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected the call to fail');
}

/** Receives until `count` messages arrived or `ms` passed. */
async function receive(receiver: ServiceBusReceiver, count: number, ms = 3000): Promise<ServiceBusReceivedMessage[]> {
  const got: ServiceBusReceivedMessage[] = [];
  const deadline = Date.now() + ms;
  while (got.length < count && Date.now() < deadline) {
    got.push(...(await receiver.receiveMessages(count - got.length, { maxWaitTimeInMs: Math.max(100, deadline - Date.now()) })));
  }
  return got;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(done: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(50);
}

/** A receiver that lets locks lapse: the SDK otherwise renews them for 5 minutes (receivers/receiver.ts). */
const NO_AUTO_RENEWAL = { maxAutoLockRenewalDurationInMs: 0 };

beforeAll(async () => {
  sb = await startServiceBusStandIn();
  client = new ServiceBusClient(sb.connectionString);
});

afterAll(async () => {
  await client?.close();
  await sb?.close();
});

describe("the stand-in's queues", () => {
  /** PT1M, P1D, P40D … → milliseconds (the ISO 8601 durations Bicep gives Service Bus). */
  function isoDurationMs(text: string): number {
    const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text);
    if (!m) throw new Error(`not an ISO 8601 duration: ${text}`);
    const [, d, h, min, sec] = m.map((v) => Number(v ?? 0));
    return (((d! * 24 + h!) * 60 + min!) * 60 + sec!) * 1000;
  }

  it('are by default the outbound queue infra/modules/servicebus.bicep creates', () => {
    const bicep = readFileSync(new URL('../../infra/modules/servicebus.bicep', import.meta.url), 'utf8');
    const value = (pattern: RegExp) => pattern.exec(bicep)?.[1];
    expect(BICEP_QUEUE_DEFAULTS).toEqual({
      lockDurationMs: isoDurationMs(value(/lockDuration: '([^']+)'/)!),
      maxDeliveryCount: Number(value(/param maxDeliveryCount int = (\d+)/)),
      requiresDuplicateDetection: value(/requiresDuplicateDetection: (true|false)/) === 'true',
      duplicateDetectionHistoryTimeWindowMs: isoDurationMs(value(/duplicateDetectionHistoryTimeWindow: '([^']+)'/)!),
      defaultMessageTimeToLiveMs: isoDurationMs(value(/defaultMessageTimeToLive: '([^']+)'/)!),
      deadLetteringOnMessageExpiration: value(/deadLetteringOnMessageExpiration: (true|false)/) === 'true',
    });
  });
});

describe('connection and authorisation', () => {
  it('is reached the way the SDK reaches the Service Bus emulator: plain AMQP on loopback, a key, UseDevelopmentEmulator=true', async () => {
    expect(sb.connectionString).toMatch(
      /^Endpoint=sb:\/\/127\.0\.0\.1:\d+;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true$/,
    );
    const q = newQueue();
    await client.createSender(q).sendMessages({ body: 'hello' });
    expect((await client.createReceiver(q).peekMessages(1)).map((m) => m.body)).toEqual(['hello']);
  });

  it('refuses a token signed with another key, which the SDK reports as UnauthorizedAccess', async () => {
    const q = newQueue();
    // core-amqp retries UnauthorizedError on purpose (keys may have been rotated: errors.ts
    // retryableErrors), three times 30 s apart by default; one try is enough here.
    const wrong = new ServiceBusClient(sb.connectionString.replace('SAS_KEY_VALUE', 'not-the-key'), {
      retryOptions: { maxRetries: 0 },
    });
    try {
      const failure = await failureOf(wrong.createSender(q).sendMessages({ body: 'x' }));
      expect(failure.code).toBe('UnauthorizedAccess');
      expect(failure.message).toMatch(/invalid signature/i);
      expect((await failureOf(wrong.createReceiver(q).receiveMessages(1, { maxWaitTimeInMs: 500 }))).code).toBe(
        'UnauthorizedAccess',
      );
    } finally {
      await wrong.close();
    }
    expect(await client.createReceiver(q).peekMessages(1)).toEqual([]);
  });

  it('answers a queue that does not exist with MessagingEntityNotFound', async () => {
    const failure = await failureOf(client.createSender('no-such-queue').sendMessages({ body: 'x' }));
    expect(failure.code).toBe('MessagingEntityNotFound');
  });

  it('also takes SASL PLAIN with the key name and key, and refuses a wrong key at the SASL stage', async () => {
    const q = newQueue();
    const connect = (password: string) =>
      new Promise<'sent' | 'refused'>((resolve) => {
        const container = rhea.create_container();
        const connection = container.connect({
          host: '127.0.0.1',
          port: sb.port,
          username: 'RootManageSharedAccessKey',
          password,
          reconnect: false,
        });
        connection.on('sendable', (context) => {
          context.sender!.send({ message_id: 'plain-1', body: 'over PLAIN' });
        });
        connection.on('accepted', () => {
          connection.close();
          resolve('sent');
        });
        connection.on('connection_error', () => resolve('refused'));
        connection.on('disconnected', () => resolve('refused'));
        connection.open_sender(q);
      });
    expect(await connect('not-the-key')).toBe('refused');
    expect(await connect('SAS_KEY_VALUE')).toBe('sent');
    expect((await client.createReceiver(q).peekMessages(1)).map((m) => m.body)).toEqual(['over PLAIN']);
  });
});

describe('send and peek-lock receive', () => {
  it('delivers single and batched messages in order, with the properties Service Bus sets, and complete removes them', async () => {
    const q = newQueue();
    const sender = client.createSender(q);
    const before = Date.now();
    await sender.sendMessages({
      body: { job: 1 },
      messageId: 'one',
      contentType: 'application/json',
      applicationProperties: { schema: 'x/1' },
    });
    const batch = await sender.createMessageBatch();
    expect(batch.maxSizeInBytes).toBe(256 * 1024);
    expect(batch.tryAddMessage({ body: 'two', messageId: 'two' })).toBe(true);
    expect(batch.tryAddMessage({ body: 'three', messageId: 'three' })).toBe(true);
    await sender.sendMessages(batch);
    await sender.sendMessages([{ body: 'four', messageId: 'four' }]);

    const receiver = client.createReceiver(q);
    const got = await receive(receiver, 4);
    expect(got.map((m) => m.messageId)).toEqual(['one', 'two', 'three', 'four']);
    const [first] = got;
    expect(first).toMatchObject({
      body: { job: 1 },
      contentType: 'application/json',
      applicationProperties: { schema: 'x/1' },
      deliveryCount: 0,
    });
    expect(got.map((m) => m.sequenceNumber!.toNumber())).toEqual([1, 2, 3, 4]);
    expect(first!.lockToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(got.map((m) => m.lockToken)).size).toBe(4);
    expect(first!.enqueuedTimeUtc!.getTime()).toBeGreaterThanOrEqual(before);
    // Locked for the queue's lock duration from when the broker handed it out.
    expect(first!.lockedUntilUtc!.getTime() - first!.enqueuedTimeUtc!.getTime()).toBeGreaterThanOrEqual(5000);
    expect(first!.lockedUntilUtc!.getTime() - Date.now()).toBeLessThanOrEqual(5000);

    for (const m of got) await receiver.completeMessage(m);
    expect(await receiver.peekMessages(10)).toEqual([]);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
  });

  it('hands out no more than the credit asked for, and the same receiver keeps working after its drain', async () => {
    const q = newQueue();
    await client.createSender(q).sendMessages([1, 2, 3, 4, 5].map((n) => ({ body: n })));
    const receiver = client.createReceiver(q);
    const firstTwo = await receiver.receiveMessages(2, { maxWaitTimeInMs: 2000 });
    expect(firstTwo.map((m) => m.body)).toEqual([1, 2]);
    const rest = await receiver.receiveMessages(10, { maxWaitTimeInMs: 1000 });
    expect(rest.map((m) => m.body)).toEqual([3, 4, 5]);
    for (const m of [...firstTwo, ...rest]) await receiver.completeMessage(m);
  });

  it('in receive-and-delete mode, removes each message as it is delivered', async () => {
    const q = newQueue();
    await client.createSender(q).sendMessages([{ body: 'a' }, { body: 'b' }]);
    const receiver = client.createReceiver(q, { receiveMode: 'receiveAndDelete' });
    const got = await receive(receiver, 2);
    expect(got.map((m) => [m.body, m.lockToken])).toEqual([
      ['a', undefined],
      ['b', undefined],
    ]);
    expect(await client.createReceiver(q).peekMessages(5)).toEqual([]);
  });

  it('abandon makes the message available again with its delivery count raised and the given properties applied', async () => {
    const q = newQueue();
    await client.createSender(q).sendMessages({ body: 'retry me', messageId: 'm', applicationProperties: { attempt: 1 } });
    const receiver = client.createReceiver(q);
    const [first] = await receive(receiver, 1);
    await receiver.abandonMessage(first!, { attempt: 2, note: 'abandoned' });
    const [second] = await receive(receiver, 1);
    expect(second).toMatchObject({ messageId: 'm', deliveryCount: 1, applicationProperties: { attempt: 2, note: 'abandoned' } });
    expect(second!.lockToken).not.toBe(first!.lockToken);
    expect(second!.sequenceNumber!.toNumber()).toBe(first!.sequenceNumber!.toNumber());
    await receiver.completeMessage(second!);
  });

  it('when a lock expires, redelivers the message with delivery count + 1, and settling under the old lock fails with MessageLockLost', async () => {
    const q = newQueue({ lockDurationMs: 800 });
    await client.createSender(q).sendMessages({ body: 'slow', messageId: 'slow' });
    // The SDK renews locks of received messages for 5 minutes by default; a crashed consumer does not.
    const receiver = client.createReceiver(q, NO_AUTO_RENEWAL);
    const [first] = await receive(receiver, 1);
    expect(first!.deliveryCount).toBe(0);
    await sleep(1200);
    expect((await failureOf(receiver.renewMessageLock(first!))).code).toBe('MessageLockLost');
    const [second] = await receive(receiver, 1);
    expect(second).toMatchObject({ messageId: 'slow', deliveryCount: 1 });
    expect((await failureOf(receiver.completeMessage(first!))).code).toBe('MessageLockLost');
    await receiver.completeMessage(second!);
    expect(await receiver.peekMessages(1)).toEqual([]);
  });

  it('renewLock extends the lock, so the message is not handed to anyone else meanwhile', async () => {
    const q = newQueue({ lockDurationMs: 2000 });
    await client.createSender(q).sendMessages({ body: 'long job' });
    const receiver = client.createReceiver(q, NO_AUTO_RENEWAL);
    const [message] = await receive(receiver, 1);
    const firstUntil = message!.lockedUntilUtc!.getTime();
    await sleep(1000);
    const renewed = await receiver.renewMessageLock(message!);
    expect(renewed.getTime()).toBeGreaterThanOrEqual(firstUntil + 1000);
    expect(message!.lockedUntilUtc!.getTime()).toBe(renewed.getTime());
    await sleep(1300); // past the first lock, within the renewed one
    expect(await client.createReceiver(q).receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
    await receiver.completeMessage(message!);
    expect(await receiver.peekMessages(1)).toEqual([]);
  });

  it('drops a message whose message-id the queue has seen within the duplicate detection window', async () => {
    const q = newQueue();
    const sender = client.createSender(q);
    await sender.sendMessages({ body: 'first', messageId: 'job-1' });
    await sender.sendMessages({ body: 'again', messageId: 'job-1' });
    await sender.sendMessages([
      { body: 'other', messageId: 'job-2' },
      { body: 'once more', messageId: 'job-1' },
    ]);
    expect((await client.createReceiver(q).peekMessages(10)).map((m) => m.body)).toEqual(['first', 'other']);

    const plain = newQueue({ requiresDuplicateDetection: false });
    await client.createSender(plain).sendMessages([
      { body: 'a', messageId: 'same' },
      { body: 'b', messageId: 'same' },
    ]);
    expect(await client.createReceiver(plain).peekMessages(10)).toHaveLength(2);
  });

  it('peeks without locking, from a sequence number on, and continues where the last peek stopped', async () => {
    const q = newQueue();
    await client.createSender(q).sendMessages([1, 2, 3, 4].map((n) => ({ body: n })));
    const receiver = client.createReceiver(q);
    expect((await receiver.peekMessages(2)).map((m) => m.body)).toEqual([1, 2]);
    expect((await receiver.peekMessages(5)).map((m) => m.body)).toEqual([3, 4]);
    expect((await receiver.peekMessages(5, { fromSequenceNumber: Long.fromNumber(2) })).map((m) => m.body)).toEqual([2, 3, 4]);
    expect((await receive(receiver, 4)).map((m) => m.body)).toEqual([1, 2, 3, 4]);
  });

  it('settles through $management (update-disposition) when the receiving link is gone', async () => {
    const q = newQueue();
    await client.createSender(q).sendMessages({ body: 'orphan' });
    const first = client.createReceiver(q);
    const [message] = await receive(first, 1);
    await first.close();
    await client.createReceiver(q).completeMessage(message!);
    expect(await client.createReceiver(q).peekMessages(1)).toEqual([]);
  });
});

describe('scheduled messages', () => {
  it('returns sequence numbers, holds the messages until their time, and shows them as scheduled when peeked', async () => {
    const q = newQueue();
    const sender = client.createSender(q);
    const at = new Date(Date.now() + 2000);
    const numbers = await sender.scheduleMessages([{ body: 'later-1' }, { body: 'later-2' }], at);
    expect(numbers.map((n) => n.toNumber())).toEqual([1, 2]);
    const receiver = client.createReceiver(q);
    const peeked = await receiver.peekMessages(5);
    expect(peeked.map((m) => [m.body, m.state, m.scheduledEnqueueTimeUtc?.getTime()])).toEqual([
      ['later-1', 'scheduled', at.getTime()],
      ['later-2', 'scheduled', at.getTime()],
    ]);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    const got = await receive(receiver, 2, 4000);
    expect(got.map((m) => m.body)).toEqual(['later-1', 'later-2']);
    // Enqueued when activated, not when scheduled.
    expect(got[0]!.enqueuedTimeUtc!.getTime()).toBe(at.getTime());
    for (const m of got) await receiver.completeMessage(m);
  });

  it('cancelling a scheduled message means it is never delivered', async () => {
    const q = newQueue();
    const sender = client.createSender(q);
    const [keep, cancel] = await sender.scheduleMessages([{ body: 'keep' }, { body: 'cancel' }], new Date(Date.now() + 1500));
    await sender.cancelScheduledMessages(cancel!);
    const receiver = client.createReceiver(q);
    expect((await receive(receiver, 2, 3000)).map((m) => [m.body, m.sequenceNumber!.toNumber()])).toEqual([
      ['keep', keep!.toNumber()],
    ]);
  });

  it('a message sent with scheduledEnqueueTimeUtc waits for its time too', async () => {
    const q = newQueue();
    await client.createSender(q).sendMessages({ body: 'timed', scheduledEnqueueTimeUtc: new Date(Date.now() + 1500) });
    const receiver = client.createReceiver(q);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    expect((await receive(receiver, 1, 3000)).map((m) => m.body)).toEqual(['timed']);
  });
});

describe('the dead-letter queue', () => {
  it('holds a dead-lettered message with its reason and description, readable from <queue>/$DeadLetterQueue', async () => {
    const q = newQueue();
    await client.createSender(q).sendMessages({ body: { jobId: 'j1' }, messageId: 'j1' });
    const receiver = client.createReceiver(q);
    const [message] = await receive(receiver, 1);
    await receiver.deadLetterMessage(message!, {
      deadLetterReason: 'InvalidJob',
      deadLetterErrorDescription: 'recipients missing',
      extra: 'kept',
    });
    expect(await receiver.peekMessages(1)).toEqual([]);

    const dlq = client.createReceiver(q, { subQueueType: 'deadLetter' });
    const [dead] = await receive(dlq, 1);
    expect(dead).toMatchObject({
      messageId: 'j1',
      body: { jobId: 'j1' },
      deadLetterReason: 'InvalidJob',
      deadLetterErrorDescription: 'recipients missing',
      applicationProperties: { extra: 'kept' },
    });
    await dlq.completeMessage(dead!);
    expect(await dlq.peekMessages(1)).toEqual([]);
  });

  it('takes a message whose deliveries all failed (maxDeliveryCount) with reason MaxDeliveryCountExceeded', async () => {
    const q = newQueue({ maxDeliveryCount: 3 });
    await client.createSender(q).sendMessages({ body: 'poison', messageId: 'p' });
    const receiver = client.createReceiver(q);
    for (let attempt = 0; attempt < 3; attempt++) {
      const [m] = await receive(receiver, 1);
      expect(m!.deliveryCount).toBe(attempt);
      await receiver.abandonMessage(m!);
    }
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    const [dead] = await client.createReceiver(q, { subQueueType: 'deadLetter' }).peekMessages(1);
    expect(dead).toMatchObject({
      messageId: 'p',
      deliveryCount: 3,
      deadLetterReason: 'MaxDeliveryCountExceeded',
      deadLetterErrorDescription: 'Message could not be consumed after 3 delivery attempts.',
    });
  });

  it('counts an expired lock as a failed delivery too', async () => {
    const q = newQueue({ maxDeliveryCount: 1, lockDurationMs: 500 });
    await client.createSender(q).sendMessages({ body: 'crashed' });
    await receive(client.createReceiver(q, NO_AUTO_RENEWAL), 1);
    await sleep(900);
    const [dead] = await client.createReceiver(q, { subQueueType: 'deadLetter' }).peekMessages(1);
    expect(dead).toMatchObject({ body: 'crashed', deadLetterReason: 'MaxDeliveryCountExceeded' });
  });

  it('receives an expired message when dead-lettering on expiration is on (as infra sets it)', async () => {
    const q = newQueue();
    await client.createSender(q).sendMessages({ body: 'stale', timeToLive: 300 });
    await sleep(700);
    expect(await client.createReceiver(q).receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
    const [dead] = await client.createReceiver(q, { subQueueType: 'deadLetter' }).peekMessages(1);
    expect(dead).toMatchObject({ body: 'stale', deadLetterReason: 'TTLExpiredException' });
  });
});

function job(n: number, extra: Partial<SendJobV1> = {}): SendJobV1 {
  const batchId = 'b20261204';
  return {
    schema: SEND_JOB_SCHEMA_VERSION,
    jobId: `${batchId}.${n}`,
    batchId,
    from: '+18005550100',
    message: 'Your appointment is tomorrow at 10:00',
    recipients: [{ messageId: `${batchId}-${n}`, to: `+1425555${String(1000 + n)}` }],
    deliveryReport: true,
    attempt: 1,
    kind: 'message',
    ...extra,
  };
}

describe("the project's Service Bus adapters", () => {
  const settings = () => ({ kind: 'connectionString' as const, connectionString: sb.connectionString });

  it('ServiceBusOutboundQueue sends due jobs at once, schedules later ones, and a job enqueued twice arrives once', async () => {
    const q = newQueue();
    const outbound = new ServiceBusOutboundQueue(settings(), q);
    try {
      await outbound.ping();
      const later = job(2, { notBefore: new Date(Date.now() + 2000).toISOString() });
      await outbound.enqueue([job(0), job(1), later]);
      await outbound.enqueue([job(0)]); // a replay after a crash between "recorded" and "enqueued"

      const receiver = client.createReceiver(q);
      const now = await receive(receiver, 3, 600);
      expect(now.map((m) => m.messageId)).toEqual([job(0).jobId, job(1).jobId]);
      expect(now[0]).toMatchObject({
        body: job(0),
        contentType: 'application/json',
        applicationProperties: { schema: SEND_JOB_SCHEMA_VERSION, batchId: job(0).batchId },
      });
      const [scheduled] = await receive(receiver, 1, 3000);
      expect(scheduled).toMatchObject({ messageId: later.jobId, body: later });
      expect(scheduled!.scheduledEnqueueTimeUtc!.toISOString()).toBe(later.notBefore);
    } finally {
      await outbound.close();
    }
  });

  it('ServiceBusOutboundQueue reports a queue that is not there as the queue being unavailable', async () => {
    const outbound = new ServiceBusOutboundQueue(settings(), 'never-created');
    try {
      await expect(outbound.ping()).rejects.toBeInstanceOf(DependencyUnavailableError);
    } finally {
      await outbound.close().catch(() => undefined);
    }
  });

  it('ServiceBusDeadLetterQueue lists dead-lettered jobs with the reason Service Bus gave, every time it is asked, and removes the chosen ones', async () => {
    const q = newQueue({ maxDeliveryCount: 1 });
    await client
      .createSender(q)
      .sendMessages([0, 1, 2].map((n) => ({ body: job(n), messageId: job(n).jobId, contentType: 'application/json' })));
    const receiver = client.createReceiver(q);
    for (const m of await receive(receiver, 3)) await receiver.abandonMessage(m);

    const dlq = new ServiceBusDeadLetterQueue(settings(), q);
    const letters = await dlq.list(10);
    expect(letters.map((l) => [l.id, l.jobId, l.batchId, l.source])).toEqual([
      ['dlq-1', job(0).jobId, job(0).batchId, `${q}/$deadletterqueue`],
      ['dlq-2', job(1).jobId, job(1).batchId, `${q}/$deadletterqueue`],
      ['dlq-3', job(2).jobId, job(2).batchId, `${q}/$deadletterqueue`],
    ]);
    expect(letters[0]!.reason).toBe('MaxDeliveryCountExceeded: Message could not be consumed after 1 delivery attempts.');
    expect(JSON.parse(letters[0]!.body)).toEqual(job(0));
    // An operator looks twice: the second listing shows the same letters.
    expect((await dlq.list(10)).map((l) => l.id)).toEqual(['dlq-1', 'dlq-2', 'dlq-3']);

    await dlq.remove(['dlq-2']);
    expect((await dlq.list(10)).map((l) => l.id)).toEqual(['dlq-1', 'dlq-3']);
  });
});

describe('a Service Bus outage (goOffline / goOnline)', () => {
  it('the outbound queue reports it as the queue being unavailable and works again afterwards; the trigger picks up where it stopped', async () => {
    const own = await startServiceBusStandIn({ queues: [{ name: 'jobs' }] });
    process.env.SB_OUTAGE_CONNECTION = own.connectionString;
    const handled: string[] = [];
    const stop = startServiceBusTrigger(
      {
        name: 'sendSms',
        trigger: { type: 'serviceBusTrigger', queueName: 'jobs', connection: 'SB_OUTAGE_CONNECTION' },
        handler: (body) => void handled.push((body as SendJobV1).jobId),
      },
      serviceBusTriggerSettings(hostJson),
      () => undefined,
    );
    const outbound = new ServiceBusOutboundQueue({ kind: 'connectionString', connectionString: own.connectionString }, 'jobs');
    try {
      await outbound.enqueue([job(1)]);
      await until(() => handled.length === 1 && own.store.entity('jobs')!.size === 0); // handled and completed
      // At once: the sender still believes its link is up, waits out the send timeout (15 s), then finds
      // the connection refused — two attempts, which the SDK reports as one AggregateError.
      await own.goOffline();
      const started = Date.now();
      await expect(outbound.enqueue([job(2)])).rejects.toBeInstanceOf(DependencyUnavailableError);
      expect(Date.now() - started).toBeLessThan(30_000);
      await own.goOnline();
      await outbound.enqueue([job(3)]);
      await until(() => handled.includes(job(3).jobId), 60_000);
      expect(handled).toEqual([job(1).jobId, job(3).jobId]);
    } finally {
      await stop();
      await outbound.close().catch(() => undefined);
      await own.close();
    }
  });
});

describe('the local Service Bus trigger (host.json extensions.serviceBus)', () => {
  /** Starts the trigger on a fresh queue; the queue name and connection come from app settings, as in the host. */
  function start(
    queueOptions: Partial<QueueOptions>,
    handler: (body: unknown, context: { triggerMetadata?: Record<string, unknown> }) => unknown,
    settings: Partial<ReturnType<typeof serviceBusTriggerSettings>> = {},
  ) {
    const q = newQueue(queueOptions);
    process.env[`SB_TRIGGER_QUEUE_${q.replace(/\W/g, '_')}`] = q;
    process.env.SB_TRIGGER_CONNECTION = sb.connectionString;
    const lines: string[] = [];
    const stop = startServiceBusTrigger(
      {
        name: 'sendSms',
        trigger: {
          type: 'serviceBusTrigger',
          queueName: `%SB_TRIGGER_QUEUE_${q.replace(/\W/g, '_')}%`,
          connection: 'SB_TRIGGER_CONNECTION',
        },
        handler: handler as (...args: unknown[]) => unknown,
      },
      { ...serviceBusTriggerSettings(hostJson), ...settings },
      (line) => lines.push(line),
    );
    return { q, stop, lines };
  }

  async function eventually<T>(probe: () => Promise<T> | T, done: (value: T) => boolean, ms = 8000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (done(value) || Date.now() > deadline) return value;
      await sleep(100);
    }
  }

  it("reads the project's host.json", () => {
    expect(serviceBusTriggerSettings(hostJson)).toEqual({
      prefetchCount: 0,
      autoCompleteMessages: true,
      maxConcurrentCalls: 16,
      maxAutoLockRenewalDurationMs: 5 * 60_000,
      clientRetry: { mode: 'exponential', delayMs: 800, maxDelayMs: 60_000, maxRetries: 3, tryTimeoutMs: 60_000 },
    });
  });

  it('runs the function with the message body and its metadata, and completes the message when it succeeds', async () => {
    const calls: Array<{ body: unknown; metadata?: Record<string, unknown> }> = [];
    const { q, stop, lines } = start({}, (body, context) => {
      calls.push({ body, metadata: context.triggerMetadata });
    });
    try {
      await client.createSender(q).sendMessages({ body: job(7), messageId: job(7).jobId, contentType: 'application/json' });
      await eventually(
        () => calls.length,
        (n) => n === 1,
      );
      expect(calls[0]!.body).toEqual(job(7));
      // The keys and values of the WebJobs extension's binding data; DeliveryCount is 1 on the first
      // delivery, as .NET's ServiceBusReceivedMessage counts it (trigger.ts).
      const metadata = calls[0]!.metadata!;
      expect(metadata).toMatchObject({
        messageId: job(7).jobId,
        deliveryCount: 1,
        sequenceNumber: 1,
        contentType: 'application/json',
        applicationProperties: {},
        userProperties: {},
      });
      expect(metadata.lockToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(metadata.enqueuedTimeUtc).toBe(metadata.enqueuedTime);
      expect(Date.parse(String(metadata.enqueuedTimeUtc))).toBeGreaterThan(Date.now() - 60_000);
      expect(metadata.expiresAtUtc).toBe(metadata.expiresAt);
      await eventually(
        () => client.createReceiver(q).peekMessages(1),
        (m) => m.length === 0,
      );
      expect(await client.createReceiver(q).peekMessages(1)).toEqual([]);
      expect(lines.some((l) => /^Executed 'sendSms' \(Succeeded/.test(l))).toBe(true);
    } finally {
      await stop();
    }
  });

  it('abandons when the function throws, so Service Bus redelivers it and, after maxDeliveryCount, dead-letters it', async () => {
    const deliveries: unknown[] = [];
    const { q, stop, lines } = start({ maxDeliveryCount: 3 }, (_body, context) => {
      deliveries.push(context.triggerMetadata?.deliveryCount);
      throw new Error('Table Storage unreachable');
    });
    try {
      await client.createSender(q).sendMessages({ body: 'always fails' });
      const dead = await eventually(
        () => client.createReceiver(q, { subQueueType: 'deadLetter' }).peekMessages(1),
        (m) => m.length === 1,
      );
      expect(deliveries).toEqual([1, 2, 3]);
      expect(dead[0]).toMatchObject({ body: 'always fails', deadLetterReason: 'MaxDeliveryCountExceeded' });
      expect(lines.filter((l) => /^Executed 'sendSms' \(Failed/.test(l))).toHaveLength(3);
    } finally {
      await stop();
    }
  });

  it('renews the lock while a slow function runs, so the message is neither redelivered nor lost', async () => {
    let runs = 0;
    const { q, stop } = start({ lockDurationMs: 1200 }, async () => {
      runs++;
      await sleep(3000);
    });
    try {
      await client.createSender(q).sendMessages({ body: 'slow' });
      await eventually(
        () => client.createReceiver(q).peekMessages(1),
        (m) => m.length === 0 && runs > 0,
        10_000,
      );
      await sleep(500);
      expect(runs).toBe(1);
      expect(await client.createReceiver(q).peekMessages(1)).toEqual([]);
      expect(await client.createReceiver(q, { subQueueType: 'deadLetter' }).peekMessages(1)).toEqual([]);
    } finally {
      await stop();
    }
  });

  it('runs at most maxConcurrentCalls invocations at once', async () => {
    let running = 0;
    let most = 0;
    let done = 0;
    const { q, stop } = start(
      {},
      async () => {
        running++;
        most = Math.max(most, running);
        await sleep(200);
        running--;
        done++;
      },
      { maxConcurrentCalls: 2 },
    );
    try {
      await client.createSender(q).sendMessages([1, 2, 3, 4, 5, 6].map((n) => ({ body: n })));
      await eventually(
        () => done,
        (n) => n === 6,
      );
      expect(done).toBe(6);
      expect(most).toBe(2);
    } finally {
      await stop();
    }
  });

  it('with autoCompleteMessages off, leaves a successful message unsettled, so it comes back when its lock expires', async () => {
    const deliveries: unknown[] = [];
    const { q, stop } = start(
      { lockDurationMs: 600 },
      (_body, context) => {
        deliveries.push(context.triggerMetadata?.deliveryCount);
      },
      { autoCompleteMessages: false, maxAutoLockRenewalDurationMs: 0 },
    );
    try {
      await client.createSender(q).sendMessages({ body: 'not completed' });
      await eventually(
        () => deliveries.length,
        (n) => n >= 2,
      );
      expect(deliveries.slice(0, 2)).toEqual([1, 2]);
    } finally {
      await stop();
    }
  });
});
