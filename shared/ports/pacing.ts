// Pacing per sender number, shared by every instance.
import type { Sender } from '../domain/sender.js';

/** A token bucket per sender number, in storage. */
export interface RateLimiter {
  /**
   * Reserves `count` sends on `sender` and returns when the first of them may go; the rest
   * follow at the sender's rate. Reservations are never returned: an unused one costs a slot.
   */
  reserve(sender: Sender, count: number): Promise<Date>;
}
