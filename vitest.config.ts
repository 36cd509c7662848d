import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Generous bounds, still finite: on a fresh machine Mesa's shader cache is empty and one large
    // conv kernel compiles in 0.4-2 s on lavapipe (about 8 minutes for the whole suite, cold).
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // GPU tests share one lavapipe device per file; two cores do not gain from more workers.
    pool: 'forks',
    maxWorkers: 2,
  },
});
