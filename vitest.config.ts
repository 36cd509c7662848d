import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // GPU tests share one lavapipe device per file; two cores do not gain from more workers.
    pool: 'forks',
    maxWorkers: 2,
  },
});
