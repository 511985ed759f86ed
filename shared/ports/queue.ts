// The outbound queue of send jobs (Service Bus in Azure, a Storage queue locally).
import type { SendJob } from '../domain/sendJob.js';

export interface OutboundQueue {
  /**
   * Enqueues jobs. A job with `notBefore` in the future becomes visible then (Service Bus:
   * scheduled message; Storage queue: visibility timeout, at most 7 days — the sender puts an
   * early job back with the remaining delay).
   */
  enqueue(jobs: readonly SendJob[]): Promise<void>;
  ping(): Promise<void>;
}
