// Lint rules, including the dependency rule: shared/domain is pure and shared/pipeline talks to
// the world only through shared/ports.ts, so neither may import an SDK or a network module.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const sdkImports = {
  patterns: [
    { group: ['@azure/*'], message: 'Use a port from shared/ports.ts; SDKs belong in shared/adapters.' },
    { group: ['**/adapters/**', '../adapters/*'], message: 'Depend on ports, not adapters.' },
    { group: ['**/composition.js'], message: 'The composition root is for functions/ and local/ only.' },
  ],
  paths: [
    { name: 'node:http', message: 'No network I/O here.' },
    { name: 'node:https', message: 'No network I/O here.' },
    { name: 'node:net', message: 'No network I/O here.' },
    { name: 'node:fs', message: 'No file I/O here.' },
    { name: 'node:fs/promises', message: 'No file I/O here.' },
  ],
};

export default tseslint.config(
  { ignores: ['.tmp*/**', 'dist/**', 'node_modules/**', 'coverage/**', '.azurite/**', 'test/fixtures/**', 'docs/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', TextDecoder: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
    },
  },
  {
    files: ['shared/domain/**/*.ts', 'shared/pipeline/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', sdkImports] },
  },
);
