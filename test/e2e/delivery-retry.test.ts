import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { type ReceivedDelivery } from '../support/sink.js';
import { waitFor } from '../support/wait.js';
import { attemptsThroughCli, countById, logLines, postEvents, stats, waitForProbes, workspace } from '../support/delivery.js';

/** Breaker settings that never open in these tests, so only the retry policy is at work. */
const NO_BREAKER = { volumeThreshold: 100_000 };

const byEvent = (received: readonly ReceivedDelivery[]) => {
  const groups = new Map<string, ReceivedDelivery[]>();
  for (const request of received) {
    const id = String(request.headers['webhook-id']);
    groups.set(id, [...(groups.get(id) ?? []), request]);
  }
  return groups;
};

describe('delivery: retries, Retry-After and dead letters', () => {
  it('fail, fail, succeed -> delivered on attempt 3, each gap at least half its backoff ceiling', async ({ cleanup, startRelay, startSink }) => {
    const seen = new Map<string, number>();
    const sink = await startSink((request) => {
      const id = String(request.headers['webhook-id']);
      const count = (seen.get(id) ?? 0) + 1;
      seen.set(id, count);
      return count <= 2 ? 500 : 200;
    });
    const retry = { maxAttempts: 5, initialDelayMs: 300, multiplier: 2, maxDelayMs: 10_000 };
    const ws = workspace(cleanup, { destinations: [{ name: 'flaky', url: sink.url, retry, circuitBreaker: NO_BREAKER }] });
    const relayProcess = await startRelay(ws.configPath);

    const events = await postEvents(relayProcess.url, 3);
    await waitFor(async () => (await stats(ws.configPath)).deliveries.delivered === 3, { timeoutMs: 20_000, what: '3 delivered' });

    const groups = byEvent(sink.received);
    for (const event of events) {
      const requests = groups.get(event.id)!;
      expect(requests.map((request) => request.headers['hookrelay-attempt'])).toEqual(['1', '2', '3']);
      for (const request of requests) expect(request.body.equals(event.body)).toBe(true);
      const gaps = [requests[1]!.at - requests[0]!.at, requests[2]!.at - requests[1]!.at];
      // Ceilings: 300 ms after the first failure, 600 ms after the second; jitter never below half.
      expect(gaps[0]).toBeGreaterThanOrEqual(150 - 5);
      expect(gaps[1]).toBeGreaterThanOrEqual(300 - 5);
      // A due retry is found within about a second (generous bound for a loaded machine).
      expect(gaps[0]).toBeLessThan(300 + 4_000);
      expect(gaps[1]).toBeLessThan(600 + 4_000);
    }
    const log = await attemptsThroughCli(ws.configPath);
    expect(log).toHaveLength(9);
    for (const delivery of new Set(log.map((row) => row.delivery_id))) {
      const rows = log.filter((row) => row.delivery_id === delivery);
      expect(rows.map((row) => [row.number, row.status_code, row.outcome])).toEqual([
        [1, 500, 'failed'],
        [2, 500, 'failed'],
        [3, 200, 'delivered'],
      ]);
    }
  });

  it('429 with Retry-After: 2 -> next attempt at least 2 s later; Retry-After on a 500 is not honoured', async ({ cleanup, startRelay, startSink }) => {
    const answered = new Set<string>();
    const answerOnce = (status: number, retryAfter: string) =>
      startSink((request, response) => {
        const id = String(request.headers['webhook-id']);
        if (answered.has(`${status}:${id}`)) return 200;
        answered.add(`${status}:${id}`);
        response.writeHead(status, { 'retry-after': retryAfter });
        response.end('slow down');
        return 'handled';
      });
    const limited = await answerOnce(429, '2');
    cleanup.add(() => limited.close());
    const broken = await answerOnce(500, '6');
    cleanup.add(() => broken.close());
    const retry = { maxAttempts: 5, initialDelayMs: 300, multiplier: 2, maxDelayMs: 10_000 };
    const ws = workspace(cleanup, {
      destinations: [
        { name: 'limited', url: limited.url, retry, circuitBreaker: NO_BREAKER },
        { name: 'broken', url: broken.url, retry, circuitBreaker: NO_BREAKER },
      ],
    });
    const relayProcess = await startRelay(ws.configPath);
    await postEvents(relayProcess.url, 2);
    await waitFor(async () => (await stats(ws.configPath)).deliveries.delivered === 4, { timeoutMs: 30_000, what: '4 delivered' });

    for (const requests of byEvent(limited.received).values()) {
      expect(requests).toHaveLength(2);
      expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(2_000 - 5);
    }
    for (const requests of byEvent(broken.received).values()) {
      expect(requests).toHaveLength(2);
      // The backoff (<= 300 ms) decides, not the 6 s Retry-After of a 500.
      expect(requests[1]!.at - requests[0]!.at).toBeLessThan(5_000);
    }
    const snippets = (await attemptsThroughCli(ws.configPath, 'limited')).filter((row) => row.outcome === 'failed');
    expect(snippets.map((row) => row.status_code)).toEqual([429, 429]);
  });

  it('always failing with maxAttempts 3 -> dead after exactly 3 attempts, and never tried again', async ({ cleanup, startRelay, startSink }) => {
    const reason = `{"error":"database unavailable"}${' '.repeat(4_000)}tail`;
    const sink = await startSink((_request, response) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(reason);
      return 'handled';
    });
    const retry = { maxAttempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000 };
    const ws = workspace(cleanup, { destinations: [{ name: 'down', url: sink.url, retry, circuitBreaker: NO_BREAKER }], log: { level: 'debug' } });
    const relayProcess = await startRelay(ws.configPath);
    const events = await postEvents(relayProcess.url, 4);

    await waitFor(async () => (await stats(ws.configPath)).deliveries.dead === 4, { timeoutMs: 20_000, what: '4 dead' });
    // Never tried again: the dispatcher asks the store what is due, again and again, and gets nothing.
    await waitForProbes(relayProcess, 3);
    const final = await stats(ws.configPath);
    expect(final.deliveries).toEqual({ pending: 0, inFlight: 0, delivered: 0, dead: 4 });
    expect(final.destinations.down).toMatchObject({ dead: 4, delivered: 0, pending: 0 });

    const counts = countById(sink.received);
    expect(new Set(counts.keys())).toEqual(new Set(events.map((event) => event.id)));
    expect([...counts.values()]).toEqual([3, 3, 3, 3]);
    for (const requests of byEvent(sink.received).values()) {
      expect(requests.map((request) => request.headers['hookrelay-attempt'])).toEqual(['1', '2', '3']);
    }
    const log = await attemptsThroughCli(ws.configPath);
    expect(log).toHaveLength(12);
    expect(log.every((row) => row.status_code === 500 && row.outcome === 'failed')).toBe(true);
    // The attempt log keeps the first ~1 KB of the response so an operator can see why it died.
    for (const row of log) {
      expect(row.response_snippet!.startsWith('{"error":"database unavailable"}')).toBe(true);
      expect(Buffer.byteLength(row.response_snippet!)).toBeLessThanOrEqual(1_024);
      expect(row.duration_ms).toBeGreaterThanOrEqual(0);
      expect(Math.abs(row.started_at - Date.now())).toBeLessThan(120_000);
    }
    expect(logLines(relayProcess, 'delivery is dead')).toHaveLength(4);
  });

  it('a 4xx destination does not open its breaker, yet its deliveries die after maxAttempts; a 5xx one does open', async ({ cleanup, startRelay, startSink }) => {
    const rejecting = await startSink(() => 400);
    const failing = await startSink(() => 500);
    const retry = { maxAttempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 400 };
    const circuitBreaker = { volumeThreshold: 5, errorThresholdPercentage: 50, resetTimeoutMs: 60_000, rollingWindowMs: 30_000 };
    const ws = workspace(cleanup, {
      destinations: [
        { name: 'rejecting', url: rejecting.url, retry, circuitBreaker },
        { name: 'failing', url: failing.url, retry, circuitBreaker },
      ],
    });
    const relayProcess = await startRelay(ws.configPath);
    await postEvents(relayProcess.url, 10);

    await waitFor(async () => (await stats(ws.configPath)).destinations.rejecting!.dead === 10, {
      timeoutMs: 20_000,
      what: 'every delivery to the 4xx destination dead',
    });
    expect(rejecting.received).toHaveLength(30);
    expect([...countById(rejecting.received).values()].every((count) => count === 3)).toBe(true);

    const opened = (name: string) => logLines(relayProcess, 'circuit opened').filter((line) => line.destination === name);
    expect(opened('rejecting')).toHaveLength(0);
    // The same volume of 5xx does open the breaker: the check above can fail.
    await waitFor(() => opened('failing').length === 1, { timeoutMs: 10_000, what: 'the 5xx destination to open' });
    const failingStats = (await stats(ws.configPath)).destinations.failing!;
    expect(failingStats.dead).toBeLessThan(10);
  });
});

