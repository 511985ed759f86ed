// Submissions stored at their point of no return, until their records and send jobs are written.
import type { Submission } from '../domain/submission.js';

export interface SubmissionStore {
  /**
   * Stores a submission unless one with its batch id is there already; returns the stored one —
   * another attempt's, when it came first, so every attempt finishes the same batch.
   */
  create(submission: Submission): Promise<Submission>;
  get(batchId: string): Promise<Submission | undefined>;
  /** Forgets a finished submission (idempotent). */
  remove(batchId: string): Promise<void>;
  /** Submissions accepted before `before` and never finished (their request stopped), oldest first. */
  unfinished(before: Date, limit: number): Promise<Submission[]>;
}
