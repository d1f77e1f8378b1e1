import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Worker-heavy suites share two cores: run files one after another for stable timing.
    fileParallelism: false,
  },
});
