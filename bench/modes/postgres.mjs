import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { round } from '../lib/callback.mjs';
import { rssMb } from '../lib/children.mjs';
import { ackToDestination, readTimes, runLoad } from '../lib/load-runs.mjs';
import { findPostgresBin, startPostgresCluster } from '../../test/support/postgres-cluster.mjs';
import { startRelay, startTarget, writeRelayConfig } from '../lib/relay.mjs';

/** The relay's default pool size (storage.postgres.poolSize), per process. */
const POOL_SIZE = 10;

/** `total` connections split over `parts` generators as evenly as possible (64 / 3 -> 22 21 21). */
export function splitConnections(total, parts) {
  return Array.from({ length: parts }, (_, index) => Math.floor(total / parts) + (index < total % parts ? 1 : 0));
}

async function query(url, text) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** What the PostgreSQL server is and how durable its commits are (printed beside the figures). */
async function describeServer(url) {
  const [row] = await query(
    url,
    "SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit, current_setting('full_page_writes') AS full_page_writes, current_setting('max_connections') AS max_connections",
  );
  return row;
}

/**
 * Waits until every acknowledged event id has reached the sink, or nothing new arrived for
 * `stallMs`. The sink also counts the warm-up's deliveries, so "enough arrivals" is confirmed
 * by joining the sink's dump with the acks.
 */
