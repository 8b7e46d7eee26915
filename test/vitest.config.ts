// The configuration `npm test` runs with (kept in test/: the repository's top level holds only
// what a user of netnote needs).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    // dist/mutation/ holds Stryker's copies of the tests while npm run mutate runs.
    exclude: ['**/node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/support/skip-reasons.ts'],
  },
});
