// The Service Bus transport without a Service Bus (no emulator can run here): how the adapter maps
// send jobs to messages and reads the dead-letter sub-queue, against fakes of the SDK's sender and
// receiver — the calls and messages Service Bus would receive.
import type { ServiceBusClient, ServiceBusMessage, ServiceBusMessageBatch, ServiceBusReceivedMessage } from '@azure/service-bus';
import { describe, expect, it } from 'vitest';
import { ServiceBusDeadLetterQueue } from '../../shared/adapters/servicebus/deadLetterQueue.js';
import { ServiceBusOutboundQueue, toServiceBusMessage } from '../../shared/adapters/servicebus/outboundQueue.js';
import { parseSendJob, SEND_JOB_SCHEMA_VERSION, type SendJobV1 } from '../../shared/domain/sendJob.js';
import { DependencyUnavailableError } from '../../shared/ports/errors.js';

const NOW = Date.parse('2026-11-25T10:00:00Z');
const settings = { kind: 'identity' as const, fullyQualifiedNamespace: 'sb-sms.servicebus.windows.net' };

function job(n: number, extra: Partial<SendJobV1> = {}): SendJobV1 {
  const batchId = 'b20261125';
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

/** Records what the SDK's sender is asked to do; a batch holds `batchCapacity` messages. */
class FakeSender {
  readonly sent: ServiceBusMessage[][] = [];
  readonly scheduled: Array<{ message: ServiceBusMessage; at: Date }> = [];
  failWith?: Error;
  constructor(private readonly batchCapacity = 100) {}
  async createMessageBatch(): Promise<ServiceBusMessageBatch> {
    const messages: ServiceBusMessage[] = [];
    const capacity = this.batchCapacity;
    return {
      get count() {
        return messages.length;
      },
      tryAddMessage(message: ServiceBusMessage) {
        if (messages.length >= capacity) return false;
        messages.push(message);
        return true;
      },
      _messages: messages,
    } as unknown as ServiceBusMessageBatch;
  }
  async sendMessages(batch: ServiceBusMessageBatch) {
    if (this.failWith) throw this.failWith;
    this.sent.push([...(batch as unknown as { _messages: ServiceBusMessage[] })._messages]);
  }
  async scheduleMessages(message: ServiceBusMessage, at: Date) {
    if (this.failWith) throw this.failWith;
    this.scheduled.push({ message, at });
    return [];
  }
  async close() {}
}

function queueWith(sender: FakeSender): { queue: ServiceBusOutboundQueue; createdFor: string[] } {
  const createdFor: string[] = [];
  const client = {
    createSender(name: string) {
      createdFor.push(name);
      return sender;
    },
    async close() {},
  } as unknown as ServiceBusClient;
  return {
    queue: new ServiceBusOutboundQueue(
      settings,
      'sms-outbound',
      async () => client,
      () => NOW,
    ),
    createdFor,
  };
}

describe('send job → Service Bus message', () => {
  it('uses the job id as message id, the job as JSON body, and no session or partition key', () => {
    const j = job(0, { tag: 'reminders', metadata: { appointment: '4711' } });
    const message = toServiceBusMessage(j);
    expect(message.messageId).toBe(j.jobId);
    expect(message.contentType).toBe('application/json');
    expect(message.body).toEqual(j);
    expect(message.applicationProperties).toEqual({ schema: 'sms.sendjob/1', batchId: j.batchId });
    // Pacing is a shared bucket, not sessions; the queue is not partitioned.
    expect(message.sessionId).toBeUndefined();
    expect(message.partitionKey).toBeUndefined();
    expect(message.scheduledEnqueueTimeUtc).toBeUndefined();
    expect(message.timeToLive).toBeUndefined(); // the queue's 40 days, then its dead-letter queue
  });

  it('delivers a body the sender parses back into the same job', () => {
    const j = job(1, { notBefore: '2026-11-25T11:00:00.000Z', expiresAt: '2026-11-25T12:00:00.000Z' });
    // The Service Bus trigger hands the function the deserialised JSON body.
    const received = JSON.parse(JSON.stringify(toServiceBusMessage(j).body)) as unknown;
    expect(parseSendJob(received)).toEqual({ ok: true, job: j });
  });

  it('gives the same job the same message id (duplicate detection drops a second copy), and a retry a new one', () => {
    const j = job(2);
    expect(toServiceBusMessage({ ...j }).messageId).toBe(toServiceBusMessage(j).messageId);
    const retry = { ...j, jobId: `${j.batchId}.a1b2c3d4e5f6`, attempt: 2 };
    expect(toServiceBusMessage(retry).messageId).not.toBe(toServiceBusMessage(j).messageId);
  });
});

describe('ServiceBusOutboundQueue.enqueue', () => {
  it('sends due jobs in batches and schedules later ones for their notBefore time', async () => {
    const sender = new FakeSender(2);
    const { queue, createdFor } = queueWith(sender);
    const later = job(3, { notBefore: new Date(NOW + 90_000).toISOString() });
    const past = job(4, { notBefore: new Date(NOW - 1000).toISOString() });
    await queue.enqueue([job(0), later, job(1), past, job(2)]);

    expect(createdFor).toEqual(['sms-outbound']);
    expect(sender.scheduled).toHaveLength(1);
    expect(sender.scheduled[0]!.message.messageId).toBe(later.jobId);
    expect(sender.scheduled[0]!.at.toISOString()).toBe(later.notBefore);
    // Due jobs (and one whose time has passed) go at once, two to a batch here.
    expect(sender.sent.map((b) => b.map((m) => m.messageId))).toEqual([
      [job(0).jobId, job(1).jobId],
      [past.jobId, job(2).jobId],
    ]);
  });

  it('reports Service Bus being unreachable as a dependency outage, so the caller retries', async () => {
    const sender = new FakeSender();
    sender.failWith = Object.assign(new Error('connection lost'), { code: 'ServiceCommunicationProblem', retryable: true });
    const { queue } = queueWith(sender);
    await expect(queue.enqueue([job(0)])).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('does nothing for no jobs', async () => {
    const sender = new FakeSender();
    const { queue, createdFor } = queueWith(sender);
    await queue.enqueue([]);
    expect(createdFor).toEqual([]);
  });
});

describe('ServiceBusDeadLetterQueue', () => {
  function deadLettered(seq: number, body: unknown, reason = 'MaxDeliveryCountExceeded'): ServiceBusReceivedMessage {
    return {
      body,
      messageId: `m${seq}`,
      sequenceNumber: { toString: () => String(seq) },
      enqueuedTimeUtc: new Date(NOW - seq * 1000),
      deadLetterReason: reason,
      deadLetterErrorDescription: 'Message could not be consumed after 10 delivery attempts.',
    } as unknown as ServiceBusReceivedMessage;
  }

  function dlqWith(messages: ServiceBusReceivedMessage[]) {
    const calls = {
      receivers: [] as Array<{ name: string; options: unknown }>,
      completed: [] as string[],
      abandoned: [] as string[],
    };
    const pending = [...messages];
    const receiver = {
      async peekMessages(max: number) {
        return messages.slice(0, max);
      },
      async receiveMessages(max: number) {
        return pending.splice(0, max);
      },
      async completeMessage(m: ServiceBusReceivedMessage) {
        calls.completed.push(String(m.messageId));
      },
      async abandonMessage(m: ServiceBusReceivedMessage) {
        calls.abandoned.push(String(m.messageId));
      },
      async close() {},
    };
    const client = {
      createReceiver(name: string, options: unknown) {
        calls.receivers.push({ name, options });
        return receiver;
      },
    } as unknown as ServiceBusClient;
    return { dlq: new ServiceBusDeadLetterQueue(settings, 'sms-outbound', async () => client), calls };
  }

  it('lists dead-lettered jobs with Service Bus reason, without taking them', async () => {
    const j = job(5);
    const { dlq, calls } = dlqWith([deadLettered(7, j), deadLettered(8, 'not json at all', 'TTLExpiredException')]);
    const letters = await dlq.list(10);
    expect(calls.receivers[0]).toEqual({
      name: 'sms-outbound',
      options: { subQueueType: 'deadLetter', receiveMode: 'peekLock' },
    });
    expect(letters[0]).toMatchObject({
      id: 'dlq-7',
      jobId: j.jobId,
      batchId: j.batchId,
      source: 'sms-outbound/$deadletterqueue',
      reason: 'MaxDeliveryCountExceeded: Message could not be consumed after 10 delivery attempts.',
    });
    expect(JSON.parse(letters[0]!.body)).toEqual(j);
    expect(letters[1]).toMatchObject({ id: 'dlq-8', body: 'not json at all' });
    expect(calls.completed).toEqual([]);
  });

  it('removes only the chosen ones and hands the others back', async () => {
    const { dlq, calls } = dlqWith([deadLettered(1, job(1)), deadLettered(2, job(2)), deadLettered(3, job(3))]);
    await dlq.remove(['dlq-2', 'poison-unrelated']);
    expect(calls.completed).toEqual(['m2']);
    expect(calls.abandoned.sort()).toEqual(['m1', 'm3']);
  });
});
