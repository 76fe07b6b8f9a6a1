import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { sleep, waitFor } from '../support/wait.js';
import { countById, logLines, postEvents, stats, workspace, type PostedEvent } from '../support/delivery.js';

describe('delivery: crashes and graceful shutdown', () => {
  const expectAllArrived = (events: readonly PostedEvent[], counts: Map<string, number>) => {
    const missing = events.filter((event) => !counts.has(event.id));
    expect(missing.map((event) => event.runId)).toEqual([]);
  };

  it('SIGKILL while delivering 2,000 events, restart: every event arrives at least once', async ({ cleanup, startRelay, startSink }) => {
    const sink = await startSink(async () => {
      await sleep(25);
      return 200;
    });
    const ws = workspace(cleanup, { destinations: [{ name: 'app', url: sink.url, concurrency: 8 }] });
    const first = await startRelay(ws.configPath);
    const events = await postEvents(first.url, 2_000, { parallel: 16 });
    await waitFor(() => sink.received.length >= 1_000, { timeoutMs: 60_000, what: 'half of the deliveries' });
    const atKill = sink.received.length;
    expect(await first.kill()).toBe('SIGKILL');
    expect(atKill).toBeLessThan(2_000);

    const second = await startRelay(ws.configPath);
    await waitFor(() => countById(sink.received).size === 2_000, { timeoutMs: 90_000, what: 'every event at the sink' });
    const final = await waitFor(async () => {
      const current = await stats(ws.configPath);
      return current.deliveries.delivered === 2_000 ? current : null;
    }, { timeoutMs: 20_000, what: '2,000 delivered' });
    expect(final.deliveries).toEqual({ pending: 0, inFlight: 0, delivered: 2_000, dead: 0 });

    const counts = countById(sink.received);
    expectAllArrived(events, counts);
    const duplicates = sink.received.length - counts.size;
    const recovered = logLines(second, 'will be attempted again');
    console.log(
      `SIGKILL after ${atKill} of 2000 deliveries: ${duplicates} duplicate(s) after restart; ` +
        `${String(recovered[0]?.count ?? 0)} in-flight deliveries recovered`,
    );
    // At-least-once: duplicates are bounded by what can be in flight (concurrency) plus completions not yet committed.
    expect(duplicates).toBeLessThanOrEqual(8 + 64);
    expect(await second.stop()).toBe(0);
  });

  it('SIGTERM during in-flight deliveries to a slow sink: exits 0 within the grace, nothing lost, nothing sent twice', async ({ cleanup, startRelay, startSink }) => {
    const sink = await startSink(async () => {
      await sleep(1_000 + Math.floor(Math.random() * 1_000));
      return 200;
    });
    const ws = workspace(cleanup, { destinations: [{ name: 'slow', url: sink.url, concurrency: 8 }] });
    const first = await startRelay(ws.configPath);
    const events = await postEvents(first.url, 40);
    await waitFor(() => sink.received.length >= 8, { timeoutMs: 15_000, what: 'attempts in flight' });

    const signalledAt = Date.now();
    const code = await first.stop(30_000);
    const tookMs = Date.now() - signalledAt;
    console.log(`SIGTERM with ${sink.received.length} requests at the sink: exit ${code} after ${tookMs} ms`);
    expect(code).toBe(0);
    // The relay's grace for in-flight attempts is 5 s; allow for a loaded machine.
    expect(tookMs).toBeLessThan(10_000);
    expect(logLines(first, 'releasing attempts that did not finish')).toHaveLength(0);
    const afterStop = await stats(ws.configPath);
    expect(afterStop.deliveries.inFlight).toBe(0);
    expect(afterStop.deliveries.delivered).toBeGreaterThanOrEqual(8);

    const second = await startRelay(ws.configPath);
    await waitFor(async () => (await stats(ws.configPath)).deliveries.delivered === 40, { timeoutMs: 30_000, what: '40 delivered' });
    const counts = countById(sink.received);
    expectAllArrived(events, counts);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect(sink.received).toHaveLength(40);
    expect(await second.stop()).toBe(0);
  });

  it('SIGTERM while attempts outlast the grace: they are released, the relay exits 0, and they are sent after restart', async ({ cleanup, startRelay, startSink }) => {
    let holding = true;
    const sink = await startSink(async () => {
      if (!holding) return 200;
      await sleep(25_000);
      return 200;
    });
    const ws = workspace(cleanup, { destinations: [{ name: 'stuck', url: sink.url, concurrency: 4, timeoutMs: 30_000 }] });
    const first = await startRelay(ws.configPath);
    const events = await postEvents(first.url, 6);
    await waitFor(() => sink.received.length >= 4, { timeoutMs: 15_000, what: '4 attempts in flight' });

    const signalledAt = Date.now();
    const code = await first.stop(30_000);
    const tookMs = Date.now() - signalledAt;
    console.log(`SIGTERM with attempts that outlast the grace: exit ${code} after ${tookMs} ms`);
    expect(code).toBe(0);
    // The relay waits DELIVERY_GRACE_MS (5 s) for in-flight attempts, then releases them.
    expect(tookMs).toBeGreaterThanOrEqual(4_500);
    expect(tookMs).toBeLessThan(11_000);
    expect(logLines(first, 'releasing attempts that did not finish')[0]).toMatchObject({ count: 4 });
    const afterStop = await stats(ws.configPath);
    expect(afterStop.deliveries).toEqual({ pending: 6, inFlight: 0, delivered: 0, dead: 0 });

    holding = false;
    const second = await startRelay(ws.configPath);
    await waitFor(async () => (await stats(ws.configPath)).deliveries.delivered === 6, { timeoutMs: 30_000, what: '6 delivered' });
    expectAllArrived(events, countById(sink.received));
    // The 4 cut-short attempts were sent once already: their resend carries attempt 2, never a repeated number.
    const attemptsById = new Map<string, string[]>();
    for (const request of sink.received) {
      const id = String(request.headers['webhook-id']);
      attemptsById.set(id, [...(attemptsById.get(id) ?? []), String(request.headers['hookrelay-attempt'])]);
    }
    const sentTwice = [...attemptsById.values()].filter((numbers) => numbers.length === 2);
    expect(sentTwice).toHaveLength(4);
    for (const numbers of sentTwice) expect(numbers).toEqual(['1', '2']);
    expect(await second.stop()).toBe(0);
  });
});
