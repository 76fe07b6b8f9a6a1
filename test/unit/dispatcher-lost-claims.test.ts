import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { createDispatcher, type Dispatcher } from '../../src/delivery/dispatcher.js';
import { HookrelayError } from '../../src/errors.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import type { Store } from '../../src/store/store.js';
import { startSink, type Sink } from '../support/sink.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

/**
 * A claim can commit while its answer never reaches the relay (PostgreSQL: the connection
 * breaks after COMMIT). Those rows are in flight for this process, which does not know them;
 * without recovery they would wait for their lease (2 x timeoutMs + 5 s) to expire.
 */
describe('dispatcher: a claim whose answer was lost', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('hands the rows back at the next claim and sends each once, long before the lease would expire', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const sink: Sink = await startSink();
    cleanups.push(() => sink.close());
    const realStore = openSqlite({ path: join(dir.path, 'hookrelay.db'), busyTimeoutMs: 1_000, lock: false, thread: 'inline' });
    cleanups.push(() => realStore.close());

    // The real store, with the answer of its first non-empty claim dropped after the commit,
    // as a broken connection would drop it. Everything else passes straight through.
    let dropped: string[] = [];
    const store: Store = Object.create(realStore, {
      claimDue: {
        value: async (...args: Parameters<Store['claimDue']>) => {
          const claimed = await realStore.claimDue(...args);
          if (dropped.length === 0 && claimed.length > 0) {
            dropped = claimed.map((delivery) => delivery.id);
            throw new HookrelayError('HOOKRELAY_STORAGE_UNAVAILABLE', 'storage cannot claim deliveries: connection lost');
          }
          return claimed;
        },
      },
    });

    const config = resolveConfig({
      sources: [{ name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'none' } }],
      // Leases of 2 x 15 s + 5 s: this test ends long before one expires.
      destinations: [{ name: 'app', url: sink.url, timeoutMs: 15_000 }],
    });
    const ids: string[] = [];
    for (let index = 0; index < 10; index++) {
      ids.push(
        (await realStore.ingest({ source: 'cerebrium', dedupeKey: `lost-${index}`, contentType: 'application/json', contentEncoding: null, body: Buffer.from('{}'), destinations: ['app'] })).id,
      );
    }
    const lines: { msg?: string; count?: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const dispatcher: Dispatcher = createDispatcher({ config, store, logger, pollIntervalMs: 50 });
    await dispatcher.start();
    cleanups.push(() => dispatcher.stop(1_000));

    await waitFor(() => new Set(sink.received.map((delivery) => delivery.headers['webhook-id'])).size === ids.length, {
      timeoutMs: 5_000,
      what: 'all 10 deliveries at the sink',
    });
    expect(dropped).toHaveLength(10);
    expect(sink.received.map((delivery) => delivery.headers['webhook-id']).sort()).toEqual([...ids].sort());
    // Sent as first attempts: the lost claim sent nothing.
    expect(new Set(sink.received.map((delivery) => delivery.headers['hookrelay-attempt']))).toEqual(new Set(['1']));
    expect(lines.find((line) => line.msg === 'claims whose answer was lost are pending again')).toMatchObject({ count: 10 });
    await waitFor(async () => (await realStore.stats(['app'])).deliveries.delivered === 10, { timeoutMs: 5_000, what: 'all recorded as delivered' });
  });
});
