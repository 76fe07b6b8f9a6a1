import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A PostgreSQL server for the store conformance and multi-process suites (see the file).
    globalSetup: ['test/support/postgres-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: end-to-end suites start real relays and sinks; keep them from starving each other.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default'],
    // Tests read the relay's JSON log lines: a developer's LOG_FORMAT=pretty must not reach them.
    env: { LOG_FORMAT: 'json' },
  },
});
