import { configDefaults, defineConfig } from 'vitest/config';

// Integration and e2e tests start real processes (Azurite, the ACS emulator, the local host) on
// free ports, so they get generous timeouts; unit tests stay fast. test/infra needs the Bicep CLI and
// has its own run (npm run test:infra, test/infra/vitest.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault drills take minutes each: npm run test:drills runs them (and .ci/run).
    exclude: [...configDefaults.exclude, 'test/infra/**', ...(process.env.DRILLS ? [] : ['test/drills/**'])],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
