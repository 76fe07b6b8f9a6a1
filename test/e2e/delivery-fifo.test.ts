import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';
import { postEvents, stats, workspace } from '../support/delivery.js';
import { startFifoSink } from '../support/fifo-sink.js';

describe('ordering: fifo (SQLite)', () => {
  it('30 events, the 5th fails twice: nothing after it is delivered before it, never two in flight, all in commit order', async ({ cleanup, startRelay }) => {
    const fifo = await startFifoSink((index, attempt) => index === 4 && attempt <= 2);
    cleanup.add(() => fifo.sink.close());
    const ws = workspace(cleanup, {
      destinations: [{ name: 'ordered', url: fifo.sink.url, ordering: 'fifo', concurrency: 8, retry: { initialDelayMs: 50, maxDelayMs: 100 } }],
    });
    const relayProcess = await startRelay(ws.configPath);
    // One at a time, so commit order is the index order.
    await postEvents(relayProcess.url, 30, { prefix: 'fifo', parallel: 1 });
    await waitFor(() => fifo.deliveredOrder().length === 30, { timeoutMs: 30_000, what: '30 deliveries' });
    expect(fifo.deliveredOrder()).toEqual(Array.from({ length: 30 }, (_, index) => index));
    expect(fifo.maxInFlight()).toBe(1);
    // The 5th's two failures came before anything after it.
    expect(fifo.sink.received.slice(0, 7).map((request) => [JSON.parse(request.body.toString()).index, request.headers['hookrelay-attempt']])).toEqual([
      [0, '1'], [1, '1'], [2, '1'], [3, '1'], [4, '1'], [4, '2'], [4, '3'],
    ]);
    await waitFor(async () => (await stats(ws.configPath)).destinations.ordered!.delivered === 30, { timeoutMs: 15_000, intervalMs: 300, what: 'stats' });
    expect(await relayProcess.stop()).toBe(0);
  });
});
