// The Service Bus stand-in's queues, in memory: messages in sequence-number order, scheduled
// messages, peek-lock locks with their expiry, delivery counts, the dead-letter sub-queue, time to
// live and duplicate detection. No AMQP here; the links and the $management node call in.
//
// Behaviour follows the docs (MicrosoftDocs/azure-docs articles/service-bus-messaging/):
//  - service-bus-dead-letter-queues.md: "Whenever a message has been delivered under a peek-lock, but
//    has been either explicitly abandoned or the lock has expired, the delivery count on the message
//    is incremented. When the delivery count exceeds the limit, the message is moved to the DLQ" with
//    reason MaxDeliveryCountExceeded; expired messages go there as TTLExpiredException when dead-
//    lettering on expiration is on; a DLQ does not observe time to live, and a message cannot be
//    dead-lettered from a DLQ.
//  - service-bus-amqp-protocol-guide.md: the lock clock starts when the message is taken from the
//    entity; message-id is used for duplicate detection.
// The delivery count starts at 0 on the first delivery: the SDK's live tests expect deliveryCount 0
// on a first receive and 1 after an abandon (Azure/azure-sdk-for-js sdk/servicebus/service-bus/test,
// "abandon() retains message with incremented deliveryCount"), so "exceeds" is count >= max.
import { randomUUID } from 'node:crypto';
import type { Message } from 'rhea';
import { BICEP_QUEUE_DEFAULTS, Queue, type BrokeredMessage, type MessageEntity, type QueueOptions } from './entities.js';
import { Annotation } from './wire.js';

export type Settlement =
  | { kind: 'complete' }
  | { kind: 'abandon'; properties?: Record<string, unknown> }
  | { kind: 'deadLetter'; reason?: string; description?: string; properties?: Record<string, unknown> }
  | { kind: 'defer' };

export type SettleResult = 'settled' | 'lock-lost' | 'not-allowed' | 'not-implemented';

const SWEEP_INTERVAL_MS = 100;

export class QueueStore {
  private readonly queues = new Map<string, Queue>();
  private readonly locks = new Map<string, { entity: MessageEntity; sequenceNumber: number }>();
  private readonly timer: NodeJS.Timeout;
  private lastSweep: number;

