import { configDefaults, defineConfig } from 'vitest/config';

// Integration and e2e tests start real processes (Azurite, the ACS emulator, the local host) on
// free ports, so they get generous timeouts; unit tests stay fast. test/infra needs the Bicep CLI and
// has its own run (npm run test:infra, test/infra/vitest.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/infra/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
