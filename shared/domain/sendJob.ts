// The send job: the unit of work on the outbound queue. One sender, one set of options and up to
// 100 recipients. Version 1 carries one text for all of them — exactly what one ACS request
// carries; version 2 gives each recipient its own text (and reference and metadata), and the sender
// makes one ACS request per distinct text. Other apps may put jobs on the queue directly, so the
// schema is versioned, documented (docs/send-job.md) and validated as strictly as an HTTP body;
// both versions are accepted.
import { z } from 'zod';
import { EXTERNAL_BATCH_ID_PATTERN, MESSAGE_ID_PATTERN } from './ids.js';
import { REFERENCE_PATTERN } from './message.js';
import { TEMPLATE_NAME_PATTERN, type TemplateRef } from './template.js';
import { isTraceparent } from './traceContext.js';

export const SEND_JOB_SCHEMA_VERSION = 'sms.sendjob/1';
/** Per-recipient texts. */
export const SEND_JOB_SCHEMA_V2 = 'sms.sendjob/2';

/**
 * Largest JSON text of a job the pipeline makes. A Storage queue message is at most 64 KiB and
 * the Functions trigger wants it base64-encoded (4 bytes for 3), so 48 KiB of JSON; this leaves
 * room for what a retry adds (lastError, reservedAt). Service Bus standard allows 256 KB.
 */
export const MAX_JOB_BYTES = 45_000;

const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2026-11-25T10:00:00Z' });
const e164 = z.string().regex(/^\+[1-9]\d{7,14}$/, 'must be an E.164 number such as +14255550123');
const text = z.string().min(1, 'must not be empty').max(2048, 'must be at most 2048 characters');
const metadata = z.record(z.string(), z.string());

/** What both versions share. */
const common = {
  /** Unique per job (and per re-enqueued remainder); Service Bus duplicate detection keys on it. */
  jobId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 letters, digits, _ . : -'),
  /** The batch every recipient belongs to. */
  batchId: z.string().regex(EXTERNAL_BATCH_ID_PATTERN, 'must be 1-64 letters, digits or _'),
  /**
   * The app the messages are sent for (docs/security.md "Apps"): recorded on their records and in
   * their events; "default" when absent. Whoever can write to the queue is trusted to name it.
   */
  app: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, _ . -')
    .optional(),
  /** Sender: one of the configured pool. */
  from: z.string().min(1).max(20),
  deliveryReport: z.boolean().default(true),
  tag: z.string().max(64).optional(),
  /** Version 1: every recipient's; version 2: a recipient's unless it has its own. */
  metadata: metadata.optional(),
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
};

const recipientV1 = z
  .object({
    messageId: z.string().regex(MESSAGE_ID_PATTERN, 'must be "<batchId>-<index>"'),
    to: e164,
  })
  .strict();

const recipientV2 = recipientV1
  .extend({
    /** The text as it is sent (already rendered and smart-encoded by whoever built the job). */
    text,
    /** The app's own id of the message, echoed in its events. */
    reference: z.string().regex(REFERENCE_PATTERN, 'must be 1-128 printable ASCII characters without spaces').optional(),
    metadata: metadata.optional(),
  })
  .strict();

const recipientsOf = <T extends z.ZodType>(recipient: T) =>
  z.array(recipient).min(1, 'must list at least one recipient').max(100, 'must list at most 100 recipients');

/** Every message id in the batch, and no number twice in a job. */
function checkRecipients(
  job: { batchId: string; recipients: ReadonlyArray<{ messageId: string; to: string }> },
  ctx: z.RefinementCtx,
) {
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
}

export const sendJobV1Schema = z
  .object({
    /** Schema id and version. */
    schema: z.literal(SEND_JOB_SCHEMA_VERSION),
    ...common,
    /** The text, already smart-encoded by whoever built the job. */
    message: text,
    recipients: recipientsOf(recipientV1),
  })
  .strict()
  .superRefine(checkRecipients);

export const sendJobV2Schema = z
  .object({
    schema: z.literal(SEND_JOB_SCHEMA_V2),
    ...common,
    /** The template the texts were rendered from: its name and version are analytics dimensions. */
    template: z
      .object({
        name: z.string().regex(TEMPLATE_NAME_PATTERN, 'must be a template name'),
        version: z.number().int().min(1),
        locale: z.string().max(35).optional(),
      })
      .strict()
      .optional(),
    recipients: recipientsOf(recipientV2),
  })
  .strict()
  .superRefine(checkRecipients);

export type SendJobV1 = z.output<typeof sendJobV1Schema>;
export type SendJobV2 = z.output<typeof sendJobV2Schema>;
export type SendJob = SendJobV1 | SendJobV2;
export type SendJobInput = z.input<typeof sendJobV1Schema> | z.input<typeof sendJobV2Schema>;

/** One recipient of either version, with the text it gets. */
export interface JobRecipient {
  messageId: string;
  to: string;
  text: string;
  reference?: string;
  metadata?: Record<string, string>;
}

