// Answers to STOP, START and HELP, sent through the normal send path: a message record (visible at
// GET /api/messages/{id}), a send job on the outbound queue, pacing and the hand-over's
// exactly-once guarantees. The reply's batch id is derived from the inbound message id, so a
// redelivered inbound event finds the reply it already queued instead of queueing a second one.
import { createHash } from 'node:crypto';
import { analyzeMessage } from '../domain/encoding.js';
import { messageIdOf, newBatchId } from '../domain/ids.js';
import type { KeywordClass } from '../domain/keywords.js';
import { newMessageRecord } from '../domain/message.js';
import type { Sender } from '../domain/sender.js';
import { SEND_JOB_SCHEMA_VERSION, type SendJob } from '../domain/sendJob.js';
import type { StatusEventSink } from '../ports/events.js';
import type { MessageStore } from '../ports/messages.js';
import type { OutboundQueue } from '../ports/queue.js';
import type { Clock } from '../ports/runtime.js';

export interface ReplyDeps {
  messages: MessageStore;
  queue: OutboundQueue;
  clock: Clock;
  events: StatusEventSink;
}

/** The tag every automatic reply carries, for filtering and analytics. */
export const REPLY_TAG = 'auto-reply';
const KEYWORD_NAME: Record<KeywordClass, string> = { optOut: 'stop', optIn: 'start', help: 'help' };

/** The batch id of the reply to an inbound message: time-sortable like any other, and derived, not random. */
export function replyBatchId(inboundMessageId: string, receivedAt: Date): string {
  const digest = createHash('sha256').update(`sms-pipeline/reply/${inboundMessageId}`).digest();
  return newBatchId(receivedAt, digest.subarray(0, 8));
}

/**
 * Queues `text` from `sender` to `to` in answer to an inbound message. Returns the reply's message
 * id; queues nothing when that reply is already on its way or sent. A crash between the job and
 * the record queues the job again on the redelivery: the sender sends a message id once. A STOP confirmation goes as an
 * `optOutConfirmation` job: the one message the sender lets through to an opted-out recipient.
 */
export async function queueReply(
  deps: ReplyDeps,
  input: {
    inboundMessageId: string;
    receivedAt: Date;
    sender: Sender;
    to: string;
    text: string;
    keyword: KeywordClass;
    /** The app the inbound text is for: the reply is its message too. */
    app?: string;
  },
): Promise<{ messageId: string; queued: boolean }> {
  const batchId = replyBatchId(input.inboundMessageId, input.receivedAt);
  const messageId = messageIdOf(batchId, 0);
  // The job is queued before the record is written: a record means its job is on its way.
  if (await deps.messages.get(messageId)) return { messageId, queued: false };

  const analysis = analyzeMessage(input.text, { smartEncoding: true });
  const metadata = { inboundMessageId: input.inboundMessageId.slice(0, 256), reply: KEYWORD_NAME[input.keyword] };
  const job: SendJob = {
    schema: SEND_JOB_SCHEMA_VERSION,
    jobId: `${batchId}.0`,
    batchId,
    ...(input.app ? { app: input.app } : {}),
    from: input.sender.number,
    message: analysis.text,
    recipients: [{ messageId, to: input.to }],
    deliveryReport: true,
    tag: REPLY_TAG,
    metadata,
    attempt: 1,
    kind: input.keyword === 'optOut' ? 'optOutConfirmation' : 'message',
  };
  // Queue first, record second, as submit does: a job carries everything its record holds, so
  // the sender can create a missing record; a record without a job would never be sent.
  await deps.queue.enqueue([job]);

  const record = newMessageRecord(
    {
      messageId,
      batchId,
      ...(input.app ? { app: input.app } : {}),
      from: input.sender.number,
      to: input.to,
      body: analysis.text,
      analysis,
      tag: REPLY_TAG,
      metadata,
      deliveryReport: true,
      status: 'queued',
      reason: `automatic reply to ${KEYWORD_NAME[input.keyword].toUpperCase()}`,
    },
    deps.clock.now(),
  );
  await deps.messages.insertBatch([record]);
  await deps.events.statusChanged([record]);
  return { messageId, queued: true };
}
