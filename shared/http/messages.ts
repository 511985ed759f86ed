// The messages resource: POST /api/messages (send), POST /api/messages/preview (dry run),
// GET and DELETE /api/messages/{id}. Its request and response contracts (zod: they validate the
// requests and are the source of the OpenAPI document), the views of use-case results, and the
// routes as the OpenAPI document describes them.
import { z } from 'zod';
import { MAX_SCHEDULE_AHEAD_MS, type MessageRecord } from '../domain/message.js';
import { MESSAGE_STATUSES } from '../domain/messageStatus.js';
import { traceIdOf } from '../domain/traceContext.js';
import type { SubmitPlan } from '../pipeline/submitMessages.js';
import { metadataSchema, tagSchema } from './common.js';
import { idempotencyKeyHeader } from './idempotency.js';
import type { ApiRoute } from './route.js';

/** Recipients one request may name; the pipeline splits them into ACS requests of at most 100. */
export const MAX_RECIPIENTS = 1000;
export const MAX_MESSAGE_LENGTH = 2048;
/** Largest request body the API reads, in bytes. */
export const MAX_BODY_BYTES = 256 * 1024;

export const submitMessagesBody = z
  .object({
    to: z
      .union([
        z.string().describe('One recipient.'),
        z
          .array(z.string())
          .min(1, 'must list at least one recipient')
          .max(MAX_RECIPIENTS, `must list at most ${MAX_RECIPIENTS} recipients`),
      ])
      .describe(
        'E.164 number(s), e.g. "+14255550123". Spaces, dashes, parentheses and a missing "+" are tolerated; duplicates are sent once.',
      ),
    message: z
      .string()
      .min(1, 'must not be empty')
      .max(MAX_MESSAGE_LENGTH, `must be at most ${MAX_MESSAGE_LENGTH} characters`)
      .describe('The text. GSM-7 or UCS-2 is chosen automatically; see `segments` in the response.'),
    from: z
      .string()
      .min(1)
      .max(20)
      .optional()
      .describe('A sender of the configured pool. Without it, each recipient always gets the same number of the pool.'),
    tag: tagSchema.optional(),
    metadata: metadataSchema.optional(),
    deliveryReport: z.boolean().default(true).describe('Ask ACS for a delivery report (default true).'),
    scheduledAt: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-12-01T09:00:00Z' })
      .optional()
      .describe('Send no earlier than this (up to 35 days ahead).'),
    validFor: z
      .number()
      .int('must be a whole number of seconds')
      .min(5, 'must be at least 5 seconds')
      .max(MAX_SCHEDULE_AHEAD_MS / 1000, 'must be at most 35 days in seconds')
      .optional()
      .describe(
        'Seconds after scheduledAt (or now) by which the message must be handed to ACS, or it ends "expired" and is never sent.',
      ),
    smartEncoding: z
      .boolean()
      .default(true)
      .describe('Replace typographic characters with GSM-7 equivalents when that keeps the message in GSM-7 (default true).'),
    partial: z
      .boolean()
      .default(false)
      .describe('Accept the valid recipients and report the invalid ones instead of refusing the whole request.'),
  })
  .strict();

export type SubmitMessagesBody = z.output<typeof submitMessagesBody>;

export const messageStatusSchema = z.enum(MESSAGE_STATUSES);

export const acceptedMessage = z.object({
  messageId: z.string(),
  to: z.string(),
  from: z.string(),
  status: z.enum(['queued', 'scheduled', 'suppressed']),
  segments: z.number().int(),
  encoding: z.enum(['GSM-7', 'UCS-2']),
});

export const submitMessagesResponse = z.object({
  batchId: z.string(),
  statusUrl: z.string().describe('Where to follow the batch.'),
  messages: z.array(acceptedMessage),
  rejected: z.array(z.object({ to: z.string(), reason: z.string() })).describe('Invalid recipients (only with partial: true).'),
  segments: z.number().int().describe('Segments per message.'),
  encoding: z.enum(['GSM-7', 'UCS-2']),
  deferredUntil: z
    .string()
    .optional()
    .describe(
      'A budget is reached and SMS_BUDGET_WHEN_REACHED=queue: the messages are scheduled for the start of the period that takes them.',
    ),
});

export type SubmitMessagesResponse = z.infer<typeof submitMessagesResponse>;

