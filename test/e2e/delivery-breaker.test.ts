import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import type { RelayProcess } from '../support/relay.mjs';
import { waitFor } from '../support/wait.js';
import { attemptLog, countById, logLines, postEvents, stats, workspace } from '../support/delivery.js';

const TRANSITIONS = ['circuit opened', 'circuit half-open', 'circuit closed'] as const;

/** How many times the breaker of `destination` went half-open (its log line). */
function halfOpenCount(relayProcess: RelayProcess, destination: string): number {
  return logLines(relayProcess, 'circuit half-open').filter((line) => line.destination === destination).length;
}

describe('delivery: circuit breaker and isolation', () => {
  it('a destination down for ~5 s gets a handful of probes, loses nothing, and does not slow a healthy one', async ({ cleanup, startRelay, startSink }) => {
    let down = true;
    let requestsWhileDown = 0;
    const flaky = await startSink(() => {
      if (!down) return 200;
      requestsWhileDown += 1;
      return 503;
    });
    const healthy = await startSink();
    const concurrency = 8;
    const volumeThreshold = 5;
    const ws = workspace(cleanup, {
      destinations: [
        {
          name: 'flaky',
          url: flaky.url,
          concurrency,
          // Without the breaker, 200 deliveries x 3 attempts 100-400 ms apart would all be dead within the outage.
          retry: { maxAttempts: 3, initialDelayMs: 200, multiplier: 2, maxDelayMs: 1_000 },
          circuitBreaker: { volumeThreshold, errorThresholdPercentage: 50, resetTimeoutMs: 1_000, rollingWindowMs: 10_000 },
        },
        { name: 'healthy', url: healthy.url },
      ],
    });
    const relayProcess = await startRelay(ws.configPath);
    const outageStarted = Date.now();

    const events = await postEvents(relayProcess.url, 200);
    await waitFor(() => healthy.received.length >= 200, { timeoutMs: 30_000, what: 'the healthy destination to get all 200' });
    expect(down).toBe(true);
    const accepted = new Map(events.map((event) => [event.id, event.acceptedAt]));
    const lags = healthy.received.map((request) => request.at - accepted.get(String(request.headers['webhook-id']))!);
    console.log(`healthy destination during the outage: max lag ${Math.max(...lags)} ms after the 202`);
    expect(Math.max(...lags)).toBeLessThan(5_000);

    // The outage lasts through three open -> half-open cycles of the breaker (resetTimeoutMs 1 s).
    await waitFor(() => halfOpenCount(relayProcess, 'flaky') >= 3, { timeoutMs: 20_000, what: 'three half-open probes' });
    const sentWhileDown = requestsWhileDown;
    const snapshot = await stats(ws.configPath);
    down = false;

    const halfOpens = logLines(relayProcess, 'circuit half-open').filter((line) => line.destination === 'flaky').length;
    console.log(`flaky destination: ${sentWhileDown} requests during a ${Date.now() - outageStarted} ms outage, ${halfOpens} half-open probes`);
    // Before the breaker opens at most `concurrency` attempts are running plus the failures it takes to open it;
    // after that one probe per half-open. A retry storm would be hundreds.
    expect(sentWhileDown).toBeLessThanOrEqual(concurrency + volumeThreshold + halfOpens + 2);
    expect(sentWhileDown).toBeLessThan(40);
    expect(snapshot.destinations.flaky!.dead).toBe(0);
    expect(snapshot.destinations.healthy).toMatchObject({ delivered: 200, dead: 0, pending: 0 });

    await waitFor(() => countById(flaky.received).size === 200, { timeoutMs: 30_000, what: 'all 200 at the recovered destination' });
    const final = await waitFor(async () => {
      const current = await stats(ws.configPath);
      return current.deliveries.delivered === 400 ? current : null;
    }, { timeoutMs: 15_000, what: '400 delivered' });
    expect(final.deliveries).toEqual({ pending: 0, inFlight: 0, delivered: 400, dead: 0 });
    for (const event of events) {
      const arrivals = flaky.received.filter((request) => request.headers['webhook-id'] === event.id);
      expect(arrivals.at(-1)!.body.equals(event.body)).toBe(true);
    }

    // Each transition is logged once, with the destination's name, in a sensible order ending closed.
    const sequence = relayProcess.lines
      .map((line) => JSON.parse(line) as { msg?: string; destination?: string })
      .filter((line) => TRANSITIONS.some((text) => line.msg?.startsWith(text)));
    expect(sequence.every((line) => line.destination === 'flaky')).toBe(true);
    const kinds = sequence.map((line) => TRANSITIONS.find((text) => line.msg!.startsWith(text)));
    console.log(`breaker transitions: ${kinds.join(' -> ')}`);
    expect(kinds[0]).toBe('circuit opened');
    expect(kinds.at(-1)).toBe('circuit closed');
    expect(kinds.filter((kind) => kind === 'circuit closed')).toHaveLength(1);
    for (let i = 1; i < kinds.length; i += 1) {
      expect(kinds[i], `transition ${i}`).not.toBe(kinds[i - 1]);
      if (kinds[i] !== 'circuit half-open') expect(kinds[i - 1]).toBe('circuit half-open');
    }
  });

  it('connection refused for ~5 s: the attempt log shows a handful of probes, then all arrive', async ({ cleanup, startRelay, startSink }) => {
    // Take a free port, then close it so connections are refused until the destination comes back on it.
    const placeholder = await startSink();
    const port = placeholder.port;
    await placeholder.close();
    const url = `http://127.0.0.1:${port}/hooks`;
    const ws = workspace(cleanup, {
      destinations: [
        {
          name: 'refusing',
          url,
          concurrency: 8,
          retry: { maxAttempts: 3, initialDelayMs: 200, multiplier: 2, maxDelayMs: 1_000 },
          circuitBreaker: { volumeThreshold: 5, errorThresholdPercentage: 50, resetTimeoutMs: 1_000, rollingWindowMs: 10_000 },
        },
      ],
    });
    const relayProcess = await startRelay(ws.configPath);
    const events = await postEvents(relayProcess.url, 200);
    await waitFor(() => halfOpenCount(relayProcess, 'refusing') >= 3, { timeoutMs: 20_000, what: 'three half-open probes' });

    const refused = attemptLog(ws.dbPath, 'refusing');
    const halfOpens = logLines(relayProcess, 'circuit half-open').filter((line) => line.destination === 'refusing').length;
    console.log(`refusing destination: ${refused.length} attempts during the outage (${halfOpens} half-open probes)`);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((row) => row.error_code === 'ECONNREFUSED' && row.outcome === 'failed')).toBe(true);
    expect(refused.length).toBeLessThanOrEqual(8 + 5 + halfOpens + 2);
    expect((await stats(ws.configPath)).destinations.refusing!.dead).toBe(0);

    const back = await startSink(() => 200, port);
    await waitFor(() => countById(back.received).size === 200, { timeoutMs: 30_000, what: 'all 200 after recovery' });
    const final = await waitFor(async () => {
      const current = await stats(ws.configPath);
      return current.deliveries.delivered === 200 ? current : null;
    }, { timeoutMs: 15_000, what: '200 delivered' });
    expect(final.deliveries.dead).toBe(0);
    expect(new Set(back.received.map((request) => request.headers['webhook-id']))).toEqual(new Set(events.map((event) => event.id)));
    expect(logLines(relayProcess, 'circuit closed').filter((line) => line.destination === 'refusing')).toHaveLength(1);
  });

  it('a hanging destination (timeoutMs 500) does not slow a healthy one', async ({ cleanup, startRelay, startSink }) => {
    const hanging = await startSink(() => new Promise<number>(() => undefined));
    const healthy = await startSink();
    const ws = workspace(cleanup, {
      destinations: [
        {
          name: 'hanging',
          url: hanging.url,
          timeoutMs: 500,
          concurrency: 4,
          retry: { maxAttempts: 50, initialDelayMs: 200, multiplier: 1, maxDelayMs: 200 },
          circuitBreaker: { volumeThreshold: 1_000 },
        },
        { name: 'healthy', url: healthy.url, concurrency: 4 },
      ],
    });
    const relayProcess = await startRelay(ws.configPath);
    const events = await postEvents(relayProcess.url, 100);
    await waitFor(() => healthy.received.length >= 100, { timeoutMs: 20_000, what: 'the healthy destination to get all 100' });
    const accepted = new Map(events.map((event) => [event.id, event.acceptedAt]));
    const lags = healthy.received.map((request) => request.at - accepted.get(String(request.headers['webhook-id']))!);
    console.log(`healthy beside a hanging destination: max lag ${Math.max(...lags)} ms`);
    // 100 events through 4 hanging slots at 500 ms each would take >= 12 s if the lanes were shared.
    expect(Math.max(...lags)).toBeLessThan(5_000);
    expect(hanging.received.length).toBeGreaterThan(0);

    // The hanging destination's attempts time out after 500 ms and free their slots (4 at a time).
    await waitFor(() => hanging.received.length >= 12, { timeoutMs: 15_000, what: 'timed-out attempts to free their slots' });
    // Each timed-out attempt is committed shortly after its slot frees (the sink may already
    // hold the next request), so wait for the records rather than read them at once.
    const timedOut = () => attemptLog(ws.dbPath, 'hanging').filter((row) => row.error_code === 'TIMEOUT' && row.status_code === null);
    await waitFor(() => timedOut().length >= 8, { timeoutMs: 5_000, what: '8 attempts recorded as timed out' });
    const hangingStats = (await stats(ws.configPath)).destinations.hanging!;
    expect(hangingStats.delivered).toBe(0);
    expect(hangingStats.dead).toBe(0);
  });
});
