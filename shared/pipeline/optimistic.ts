// Read → change → conditional save, tried again from a fresh read when someone else wrote first:
// the one loop every use case that changes stored records runs.
import { ConcurrencyError } from '../ports/errors.js';

/** How many times a use case reads and decides again before giving up on a contended record. */
export const CONFLICT_ROUNDS = 5;

/**
 * Runs `attempt` (read, decide, save conditionally) until it does not lose a race; `round` counts
 * from 1, so the first round may use what the caller already read. A ConcurrencyError in the last
 * round, and any other error, is thrown.
 */
export async function retryOnConflict<T>(attempt: (round: number) => Promise<T>, rounds = CONFLICT_ROUNDS): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await attempt(round);
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || round >= rounds) throw error;
    }
  }
}
