import { defineConfig } from 'vitest/config';

// Integration and e2e tests start real processes (Azurite, the ACS emulator, the local host) on
// free ports, so they get generous timeouts; unit tests stay fast.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
