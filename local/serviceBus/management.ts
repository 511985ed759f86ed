// The $management node of a queue (and of its dead-letter queue) in the Service Bus stand-in: the
// request/response operations the SDK uses — renew-lock, peek-message, schedule-message,
// cancel-scheduled-message and update-disposition (how the SDK settles a message whose receive link
// is gone).
//
// Request and response forms are the docs' "AMQP 1.0 in Microsoft Azure Service Bus:
// request-response-based operations" (MicrosoftDocs/azure-docs articles/service-bus-messaging/
// service-bus-amqp-request-response.md): the operation in application property "operation", the
// arguments in an amqp-value map, the answer with application properties statusCode (int) and
// statusDescription, correlation-id = the request's message-id. Field encodings are the SDK's
// (Azure/azure-sdk-for-js sdk/servicebus/service-bus/src/core/managementClient.ts): lock tokens as an
// array of uuid, sequence numbers as an array of long, "messages" as a list of maps holding the
// wire-encoded message, and peek answering 204 when there is nothing more. A failed request carries
// its AMQP error condition in "errorCondition", which core-amqp's requestResponseLink.ts prefers over
// the status code when it translates the error.
import type { Message } from 'rhea';
import { outgoingMessage, settlementError } from './consumerLink.js';
import type { MessageEntity } from './entities.js';
import type { QueueStore, Settlement } from './queueStore.js';
import {
  Annotation,
  Condition,
  TypeCode,
  amqpArray,
  amqpInt,
  decodeMessage,
  encodeMessage,
  lockTokenFromUuid,
  longValue,
} from './wire.js';

type Body = Record<string, unknown>;

interface Answer {
  status: number;
  description: string;
  body?: Body;
  condition?: string;
}

const ok = (body?: Body): Answer => ({ status: 200, description: 'OK', ...(body ? { body } : {}) });
const fail = (status: number, condition: string, description: string): Answer => ({ status, condition, description });

/** Answers one request to `<entity>/$management`. */
export function handleManagementRequest(request: Message, entity: MessageEntity, store: QueueStore): Message {
  const operation = String(request.application_properties?.operation ?? '');
  const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Body;
  let answer: Answer;
  try {
    answer = operate(operation, body, entity, store);
  } catch (error) {
    answer = fail(400, Condition.argumentError, `${operation}: ${(error as Error).message}`);
  }
  return {
    correlation_id: request.message_id,
    application_properties: {
      statusCode: amqpInt(answer.status),
      statusDescription: answer.description,
      ...(answer.condition ? { errorCondition: answer.condition } : {}),
    },
    ...(answer.body ? { body: answer.body } : {}),
  } as Message;
}

function operate(operation: string, body: Body, entity: MessageEntity, store: QueueStore): Answer {
  switch (operation) {
    case 'com.microsoft:renew-lock':
      return renewLock(body, store);
    case 'com.microsoft:peek-message':
      return peek(body, entity, store);
    case 'com.microsoft:schedule-message':
      return schedule(body, entity, store);
    case 'com.microsoft:cancel-scheduled-message':
      store.cancelScheduled(entity, sequenceNumbers(body['sequence-numbers']));
      return ok();
    case 'com.microsoft:update-disposition':
      return updateDisposition(body, store);
    default:
      return fail(501, Condition.notImplemented, `The Service Bus stand-in does not implement '${operation}'.`);
  }
}

function lockTokens(value: unknown): string[] {
  const tokens = (Array.isArray(value) ? value : []).map(lockTokenFromUuid);
  if (tokens.length === 0 || tokens.some((t) => t === undefined)) throw new Error("'lock-tokens' must be an array of uuid");
  return tokens as string[];
}

function sequenceNumbers(value: unknown): number[] {
  const numbers = (Array.isArray(value) ? value : []).map(longValue);
  if (numbers.some((n) => n === undefined)) throw new Error("'sequence-numbers' must be an array of long");
  return numbers as number[];
}

