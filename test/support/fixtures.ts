import { test as base } from 'vitest';
import { runCli } from './cli.mjs';
import { testSchema, type TestSchema } from './postgres.js';
import { startFleet, type FleetOptions, type RelayFleet } from './postgres-fleet.js';
import { startRelay, type RelayOptions, type RelayProcess } from './relay.mjs';
import { startSink, type Sink, type SinkBehaviour } from './sink.js';
import { tempDir } from './temp.js';

/** What a test registers to run after it, in reverse order, whether it passed or failed. */
export interface Cleanup {
  add(cleanup: () => unknown): void;
}

export interface HarnessFixtures {
  cleanup: Cleanup;
  /** A fresh temp folder (removed after the test). */
  tempDir: (prefix?: string) => string;
  /** `hookrelay serve` as a child process, listening (killed after the test). */
  startRelay: (configPath: string, options?: RelayOptions) => Promise<RelayProcess>;
  /** A recording HTTP destination on 127.0.0.1 (closed after the test). */
  startSink: (behaviour?: SinkBehaviour, port?: number) => Promise<Sink>;
  /** The real CLI as a child process, bounded by its `timeoutMs`. */
  runCli: typeof runCli;
  /** A fresh schema on the run's PostgreSQL server (dropped after the test). */
  postgres: TestSchema;
  /** Relays on `postgres`'s schema, each with its own config in a temp folder (killed after the test). */
  startFleet: (options: Omit<FleetOptions, 'dir' | 'postgresUrl' | 'schema'>) => Promise<RelayFleet>;
}

/**
 * The suites' `test`: every fixture a test names is set up for it and torn down after it, so no
 * suite keeps its own cleanup list. The starters carry the names of the functions they wrap
 * (startRelay, startSink, startFleet, runCli) and register the matching teardown.
 */
export const test = base.extend<HarnessFixtures>({
  // eslint-disable-next-line no-empty-pattern
  cleanup: async ({}, use) => {
    const cleanups: (() => unknown)[] = [];
    await use({ add: (cleanup) => void cleanups.push(cleanup) });
    // Every teardown runs even when one before it fails (a relay that would not die must not
    // leave the sink open); the failures are reported together afterwards.
    const failures: unknown[] = [];
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} teardowns failed`);
  },
  tempDir: async ({ cleanup }, use) => {
    await use((prefix) => {
      const dir = tempDir(prefix);
      cleanup.add(dir.cleanup);
      return dir.path;
    });
  },
  startRelay: async ({ cleanup }, use) => {
    await use(async (configPath, options) => {
      const relay = await startRelay(configPath, options);
      cleanup.add(() => relay.kill());
      return relay;
    });
  },
  startSink: async ({ cleanup }, use) => {
    await use(async (behaviour, port) => {
      const sink = await startSink(behaviour, port);
      cleanup.add(() => sink.close());
      return sink;
    });
  },
  // eslint-disable-next-line no-empty-pattern
  runCli: async ({}, use) => {
    await use(runCli);
  },
  postgres: async ({ cleanup }, use) => {
    const database = testSchema('e2e');
    cleanup.add(() => database.drop());
    await use(database);
  },
  startFleet: async ({ cleanup, tempDir, postgres }, use) => {
    await use(async (options) => {
      const fleet = await startFleet({ ...options, dir: tempDir(), postgresUrl: postgres.url, schema: postgres.schema });
      cleanup.add(() => fleet.stopAll());
      return fleet;
    });
  },
});

export const it = test;
