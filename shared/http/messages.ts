// The messages resource: POST /api/messages (send), POST /api/messages/preview (dry run),
// GET and DELETE /api/messages/{id}. Its request and response contracts (zod: they validate the
// requests and are the source of the OpenAPI document), the views of use-case results, and the
// routes as the OpenAPI document describes them. The preview's answer is messagePreview.ts.
import { z } from 'zod';
import { APP_ID_PATTERN, appOf } from '../domain/apps.js';
import { DEFAULT_CATEGORY, MESSAGE_CATEGORIES } from '../domain/category.js';
import type { MessageRecord } from '../domain/message.js';
import { MESSAGE_STATUSES } from '../domain/messageStatus.js';
import { traceIdOf } from '../domain/traceContext.js';
import type { SubmitPlan } from '../pipeline/submitMessages.js';
import { continuationToken, pageLimit } from './common.js';
import { idempotencyKeyHeader } from './idempotency.js';
import { previewResponse, rejectedEntry, templateOf, templateUsed } from './messagePreview.js';
import { referenceSchema, submitMessagesBody } from './messageRequests.js';
import type { ApiRoute } from './route.js';

/** Largest request body the API reads, in bytes. */
export const MAX_BODY_BYTES = 256 * 1024;

export {
  MAX_MESSAGE_LENGTH,
  MAX_RECIPIENTS,
  submitMessagesBody,
  submitMessagesRequest,
  type SubmitMessagesBody,
} from './messageRequests.js';

export const messageStatusSchema = z.enum(MESSAGE_STATUSES);

export const acceptedMessage = z.object({
  messageId: z.string(),
  to: z.string(),
  from: z.string(),
  status: z.enum(['queued', 'scheduled', 'suppressed', 'expired']),
  segments: z.number().int(),
  encoding: z.enum(['GSM-7', 'UCS-2']),
  reference: z.string().optional(),
  scheduledAt: z.string().optional().describe('When it goes, when not at once (its own time, or moved out of quiet hours).'),
  reason: z.string().optional().describe("Why it starts as it does: an opt-out, the recipient's quiet hours, a frequency cap."),
});

export const submitMessagesResponse = z.object({
  batchId: z.string(),
  statusUrl: z.string().describe('Where to follow the batch.'),
  messages: z.array(acceptedMessage).describe('The accepted messages, in request order.'),
  rejected: z.array(rejectedEntry).describe('Invalid entries (only with partial: true).'),
  segments: z.number().int().optional().describe('Segments per message (one-text requests).'),
  encoding: z.enum(['GSM-7', 'UCS-2']).optional().describe('One-text requests.'),
  template: templateUsed.optional(),
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
  app: z
    .string()
    .describe('The app the message was sent for: the caller\'s app (docs/security.md "Apps"); "default" when none is named.'),
  from: z.string(),
  to: z.string(),
  status: messageStatusSchema,
  segments: z.number().int(),
  encoding: z.enum(['GSM-7', 'UCS-2']),
  tag: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  reference: z.string().optional(),
  template: templateUsed.optional(),
  category: z.enum(MESSAGE_CATEGORIES).describe('Its category (send rules): transactional, marketing or otp.'),
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

export const messageListQuery = z.object({
  reference: referenceSchema.describe('The reference you gave the messages (POST /api/messages).'),
  app: z
    .string()
    .regex(APP_ID_PATTERN, 'must be an app id: 1-64 letters, digits, _ . -')
    .optional()
    .describe(
      'Only the messages of this app. A caller confined to its own app (docs/security.md "Apps") sees only its own whatever this says.',
    ),
  limit: pageLimit(1000, 100),
  continuationToken,
});

export const messageListResponse = z.object({
  items: z.array(messageView).describe('The messages with the reference, oldest batch first.'),
  continuationToken: z.string().optional(),
});

// ---- Views ----

/** The API's view of a record: everything but the body and internal bookkeeping. */
export function toMessageView(record: MessageRecord): MessageView {
  return {
    messageId: record.messageId,
    batchId: record.batchId,
    app: appOf(record),
    from: record.from,
    to: record.to,
    status: record.status,
    segments: record.segments,
    encoding: record.encoding,
    ...(record.tag ? { tag: record.tag } : {}),
    ...(record.metadata ? { metadata: record.metadata } : {}),
    ...(record.reference ? { reference: record.reference } : {}),
    ...(record.template ? { template: record.template } : {}),
    category: record.category ?? DEFAULT_CATEGORY,
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
      status: (r.history[0]?.status ?? r.status) as 'queued' | 'scheduled' | 'suppressed' | 'expired',
      segments: r.segments,
      encoding: r.encoding,
      ...(r.reference ? { reference: r.reference } : {}),
      // A send rule decided its start (quiet hours, a frequency cap): when it goes, and why.
      ...(r.history[0]?.code && r.scheduledAt ? { scheduledAt: r.scheduledAt } : {}),
      ...(r.history[0]?.code && r.history[0].reason ? { reason: r.history[0].reason } : {}),
    })),
    rejected: plan.rejected,
    ...(plan.segments !== undefined ? { segments: plan.segments, encoding: plan.encoding! } : {}),
    ...templateOf(plan),
    ...(accepted.deferredUntil ? { deferredUntil: accepted.deferredUntil.toISOString() } : {}),
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
    path: '/api/messages',
    operationId: 'listMessages',
    summary: 'The messages of one of your references',
    description:
      'Every message given this reference (in any request), oldest batch first, a page at a time. One index range is read, never the whole table.',
    tags: ['messages'],
    auth: 'function',
    query: messageListQuery,
    responses: { '200': { description: 'A page of messages.', schema: messageListResponse } },
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
