import { defineConfig } from 'vitest/config';

// Integration and e2e tests start real processes (Azurite, the ACS emulator, the local host) on
// free ports, so they get generous timeouts; unit tests stay fast.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault drills take minutes each: npm run test:drills runs them (and .ci/run).
    exclude: process.env.DRILLS ? ['node_modules/**'] : ['test/drills/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
