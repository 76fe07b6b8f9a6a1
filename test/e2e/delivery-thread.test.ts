import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { sleep, waitFor } from '../support/wait.js';
import { countById, logLines, postEvents, stats, workspace } from '../support/delivery.js';

/** Loaded into the relay processes of these tests only: faults on SIGUSR2 (see the file). */
const THREAD_FAULTS = pathToFileURL(resolve(import.meta.dirname, '../support/thread-faults.mjs')).href;

function faultEnv(marker: string, fault: 'block-main' | 'end-delivery-thread'): Record<string, string> {
  writeFileSync(marker, '');
  return { NODE_OPTIONS: `--import=${THREAD_FAULTS}`, HOOKRELAY_TEST_FAULT: fault, HOOKRELAY_TEST_FAULT_MARKER: marker, HOOKRELAY_TEST_FAULT_MS: '5000' };
}

describe('delivery runs in its own thread', () => {
  it('an attempt starts while the ingress event loop is blocked', async ({ cleanup, startSink, startRelay }) => {
    let markerAtSecondAttempt: string | null = null;
    let marker = '';
    const sink = await startSink(async (_request, _response, index) => {
      // The first attempt is answered only once the relay's main thread is blocked.
      if (index === 0) await waitFor(() => readFileSync(marker, 'utf8').includes('blocked'), { timeoutMs: 20_000, what: 'the main thread to block' });
      else markerAtSecondAttempt ??= readFileSync(marker, 'utf8');
      return 200;
    });
    // One attempt at a time: the second event's attempt starts only after the first one's answer.
    const ws = workspace(cleanup, { destinations: [{ name: 'app', url: sink.url, concurrency: 1 }] });
    marker = join(ws.dir, 'faults.log');
    const relay = await startRelay(ws.configPath, { env: faultEnv(marker, 'block-main') });

    const events = await postEvents(relay.url, 2, { parallel: 1 });
    await waitFor(() => sink.received.length === 1, { what: 'the first attempt' });
    process.kill(relay.relayPid, 'SIGUSR2');
    await waitFor(() => sink.received.length === 2, { timeoutMs: 20_000, what: 'the second attempt' });
    // The second attempt reached the sink while the main thread was still blocked.
    expect(markerAtSecondAttempt).toBe('blocked\n');
    await waitFor(() => readFileSync(marker, 'utf8').includes('unblocked'), { timeoutMs: 20_000, what: 'the main thread to run again' });
    expect([...countById(sink.received).keys()]).toEqual(events.map((event) => event.id));
    await waitFor(async () => (await stats(ws.configPath)).destinations.app?.delivered === 2, { timeoutMs: 10_000, what: 'both recorded' });
  });

  it.runIf(process.platform === 'linux')('the delivery thread runs below the other threads of the relay (nice 5): answering senders comes first', async ({ cleanup, startRelay }) => {
    const ws = workspace(cleanup, { destinations: [{ name: 'app', url: 'http://127.0.0.1:9/hooks' }] });
    const relay = await startRelay(ws.configPath);
    // /proc/<pid>/task/<tid>/stat: field 19 is the nice value (counted after the command name's closing parenthesis).
    const niceValues = () =>
      readdirSync(`/proc/${relay.relayPid}/task`).map((tid) => {
        const stat = readFileSync(`/proc/${relay.relayPid}/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      });
    const base = niceValues()[0]!;
    const lowered = await waitFor(() => niceValues().filter((nice) => nice === Math.min(19, base + 5)).length || null, { timeoutMs: 10_000, what: 'a thread at nice +5' });
    expect(lowered).toBe(1);
    expect(niceValues().filter((nice) => nice === base).length).toBeGreaterThan(2);
  });

  it('when the delivery thread dies, the relay exits 1, serve starts a new one, and every acknowledged event is delivered', async ({ cleanup, startSink, startRelay }) => {
    const sink = await startSink(async () => {
      await sleep(200);
      return 200;
    });
    const ws = workspace(cleanup, { destinations: [{ name: 'app', url: sink.url, concurrency: 4 }] });
    const marker = join(ws.dir, 'faults.log');
    const relay = await startRelay(ws.configPath, { env: faultEnv(marker, 'end-delivery-thread') });
    const firstRelayPid = relay.relayPid;

    const events = await postEvents(relay.url, 40, { parallel: 8 });
    await waitFor(() => sink.received.length >= 2, { what: 'the first attempts' });
    process.kill(firstRelayPid, 'SIGUSR2');
    await waitFor(() => readFileSync(marker, 'utf8') === 'ended 1\n', { what: 'the delivery thread to be ended' });

    await waitFor(() => logLines(relay, 'the delivery thread died').length === 1, { timeoutMs: 10_000, what: 'the fatal line' });
    expect(logLines(relay, 'the delivery thread died')[0]).toMatchObject({ level: 60, pid: firstRelayPid });
    await waitFor(() => logLines(relay, 'the relay process exited unexpectedly').length === 1, { timeoutMs: 15_000, what: 'the relay process to exit' });
    expect(logLines(relay, 'the relay process exited unexpectedly')[0]).toMatchObject({ code: 1, relayPid: firstRelayPid });
    await waitFor(() => logLines(relay, 'relay process restarted').length === 1, { timeoutMs: 30_000, what: 'the restart' });

    // Nothing acknowledged is lost: the new relay process delivers what the old one had not.
    const delivered = await waitFor(
      () => {
        const counts = countById(sink.received);
        return events.every((event) => counts.has(event.id)) ? counts : null;
      },
      { timeoutMs: 30_000, what: 'every event at the sink' },
    );
    expect(delivered.size).toBe(40);
    await waitFor(async () => (await stats(ws.configPath)).destinations.app?.delivered === 40, { timeoutMs: 15_000, what: 'all recorded as delivered' });
    expect(relay.child.exitCode).toBeNull();
  });

  it('the main thread still counts attempts in /metrics and shows the breaker in /admin/api/stats', async ({ cleanup, startSink, startRelay }) => {
    const good = await startSink(() => 200);
    const bad = await startSink(() => 500);
    const token = 'admin-token-for-thread-tests';
    const ws = workspace(cleanup, {
      admin: { host: '127.0.0.1', port: 0, token },
      destinations: [
        { name: 'good', url: good.url },
        // Three failed attempts open it; it stays open for the rest of the test.
        { name: 'bad', url: bad.url, retry: { maxAttempts: 1 }, circuitBreaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 600_000 } },
      ],
    });
    const relay = await startRelay(ws.configPath);
    const admin = `http://127.0.0.1:${relay.adminPort}`;
    const read = async (path: string) => (await request(`${admin}${path}`, { headers: { authorization: `Bearer ${token}` } })).body.text();

    expect(JSON.parse(await read('/admin/api/stats'))).toMatchObject({ circuits: { good: 'closed', bad: 'closed' } });
    await postEvents(relay.url, 3);
    await waitFor(() => good.received.length === 3 && bad.received.length === 3, { timeoutMs: 15_000, what: 'all first attempts' });
    await waitFor(async () => JSON.parse(await read('/admin/api/stats')).circuits?.bad === 'open', { timeoutMs: 10_000, what: 'the open breaker in the API' });
    expect(JSON.parse(await read('/admin/api/stats'))).toMatchObject({ circuits: { good: 'closed', bad: 'open' } });
    const series = {
      'hookrelay_delivery_attempts_total{destination="good",outcome="delivered"}': 3,
      'hookrelay_delivery_attempts_total{destination="bad",outcome="failed"}': 3,
      'hookrelay_delivery_duration_seconds_count{destination="good"}': 3,
      'hookrelay_circuit_open{destination="bad"}': 1,
    };
    const metrics = await waitFor(
      async () => {
        const text = await read('/metrics');
        return Object.entries(series).every(([name, value]) => text.includes(`\n${name} ${value}\n`)) ? text : null;
      },
      { timeoutMs: 10_000, what: 'the attempts in /metrics' },
    );
    expect(metrics).toContain('hookrelay_circuit_open{destination="good"} 0');
  });
});