  constructor(
    queues: readonly QueueOptions[],
    readonly now: () => number = Date.now,
  ) {
    for (const q of queues) this.addQueue(q);
    this.lastSweep = now();
    this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  addQueue(options: QueueOptions): Queue {
    const key = options.name.toLowerCase();
    const existing = this.queues.get(key);
    if (existing) return existing;
    const queue = new Queue({ ...BICEP_QUEUE_DEFAULTS, ...options });
    this.queues.set(key, queue);
    return queue;
  }

  queueNames(): string[] {
    return [...this.queues.values()].map((q) => q.settings.name);
  }

  /** "name" or "name/$DeadLetterQueue" (docs: `<queue path>/$deadletterqueue`; any casing). */
  entity(path: string): MessageEntity | undefined {
    const m = /^(.+?)(\/\$deadletterqueue)?$/i.exec(path.replace(/^\/+|\/+$/g, ''));
    const queue = m ? this.queues.get(m[1]!.toLowerCase()) : undefined;
    if (!queue) return undefined;
    return m?.[2] ? queue.deadLetterQueue : queue.active;
  }

  /** Enqueues a sent message; a message-id seen within the window is dropped, as the broker does. */
  send(entity: MessageEntity, message: Message): { sequenceNumber?: number; duplicate: boolean } {
    const now = this.now();
    const scheduled = message.message_annotations?.[Annotation.scheduledEnqueueTime] as Date | number | undefined;
    const at = scheduled === undefined ? now : new Date(scheduled).getTime();
    return this.enqueue(entity, message, Math.max(now, at));
  }

  schedule(entity: MessageEntity, message: Message, at: number): { sequenceNumber?: number; duplicate: boolean } {
    return this.enqueue(entity, message, Math.max(this.now(), at));
  }

  private enqueue(entity: MessageEntity, message: Message, enqueuedAt: number): { sequenceNumber?: number; duplicate: boolean } {
    const now = this.now();
    const { settings, seenMessageIds } = entity.queue;
    // "Every message in Azure Service Bus gets a message id"; the broker sets one (a GUID without
    // dashes) when the sender did not (Microsoft's maintainers in Azure/azure-service-bus-java#191 and
    // #69). The SDK relies on it: its lock renewer keys on messageId.
    if (message.message_id === undefined || message.message_id === null)
      message = { ...message, message_id: randomUUID().replaceAll('-', '') };
    const id = String(message.message_id);
    if (settings.requiresDuplicateDetection) {
      const seen = seenMessageIds.get(id);
      if (seen !== undefined && now - seen < settings.duplicateDetectionHistoryTimeWindowMs) return { duplicate: true };
      seenMessageIds.set(id, now);
    }
    // Time to live counts from the enqueued time: the message's own (header ttl), at most the queue's.
    const ttl =
      typeof message.ttl === 'number' && message.ttl > 0
        ? Math.min(message.ttl, settings.defaultMessageTimeToLiveMs)
        : settings.defaultMessageTimeToLiveMs;
    // A scheduled message's enqueued time is when it is activated ("For scheduled messages, this reflects
    // the time when the message was activated": Azure SDK for Java ServiceBusReceivedMessage.getEnqueuedTime).
    const stored = entity.add(message, { enqueuedAt, expiresAt: enqueuedAt + ttl, deliveryCount: 0 });
    if (enqueuedAt <= now) entity.notify();
    return { sequenceNumber: stored.sequenceNumber, duplicate: false };
  }

  /** Removes scheduled messages that have not been enqueued yet; other sequence numbers are ignored. */
  cancelScheduled(entity: MessageEntity, sequenceNumbers: readonly number[]): void {
    const now = this.now();
    for (const n of sequenceNumbers) {
      const m = entity.get(n);
      if (m && m.enqueuedAt > now) entity.delete(n);
    }
  }

  /** Peek-lock: takes the first receivable message under a new lock. */
  lock(entity: MessageEntity): BrokeredMessage | undefined {
    const now = this.now();
    const m = entity.firstAvailable(now);
    if (!m) return undefined;
    m.lock = { token: randomUUID(), until: now + entity.queue.settings.lockDurationMs };
    this.locks.set(m.lock.token, { entity, sequenceNumber: m.sequenceNumber });
    return m;
  }

  /** Receive-and-delete: the first receivable message leaves the queue as it is delivered. */
  take(entity: MessageEntity): BrokeredMessage | undefined {
    const m = entity.firstAvailable(this.now());
    if (m) entity.delete(m.sequenceNumber);
    return m;
  }

  private locked(token: string): { entity: MessageEntity; message: BrokeredMessage } | undefined {
    const held = this.locks.get(token);
    const message = held?.entity.get(held.sequenceNumber);
    if (!held || !message || message.lock?.token !== token) return undefined;
    if (message.lock.until <= this.now()) {
      this.expireLock(held.entity, message);
      return undefined;
    }
    return { entity: held.entity, message };
  }

  /** The new locked-until time, or undefined when the lock is lost. */
  renewLock(token: string): number | undefined {
    const held = this.locked(token);
    if (!held) return undefined;
    held.message.lock!.until = this.now() + held.entity.queue.settings.lockDurationMs;
    return held.message.lock!.until;
  }

  settle(token: string, settlement: Settlement): SettleResult {
    const held = this.locked(token);
    if (!held) return 'lock-lost';
    const { entity, message } = held;
    if (settlement.kind === 'defer') return 'not-implemented';
    if (settlement.kind === 'deadLetter' && entity.isDeadLetterQueue) return 'not-allowed';
    this.locks.delete(token);
    message.lock = undefined;
    switch (settlement.kind) {
      case 'complete':
        entity.delete(message.sequenceNumber);
        break;
      case 'abandon':
        if (settlement.properties) message.message = withApplicationProperties(message.message, settlement.properties);
        this.countFailedDelivery(entity, message);
        break;
      case 'deadLetter':
        this.deadLetter(entity, message, settlement.reason, settlement.description, settlement.properties);
        break;
    }
    return 'settled';
  }

  /** Messages from a sequence number on, in order, including locked and scheduled ones (as Service Bus peek does). */
  peek(entity: MessageEntity, fromSequenceNumber: number, count: number): BrokeredMessage[] {
    const now = this.now();
    return entity
      .all()
      .filter((m) => m.sequenceNumber >= fromSequenceNumber && (m.expiresAt > now || entity.isDeadLetterQueue))
      .slice(0, count);
  }

  /** Lock expiry, scheduled messages coming due, and time to live. */
  sweep(): void {
    const now = this.now();
    const since = this.lastSweep;
    this.lastSweep = now;
    for (const queue of this.queues.values()) {
      for (const entity of [queue.active, queue.deadLetterQueue]) {
        let available = false;
        for (const m of entity.all()) {
          if (m.lock && m.lock.until <= now) {
            this.expireLock(entity, m);
            available = true;
          } else if (!m.lock && m.expiresAt <= now && !entity.isDeadLetterQueue) {
            this.expire(entity, m);
          } else if (!m.lock && m.enqueuedAt > since && m.enqueuedAt <= now) {
            available = true;
          }
        }
        if (available) entity.notify();
      }
      for (const [id, at] of queue.seenMessageIds) {
        if (now - at >= queue.settings.duplicateDetectionHistoryTimeWindowMs) queue.seenMessageIds.delete(id);
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  private expireLock(entity: MessageEntity, message: BrokeredMessage): void {
    if (message.lock) this.locks.delete(message.lock.token);
    message.lock = undefined;
    this.countFailedDelivery(entity, message);
    entity.notify();
  }

  private countFailedDelivery(entity: MessageEntity, message: BrokeredMessage): void {
    message.deliveryCount++;
    const max = entity.queue.settings.maxDeliveryCount;
    if (!entity.isDeadLetterQueue && message.deliveryCount >= max) {
      // The docs give the reason; the description is the text brokers have been seen to write.
      this.deadLetter(
        entity,
        message,
        'MaxDeliveryCountExceeded',
        `Message could not be consumed after ${max} delivery attempts.`,
      );
    } else {
      entity.notify();
    }
  }

  private expire(entity: MessageEntity, message: BrokeredMessage): void {
    if (entity.queue.settings.deadLetteringOnMessageExpiration) {
      this.deadLetter(entity, message, 'TTLExpiredException', 'The message expired and was dead lettered.');
    } else {
      entity.delete(message.sequenceNumber);
    }
  }

  /**
   * Moves a message to the queue's dead-letter sub-queue. The reason and description travel as the
   * application properties DeadLetterReason / DeadLetterErrorDescription, which is where the SDK
   * reads them (serviceBusMessage.ts fromRheaMessage). In the DLQ it gets that entity's next
   * sequence number and is enqueued now; its delivery count carries over.
   */
  private deadLetter(
    entity: MessageEntity,
    message: BrokeredMessage,
    reason?: string,
    description?: string,
    properties?: Record<string, unknown>,
  ): void {
    entity.delete(message.sequenceNumber);
    const now = this.now();
    const reasons = {
      ...(reason !== undefined ? { DeadLetterReason: reason } : {}),
      ...(description !== undefined ? { DeadLetterErrorDescription: description } : {}),
    };
    const dlq = entity.queue.deadLetterQueue;
    dlq.add(withApplicationProperties(message.message, { ...properties, ...reasons }), {
      enqueuedAt: now,
      expiresAt: Number.POSITIVE_INFINITY,
      deliveryCount: message.deliveryCount,
    });
    dlq.notify();
  }
}

function withApplicationProperties(message: Message, properties: Record<string, unknown>): Message {
  return { ...message, application_properties: { ...(message.application_properties ?? {}), ...properties } };
}
