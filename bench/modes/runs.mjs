import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { Agent, request } from 'undici';
import DatabaseConstructor from 'better-sqlite3';
import { percentile, round } from '../lib/callback.mjs';
import { runLoad } from '../lib/load-runs.mjs';
import { BENCH_SECRET, ROOT, SOURCE_PATH, startRelay, startTarget } from '../lib/relay.mjs';

/**
 * Runs mode (issue 12): what run tracking costs.
 * 1. Proxy overhead: the same submissions to a fake Cerebrium directly and through the relay's
 *    `POST /cerebrium/*` (which also commits each run before answering): latency p50/p99.
 * 2. The checker at 1,000,000 tracked runs: one overdue sweep of the runs that fall due (the
 *    store's batched transactions, as the checker runs them), the idle sweep (nothing due), and
 *    ingest latency with the relay's checker sweeping a large batch while the load runs, against
 *    the same relay and database with nothing due.
 */
export async function runsMode(ctx) {
  const { opts, dir, log } = ctx;
  const proxy = await measureProxy(ctx);
  const totalRuns = opts.smoke ? 20_000 : 1_000_000;
  const dueRuns = opts.smoke ? 2_000 : 50_000;
  log(`runs: filling a database with ${totalRuns} runs`);
  const sweep = await measureSweep(join(dir, 'sweep'), totalRuns, dueRuns);
  log(`runs: ingest while the checker sweeps ${dueRuns} due runs`);
  const ingest = await measureIngestDuringSweep(ctx, join(dir, 'ingest'), totalRuns, dueRuns);
  return { proxy, sweep, ingest };
}

async function measureProxy({ opts, dir, log }) {
  const count = opts.smoke ? 300 : 3_000;
  const concurrency = 8;
  const cerebrium = await startTarget('fake-cerebrium', 'fake-cerebrium.mjs');
  const runDir = join(dir, 'proxy');
  mkdirSync(runDir, { recursive: true });
  const configPath = writeRunsConfig(runDir, { cerebriumUrl: `http://127.0.0.1:${cerebrium.port}`, dbPath: join(runDir, 'hookrelay.db') });
  const relay = await startRelay(configPath);
  const adminPort = relay.adminPort;
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 });
  const body = JSON.stringify({ prompt: 'x'.repeat(900) });
  const send = async (url) => {
    const started = performance.now();
    const response = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: 'Bearer caller-key', 'x-hookrelay-metadata': '{"doc":"bench"}' },
      body,
    });
    await response.body.dump();
    if (response.statusCode !== 202) throw new Error(`submission answered ${response.statusCode}`);
    return performance.now() - started;
  };
  const measure = async (url) => {
    const times = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        times.push(await send(url));
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    return { requests: times.length, perSecond: round(times.length / seconds, 0), p50Ms: round(percentile(times, 50), 2), p99Ms: round(percentile(times, 99), 2) };
  };
  try {
    log(`runs: ${count} submissions, ${concurrency} at a time, direct then through the proxy (twice each, the second kept)`);
    const path = '/v4/p-bench/app/run?async=true';
    await measure(`http://127.0.0.1:${cerebrium.port}${path}`);
    const direct = await measure(`http://127.0.0.1:${cerebrium.port}${path}`);
    await measure(`http://127.0.0.1:${adminPort}/cerebrium${path}`);
    const proxied = await measure(`http://127.0.0.1:${adminPort}/cerebrium${path}`);
    return { concurrency, direct, proxied, addedP50Ms: round(proxied.p50Ms - direct.p50Ms, 2), addedP99Ms: round(proxied.p99Ms - direct.p99Ms, 2) };
  } finally {
    await agent.close();
    await relay.handle.stop(30_000);
    await cerebrium.handle.stop();
  }
}