function lockLost(): Answer {
  const error = settlementError('lock-lost');
  return fail(410, error.condition as string, error.description ?? 'lock lost');
}

function renewLock(body: Body, store: QueueStore): Answer {
  const expirations: Date[] = [];
  for (const token of lockTokens(body['lock-tokens'])) {
    const until = store.renewLock(token);
    if (until === undefined) return lockLost();
    expirations.push(new Date(until));
  }
  return ok({ expirations: amqpArray(expirations, TypeCode.timestamp) });
}

function peek(body: Body, entity: MessageEntity, store: QueueStore): Answer {
  const from = longValue(body['from-sequence-number']) ?? 1;
  const count = Number(body['message-count'] ?? 1);
  const now = store.now();
  const messages = store.peek(entity, from, Math.max(1, count));
  if (messages.length === 0) return { status: 204, description: 'No Content' };
  return ok({
    messages: messages.map((m) => ({
      message: encodeMessage(
        outgoingMessage(m, {
          ...(m.lock ? { lockedUntil: m.lock.until } : {}),
          // 2 = scheduled: what fromRheaMessage turns into state "scheduled" for a peeked message.
          ...(m.enqueuedAt > now ? { state: 2 } : {}),
        }),
      ),
    })),
  });
}

function schedule(body: Body, entity: MessageEntity, store: QueueStore): Answer {
  if (entity.isDeadLetterQueue) return fail(400, Condition.notAllowed, 'Messages cannot be scheduled on a dead-letter queue.');
  const entries = Array.isArray(body.messages) ? (body.messages as Body[]) : [];
  if (entries.length === 0) throw new Error("'messages' must be a non-empty list of maps");
  const numbers: number[] = [];
  for (const entry of entries) {
    if (!Buffer.isBuffer(entry.message)) throw new Error("each entry needs 'message', the wire-encoded message");
    const message = decodeMessage(entry.message);
    // The SDK puts the time in the message (serviceBusMessage.ts updateScheduledTime).
    const at = message.message_annotations?.[Annotation.scheduledEnqueueTime] as Date | number | undefined;
    if (at === undefined) throw new Error(`message '${String(entry['message-id'])}' has no ${Annotation.scheduledEnqueueTime}`);
    const result = store.schedule(entity, message, new Date(at).getTime());
    // A duplicate (duplicate detection) is dropped; 0 names no message, so cancelling it does nothing.
    numbers.push(result.sequenceNumber ?? 0);
  }
  return ok({ 'sequence-numbers': amqpArray(numbers, TypeCode.long) });
}

const DISPOSITIONS: Record<string, Settlement['kind']> = {
  completed: 'complete',
  abandoned: 'abandon',
  suspended: 'deadLetter',
  // The SDK spells it so (managementClient.ts updateDispositionStatus).
  defered: 'defer',
};

function updateDisposition(body: Body, store: QueueStore): Answer {
  const kind = DISPOSITIONS[String(body['disposition-status'])];
  if (!kind) throw new Error(`unknown disposition-status '${String(body['disposition-status'])}'`);
  const properties = (body['properties-to-modify'] ?? undefined) as Record<string, unknown> | undefined;
  const reason = body['deadletter-reason'];
  const description = body['deadletter-description'];
  const settlement: Settlement =
    kind === 'deadLetter'
      ? {
          kind,
          ...(typeof reason === 'string' ? { reason } : {}),
          ...(typeof description === 'string' ? { description } : {}),
          ...(properties ? { properties } : {}),
        }
      : kind === 'abandon'
        ? { kind, ...(properties ? { properties } : {}) }
        : { kind };
  for (const token of lockTokens(body['lock-tokens'])) {
    const result = store.settle(token, settlement);
    if (result === 'lock-lost') return lockLost();
    if (result !== 'settled') {
      const error = settlementError(result);
      return fail(result === 'not-allowed' ? 400 : 501, error.condition as string, error.description ?? result);
    }
  }
  return ok();
}
