import { defineConfig } from 'vitest/config';
import path from 'node:path';
export default defineConfig({
  resolve: { alias: [{ find: /^.*\/local\/azurite\.js$/, replacement: path.resolve('.tmp-exp-idem/azuriteShim.ts') }] },
  test: { include: ['test/integration/idempotencyStore.test.ts'], testTimeout: 60000, hookTimeout: 120000 },
});
