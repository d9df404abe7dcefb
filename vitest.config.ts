import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // PGlite instances and sharp are memory-hungry; two workers match the two cores here.
    pool: 'forks',
    maxWorkers: 2,
  },
});
