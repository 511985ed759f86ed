// The files that hold a stack longest, longest first (measured on a 2-core machine with
// STACK_PROFILE, test/support/localStack.ts). The sequencer (vitest.config.ts) starts them first,
// and they come first in the line for a stack slot, so the run does not end waiting for one that
// started last.
export const SLOWEST_FIRST = [
  'test/e2e/optOutAtSend.test.ts',
  'test/e2e/guardPumping.test.ts',
  'test/e2e/sendApi.test.ts',
  'test/e2e/personalisedBulk.test.ts',
  'test/e2e/deadLetters.test.ts',
  'test/e2e/guardPause.test.ts',
  'test/e2e/docs.test.ts',
  'test/e2e/guardBudget.test.ts',
  'test/e2e/statusEvents.test.ts',
  'test/e2e/analytics.test.ts',
  'test/drills/hostKill.drill.test.ts',
  'test/drills/outages.drill.test.ts',
  'test/drills/acsFaults.drill.test.ts',
  'test/drills/hostCrash.drill.test.ts',
  'test/drills/storageOutage.drill.test.ts',
];

/** A file's place: its index in SLOWEST_FIRST, or after all of them. */
export function slowRank(file: string): number {
  const rank = SLOWEST_FIRST.findIndex((name) => file.replaceAll('\\', '/').endsWith(name));
  return rank >= 0 ? rank : SLOWEST_FIRST.length;
}

/** A file's place among the listed files of its own folder (e2e, drills): 0 for the longest. */
export function slowRankInFolder(file: string): number {
  const rank = slowRank(file);
  const folder = (name: string) => name.split('/').slice(0, 2).join('/');
  const own = rank < SLOWEST_FIRST.length ? folder(SLOWEST_FIRST[rank]!) : undefined;
  return own ? SLOWEST_FIRST.slice(0, rank).filter((name) => folder(name) === own).length : rank;
}
