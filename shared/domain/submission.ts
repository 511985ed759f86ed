// A submission: what an accepted request asked for, once validated and planned — the batch id,
// the texts, and each recipient with its sender and its opt-out verdict at submit. Stored before
// any message is recorded or queued (when the batch needs more than one send job), it is the
// point from which the batch is complete or nothing: whoever finds it — the request itself, a
// retry with its Idempotency-Key, or the recovery timer — finishes it the same way.
import type { MessageCategory } from './category.js';
import type { TemplateCategory, TemplateRef } from './template.js';

/** A recipient of a submission. Its own text, times, reference and metadata, when it has them, win over the submission's. */
export interface SubmissionRecipient {
  to: string;
  from: string;
  optedOut: boolean;
  text?: string;
  encoding?: 'GSM-7' | 'UCS-2';
  segments?: number;
  reference?: string;
  metadata?: Record<string, string>;
  scheduledAt?: string;
  expiresAt?: string;
  /** Why its scheduledAt was moved: quiet hours in the recipient's time (the reason in its history). */
  quietHours?: string;
  /** Quiet hours would have held it past its validity: it is recorded `expired`, never sent. */
  expired?: boolean;
  /** Over a frequency cap (the reason): it is recorded `suppressed`, never sent. */
  capped?: string;
}

export interface Submission {
  batchId: string;
  /** The app the batch is attributed to (absent on submissions older than apps: the default app). */
  app?: string;
  /** When it was accepted: every record of the batch starts at this time, whoever writes it. */
  acceptedAt: string;
  /** The one text of every recipient without its own (after smart encoding), its encoding and segments. */
  text?: string;
  encoding?: 'GSM-7' | 'UCS-2';
  segments?: number;
  /** In request order; a recipient's message id is the batch id and its position. */
  recipients: SubmissionRecipient[];
  /** Invalid entries of a partial request, answered back to the app. */
  rejected: Array<{ to: string; reason: string; field?: string; reference?: string }>;
  tag?: string;
  metadata?: Record<string, string>;
  /** The template the texts were rendered from. */
  template?: TemplateRef & { category?: TemplateCategory };
  /** The messages' category; absent: transactional. */
  category?: MessageCategory;
  deliveryReport: boolean;
  scheduledAt?: string;
  expiresAt?: string;
}
