import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suite kills brokers and processes: it runs on its own (`npm run test:faults`,
    // the last step of `npm test`) so it never shares the 2 cores with the e2e suites.
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.CHANGEGATE_FAULTS === '1' ? [] : ['test/faults/**']),
    ],
    // Starts (or finds) one real Kafka broker for the whole run; see test/setup/kafka-global.ts.
    globalSetup: ['test/setup/kafka-global.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
