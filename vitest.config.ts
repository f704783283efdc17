import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests beside the code, and end-to-end tests that bring up real SSH
// hosts. The e2e files run one at a time: each brings up its own fleet of hosts on this
// machine, and two fleets booting at once on 2 cores only makes both slow.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts', 'test/hosts/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