async function waitAllAckedDelivered(sink, acks, dumpPath, { stallMs = 15_000, maxMs = 180_000 } = {}) {
  const started = performance.now();
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const count = await sink.handle.ask({ type: 'count' });
    if (count.unique !== last) {
      last = count.unique;
      lastChange = performance.now();
    }
    const stalled = performance.now() - lastChange > stallMs || performance.now() - started > maxMs;
    if (count.unique >= acks.size || stalled) {
      await sink.handle.ask({ type: 'dump', path: dumpPath });
      const arrivals = readTimes(dumpPath);
      const missing = [...acks.keys()].filter((id) => !arrivals.has(id)).length;
      if (missing === 0 || stalled) return { count, arrivals };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * One setup: a fresh sink, `processes` relays on one fresh store (each its own `serve` child,
 * port and config), one generator per relay with an equal share of the connections, all for
 * the same duration; then every acknowledged event is awaited at the sink.
 */
async function measureSetup(ctx, { key, label, processes, storageFor, pass }) {
  const { opts, log } = ctx;
  const runDir = join(ctx.dir, `${key}-${pass}`);
  mkdirSync(runDir, { recursive: true });
  const sink = await startTarget('sink', 'sink.mjs');
  const relays = [];
  try {
    const configPaths = Array.from({ length: processes }, (_, index) => {
      const relayDir = join(runDir, `relay-${index}`);
      mkdirSync(relayDir, { recursive: true });
      return writeRelayConfig(relayDir, {
        storage: storageFor(relayDir),
        destinationUrl: `http://127.0.0.1:${sink.port}/hooks`,
        concurrency: opts.destinationConcurrency,
      });
    });
    // Started together, as a redeploy of N machines would (the migration runs once, under its lock).
    const started = await Promise.allSettled(configPaths.map((path) => startRelay(path)));
    relays.push(...started.filter((outcome) => outcome.status === 'fulfilled').map((outcome) => outcome.value));
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    const shares = splitConnections(opts.connections, processes);
    const acksPaths = relays.map((_, index) => join(runDir, `acks-${index}.txt`));
    const loads = await Promise.all(
      relays.map((relay, index) =>
        runLoad(relay.url, { connections: shares[index], durationS: opts.duration, warmupS: opts.warmup, bodyBytes: opts.bodyBytes, acksPath: acksPaths[index] }),
      ),
    );
    const rss = relays.map((relay) => rssMb(relay.relayPid));
    const startedAt = Math.min(...loads.map((load) => load.startedAt));
    const endedAt = Math.max(...loads.map((load) => load.endedAt));
    const acks = new Map();
    for (const path of acksPaths) for (const [id, at] of readTimes(path)) acks.set(id, at);
    log(`postgres: ${label}: load done (${acks.size} acked), waiting for the deliveries`);
    const { count, arrivals } = await waitAllAckedDelivered(sink, acks, join(runDir, 'arrivals.txt'));

    const loadS = (endedAt - startedAt) / 1000;
    const times = [...arrivals.values()];
    const during = times.filter((at) => at >= startedAt && at <= endedAt).length;
    const after = times.filter((at) => at > endedAt).length;
    const lastArrival = count.lastAt ?? endedAt;
    const tailS = Math.max(0, lastArrival - endedAt) / 1000;
    const ackToDest = ackToDestination(acks, arrivals);
    const sum = (pick) => loads.reduce((total, load) => total + pick(load), 0);
    return {
      label,
      processes,
      connections: shares,
      completed: sum((load) => load.completed),
      rps: round(sum((load) => load.rps), 1),
      // Percentiles of separate generators cannot be merged: the slowest relay's figure is given.
      latencyMs: {
        p50: Math.max(...loads.map((load) => load.latencyMs.p50 ?? 0)),
        p99: Math.max(...loads.map((load) => load.latencyMs.p99 ?? 0)),
        max: Math.max(...loads.map((load) => load.latencyMs.max ?? 0)),
      },
      non2xx: sum((load) => load.non2xx),
      errors: sum((load) => load.errors),
      timeouts: sum((load) => load.timeouts),
      acked: acks.size,
      // Every event that reached the sink (warm-up included) and how many arrived again.
      delivered: count.unique,
      repeatedDeliveries: count.repeated,
      ackedNotDelivered: ackToDest.missing,
      exactlyOnce: count.repeated === 0 && ackToDest.missing === 0,
      deliveredPerSecondDuringLoad: round(during / loadS, 1),
      deliveredAfterLoad: after,
      deliveredPerSecondAfterLoad: tailS > 0 ? round(after / tailS, 1) : null,
      deliveredPerSecondOverall: round(times.filter((at) => at >= startedAt).length / (Math.max(lastArrival, endedAt) - startedAt) * 1000, 1),
      drainAfterLoadS: round(tailS, 2),
      ackToDestinationMs: ackToDest,
      relayRssMb: rss,
      perRelay: loads.map((load, index) => ({ connections: shares[index], rps: load.rps, p50: load.latencyMs.p50, p99: load.latencyMs.p99, non2xx: load.non2xx, errors: load.errors + load.timeouts })),
      startupMs: relays.map((relay) => round(relay.startupMs, 1)),
    };
  } finally {
    const codes = await Promise.all(relays.map((relay) => relay.handle.stop(30_000)));
    codes.forEach((code, index) => code !== 0 && log(`relay ${index} exited with ${code}: ${relays[index].handle.stderr().slice(-500)}`));
    await sink.handle.stop();
  }
}

/**
 * PostgreSQL mode: ingest and delivery with 1, 2 and 3 relay processes on one PostgreSQL
 * schema (a fresh schema per setup), beside one process on SQLite, in the same run.
 * The server is $HOOKRELAY_BENCH_POSTGRES_URL (`--postgres-url`) or a throwaway cluster.
 */
export async function postgresMode(ctx) {
  const { opts, log } = ctx;
  let cluster = null;
  let url = opts.postgresUrl;
  if (!url) {
    const bin = findPostgresBin();
    if (!bin) {
      const reason = 'no PostgreSQL server: set HOOKRELAY_BENCH_POSTGRES_URL or install PostgreSQL (initdb/pg_ctl)';
      log(`postgres: skipped (${reason})`);
      return { skipped: reason };
    }
    log(`postgres: starting a throwaway cluster (${bin})`);
    cluster = await startPostgresCluster(bin, { durable: true, maxConnections: 200, prefix: 'hookrelay-bench-pg-' });
    url = cluster.url;
  }
  const schemas = [];
  try {
    const server = { ...(await describeServer(url)), throwaway: cluster !== null };
    const schemaPrefix = `hookrelay_bench_${randomBytes(4).toString('hex')}`;
    const plan = [
      { key: 'sqlite1', label: 'SQLite, 1 process', processes: 1, postgres: false },
      ...[1, 2, 3].map((processes) => ({ key: `postgres${processes}`, label: `PostgreSQL, ${processes} process${processes > 1 ? 'es' : ''}`, processes, postgres: true })),
    ];
    const runs = {};
    for (let pass = 0; pass < opts.rounds; pass++) {
      // Every other round in reverse, so a burst of load from elsewhere does not land on one setup only.
      const order = pass % 2 === 0 ? plan : [...plan].reverse();
      for (const setup of order) {
        log(`postgres${opts.rounds > 1 ? ` round ${pass + 1}/${opts.rounds}` : ''}: ${setup.label}`);
        const schema = `${schemaPrefix}_${setup.key}_${pass}`;
        if (setup.postgres) schemas.push(schema);
        const storageFor = setup.postgres
          ? () => ({ postgres: { url, schema, poolSize: POOL_SIZE } })
          : (relayDir) => ({ sqlite: { path: join(relayDir, 'hookrelay.db') } });
        const row = await measureSetup(ctx, { ...setup, storageFor, pass });
        (runs[setup.key] ??= []).push(row);
        if (setup.postgres) await query(url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    }
    const rows = {};
    for (const [key, list] of Object.entries(runs)) {
      const median = [...list].sort((a, b) => a.rps - b.rps)[Math.floor((list.length - 1) / 2)];
      rows[key] = { ...median, rounds: list.map((run) => ({ rps: run.rps, deliveredPerSecondDuringLoad: run.deliveredPerSecondDuringLoad, p99: run.latencyMs.p99 })) };
    }
    const ratio = (a, b) => (a?.rps && b?.rps ? round(a.rps / b.rps, 2) : null);
    const ratios = {
      postgres1ToSqlite1: ratio(rows.postgres1, rows.sqlite1),
      postgres2ToPostgres1: ratio(rows.postgres2, rows.postgres1),
      postgres3ToPostgres1: ratio(rows.postgres3, rows.postgres1),
      postgres3ToSqlite1: ratio(rows.postgres3, rows.sqlite1),
    };
    return { server, poolSize: POOL_SIZE, connections: opts.connections, rows, ratios, exactlyOnce: Object.values(runs).flat().every((run) => run.exactlyOnce) };
  } finally {
    // A server given by URL keeps nothing of the bench: every schema it made is dropped.
    for (const schema of schemas) await query(url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    cluster?.stop();
  }
}