/** Fills `dbPath` (migrated by opening the store) with `total` runs: `due` submitted and due at `dueAt`, the rest completed. */
async function fillRuns(dbPath, total, due, dueAt) {
  const { openSqlite } = await import(join(ROOT, 'dist/store/sqlite/open-sqlite.js'));
  const store = openSqlite({ path: dbPath, busyTimeoutMs: 5_000, lock: false, thread: 'inline' });
  await store.close();
  const db = new DatabaseConstructor(dbPath);
  db.pragma('journal_mode = WAL');
  const insert = db.prepare(
    `INSERT INTO runs (id, run_id, project, app, status, metadata, submitted_at, completed_at, event_id, due_at) VALUES (?, ?, 'p-bench', 'app', ?, '{"doc":"bench"}', ?, ?, ?, ?)`,
  );
  const now = Date.now();
  const fill = db.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      const id = `run_${String(i).padStart(12, '0')}`;
      const submitted = i < due;
      insert.run(id, `bench-run-${i}`, submitted ? 'submitted' : 'completed', now - 3_600_000, submitted ? null : now - 3_000_000, submitted ? null : `evt_bench_${i}`, submitted ? dueAt : null);
    }
  });
  for (let from = 0; from < total; from += 100_000) fill(from, Math.min(total, from + 100_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

async function measureSweep(runDir, total, due) {
  mkdirSync(runDir, { recursive: true });
  const dbPath = join(runDir, 'hookrelay.db');
  await fillRuns(dbPath, total, due, Date.now() - 1);
  const { openSqlite } = await import(join(ROOT, 'dist/store/sqlite/open-sqlite.js'));
  const { SWEEP_BATCH } = await import(join(ROOT, 'dist/runs/checker.js'));
  const store = openSqlite({ path: dbPath, busyTimeoutMs: 5_000, lock: false, thread: 'inline' });
  try {
    const sweepOnce = (now) => store.markOverdueRuns({ now, limit: SWEEP_BATCH, callbackSource: 'cerebrium', announceTo: ['pager'], nextCheckAt: null });
    const batchMs = [];
    const started = performance.now();
    for (;;) {
      const at = performance.now();
      const overdue = await sweepOnce(Date.now());
      batchMs.push(performance.now() - at);
      if (overdue.length < SWEEP_BATCH) break;
    }
    const allMs = performance.now() - started;
    const idle = [];
    for (let i = 0; i < 200; i++) {
      const at = performance.now();
      await sweepOnce(Date.now());
      idle.push(performance.now() - at);
    }
    const counts = await store.runCounts();
    return {
      totalRuns: total,
      dueRuns: due,
      overdueAfter: counts.overdue,
      sweepAllDueMs: round(allMs, 0),
      batchSize: SWEEP_BATCH,
      batch: { p50Ms: round(percentile(batchMs, 50), 2), p99Ms: round(percentile(batchMs, 99), 2) },
      idleSweep: { p50Ms: round(percentile(idle, 50), 3), p99Ms: round(percentile(idle, 99), 3) },
    };
  } finally {
    await store.close();
  }
}

async function measureIngestDuringSweep({ opts }, runDir, total, due) {
  const load = { connections: opts.connections, durationS: opts.duration, warmupS: opts.warmup, bodyBytes: opts.bodyBytes };
  const result = {};
  for (const key of ['nothingDue', 'sweeping']) {
    const dbDir = join(runDir, key);
    mkdirSync(dbDir, { recursive: true });
    const dbPath = join(dbDir, 'hookrelay.db');
    await fillRuns(dbPath, total, due, Date.now() + 86_400_000);
    const configPath = writeRunsConfig(dbDir, { cerebriumUrl: 'http://127.0.0.1:9', dbPath });
    const relay = await startRelay(configPath);
    try {
      if (key === 'sweeping') {
        // The due runs fall due one second into the measured load (after the warm-up).
        const db = new DatabaseConstructor(dbPath, { timeout: 5_000 });
        db.prepare(`UPDATE runs SET due_at = ? WHERE status = 'submitted'`).run(Date.now() + 1_000 * (opts.warmup + 1));
        db.close();
      }
      const run = await runLoad(relay.url, load);
      const overdue = relay.handle.lines.filter((line) => line.includes('overdue')).length;
      result[key] = { rps: round(run.rps, 0), p50Ms: round(run.latencyMs.p50, 2), p99Ms: round(run.latencyMs.p99, 2), non2xx: run.non2xx, overdueLogLines: overdue };
    } finally {
      await relay.handle.stop(30_000);
    }
  }
  return { totalRuns: total, dueRuns: due, ...result };
}

function writeRunsConfig(dir, { cerebriumUrl, dbPath }) {
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    storage: { sqlite: { path: dbPath } },
    sources: [{ name: 'cerebrium', path: SOURCE_PATH, verify: { scheme: 'cerebrium', secrets: [BENCH_SECRET] } }],
    destinations: [],
    runs: { source: 'cerebrium', publicUrl: 'https://relay.example.com', cerebriumUrl, overdueAfterMs: 3_600_000 },
    log: { level: 'info' },
  };
  const path = join(dir, 'hookrelay.yaml');
  writeFileSync(path, stringify(config));
  return path;
}