/** The recipients of a job with their own text (a version 1 job's is the job's), reference and metadata. */
export function jobRecipients(job: SendJob): JobRecipient[] {
  if (job.schema === SEND_JOB_SCHEMA_VERSION) {
    return job.recipients.map((r) => ({ ...r, text: job.message, ...(job.metadata ? { metadata: job.metadata } : {}) }));
  }
  return job.recipients.map((r) => ({
    messageId: r.messageId,
    to: r.to,
    text: r.text,
    ...(r.reference ? { reference: r.reference } : {}),
    ...((r.metadata ?? job.metadata) ? { metadata: r.metadata ?? job.metadata! } : {}),
  }));
}

/** The template of a job's texts, when they were rendered from one. */
export function jobTemplate(job: SendJob): TemplateRef | undefined {
  return job.schema === SEND_JOB_SCHEMA_V2 ? job.template : undefined;
}

/** A job's fields other than its recipients and texts. */
export type JobFields = Omit<SendJobV1, 'schema' | 'message' | 'recipients' | 'metadata'> & { template?: TemplateRef };

/**
 * The job for `recipients`: version 1 when they share one text and metadata and carry nothing of
 * their own (what the pipeline made before version 2, and what a reader of version 1 still takes),
 * else version 2. Shared metadata goes on the job once.
 */
export function buildSendJob(fields: JobFields, recipients: readonly JobRecipient[]): SendJob {
  const { template, ...rest } = fields;
  const first = recipients[0]!;
  const sameMetadata = (r: JobRecipient) => JSON.stringify(r.metadata ?? null) === JSON.stringify(first.metadata ?? null);
  const shared = recipients.every(sameMetadata);
  if (!template && shared && recipients.every((r) => r.text === first.text && r.reference === undefined)) {
    return {
      schema: SEND_JOB_SCHEMA_VERSION,
      ...rest,
      message: first.text,
      recipients: recipients.map((r) => ({ messageId: r.messageId, to: r.to })),
      ...(first.metadata ? { metadata: first.metadata } : {}),
    };
  }
  return {
    schema: SEND_JOB_SCHEMA_V2,
    ...rest,
    ...(template ? { template } : {}),
    ...(shared && first.metadata ? { metadata: first.metadata } : {}),
    recipients: recipients.map((r) => ({
      messageId: r.messageId,
      to: r.to,
      text: r.text,
      ...(r.reference ? { reference: r.reference } : {}),
      ...(!shared && r.metadata ? { metadata: r.metadata } : {}),
    })),
  };
}

/** The same job for only the recipients `keep` says, in the job's order, under its own version. */
export function withRecipients(job: SendJob, keep: (messageId: string) => boolean): SendJob {
  if (job.schema === SEND_JOB_SCHEMA_VERSION) return { ...job, recipients: job.recipients.filter((r) => keep(r.messageId)) };
  return { ...job, recipients: job.recipients.filter((r) => keep(r.messageId)) };
}

/** Room in a job for its recipients: the job's own fields (tag, metadata, template, ids, a retry's error) take the rest. */
const RECIPIENT_BYTES = MAX_JOB_BYTES - 4_000;

/**
 * Recipients in chunks of at most `size` that keep a job under MAX_JOB_BYTES. Recipients with the
 * same text are gathered first (at the place of the text's first recipient, otherwise in order), so
 * a text shared across a large request fills jobs together and takes as few ACS requests as the
 * 100-per-request limit allows. Deterministic: the same recipients always make the same chunks.
 */
export function jobChunks<T extends JobRecipient>(recipients: readonly T[], size: number): T[][] {
  const byText = new Map<string, T[]>();
  for (const r of recipients) {
    const same = byText.get(r.text);
    if (same) same.push(r);
    else byText.set(r.text, [r]);
  }
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const r of [...byText.values()].flat()) {
    const own = Buffer.byteLength(JSON.stringify(r), 'utf8') + 1;
    if (chunk.length > 0 && (chunk.length >= size || bytes + own > RECIPIENT_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(r);
    bytes += own;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Bytes of a job's JSON text: what the queue carries (before base64 on a Storage queue). */
export function jobBytes(job: SendJob): number {
  return Buffer.byteLength(JSON.stringify(job), 'utf8');
}

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
  const version = typeof value === 'object' && value !== null ? (value as { schema?: unknown }).schema : undefined;
  if (version !== SEND_JOB_SCHEMA_VERSION && version !== SEND_JOB_SCHEMA_V2) {
    return { ok: false, reason: `schema: must be "${SEND_JOB_SCHEMA_VERSION}" or "${SEND_JOB_SCHEMA_V2}"` };
  }
  const parsed = (version === SEND_JOB_SCHEMA_V2 ? sendJobV2Schema : sendJobV1Schema).safeParse(value);
  if (parsed.success) return { ok: true, job: parsed.data };
  return {
    ok: false,
    reason: parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'job'}: ${i.message}`).join('; '),
  };
}
