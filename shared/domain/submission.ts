// A submission: what an accepted request asked for, once validated and planned — the batch id,
// the text, and each recipient with its sender and its opt-out verdict at submit. Stored before
// any message is recorded or queued (when the batch needs more than one send job), it is the
// point from which the batch is complete or nothing: whoever finds it — the request itself, a
// retry with its Idempotency-Key, or the recovery timer — finishes it the same way.

export interface Submission {
  batchId: string;
  /** When it was accepted: every record of the batch starts at this time, whoever writes it. */
  acceptedAt: string;
  /** The text as it is sent (after smart encoding), its encoding and segments. */
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  /** In request order; a recipient's message id is the batch id and its position. */
  recipients: Array<{ to: string; from: string; optedOut: boolean }>;
  /** Invalid numbers of a partial request, answered back to the app. */
  rejected: Array<{ to: string; reason: string }>;
  tag?: string;
  metadata?: Record<string, string>;
  deliveryReport: boolean;
  scheduledAt?: string;
  expiresAt?: string;
}
