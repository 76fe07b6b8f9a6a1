import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import DatabaseConstructor from 'better-sqlite3';
import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it, type Cleanup } from '../support/fixtures.js';
import { post } from '../support/post.js';
import { relayConfig, RESPONDING_CEREBRIUM_SOURCE, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { copyRuntimeForOtherUsers } from '../support/runtime-copy.js';
import { startSink, type Sink } from '../support/sink.js';
import { sleep, waitFor } from '../support/wait.js';
import { callOnce } from '../support/http-call.js';
import { inspectDatabase, storedEvent } from '../support/database.js';
import { reportFigures } from '../support/figures.js';
import { prepareDiskFull } from '../support/storage-faults.js';
import { waitForProbes } from '../support/delivery.js';

/**
 * The database cannot be written: ingress must answer 503 (never a 2xx it did not commit),
 * /readyz must say 503, nothing may be half-written, and the relay must recover by itself
 * once the fault clears.
 */
const BUSY_TIMEOUT_MS = 500;
const SOURCE_PATH = '/webhooks/cerebrium';

interface Harness {
  relay: RelayProcess;
  sink: Sink;
  dbPath: string;
  send(runId: string, bodyBytes?: number): Promise<number>;
  readyz(): Promise<number>;
}

describe('storage faults: 503, never a 2xx that was not committed, and self-recovery', () => {
  async function startHarness(cleanup: Cleanup, dbDir: string, configDir: string, spawn: { uid?: number; gid?: number; cli?: string; timeoutMs?: number } = {}, existingSink?: Sink): Promise<Harness> {
    const sink = existingSink ?? (await startSink());
    if (!existingSink) cleanup.add(() => sink.close());
    const dbPath = join(dbDir, 'hookrelay.db');
    const config = relayConfig(configDir, {
      storage: { sqlite: { path: dbPath, busyTimeoutMs: BUSY_TIMEOUT_MS } },
      sources: [RESPONDING_CEREBRIUM_SOURCE],
      // A short timeout keeps leases short (2 x timeout + 5 s): an attempt whose outcome could not be
      // recorded while storage was down is sent again when its lease expires.
      destinations: [{ name: 'app', url: sink.url, timeoutMs: 1_000, retry: { maxAttempts: 50, initialDelayMs: 50, maxDelayMs: 500 } }],
    });
    const configPath = writeConfig(configDir, config);
    chmodSync(configPath, 0o644); // readable by the unprivileged user whatever the umask
    const relay = await startRelay(configPath, spawn);
    cleanup.add(() => relay.kill());
    const bodies = new Map<string, Buffer>();
    return {
      relay,
      sink,
      dbPath,
      send: async (runId, bodyBytes = 0) => {
        const body = bodies.get(runId) ?? Buffer.from(JSON.stringify({ run_id: runId, pad: 'x'.repeat(bodyBytes) }));
        bodies.set(runId, body);
        const answer = await post(`${relay.url}${SOURCE_PATH}`, cerebriumRequest({ secret: TEST_SECRET, body }));
        return answer.status;
      },
      readyz: async () => {
        const response = await request(`${relay.url}/readyz`);
        await response.body.dump();
        return response.statusCode;
      },
    };
  }

  /** The fault is on: every callback is refused with 503 and readiness is off. */
  async function expectRefusing(harness: Harness, runIds: string[], bodyBytes: number): Promise<number[]> {
    const statuses: number[] = [];
    for (const runId of runIds) statuses.push(await harness.send(runId, bodyBytes));
    expect(statuses).toEqual(runIds.map(() => 503));
    expect(await harness.readyz()).toBe(503);
    expect(harness.relay.child.exitCode).toBeNull();
    return statuses;
  }

  /** After the fault clears: ready again without a restart; refused callbacks are new (202), so none was half-stored. */
  async function expectRecovered(harness: Harness, before: string[], refused: string[], bodyBytes: number): Promise<{ storedEvents: number; delivered: number }> {
    await waitFor(async () => (await harness.readyz()) === 200, { timeoutMs: 20_000, intervalMs: 100, what: '/readyz to recover' });
    for (const runId of refused) expect(await harness.send(runId, bodyBytes)).toBe(202);
    for (const runId of before) expect(await harness.send(runId)).toBe(200);
    const all = [...before, ...refused];
    await waitFor(() => new Set(harness.sink.received.map((d) => JSON.parse(d.body.toString()).run_id)).size === all.length, {
      timeoutMs: 20_000,
      what: 'every acknowledged callback to be delivered',
    });
    // Nothing stays in flight: outcomes lost to the fault are re-attempted once their leases expire.
    await waitFor(() => {
      const { byStatus } = inspectDatabase(harness.dbPath, 1);
      return byStatus.pending === 0 && byStatus.in_flight === 0;
    }, { timeoutMs: 30_000, intervalMs: 200, what: 'no delivery pending or in flight' });
    expect(await harness.relay.stop()).toBe(0);
    const report = inspectDatabase(harness.dbPath, 1);
    expect(report.integrity).toBe('ok');
    expect(report.events).toBe(all.length);
    expect(report.eventsWithWrongFanOut).toBe(0);
    expect(report.byStatus).toMatchObject({ pending: 0, in_flight: 0, dead: 0 });
    for (const runId of before) expect(storedEvent(harness.dbPath, runId)?.body.toString()).toContain(runId);
    return { storedEvents: report.events, delivered: report.byStatus.delivered ?? 0 };
  }

  it('disk full: 503 while the file system is full, recovers when space returns', async ({ cleanup, tempDir }) => {
    const dir = tempDir('hookrelay-full-');
    const disk = prepareDiskFull(dir);
    cleanup.add(() => disk.dispose());
    const harness = await startHarness(cleanup, disk.dir, dir);
    const before = ['full-before-1', 'full-before-2', 'full-before-3'];
    for (const runId of before) expect(await harness.send(runId)).toBe(202);

    disk.fill(harness.relay.relayPid);
    const refused = ['full-during-1', 'full-during-2', 'full-during-3'];
    // Bodies larger than any free page: the WAL has to grow to take them.
    await expectRefusing(harness, refused, 256 * 1024);
    disk.clear(harness.relay.relayPid);
    const after = await expectRecovered(harness, before, refused, 256 * 1024);
    reportFigures('storage-disk-full', { how: disk.how, acked: before.length + refused.length, refusedWith503: refused.length, ...after });
  });

  it('locked by another process beyond busyTimeoutMs: 503 within about the timeout, recovers when the lock goes', async ({ cleanup, tempDir }) => {
    const dir = tempDir('hookrelay-locked-');
    const harness = await startHarness(cleanup, dir, dir);
    const before = ['locked-before-1', 'locked-before-2'];
    for (const runId of before) expect(await harness.send(runId)).toBe(202);

    // Another process (this test) holds the write lock.
    const other = new DatabaseConstructor(harness.dbPath, { timeout: 5_000 });
    cleanup.add(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    const refused = ['locked-during-1', 'locked-during-2'];
    const started = Date.now();
    await expectRefusing(harness, refused, 0);
    const perRefusalMs = (Date.now() - started) / (refused.length + 1);
    // A commit that cannot finish within busyTimeoutMs answers 503 "well before 30 s".
    expect(perRefusalMs).toBeLessThan(10_000);
    other.exec('ROLLBACK');
    const after = await expectRecovered(harness, before, refused, 0);
    reportFigures('storage-locked', { busyTimeoutMs: BUSY_TIMEOUT_MS, meanMsPer503: Math.round(perRefusalMs), acked: before.length + refused.length, ...after });
  });

  // Contract: "a commit that cannot finish within busyTimeoutMs answers 503, well before 30 s",
  // and /healthz answers while the process runs. With the default busyTimeoutMs and several
  // destinations, a lock held by another process must not stall the whole relay.
  it('locked with the default busyTimeoutMs and 8 destinations: 503 within 3 x busyTimeoutMs, /healthz still answers', { timeout: 90_000 }, async ({ cleanup, tempDir, startRelay, startSink }) => {
    const dir = tempDir('hookrelay-locked-many-');
    const sink = await startSink();
    const busyTimeoutMs = 5_000;
    const dbPath = join(dir, 'hookrelay.db');
    const config = relayConfig(dir, {
      storage: { sqlite: { path: dbPath, busyTimeoutMs } },
      sources: [RESPONDING_CEREBRIUM_SOURCE],
      destinations: Array.from({ length: 8 }, (_, index) => ({ name: `d${index}`, url: sink.url })),
      // The dispatcher's probes (debug lines) show when it has run into the lock.
      log: { level: 'debug' },
    });
    const relay = await startRelay(writeConfig(dir, config));
    const first = cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: 'many-before' }) });
    expect((await callOnce(`${relay.url}${SOURCE_PATH}`, first.headers, first.body, 10_000))).toMatchObject({ status: 202 });
    await waitFor(() => sink.received.length === 8, { what: 'the first fan-out' });

    const other = new DatabaseConstructor(dbPath, { timeout: 5_000 });
    cleanup.add(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    cleanup.add(() => other.inTransaction && other.exec('ROLLBACK'));
    // The dispatcher's poll runs into the lock: two probes after it was taken.
    await waitForProbes(relay, 2);
    const signed = cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: 'many-during' }) });
    const started = Date.now();
    const [ingest, health] = await Promise.all([
      callOnce(`${relay.url}${SOURCE_PATH}`, signed.headers, signed.body, 3 * busyTimeoutMs),
      (async () => {
        await sleep(200);
        const at = Date.now();
        const result = await callOnce(`${relay.url}/healthz`, {}, Buffer.alloc(0), 3 * busyTimeoutMs, 'GET');
        return { result, ms: Date.now() - at };
      })(),
    ]);
    const ingestMs = Date.now() - started;
    reportFigures('storage-locked-many-destinations', { busyTimeoutMs, destinations: 8, ingest, ingestMs, healthzMs: health.ms });
    expect(ingest).toMatchObject({ kind: 'response', status: 503 });
    expect(health.result).toMatchObject({ kind: 'response', status: 200 });
  });

  // A live file system cannot be made read-only under a process that holds files open for
  // writing (remount answers EBUSY), so this fault is exercised where it can occur: the relay
  // (re)starts on a database file it may not write. It must not serve (no 2xx it cannot commit):
  // it exits 1 with one clear line, senders see refused connections (and retry), and once the
  // fault clears the next start serves with everything intact.
  it('read-only database file at start-up (unprivileged user): refuses to serve, nothing lost once writable again', async ({ cleanup, tempDir }) => {
    const dir = tempDir('hookrelay-readonly-');
    // The relay runs as an unprivileged user (root ignores file modes), on a folder it may write,
    // from a copy of the built relay that user can read (the checkout may be in a private folder).
    let user = {};
    if (process.getuid?.() === 0) {
      const runtime = copyRuntimeForOtherUsers();
      cleanup.add(runtime.cleanup);
      user = { uid: 65534, gid: 65534, cli: runtime.cli };
    }
    chmodSync(dir, 0o777);
    const first = await startHarness(cleanup, dir, dir, user);
    expect(await first.send('ro-before-1')).toBe(202);
    await waitFor(() => first.sink.received.length === 1, { what: 'the first delivery' });
    expect(await first.relay.stop()).toBe(0);

    chmodSync(first.dbPath, 0o444);
    const refusal = await startHarness(cleanup, dir, dir, { ...user, timeoutMs: 15_000 }, first.sink).then(
      (harness) => harness,
      (error: unknown) => error as Error,
    );
    // Clearing the fault: the database and the -wal/-shm files the refused start created with the
    // database file's (read-only) mode. Fixing only the .db file would leave the next start refused too.
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(`${first.dbPath}${suffix}`)) chmodSync(`${first.dbPath}${suffix}`, 0o644);
    }
    expect(refusal).toBeInstanceOf(Error);
    expect((refusal as Error).message).toMatch(/relay exited \(1\) before listening: hookrelay: storage cannot [^\n]*SQLITE_READONLY/);
    expect((refusal as Error).message).not.toMatch(/\n\s+at /);

    const harness = await startHarness(cleanup, dir, dir, user, first.sink);
    expect(await harness.readyz()).toBe(200);
    await expectRecovered(harness, ['ro-before-1'], ['ro-after-1'], 0);
  });
});
