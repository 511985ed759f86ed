// The send job: the unit of work on the outbound queue. One sender, one text, one set of
// options and up to 100 recipients — exactly what one ACS request carries. Other apps may put
// jobs on the queue directly, so the schema is versioned, documented (docs/send-job.md) and
// validated as strictly as an HTTP body.
import { z } from 'zod';
import { EXTERNAL_BATCH_ID_PATTERN, MESSAGE_ID_PATTERN } from './ids.js';
import { isTraceparent } from './traceContext.js';

export const SEND_JOB_SCHEMA_VERSION = 'sms.sendjob/1';

const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2026-11-25T10:00:00Z' });

export const sendJobSchema = z
  .object({
    /** Schema id and version; a different major version is refused. */
    schema: z.literal(SEND_JOB_SCHEMA_VERSION, { message: `must be "${SEND_JOB_SCHEMA_VERSION}"` }),
    /** Unique per job (and per re-enqueued remainder); Service Bus duplicate detection keys on it. */
    jobId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 letters, digits, _ . : -'),
    /** The batch every recipient belongs to. */
    batchId: z.string().regex(EXTERNAL_BATCH_ID_PATTERN, 'must be 1-64 letters, digits or _'),
    /** Sender: one of the configured pool. */
    from: z.string().min(1).max(20),
    /** The text, already smart-encoded by whoever built the job. */
    message: z.string().min(1, 'must not be empty').max(2048, 'must be at most 2048 characters'),
    recipients: z
      .array(
        z
          .object({
            messageId: z.string().regex(MESSAGE_ID_PATTERN, 'must be "<batchId>-<index>"'),
            to: z.string().regex(/^\+[1-9]\d{7,14}$/, 'must be an E.164 number such as +14255550123'),
          })
          .strict(),
      )
      .min(1, 'must list at least one recipient')
      .max(100, 'must list at most 100 recipients (one ACS request)'),
    deliveryReport: z.boolean().default(true),
    tag: z.string().max(64).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    /** Not handed to ACS before this time. */
    notBefore: isoDate.optional(),
    /** Not handed to ACS after this time; such recipients end "expired". */
    expiresAt: isoDate.optional(),
    /** Which hand-over attempt this is, counting from 1. */
    attempt: z.number().int().min(1).max(1000).default(1),
    /** Marks an opt-out confirmation: the one message allowed to an opted-out recipient. */
    kind: z.enum(['message', 'optOutConfirmation']).default('message'),
    /** Pacing slot already reserved for this job (ISO time); a redelivery does not reserve again. */
    reservedAt: isoDate.optional(),
    /** Why the previous attempt failed, kept for the dead-letter reason. */
    lastError: z.string().max(1000).optional(),
    /**
     * W3C trace context of whoever enqueued the job (optional since sms.sendjob/1 began; jobs
     * without it are accepted as before): the send joins that trace. Kept by retries and splits.
     */
    traceparent: z
      .string()
      .max(55)
      .refine(isTraceparent, 'must be a W3C traceparent such as 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
      .optional(),
  })
  .strict()
  .superRefine((job, ctx) => {
    const seen = new Set<string>();
    job.recipients.forEach((r, i) => {
      if (!r.messageId.startsWith(`${job.batchId}-`)) {
        ctx.addIssue({
          code: 'custom',
          path: ['recipients', i, 'messageId'],
          message: `must start with the batch id "${job.batchId}-"`,
        });
      }
      if (seen.has(r.to)) ctx.addIssue({ code: 'custom', path: ['recipients', i, 'to'], message: 'appears twice in the job' });
      seen.add(r.to);
    });
  });

export type SendJob = z.output<typeof sendJobSchema>;
export type SendJobInput = z.input<typeof sendJobSchema>;

/** Parses a queue message body (object or JSON text) into a job, or says precisely what is wrong. */
export function parseSendJob(body: unknown): { ok: true; job: SendJob } | { ok: false; reason: string } {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return { ok: false, reason: 'queue message is not JSON' };
    }
  } else if (Buffer.isBuffer(body)) {
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return { ok: false, reason: 'queue message is not JSON' };
    }
  }
  const parsed = sendJobSchema.safeParse(value);
  if (parsed.success) return { ok: true, job: parsed.data };
  return {
    ok: false,
    reason: parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'job'}: ${i.message}`).join('; '),
  };
}