describe('delivery: a replay from the CLI is picked up by a running relay', () => {
  it('dead letters replayed from another process are sent within about a second, attempt numbers continuing', async ({ cleanup, startRelay, startSink, runCli }) => {
    let healthy = false;
    const sink = await startSink(() => (healthy ? 200 : 500));
    const retry = { maxAttempts: 2, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000 };
    const ws = workspace(cleanup, { destinations: [{ name: 'app', url: sink.url, retry, circuitBreaker: NO_BREAKER }] });
    const relayProcess = await startRelay(ws.configPath);
    const events = await postEvents(relayProcess.url, 3);
    await waitFor(async () => (await stats(ws.configPath)).deliveries.dead === 3, { timeoutMs: 20_000, what: '3 dead' });
    expect(sink.received).toHaveLength(6);

    healthy = true;
    const replay = await runCli(['replay', '--all', '--json', '--config', ws.configPath]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ matched: 3, replayed: 3, dryRun: false });
    const replayedAt = Date.now();
    await waitFor(() => sink.received.length === 9, { timeoutMs: 15_000, what: 'the replayed deliveries' });
    const lag = Math.max(...sink.received.slice(6).map((request) => request.at)) - replayedAt;
    console.log(`replayed dead letters reached the sink ${lag} ms after the CLI returned`);
    expect(lag).toBeLessThan(5_000);
    for (const event of events) {
      const attempts = sink.received.filter((request) => request.headers['webhook-id'] === event.id);
      expect(attempts.map((request) => request.headers['hookrelay-attempt'])).toEqual(['1', '2', '3']);
    }
    await waitFor(async () => (await stats(ws.configPath)).deliveries.delivered === 3, { timeoutMs: 10_000, what: '3 delivered' });
  });
});
