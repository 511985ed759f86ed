// Dead letters: send jobs that cannot be processed, kept with their reason for inspection and replay.

export interface DeadLetter {
  id: string;
  at: string;
  reason: string;
  /** The job as received (raw text when it did not parse). */
  body: string;
  jobId?: string;
  batchId?: string;
  /**
   * Where it is kept when not in the pipeline's own `deadLetters` table: the transport's dead
   * letters (the Storage queue's poison queue, the Service Bus queue's dead-letter sub-queue).
   */
  source?: string;
}
