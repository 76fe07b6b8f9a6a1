import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { createDispatcher } from '../../src/delivery/dispatcher.js';
import { HookrelayError } from '../../src/errors.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import type { Store } from '../../src/store/store.js';
import { startSink } from '../support/sink.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

describe('dispatcher: attempt results that cannot be written yet', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('are retried every 200 ms but logged once per 5 s, not on every retry', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const realStore = openSqlite({ path: join(dir.path, 'hookrelay.db'), busyTimeoutMs: 1_000, lock: false, thread: 'inline' });
    cleanups.push(() => realStore.close());
    // Storage refuses the first six writes of attempt results (about a second of retries), then recovers.
    let refused = 0;
    const store: Store = Object.create(realStore, {
      completeAttempts: {
        value: async (...args: Parameters<Store['completeAttempts']>) => {
          if (refused < 6) {
            refused++;
            throw new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', 'storage cannot record attempts: database is locked');
          }
          return realStore.completeAttempts(...args);
        },
      },
    });
    await realStore.ingest({ source: 'cerebrium', dedupeKey: 'busy-1', contentType: 'application/json', contentEncoding: null, body: Buffer.from('{}'), destinations: ['app'] });
    const config = resolveConfig({
      sources: [{ name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'none' } }],
      destinations: [{ name: 'app', url: sink.url }],
    });
    const lines: { msg?: string; failures?: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const dispatcher = createDispatcher({ config, store, logger, pollIntervalMs: 50 });
    await dispatcher.start();
    cleanups.push(() => dispatcher.stop(1_000));

    await waitFor(async () => (await realStore.stats(['app'])).deliveries.delivered === 1, { timeoutMs: 10_000, what: 'the result recorded after the outage' });
    expect(refused).toBe(6);
    expect(sink.received).toHaveLength(1);
    expect(lines.filter((line) => line.msg === 'could not record attempts yet; retrying')).toEqual([
      expect.objectContaining({ failures: 1 }),
    ]);
  });
});
