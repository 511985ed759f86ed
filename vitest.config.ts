import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';
import { SLOWEST_FIRST, slowRank } from './test/support/slowestFirst.js';

// One project per kind of test, so each can be run alone (npm run test:unit, …); `npm test` runs
// unit, integration, contract and the e2e projects. Slow suites that are not part of `npm test`
// (fault drills, …) are projects of their own with their own script, which .ci/run also runs.
//
// E2E files start a whole stack each, and a stack is CPU-hungry: test/support/localStack.ts lets
// only a few run at once (TEST_STACKS). Files mostly wait — for a stack slot, on Azurite, a rate,
// a lease — so vitest runs more of them than the machine has cores (its default is one fewer than
// the cores: a single worker on a 2-core machine, which ran the whole suite one file after
// another), and unit, integration and contract files go on while e2e files wait. TEST_WORKERS
// overrides the count.
const workers = Number(process.env.TEST_WORKERS) || 8;

/** Tests that start real processes (Azurite, the emulator, the function host) get generous timeouts. */
const processes = { testTimeout: 60_000, hookTimeout: 120_000 };
/**
 * E2E files also wait for one of the run's stack slots (test/support/localStack.ts) in their
 * beforeAll, which may take minutes on a busy machine; a stack that does not come up still fails
 * within a minute through its own start-up timeouts.
 */
const stacks = { ...processes, hookTimeout: 900_000 };
/**
 * Within a group, the files that hold a stack longest first (test/support/slowestFirst.ts), so the
 * run does not end waiting for one that started last; then the quick unit, integration and
 * contract files, which run while e2e files wait for a stack slot; then the other e2e files.
 * Vitest's own order (the durations it cached, else file size) decides the rest.
 */
const PROJECT_ORDER = ['unit', 'integration', 'contract', 'drills', 'e2e'];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const slow = slowRank(file.moduleId);
      return slow < SLOWEST_FIRST.length ? slow : SLOWEST_FIRST.length + PROJECT_ORDER.indexOf(file.project.name);
    };
    // With more stacks than slots, the first files must wait their turn by rank (localStack.ts).
    const stacked = files.filter((f) => f.project.name === 'e2e' || f.project.name === 'drills').length;
    process.env.TEST_STACK_QUEUE_BY_RANK = stacked > 3 ? '1' : '';
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    pool: 'forks',
    // A worker runs file after file in the same process: no test file mocks modules or changes
    // globals, and importing the app and its SDKs afresh for every file cost about a tenth of
    // the run's CPU.
    isolate: false,
    maxWorkers: workers,
    reporters: ['default'],
    sequence: { sequencer: SlowestFirst },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 1 } } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], ...processes, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: { name: 'contract', include: ['test/contract/**/*.test.ts'], ...processes, sequence: { groupOrder: 1 } },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], ...stacks, sequence: { groupOrder: 1 } } },
      // Slow drills (faults, the pacing drill that measures rates at ACS and so takes every stack
      // slot) go under test/drills/: `npm run test:drills`, run by .ci/run after `npm test`.
      { extends: true, test: { name: 'drills', include: ['test/drills/**/*.test.ts'], ...stacks, sequence: { groupOrder: 2 } } },
    ],
  },
});