export const statusChangeSchema = z.object({
  status: messageStatusSchema,
  at: z.string(),
  reason: z.string().optional(),
  code: z.string().optional(),
  codeSource: z
    .enum(['details', 'text', 'field'])
    .optional()
    .describe(
      'Where a delivery report code came from: "details" = a leading "<code>:" in ACS\'s deliveryStatusDetails, "text" = a published text recognised (e.g. "Sender blocked for given recipient." = 4007), "field" = a code property of its own. The raw details are in reason.',
    ),
  eventTime: z.string().optional(),
  deliveryAttempts: z
    .array(z.object({ timestamp: z.string(), segmentsSucceeded: z.number(), segmentsFailed: z.number() }))
    .optional(),
});

export const messageView = z.object({
  messageId: z.string(),
  batchId: z.string(),
  from: z.string(),
  to: z.string(),
  status: messageStatusSchema,
  segments: z.number().int(),
  encoding: z.enum(['GSM-7', 'UCS-2']),
  tag: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  scheduledAt: z.string().optional(),
  expiresAt: z.string().optional(),
  acsMessageId: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  traceId: z
    .string()
    .optional()
    .describe(
      'W3C trace id of the message: its submit, hand-over and delivery report are one trace in Application Insights (operation_Id); see docs/operations.md.',
    ),
  history: z.array(statusChangeSchema),
});

export type MessageView = z.infer<typeof messageView>;

export const previewRecipient = z.object({
  to: z.string().describe('The recipient, normalized to E.164.'),
  from: z.string().describe('The sender it would go out from.'),
  optedOut: z
    .boolean()
    .describe('The recipient opted out of that sender (or of every sender): it would be recorded as "suppressed", not sent.'),
  status: z.enum(['queued', 'scheduled', 'suppressed']).describe('The status the message would start in.'),
});

export const previewResponse = z.object({
  text: z.string().describe('The text as it would be sent, after smart encoding.'),
  textChanged: z.boolean().describe('Smart encoding replaced characters to keep the message in GSM-7.'),
  encoding: z.enum(['GSM-7', 'UCS-2']),
  segments: z.number().int().describe('Segments per message.'),
  recipients: z.array(previewRecipient).describe('One entry per distinct valid recipient, in request order.'),
  rejected: z
    .array(z.object({ to: z.string(), reason: z.string() }))
    .describe('Invalid recipients (they make a real submit fail unless partial is true).'),
  scheduledAt: z.string().optional(),
  expiresAt: z.string().optional(),
  totals: z.object({
    recipients: z.number().int(),
    sendable: z.number().int().describe('Recipients that would be sent to (not opted out).'),
    suppressed: z.number().int(),
    rejected: z.number().int(),
    segments: z.number().int().describe('Segments that would be sent in all: segments per message x sendable recipients.'),
  }),
});

export type PreviewResponse = z.infer<typeof previewResponse>;

// ---- Views ----

