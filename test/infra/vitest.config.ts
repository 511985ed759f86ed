import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

// The infra suite (npm run test:infra): it reads the ARM JSON the real Bicep CLI compiled into
// dist/infra, and runs the CLI itself, so it is kept out of `npm test`, which must pass on a machine
// without .NET or Bicep.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/infra/**/*.test.ts'],
    exclude: [...configDefaults.exclude],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
