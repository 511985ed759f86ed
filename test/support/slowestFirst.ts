// The files that hold a stack longest, longest first (measured on a 2-core machine with
// STACK_PROFILE, test/support/localStack.ts). The sequencer (vitest.config.ts) starts them first,
// and they come first in the line for a stack slot, so the run does not end waiting for one that
// started last.
export const SLOWEST_FIRST = [
  'test/e2e/optOutAtSend.test.ts',
  'test/e2e/guardPumping.test.ts',
  'test/e2e/hostCrash.test.ts',
  'test/e2e/sendApi.test.ts',
  'test/e2e/personalisedBulk.test.ts',
  'test/e2e/deadLetters.test.ts',
  'test/e2e/guardPause.test.ts',
  'test/e2e/outages.test.ts',
  'test/e2e/docs.test.ts',
  'test/e2e/guardBudget.test.ts',
  'test/e2e/statusEvents.test.ts',
  'test/e2e/analytics.test.ts',
  'test/drills/acsFaults.drill.test.ts',
  'test/drills/hostKill.drill.test.ts',
  'test/drills/storageOutage.drill.test.ts',
];

/** A file's place: its index in SLOWEST_FIRST, or after all of them. */
export function slowRank(file: string): number {
  const rank = SLOWEST_FIRST.findIndex((name) => file.replaceAll('\\', '/').endsWith(name));
  return rank >= 0 ? rank : SLOWEST_FIRST.length;
}