/** The API's view of a record: everything but the body and internal bookkeeping. */
export function toMessageView(record: MessageRecord): MessageView {
  return {
    messageId: record.messageId,
    batchId: record.batchId,
    from: record.from,
    to: record.to,
    status: record.status,
    segments: record.segments,
    encoding: record.encoding,
    ...(record.tag ? { tag: record.tag } : {}),
    ...(record.metadata ? { metadata: record.metadata } : {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.scheduledAt ? { scheduledAt: record.scheduledAt } : {}),
    ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
    ...(record.acsMessageId ? { acsMessageId: record.acsMessageId } : {}),
    ...(record.error ? { error: record.error } : {}),
    ...(traceIdOf(record.traceparent) ? { traceId: traceIdOf(record.traceparent)! } : {}),
    history: record.history,
  };
}

/** Where a batch is followed. */
export function batchUrl(batchId: string): string {
  return `/api/batches/${batchId}`;
}

/** The 202 answer to an accepted submit. */
export function submitResponse(accepted: {
  plan: SubmitPlan;
  records: readonly MessageRecord[];
  deferredUntil?: Date;
}): SubmitMessagesResponse {
  const { plan, records } = accepted;
  return {
    batchId: plan.batchId,
    statusUrl: batchUrl(plan.batchId),
    messages: records.map((r) => ({
      messageId: r.messageId,
      to: r.to,
      from: r.from,
      // The status it was accepted in, whatever happened since (a resumed batch answers from its records).
      status: (r.history[0]?.status ?? r.status) as 'queued' | 'scheduled' | 'suppressed',
      segments: r.segments,
      encoding: r.encoding,
    })),
    rejected: plan.rejected,
    segments: plan.segments,
    encoding: plan.encoding,
    ...(accepted.deferredUntil ? { deferredUntil: accepted.deferredUntil.toISOString() } : {}),
  };
}

/** The answer to a dry run: what a submit of `message` would do, as `plan` says. */
export function previewView(plan: SubmitPlan, message: string): PreviewResponse {
  const recipients = plan.recipients.map((r) => ({
    to: r.to,
    from: r.from.number,
    optedOut: r.optedOut,
    status: r.optedOut ? ('suppressed' as const) : plan.scheduledAt ? ('scheduled' as const) : ('queued' as const),
  }));
  const sendable = recipients.filter((r) => !r.optedOut).length;
  return {
    text: plan.text,
    textChanged: plan.text !== message,
    encoding: plan.encoding,
    segments: plan.segments,
    recipients,
    rejected: plan.rejected,
    ...(plan.scheduledAt ? { scheduledAt: plan.scheduledAt.toISOString() } : {}),
    ...(plan.expiresAt ? { expiresAt: plan.expiresAt.toISOString() } : {}),
    totals: {
      recipients: recipients.length,
      sendable,
      suppressed: recipients.length - sendable,
      rejected: plan.rejected.length,
      segments: sendable * plan.segments,
    },
  };
}

// ---- Routes ----

const IDEMPOTENT_REPLAYED = {
  description: 'Present ("true") when this is the stored response of an earlier request with the same Idempotency-Key.',
  schema: { type: 'string', const: 'true' },
};

export const messageRoutes: ApiRoute[] = [
  {
    method: 'post',
    path: '/api/messages',
    operationId: 'submitMessages',
    summary: 'Send a message to one or more recipients',
    description:
      'Validates the request, drops recipients who opted out (recorded as "suppressed"), records one message per recipient and queues ' +
      'them for sending. The answer comes before the hand-over to ACS; follow the batch or each message for its status. ' +
      'With an Idempotency-Key, a repeat of the same request within 24 hours returns the original response and sends nothing.',
    tags: ['messages'],
    auth: 'function',
    headers: [{ name: 'Idempotency-Key', required: false, schema: idempotencyKeyHeader }],
    requestBody: { schema: submitMessagesBody, description: `JSON, at most ${MAX_BODY_BYTES} bytes.` },
    responses: {
      '202': {
        description: 'Accepted: the messages are recorded and queued.',
        schema: submitMessagesResponse,
        headers: {
          Location: { description: 'The batch: GET it for the status of every message.', schema: { type: 'string' } },
          'Idempotent-Replayed': IDEMPOTENT_REPLAYED,
        },
      },
    },
    problems: [403, 409, 413, 415, 422, 429],
  },
  {
    method: 'post',
    path: '/api/messages/preview',
    operationId: 'previewMessages',
    summary: 'Dry-run a send: encoding, segments, senders and opt-outs, without sending',
    description: 'Takes the same body as POST /api/messages and answers what it would do. Nothing is sent, recorded or reserved.',
    tags: ['messages'],
    auth: 'function',
    requestBody: { schema: submitMessagesBody },
    responses: { '200': { description: 'What the send would do.', schema: previewResponse } },
    problems: [403, 413, 415],
  },
  {
    method: 'get',
    path: '/api/messages/{id}',
    operationId: 'getMessage',
    summary: 'A message with its status history',
    tags: ['messages'],
    auth: 'function',
    pathParams: { id: 'The message id, as POST /api/messages returned it.' },
    responses: { '200': { description: 'The message.', schema: messageView } },
    problems: [404],
  },
  {
    method: 'delete',
    path: '/api/messages/{id}',
    operationId: 'cancelMessage',
    summary: 'Cancel a message that has not been handed to ACS yet',
    description:
      'A message in status "queued" or "scheduled" becomes "canceled" and is never sent. Once it has been handed to ACS (or ended ' +
      'otherwise) it is too late: 409 names its status. Canceling a canceled message answers 200 again.',
    tags: ['messages'],
    auth: 'function',
    pathParams: { id: 'The message id.' },
    responses: { '200': { description: 'The message, now canceled.', schema: messageView } },
    problems: [404, 409],
  },
];
