import { afterEach, describe, expect, it } from 'vitest';
import { testSchema } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { eventBody } from '../support/delivery.js';
import { sendLikeCerebrium, startFleet } from '../support/postgres-fleet.js';
import { startFifoSink } from '../support/fifo-sink.js';

describe('ordering: fifo across two relay processes on one PostgreSQL database', () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('callbacks alternating between them are delivered one at a time, in commit order, the failing 5th blocking the rest', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const database = testSchema('e2e_fifo');
    cleanups.push(() => database.drop());
    const fifo = await startFifoSink((index, attempt) => index === 4 && attempt <= 2);
    cleanups.push(() => fifo.sink.close());
    const fleet = await startFleet({
      dir: dir.path,
      count: 2,
      postgresUrl: database.url,
      schema: database.schema,
      sink: fifo.sink,
      destination: { ordering: 'fifo', concurrency: 8, retry: { initialDelayMs: 50, maxDelayMs: 100 } },
    });
    cleanups.push(() => fleet.stopAll());

    for (let index = 0; index < 30; index += 1) {
      const urls = fleet.urls();
      const outcome = await sendLikeCerebrium(() => urls[index % urls.length]!, eventBody(`pgfifo-${index}`, index).toString());
      expect(outcome).toMatchObject({ kind: 'acknowledged', duplicate: false });
    }
    await waitFor(() => fifo.deliveredOrder().length === 30, { timeoutMs: 45_000, what: '30 deliveries' });
    expect(fifo.deliveredOrder()).toEqual(Array.from({ length: 30 }, (_, index) => index));
    expect(fifo.maxInFlight()).toBe(1);
    expect(fifo.sink.received).toHaveLength(32);
  });
});
