import DatabaseConstructor from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isHookrelayError } from '../../src/errors.js';
// The store's threads run the build (`npm test` builds first).
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { tempDir } from '../support/temp.js';
import { defineStoreConformance } from './conformance.js';

defineStoreConformance({
  name: 'sqlite (worker thread, as serve runs it)',
  recoversLiveLeases: true,
  async createDatabase() {
    const dir = tempDir('hookrelay-store-worker-');
    const path = join(dir.path, 'hookrelay.db');
    return {
      open: async () => openSqlite({ path, busyTimeoutMs: 1_000, lock: false, thread: 'worker' }),
      async blockWrites() {
        const holder = new DatabaseConstructor(path);
        holder.exec('BEGIN EXCLUSIVE');
        return async () => {
          holder.exec('ROLLBACK');
          holder.close();
        };
      },
      cleanup: async () => dir.cleanup(),
    };
  },
});

describe('sqlite worker store: operator reads in their own thread', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  const event = (key: string) => ({ source: 'cerebrium', dedupeKey: key, contentType: 'application/json', contentEncoding: null, body: Buffer.from('{}'), destinations: ['app'] });

  it('a read sees every ingest that has returned, while ingests keep committing beside it', async () => {
    const dir = tempDir('hookrelay-store-reader-');
    cleanups.push(dir.cleanup);
    const store = await openSqlite({ path: join(dir.path, 'hookrelay.db'), busyTimeoutMs: 1_000, lock: true, thread: 'worker' });
    cleanups.push(() => store.close());
    for (let round = 1; round <= 5; round++) {
      const ingested = await Promise.all(Array.from({ length: 40 }, (_, index) => store.ingest(event(`r${round}-${index}`))));
      // Reads and the next ingests at once: the reads answer with at least what had returned.
      const [stats, found] = await Promise.all([
        store.stats(['app']),
        store.getEvent(ingested.at(-1)!.id),
        store.ingest(event(`beside-${round}`)),
      ]);
      expect(stats.events).toBeGreaterThanOrEqual(round * 41 - 1);
      expect(stats.destinations.app!.pending).toBe(stats.events);
      expect(found?.dedupeKey).toBe(`r${round}-39`);
    }
    expect((await store.stats(['app'])).events).toBe(5 * 41);
  });

  it('reads after close reject with HOOKRELAY_SHUTTING_DOWN and start no thread', async () => {
    const dir = tempDir('hookrelay-store-reader-');
    cleanups.push(dir.cleanup);
    const store = await openSqlite({ path: join(dir.path, 'hookrelay.db'), busyTimeoutMs: 1_000, lock: true, thread: 'worker' });
    await store.ingest(event('one'));
    expect((await store.findEvents({ limit: 10 })).map((found) => found.dedupeKey)).toEqual(['one']);
    await store.close();
    const error = await store.stats(['app']).catch((caught: unknown) => caught);
    expect(isHookrelayError(error, 'HOOKRELAY_SHUTTING_DOWN')).toBe(true);
    // The serve lock was released with both threads: the database opens again for serve.
    const again = await openSqlite({ path: join(dir.path, 'hookrelay.db'), busyTimeoutMs: 1_000, lock: true, thread: 'worker' });
    cleanups.push(() => again.close());
    expect((await again.stats(['app'])).events).toBe(1);
  });
});
