// Pacing arithmetic: a generic cell rate algorithm (GCRA), i.e. a token bucket of `burst` tokens
// refilled at `ratePerMinute`, kept as one number — the theoretical arrival time (TAT).

export interface PacedSender {
  ratePerMinute: number;
  /** Most messages that may go at once. */
  burst: number;
}

/**
 * Reserves `count` (≤ burst) messages: returns when they may all go at once, and the new TAT.
 * Any sequence of reservations sent at their start times conforms to the bucket: in any window of
 * w ms at most burst + w / interval messages go out, and on average never more than the rate.
 */
export function reserveSlots(
  tatMs: number | undefined,
  nowMs: number,
  count: number,
  sender: PacedSender,
): { startMs: number; newTatMs: number } {
  const interval = 60_000 / sender.ratePerMinute;
  const n = Math.max(1, Math.min(count, sender.burst));
  const tat = tatMs ?? nowMs;
  const startMs = Math.max(nowMs, tat - (sender.burst - n) * interval);
  const newTatMs = Math.max(tat, startMs) + n * interval;
  return { startMs, newTatMs };
}
