// The broker's end of a receiver link: hands out messages against the link credit the client
// grants, answers a drain, and turns the client's dispositions into complete / abandon /
// dead-letter on the queue store, settling each one so the SDK's settle call returns.
//
// As the protocol guide describes it (MicrosoftDocs/azure-docs articles/service-bus-messaging/
// service-bus-amqp-protocol-guide.md, "Receive", "Multi-message receive"): a flow with link-credit
// lets Service Bus lock and transfer that many messages, unsettled in peek-lock; the transfer's
// delivery tag is the lock token. The SDK's settle calls (receivers/receiverCommon.ts,
// core/messageReceiver.ts settleMessage) send: complete = accepted; abandon = modified with
// undeliverable-here false and the properties to modify as message annotations; defer = modified
// with undeliverable-here true; dead-letter = rejected with error condition com.microsoft:dead-letter
// and info {DeadLetterReason, DeadLetterErrorDescription, ...}. The receiver link uses
// rcv-settle-mode second, so the SDK waits for the broker to settle (core/shared.ts
// onMessageSettled) and turns an error in the broker's outcome into its error (lock lost →
// MessageLockLost).
import { randomUUID } from 'node:crypto';
import type { AmqpError, EventContext, Message, Sender } from 'rhea';
import type { BrokeredMessage, MessageEntity } from './entities.js';
import type { QueueStore, Settlement } from './queueStore.js';
import { Annotation, Condition, amqpError, amqpLong, confirmedOutcome, lockTokenToDeliveryTag, rejectedOutcome } from './wire.js';

/** The message as the broker transfers it: the sender's message plus the broker's annotations and delivery count. */
export function outgoingMessage(m: BrokeredMessage, options: { lockedUntil?: number; state?: number } = {}): Message {
  const annotations: Record<string, unknown> = {
    ...(m.message.message_annotations ?? {}),
    [Annotation.sequenceNumber]: amqpLong(m.sequenceNumber),
    [Annotation.enqueuedTime]: new Date(m.enqueuedAt),
  };
  if (options.lockedUntil !== undefined) annotations[Annotation.lockedUntil] = new Date(options.lockedUntil);
  if (options.state !== undefined) annotations[Annotation.messageState] = options.state;
  return { ...m.message, message_annotations: annotations, delivery_count: m.deliveryCount };
}

/**
 * rhea internals this file needs, which its typings do not declare: the link's credit bookkeeping
 * (lib/link.js Sender) and the session's outgoing delivery buffer (lib/session.js Outgoing).
 */
interface RheaSenderInternals {
  credit: number;
  delivery_count: number;
  _draining: boolean;
  _drained: boolean;
  _get_drain(): boolean;
  session: { outgoing: { next_pending_delivery: number; available(): number } };
}

export class ConsumerLink {
  private readonly internals: RheaSenderInternals;
  /** Deliveries handed to rhea but not yet transferred: they already count against the credit. */
  private unsent: number[] = [];
  /** Delivery id → lock token, for the dispositions to come. */
  private readonly lockTokens = new Map<number, string>();
  private readonly stopListening: () => void;
  private closed = false;

  constructor(
    private readonly sender: Sender,
    private readonly entity: MessageEntity,
    private readonly store: QueueStore,
    private readonly mode: 'peekLock' | 'receiveAndDelete',
  ) {
    this.internals = sender as unknown as RheaSenderInternals;
    // A drain must be answered with a flow carrying drain=true and no credit left, even when the
    // credit was used up by transfers in the same turn; rhea only echoes drain while credit remains,
    // and the SDK closes a receiver whose drain is never answered (core/batchingReceiver.ts).
    this.internals._get_drain = function (this: RheaSenderInternals) {
      if (!this._draining || !this._drained) return false;
      this.delivery_count += this.credit;
      this.credit = 0;
      this._draining = false;
      return true;
    };
    sender.on('sender_flow', () => this.pump());
    sender.on('sendable', () => this.pump());
    for (const outcome of ['accepted', 'modified', 'rejected', 'released'])
      sender.on(outcome, (context: EventContext) => this.settle(context));
    sender.on('sender_close', () => this.close());
    this.stopListening = entity.onAvailable(() => this.pump());
  }

