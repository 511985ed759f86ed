// The Service Bus stand-in's AMQP vocabulary: the names, codes and encodings Service Bus uses on the
// wire, written down once with the Microsoft material each comes from, so the other files speak of
// queues and locks rather than of bytes.
//
// Sources (read with the search tool, quoted by path):
//  - docs "AMQP 1.0 in Azure Service Bus and Event Hubs protocol guide"
//    (MicrosoftDocs/azure-docs articles/service-bus-messaging/service-bus-amqp-protocol-guide.md):
//    the broker's message annotations, the header delivery-count, CBS.
//  - docs "AMQP 1.0 in Microsoft Azure Service Bus: request-response-based operations"
//    (articles/service-bus-messaging/service-bus-amqp-request-response.md): $management operations,
//    statusCode/statusDescription, "Lock tokens are the DeliveryTag property on received messages".
//  - the SDK that reads them, @azure/service-bus 7.9.5 (Azure/azure-sdk-for-js
//    sdk/servicebus/service-bus/src/serviceBusMessage.ts fromRheaMessage, util/utils.ts
//    reorderLockToken) and @azure/core-amqp 4.4.2 (src/util/constants.ts, src/errors.ts).
import rhea from 'rhea';
import type { AmqpError, Message } from 'rhea';

/** Message annotations Service Bus sets on the way out (protocol guide, "Message annotations"). */
export const Annotation = {
  sequenceNumber: 'x-opt-sequence-number',
  enqueuedTime: 'x-opt-enqueued-time',
  enqueueSequenceNumber: 'x-opt-enqueue-sequence-number',
  lockedUntil: 'x-opt-locked-until',
  scheduledEnqueueTime: 'x-opt-scheduled-enqueue-time',
  /** 0 active, 1 deferred, 2 scheduled: what fromRheaMessage maps to ServiceBusReceivedMessage.state. */
  messageState: 'x-opt-message-state',
} as const;

/** Error conditions the SDK translates into its error codes (core-amqp errors.ts ConditionErrorNameMapper). */
export const Condition = {
  notFound: 'amqp:not-found',
  unauthorized: 'amqp:unauthorized-access',
  notAllowed: 'amqp:not-allowed',
  notImplemented: 'amqp:not-implemented',
  internal: 'amqp:internal-error',
  messageSizeExceeded: 'amqp:link:message-size-exceeded',
  messageLockLost: 'com.microsoft:message-lock-lost',
  messageNotFound: 'com.microsoft:message-not-found',
  argumentError: 'com.microsoft:argument-error',
  /** The rejected outcome's error condition that means "dead-letter" (core-amqp constants deadLetterName). */
  deadLetter: 'com.microsoft:dead-letter',
} as const;

/** The AMQP message format of a batch: SDK messageSender.ts sends ServiceBusMessageBatch with 0x80013700. */
export const BATCH_MESSAGE_FORMAT = 0x80013700;

/** The Standard tier's maximum message size (256 KB), announced as max-message-size on attach; the SDK sizes batches by it. */
export const STANDARD_MAX_MESSAGE_SIZE = 256 * 1024;

/**
 * The delivery tag that carries a lock token. Service Bus writes the GUID in .NET byte order and the
 * SDK undoes it (reorderLockToken swaps bytes 0-3, 4-5 and 6-7) before uuid_to_string, so the
 * lock token the SDK shows is the token the broker holds.
 */
export function lockTokenToDeliveryTag(lockToken: string): Buffer {
  const b = Buffer.from(rhea.string_to_uuid(lockToken));
  return Buffer.from([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8)]);
}

/** A lock token as $management requests carry it: an AMQP uuid, which rhea decodes to its 16 bytes. */
export function lockTokenFromUuid(value: unknown): string | undefined {
  if (Buffer.isBuffer(value) && value.length === 16) return rhea.uuid_to_string(value);
  if (typeof value === 'string') return value.toLowerCase();
  return undefined;
}

/** An AMQP long as rhea decodes it: a number when it fits, else the 8 big-endian bytes. */
export function longValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE());
  return undefined;
}

/** A whole AMQP message on the wire, as the $management body fields "message" carry it (array of byte). */
export function encodeMessage(message: Message): Buffer {
  return rhea.message.encode(message);
}

export function decodeMessage(bytes: Buffer): Message {
  // rhea's typings give decode() a looser Message type than the one its links carry; it is the same object.
  return rhea.message.decode(bytes) as unknown as Message;
}

/**
 * The messages in a transfer: one, or for a batch (format 0x80013700) each data section of the
 * envelope holds one encoded message (SDK serviceBusMessageBatch.ts _generateBatch).
 */
export function messagesOfTransfer(payload: Message | Buffer, format: number | undefined): Message[] {
  if (!Buffer.isBuffer(payload)) return [payload];
  if (format !== BATCH_MESSAGE_FORMAT) throw new Error(`unsupported message format ${String(format)}`);
  const envelope = decodeMessage(payload);
  const body = envelope.body as { content?: unknown } | undefined;
  const sections = Array.isArray(body?.content) ? body.content : body?.content ? [body.content] : [];
  return sections.map((section) => decodeMessage(Buffer.from(section as Buffer)));
}

export function amqpError(condition: string, description: string, info?: Record<string, unknown>): AmqpError {
  return { condition, description, ...(info ? { info } : {}) } as AmqpError;
}

// Delivery outcomes. rhea defines them (lib/message.js define_outcome) but its typings do not list
// them; a disposition carries them in described form.
type OutcomeFactory = (fields?: Record<string, unknown>) => { described(): unknown };
const outcomes = rhea.message as unknown as { accepted: OutcomeFactory; rejected: OutcomeFactory; modified: OutcomeFactory };

/** The outcome that confirms a settlement: complete → accepted, abandon/defer → modified, dead-letter → rejected (no error). */
export function confirmedOutcome(settlement: { kind: 'complete' | 'abandon' | 'deadLetter' | 'defer' }): unknown {
  if (settlement.kind === 'complete') return outcomes.accepted().described();
  if (settlement.kind === 'deadLetter') return outcomes.rejected().described();
  return outcomes.modified({ delivery_failed: true, undeliverable_here: settlement.kind === 'defer' }).described();
}

export function rejectedOutcome(error: AmqpError): unknown {
  return outcomes.rejected({ error }).described();
}

/** An AMQP int: statusCode is an int in the request-response docs (rhea would pick uint for 200). */
export function amqpInt(n: number): unknown {
  return rhea.types.wrap_int(n);
}

export function amqpLong(n: number): unknown {
  return rhea.types.wrap_long(n);
}

export function amqpArray(values: unknown[], typecode: number): unknown {
  return rhea.types.wrap_array(values, typecode, undefined);
}

/** AMQP type codes for arrays in $management responses. */
export const TypeCode = { long: 0x81, timestamp: 0x83, uuid: 0x98 } as const;
