// The HTTP API's request and response schemas. They validate requests and they are the source
// of the OpenAPI document: there is no second, hand-written copy.
import { z } from 'zod';
import { MESSAGE_STATUSES } from '../domain/messageStatus.js';

/** Recipients one request may name; the pipeline splits them into ACS requests of at most 100. */
export const MAX_RECIPIENTS = 1000;
export const MAX_MESSAGE_LENGTH = 2048;
/** Largest request body the API reads, in bytes. */
export const MAX_BODY_BYTES = 256 * 1024;
/** Messages can be scheduled up to this far ahead (Service Bus and ACS both allow it). */
export const MAX_SCHEDULE_AHEAD_MS = 35 * 24 * 3600_000;
export const MAX_METADATA_KEYS = 10;
export const MAX_METADATA_BYTES = 2048;

const tagSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits, _ . : -')
  .describe('Campaign or category, for analytics and filtering.');

const metadataSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'keys must be 1-40 letters, digits, _ . -'),
    z.string().max(256, 'values must be at most 256 characters'),
  )
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, `must have at most ${MAX_METADATA_KEYS} keys`)
  .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= MAX_METADATA_BYTES, `must be at most ${MAX_METADATA_BYTES} bytes as JSON`)
  .describe('Your own small string map, echoed in every status event of the message.');

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
      .describe('E.164 number(s), e.g. "+14255550123". Spaces, dashes, parentheses and a missing "+" are tolerated; duplicates are sent once.'),
    message: z
      .string()
      .min(1, 'must not be empty')
      .max(MAX_MESSAGE_LENGTH, `must be at most ${MAX_MESSAGE_LENGTH} characters`)
      .describe('The text. GSM-7 or UCS-2 is chosen automatically; see `segments` in the response.'),
    from: z.string().min(1).max(20).optional().describe('A sender of the configured pool. Without it, each recipient always gets the same number of the pool.'),
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
      .describe('Seconds after scheduledAt (or now) by which the message must be handed to ACS, or it ends "expired" and is never sent.'),
    smartEncoding: z.boolean().default(true).describe('Replace typographic characters with GSM-7 equivalents when that keeps the message in GSM-7 (default true).'),
    partial: z.boolean().default(false).describe('Accept the valid recipients and report the invalid ones instead of refusing the whole request.'),
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
});

export type SubmitMessagesResponse = z.infer<typeof submitMessagesResponse>;

export const statusChangeSchema = z.object({
  status: messageStatusSchema,
  at: z.string(),
  reason: z.string().optional(),
  code: z.string().optional(),
  eventTime: z.string().optional(),
  deliveryAttempts: z.array(z.object({ timestamp: z.string(), segmentsSucceeded: z.number(), segmentsFailed: z.number() })).optional(),
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
  history: z.array(statusChangeSchema),
});
