import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time even on two cores (Vitest's default would be one there): most files
    // wait on sockets, timers and fsync rather than compute, and every test waits on conditions, not
    // on fixed times. The whole suite took about 1,000 s one file at a time and 630 s two at a time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
