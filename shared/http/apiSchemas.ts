// Schemas of the HTTP API beyond the submit request (shared/http/schemas.ts): batches, cancel,
// preview, health, problem details, the Idempotency-Key header. They validate what the handlers
// read and they are the source of the OpenAPI document (shared/http/openapi.ts).
import { z } from 'zod';
import { MESSAGE_STATUSES } from '../domain/messageStatus.js';
import { messageStatusSchema, messageView } from './schemas.js';

/** Longest Idempotency-Key accepted (Stripe's limit, and plenty for a UUID or a hash). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** Printable ASCII: what an RFC 8941 sf-string may hold, and safe to log and compare. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7E]+$/;

export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(IDEMPOTENCY_KEY_MAX_LENGTH)
  .regex(IDEMPOTENCY_KEY_PATTERN)
  .describe(
    'A unique key per logical request (a UUID is recommended), 1-255 printable ASCII characters, bare or as an RFC 8941 string ("..."). ' +
      'The same key with the same body within 24 hours returns the original response (with Idempotent-Replayed: true) and sends nothing; ' +
      'with a different body it is a 422; while the first request is still running, a 409.',
  );

/** RFC 9457 problem details, as every 4xx/5xx of the API carries them. */
export const problemDetails = z
  .looseObject({
    type: z.string().describe('A stable URI naming the kind of problem; compare on it, not on the text.'),
    title: z.string().describe('A short summary of the kind of problem.'),
    status: z.number().int().describe('The HTTP status code.'),
    detail: z.string().describe('What went wrong with this request, in words.'),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ field: z.string().describe('JSON path of the field, e.g. "to[3]".'), message: z.string() }))
      .optional()
      .describe('Every field that is wrong (validation problems).'),
  })
  .describe(
    'RFC 9457 problem details. Extension members may appear, e.g. "dependency" on a 503, "messageStatus" on a 409 of a cancel.',
  );

export const healthResponse = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  checks: z.record(
    z.string(),
    z.object({ ok: z.boolean(), ms: z.number().describe('How long the check took.'), error: z.string().optional() }),
  ),
});

/** Largest page of GET /api/batches/{id}. */
export const MAX_BATCH_PAGE = 1000;
export const DEFAULT_BATCH_PAGE = 100;

/**
 * Query of GET /api/batches/{id}. Values arrive as strings, hence the coercion. Not strict: the
 * function key may come as ?code=, and unknown parameters are ignored.
 */
export const batchQuery = z.object({
  limit: z.coerce
    .number({ message: `must be a whole number from 1 to ${MAX_BATCH_PAGE}` })
    .int(`must be a whole number from 1 to ${MAX_BATCH_PAGE}`)
    .min(1, `must be a whole number from 1 to ${MAX_BATCH_PAGE}`)
    .max(MAX_BATCH_PAGE, `must be a whole number from 1 to ${MAX_BATCH_PAGE}`)
    .default(DEFAULT_BATCH_PAGE)
    .describe(`Messages per page, 1-${MAX_BATCH_PAGE} (default ${DEFAULT_BATCH_PAGE}).`),
  continuationToken: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe('The continuationToken of the previous page; absent for the first page.'),
});

/** A message as a batch lists it: the message view without its history (GET the message for that). */
export const batchMessageView = messageView.omit({ history: true });

/** How many messages of a batch are in each status: every status is present, most are 0. */
export const statusCounts = z.record(messageStatusSchema, z.number().int().min(0));

export const batchResponse = z.object({
  batchId: z.string(),
  total: z.number().int().min(0).describe('Messages in the batch (one per distinct valid recipient).'),
  counts: statusCounts.describe(`Messages per status for the whole batch, whatever the page: ${MESSAGE_STATUSES.join(', ')}.`),
  createdAt: z.string().describe('When the batch was accepted.'),
  messages: z.array(batchMessageView).describe('This page of messages, in message id order.'),
  continuationToken: z.string().optional().describe('Pass it as ?continuationToken= for the next page; absent on the last page.'),
});

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

export type BatchQuery = z.output<typeof batchQuery>;
export type BatchResponse = z.infer<typeof batchResponse>;
export type BatchMessageView = z.infer<typeof batchMessageView>;
export type PreviewResponse = z.infer<typeof previewResponse>;
