import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';
import { eventBody } from '../support/delivery.js';
import { sendLikeCerebrium } from '../support/postgres-fleet.js';
import { startFifoSink } from '../support/fifo-sink.js';

describe('ordering: fifo across two relay processes on one PostgreSQL database', () => {
  it('callbacks alternating between them are delivered one at a time, in commit order, the failing 5th blocking the rest', async ({ cleanup, startFleet }) => {
    const fifo = await startFifoSink((index, attempt) => index === 4 && attempt <= 2);
    cleanup.add(() => fifo.sink.close());
    const fleet = await startFleet({
      count: 2,
      sink: fifo.sink,
      destination: { ordering: 'fifo', concurrency: 8, retry: { initialDelayMs: 50, maxDelayMs: 100 } },
    });

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