  /** Locks and transfers as many messages as the credit allows; then answers a pending drain. */
  pump(): void {
    if (this.closed || !this.sender.is_open()) return;
    const outgoing = this.internals.session.outgoing;
    this.unsent = this.unsent.filter((id) => id >= outgoing.next_pending_delivery);
    let credit = this.internals.credit - this.unsent.length;
    while (credit > 0 && outgoing.available() > 0) {
      const m = this.mode === 'peekLock' ? this.store.lock(this.entity) : this.store.take(this.entity);
      if (!m) break;
      const delivery = m.lock
        ? this.sender.send(outgoingMessage(m, { lockedUntil: m.lock.until }), lockTokenToDeliveryTag(m.lock.token))
        : this.sender.send(outgoingMessage(m), Buffer.from(randomUUID().replaceAll('-', ''), 'hex'));
      if (m.lock) this.lockTokens.set(delivery.id, m.lock.token);
      this.unsent.push(delivery.id);
      credit--;
    }
    if (this.internals._draining) this.sender.set_drained(true);
  }

  private settle(context: EventContext): void {
    const delivery = context.delivery;
    const token = delivery ? this.lockTokens.get(delivery.id) : undefined;
    if (!delivery || !token) return;
    this.lockTokens.delete(delivery.id);
    const state = delivery.remote_state as Record<string, unknown> | undefined;
    const settlement = settlementOf(state);
    const result = this.store.settle(token, settlement);
    // The broker settles with the outcome it applied. An error in that outcome is what makes the SDK
    // fail the settle call (core/shared.ts onMessageSettled), so a dead-letter is confirmed as
    // "rejected" without the client's error, and only a failure carries one.
    const outcome = result === 'settled' ? confirmedOutcome(settlement) : rejectedOutcome(settlementError(result));
    delivery.update(true, outcome);
    // In rcv-settle-mode second the client settles after us without sending a frame, so rhea would
    // keep this delivery in the session's buffer forever (2048 slots); mark it done on both ends.
    (delivery as unknown as { remote_settled: boolean }).remote_settled = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopListening();
    // Locks stay until they expire, as in Service Bus: the SDK may still settle through $management.
  }
}

function settlementOf(state: Record<string, unknown> | undefined): Settlement {
  const kind = (state?.constructor as { composite_type?: string } | undefined)?.composite_type;
  if (kind === 'accepted') return { kind: 'complete' };
  if (kind === 'modified') {
    if (state?.undeliverable_here === true) return { kind: 'defer' };
    const properties = state?.message_annotations as Record<string, unknown> | undefined;
    return { kind: 'abandon', ...(properties && Object.keys(properties).length > 0 ? { properties } : {}) };
  }
  if (kind === 'rejected') {
    const error = state?.error as AmqpError | undefined;
    if (error?.condition === Condition.deadLetter) {
      const { DeadLetterReason, DeadLetterErrorDescription, ...properties } = (error.info ?? {}) as Record<string, unknown>;
      return {
        kind: 'deadLetter',
        ...(typeof DeadLetterReason === 'string' ? { reason: DeadLetterReason } : {}),
        ...(typeof DeadLetterErrorDescription === 'string' ? { description: DeadLetterErrorDescription } : {}),
        ...(Object.keys(properties).length > 0 ? { properties } : {}),
      };
    }
  }
  // released, or rejected for another reason: an unsuccessful delivery (protocol guide: "repeated
  // rejections or releases" count towards the maximum delivery count).
  return { kind: 'abandon' };
}

/** The error a failed settlement carries back; its condition decides the SDK's error code. */
export function settlementError(result: 'lock-lost' | 'not-allowed' | 'not-implemented'): AmqpError {
  if (result === 'lock-lost') {
    return amqpError(
      Condition.messageLockLost,
      'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
    );
  }
  if (result === 'not-allowed')
    return amqpError(Condition.notAllowed, 'A message in a dead-letter queue cannot be dead-lettered.');
  return amqpError(Condition.notImplemented, 'Deferring messages is not implemented by the Service Bus stand-in.');
}
