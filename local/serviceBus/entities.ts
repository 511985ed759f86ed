// The Service Bus stand-in's entities: a queue with its settings (by default those
// infra/modules/servicebus.bicep gives the outbound queue) and the two message entities it holds, the
// queue itself and its dead-letter sub-queue, each with its own sequence numbers. The rules that move
// messages between them are in queueStore.ts.
import type { Message } from 'rhea';

export interface QueueOptions {
  name: string;
  lockDurationMs?: number;
  maxDeliveryCount?: number;
  requiresDuplicateDetection?: boolean;
  duplicateDetectionHistoryTimeWindowMs?: number;
  defaultMessageTimeToLiveMs?: number;
  deadLetteringOnMessageExpiration?: boolean;
}

export type QueueSettings = Required<QueueOptions>;

const DAY_MS = 24 * 3600 * 1000;

/** The outbound queue as infra/modules/servicebus.bicep creates it (lockDuration PT1M, maxDeliveryCount 10, duplicate detection P1D, TTL P40D, dead-lettering on expiration). */
export const BICEP_QUEUE_DEFAULTS: Omit<QueueSettings, 'name'> = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  requiresDuplicateDetection: true,
  duplicateDetectionHistoryTimeWindowMs: DAY_MS,
  defaultMessageTimeToLiveMs: 40 * DAY_MS,
  deadLetteringOnMessageExpiration: true,
};

export interface BrokeredMessage {
  readonly sequenceNumber: number;
  /** The message as the sender sent it; the broker's annotations are added on the way out. */
  message: Message;
  /** When it is enqueued and may be delivered; for a scheduled message, the scheduled time (until then it is "scheduled"). */
  readonly enqueuedAt: number;
  readonly expiresAt: number;
  deliveryCount: number;
  lock?: { token: string; until: number };
}

/** A queue or its dead-letter sub-queue: both are entities with their own sequence numbers. */
export class MessageEntity {
  private readonly messages = new Map<number, BrokeredMessage>();
  private lastSequenceNumber = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly path: string,
    readonly queue: Queue,
    readonly isDeadLetterQueue: boolean,
  ) {}

  add(message: Message, fields: Omit<BrokeredMessage, 'sequenceNumber' | 'message'>): BrokeredMessage {
    const stored: BrokeredMessage = { sequenceNumber: ++this.lastSequenceNumber, message, ...fields };
    this.messages.set(stored.sequenceNumber, stored);
    return stored;
  }

  get(sequenceNumber: number): BrokeredMessage | undefined {
    return this.messages.get(sequenceNumber);
  }

  delete(sequenceNumber: number): void {
    this.messages.delete(sequenceNumber);
  }

  /** Messages in sequence-number order (a Map keeps insertion order, and numbers only grow). */
  all(): BrokeredMessage[] {
    return [...this.messages.values()];
  }

  get size(): number {
    return this.messages.size;
  }

  firstAvailable(now: number): BrokeredMessage | undefined {
    for (const m of this.messages.values()) if (!m.lock && m.enqueuedAt <= now && m.expiresAt > now) return m;
    return undefined;
  }

  /** Called whenever a message may have become receivable. */
  onAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

export class Queue {
  readonly active: MessageEntity;
  readonly deadLetterQueue: MessageEntity;
  /** message-id → when it was first accepted, for duplicate detection. */
  readonly seenMessageIds = new Map<string, number>();

  constructor(readonly settings: QueueSettings) {
    this.active = new MessageEntity(settings.name, this, false);
    this.deadLetterQueue = new MessageEntity(`${settings.name}/$DeadLetterQueue`, this, true);
  }
}
