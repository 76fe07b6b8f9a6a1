import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { startSink, type Sink } from '../support/sink.js';
import { sleep, waitFor } from '../support/wait.js';
import { countById, postEvents, stats, workspace } from '../support/delivery.js';

/** A sink that holds each request for `holdMs` and records the most it ever held at once. */
async function holdingSink(holdMs: number): Promise<{ sink: Sink; peak: () => number }> {
  let active = 0;
  let peak = 0;
  const sink = await startSink(async () => {
    active += 1;
    peak = Math.max(peak, active);
    await sleep(holdMs);
    active -= 1;
    return 200;
  });
  return { sink, peak: () => peak };
}

describe('delivery: per-destination concurrency', () => {
  it('a sink that holds requests never sees more than `concurrency` at once', async ({ cleanup, startRelay }) => {
    const three = await holdingSink(250);
    cleanup.add(() => three.sink.close());
    const one = await holdingSink(100);
    cleanup.add(() => one.sink.close());
    const ws = workspace(cleanup, {
      destinations: [
        { name: 'three', url: three.sink.url, concurrency: 3 },
        { name: 'one', url: one.sink.url, concurrency: 1 },
      ],
    });
    const relayProcess = await startRelay(ws.configPath);
    await postEvents(relayProcess.url, 30);
    await waitFor(() => three.sink.received.length >= 30 && one.sink.received.length >= 30, {
      timeoutMs: 30_000,
      what: 'all 30 at both sinks',
    });
    // Every delivery recorded done, none in flight: no further request can come to raise a peak.
    await waitFor(async () => {
      const current = await stats(ws.configPath);
      return current.deliveries.delivered === 60 && current.deliveries.inFlight === 0;
    }, { timeoutMs: 15_000, intervalMs: 300, what: '60 deliveries recorded' });
    console.log(`peak concurrent requests: ${three.peak()} (limit 3), ${one.peak()} (limit 1)`);
    expect(three.peak()).toBe(3);
    expect(one.peak()).toBe(1);
    expect(countById(three.sink.received).size).toBe(30);
    expect(countById(one.sink.received).size).toBe(30);
    expect(three.sink.received).toHaveLength(30);
    expect(one.sink.received).toHaveLength(30);
  });
});
