import DatabaseConstructor from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it, type Cleanup } from '../support/fixtures.js';
import { resolveConfig } from '../../src/config/load.js';
// The delivery and store threads run the build (`npm test` builds first).
import { createDeliveryThread } from '../../src/delivery/thread/delivery-thread.js';
import { isHookrelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import type { Store } from '../../src/store/store.js';
import { relayConfig } from '../support/relay.mjs';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

/** The delivery thread as serve runs it (a worker thread beside serve's SQLite writer thread), driven from the test. */
describe('delivery thread: start and stop across the thread', () => {
  async function setup(cleanup: Cleanup, destinations: Record<string, unknown>[], busyTimeoutMs = 2_000) {
    const dir = tempDir('hookrelay-delivery-thread-');
    cleanup.add(dir.cleanup);
    const raw = relayConfig(dir.path, { destinations });
    const config = resolveConfig({ ...raw, storage: { sqlite: { path: join(dir.path, 'hookrelay.db'), busyTimeoutMs } } });
    const store: Store = await openSqlite({ path: config.storage.sqlite!.path, busyTimeoutMs, lock: true, thread: 'worker' });
    cleanup.add(() => store.close());
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (text: string) => void lines.push(...text.trim().split('\n').map((line) => JSON.parse(line))) } });
    const deaths: unknown[] = [];
    const dispatcher = createDeliveryThread({ config, store, logger, onDied: (error: unknown) => void deaths.push(error) });
    return { dir: dir.path, config, store, dispatcher, lines, deaths };
  }

  const event = (key: string) => ({ source: 'cerebrium', dedupeKey: key, contentType: 'application/json', contentEncoding: null, body: Buffer.from(`{"run_id":"${key}"}`), destinations: ['app'] });

  it('a start that fails in the thread rejects here with its error code, and is not reported as a death', async ({ cleanup }) => {
    const { dir, dispatcher, deaths } = await setup(cleanup, [{ name: 'app', url: 'http://127.0.0.1:9/' }], 200);
    // Another connection holds the write lock: recovering orphaned leases (the first write) cannot commit.
    const holder = new DatabaseConstructor(join(dir, 'hookrelay.db'));
    holder.exec('BEGIN EXCLUSIVE');
    cleanup.add(() => {
      holder.exec('ROLLBACK');
      holder.close();
    });
    const error = await dispatcher.start().catch((caught: unknown) => caught);
    expect(isHookrelayError(error, 'HOOKRELAY_STORAGE_UNAVAILABLE')).toBe(true);
    // A start that failed is not a death, and stopping after it has nothing to do.
    await dispatcher.stop(0);
    expect(deaths).toEqual([]);
  });

  it('stop hands every claim back: unfinished attempts pending with the attempt counted, queued ones untouched; its log lines arrive here', async ({ startSink, cleanup }) => {
    // The destination never answers: every attempt is still running when stop's grace ends.
    const sink = await startSink(() => new Promise<number>(() => undefined));
    const { store, dispatcher, lines, deaths } = await setup(cleanup, [{ name: 'app', url: sink.url, concurrency: 2, timeoutMs: 30_000 }]);
    for (let index = 0; index < 5; index++) await store.ingest(event(`e-${index}`));
    await dispatcher.start();
    dispatcher.wake(['app']);
    await waitFor(() => sink.received.length === 2, { what: 'two attempts running' });
    await waitFor(async () => (await store.stats(['app'])).destinations.app!.in_flight === 5, { what: 'all five claimed' });

    await dispatcher.stop(100);
    const stats = await store.stats(['app']);
    expect(stats.destinations.app).toMatchObject({ pending: 5, in_flight: 0, delivered: 0 });
    const attempts = (await store.listDeliveries({ destination: 'app', limit: 10 })).deliveries.map((delivery) => delivery.attempts).sort();
    expect(attempts).toEqual([0, 0, 0, 1, 1]);
    expect(lines).toContainEqual(expect.objectContaining({ component: 'dispatcher', msg: expect.stringContaining('did not finish in time') }));
    expect(deaths).toEqual([]);
    // The writer thread still serves the main thread after the delivery thread ended.
    await store.ingest(event('after-stop'));
  });
});
