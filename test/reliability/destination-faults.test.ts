import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { post } from '../support/post.js';
import { relayConfig, TEST_SECRET, writeConfig } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { type Sink } from '../support/sink.js';
import { sleep, waitFor } from '../support/wait.js';
import { deliveryStatuses, inspectDatabase } from '../support/database.js';
import {
  closedPort, hang, hugeBody, resetMidResponse, rssBytes, slowBody, startFlappingSink, tooManyThenOk,
} from '../support/fault-sinks.js';
import { reportFigures } from '../support/figures.js';

/**
 * Every way a destination can misbehave, all at once, next to one healthy destination.
 * Each faulty delivery must end delivered or dead exactly as the retry rules say (a 2xx read
 * within the deadline = delivered; anything else, a timeout — a body still arriving at the
 * deadline included — or a connection error = failed, retried until maxAttempts, then dead;
 * Retry-After on 429 honoured up to maxDelayMs), nothing may stay pending or in
 * flight, the healthy destination must not wait for the others, and a response larger than
 * any buffer must not be buffered.
 */
const EVENTS = 3;
const MAX_ATTEMPTS = 3;
const TIMEOUT_MS = 1_000;
const HUGE_BYTES = 1024 * 1024 * 1024;

describe('destination faults: each ends delivered or dead per the retry rules, nothing stuck', () => {
  it('refused, reset, hang, slow body, 3xx, 4xx, 5xx, 429 + Retry-After, unresolvable DNS, 1 GB response, flapping', { timeout: 120_000 }, async ({ cleanup, tempDir, startRelay, startSink }) => {
    const dir = tempDir('hookrelay-destfaults-');
    const sinks = async (entries: [string, Parameters<typeof startSink>[0]][]) => {
      const made: Record<string, Sink> = {};
      for (const [name, behaviour] of entries) {
        made[name] = await startSink(behaviour);
        cleanup.add(() => made[name]!.close());
      }
      return made;
    };
    const hugeWritten = { bytes: 0 };
    const s = await sinks([
      ['healthy', () => 200],
      ['reset', resetMidResponse],
      ['hang', hang],
      ['slow-body', slowBody(100, 20_000)],
      ['redirect', (_request, response) => {
        response.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' });
        response.end();
        return 'handled';
      }],
      ['client-error', () => 400],
      ['server-error', () => 500],
      ['rate-limited', tooManyThenOk(1)],
      ['huge', hugeBody(200, HUGE_BYTES, hugeWritten)],
    ]);
    const flapping = await startFlappingSink(400);
    cleanup.add(() => flapping.stop());

    const retry = { maxAttempts: MAX_ATTEMPTS, initialDelayMs: 100, multiplier: 2, maxDelayMs: 400 };
    const circuitBreaker = { resetTimeoutMs: 300 };
    const destination = (name: string, url: string, extra: Record<string, unknown> = {}) => ({
      name, url, timeoutMs: TIMEOUT_MS, retry, circuitBreaker, ...extra,
    });
    const destinations = [
      destination('healthy', s.healthy!.url),
      destination('refused', `http://127.0.0.1:${await closedPort()}/hooks`),
      destination('reset', s.reset!.url),
      destination('hang', s.hang!.url),
      destination('slow-body', s['slow-body']!.url),
      destination('redirect', s.redirect!.url),
      destination('client-error', s['client-error']!.url),
      destination('server-error', s['server-error']!.url),
      // Retry-After is honoured up to maxDelayMs: give it room for the 1 s asked.
      destination('rate-limited', s['rate-limited']!.url, { retry: { ...retry, maxDelayMs: 2_000 } }),
      destination('dns', 'http://does-not-exist.invalid/hooks'),
      destination('huge', s.huge!.url),
      destination('flapping', flapping.url, { retry: { ...retry, maxAttempts: 40 } }),
    ];
    const dbPath = join(dir, 'hookrelay.db');
    const relay = await startRelay(writeConfig(dir, relayConfig(dir, { destinations })));
    const pid = relay.relayPid;
    const rssAtStart = rssBytes(pid);
    let rssPeak = rssAtStart;
    const sampler = setInterval(() => {
      try {
        rssPeak = Math.max(rssPeak, rssBytes(pid));
      } catch {
        // The process ended.
      }
    }, 20);
    cleanup.add(() => clearInterval(sampler));

    const ackedAt = new Map<string, number>();
    flapping.start();
    for (let index = 0; index < EVENTS; index++) {
      const answer = await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: `dest-${index}` }) }));
      expect(answer.status).toBe(202);
      ackedAt.set(String(answer.json!.id), Date.now());
      await sleep(50);
    }

    const terminal = (status: string) => status === 'delivered' || status === 'dead';
    await waitFor(() => {
      for (const { name } of destinations) {
        const statuses = deliveryStatuses(dbPath, name);
        if (statuses.size !== EVENTS || ![...statuses.values()].every((row) => terminal(row.status))) return false;
      }
      return true;
    }, { timeoutMs: 60_000, intervalMs: 200, what: 'every delivery to be delivered or dead' });
    clearInterval(sampler);

    const outcome = (name: string) => [...deliveryStatuses(dbPath, name).values()];
    const expectAll = (name: string, status: string, attempts: number, lastStatus: number | null | undefined) => {
      for (const row of outcome(name)) {
        expect({ name, status: row.status, attempts: row.attempts }).toEqual({ name, status, attempts });
        if (lastStatus !== undefined) expect({ name, lastStatus: row.lastStatus }).toEqual({ name, lastStatus });
      }
    };
    // Delivered: a 2xx whose body ends (or reaches the read limit, 64 KiB) within the deadline.
    expectAll('healthy', 'delivered', 1, 200);
    expectAll('huge', 'delivered', 1, 200);
    expectAll('rate-limited', 'delivered', 2, 200);
    // Dead after exactly maxAttempts failed attempts.
    expectAll('refused', 'dead', MAX_ATTEMPTS, null);
    expectAll('reset', 'dead', MAX_ATTEMPTS, null);
    expectAll('hang', 'dead', MAX_ATTEMPTS, null);
    // A 200 whose body is still arriving at the deadline is a timeout, like a hang.
    expectAll('slow-body', 'dead', MAX_ATTEMPTS, null);
    expectAll('dns', 'dead', MAX_ATTEMPTS, null);
    expectAll('redirect', 'dead', MAX_ATTEMPTS, 302);
    expectAll('client-error', 'dead', MAX_ATTEMPTS, 400);
    expectAll('server-error', 'dead', MAX_ATTEMPTS, 500);
    // Flapping: delivered once it is up at the right moment (never dead with a generous budget);
    // it was down when the events arrived, so at least one attempt each failed first.
    const flappingRows = outcome('flapping');
    for (const row of flappingRows) expect(row.status).toBe('delivered');
    const flappingFailedAttempts = flappingRows.reduce((sum, row) => sum + row.attempts - 1, 0);
    expect(flappingFailedAttempts).toBeGreaterThan(0);

    // Each sink saw exactly the attempts recorded: nothing sent that was not counted.
    expect(s.healthy!.received).toHaveLength(EVENTS);
    for (const name of ['redirect', 'client-error', 'server-error', 'hang', 'slow-body', 'reset']) {
      expect({ name, received: s[name]!.received.length }).toEqual({ name, received: EVENTS * MAX_ATTEMPTS });
    }
    // Retry-After: 1 s was honoured (the backoff alone would have retried after <= 100 ms).
    const rateLimitedGaps: number[] = [];
    for (const id of ackedAt.keys()) {
      const times = s['rate-limited']!.received.filter((d) => d.headers['webhook-id'] === id).map((d) => d.at);
      expect(times).toHaveLength(2);
      rateLimitedGaps.push(times[1]! - times[0]!);
    }
    expect(Math.min(...rateLimitedGaps)).toBeGreaterThanOrEqual(950);
    // The 1 GB answer was not read: the relay stopped after its snippet and its memory stayed bounded.
    expect(hugeWritten.bytes).toBeLessThan(HUGE_BYTES);
    expect(rssPeak - rssAtStart).toBeLessThan(200 * 1024 * 1024);
    // The healthy destination was served at once while the others timed out, hung and failed.
    const healthyLatencies = s.healthy!.received.map((d) => d.at - ackedAt.get(String(d.headers['webhook-id']))!);

    expect(await relay.stop()).toBe(0);
    const report = inspectDatabase(dbPath, destinations.length);
    expect(report.byStatus.pending).toBe(0);
    expect(report.byStatus.in_flight).toBe(0);
    expect(report.integrity).toBe('ok');
    reportFigures('destination-faults', {
      events: EVENTS,
      destinations: destinations.length,
      delivered: report.byStatus.delivered,
      dead: report.byStatus.dead,
      stuck: (report.byStatus.pending ?? 0) + (report.byStatus.in_flight ?? 0),
      healthyLatencyMaxMs: Math.max(...healthyLatencies),
      retryAfterGapMinMs: Math.min(...rateLimitedGaps),
      hugeResponseBytesWritten: hugeWritten.bytes,
      rssGrowthMb: Math.round((rssPeak - rssAtStart) / 1024 / 1024),
      flappingReceived: flapping.received.length,
      flappingFailedAttempts,
    });
    // Lanes are independent: no healthy delivery waited for a faulty destination's timeouts.
    expect(Math.max(...healthyLatencies)).toBeLessThan(TIMEOUT_MS * MAX_ATTEMPTS);
  });
});
