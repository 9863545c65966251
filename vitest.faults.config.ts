import { defineConfig } from 'vitest/config';

// The fault-injection suite (`npm run test:faults`): long, real processes, many
// supervisor deaths. `npm test` runs its fast subset, test/integration/faults-fast.test.ts.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/support/build.ts'],
    // Each file keeps many processes busy and measures timing: two at once fits a 2-core machine.
    maxWorkers: 2,
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
});
