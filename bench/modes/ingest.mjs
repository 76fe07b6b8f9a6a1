import { join } from 'node:path';
import { rssMb } from '../lib/children.mjs';
import { runLoad } from '../lib/load-runs.mjs';
import { startRelay, startTarget, writeRelayConfig } from '../lib/relay.mjs';
import { summarizeProfile } from '../lib/profile-summary.mjs';
import { round } from '../lib/callback.mjs';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';

/**
 * Ingest mode: the three baselines and the relay, one at a time, each in its own process,
 * driven by the same generator (same signed requests, 64 connections, ~1 KB bodies).
 * The relay runs twice: with one healthy destination (the real case) and with none
 * (ingest alone, no delivery work in the process).
 */
export async function ingestMode(ctx) {
  const { opts, dir, log } = ctx;
  const load = { connections: opts.connections, durationS: opts.duration, warmupS: opts.warmup, bodyBytes: opts.bodyBytes };
  /** Every measurement per key, over the rounds. */
  const runs = {};
  const wanted = (key) => !opts.only || opts.only.includes(key);
  const record = (key, row) => (runs[key] ??= []).push(row);

  const measureTarget = async (key, label, script, args = [], extra = {}) => {
    const target = await startTarget(key, script, args);
    try {
      const result = await runLoad(`http://127.0.0.1:${target.port}/webhooks/cerebrium`, { ...load, ...extra });
      record(key, { label, ...result, rssMb: rssMb(target.handle.pid) });
    } finally {
      await target.handle.stop();
    }
  };

  const measureRelay = async (key, label, withDestination, pass, baseDir = dir) => {
    const runDir = join(baseDir, `${key}-${pass}`);
    mkdirSync(runDir, { recursive: true });
    const sink = withDestination ? await startTarget('sink', 'sink.mjs') : null;
    const profileDir = opts.profile && pass === 0 ? join(ctx.resultsDir, `profile-${ctx.stamp}-${key}`) : undefined;
    const configPath = writeRelayConfig(runDir, {
      concurrency: opts.destinationConcurrency,
      dbPath: join(runDir, 'hookrelay.db'),
      destinationUrl: sink ? `http://127.0.0.1:${sink.port}/hooks` : undefined,
    });
    const relay = await startRelay(configPath, { profileDir });
    let row;
    try {
      const result = await runLoad(relay.url, load);
      const relayRss = rssMb(relay.relayPid);
      const delivered = sink ? (await sink.handle.ask({ type: 'count' })).unique : null;
      row = { label, ...result, rssMb: relayRss, deliveredDuringRun: delivered, startupMs: round(relay.startupMs, 1) };
    } finally {
      const code = await relay.handle.stop(30_000);
      if (code !== 0) log(`relay exited with ${code}: ${relay.handle.stderr().slice(-500)}`);
      await sink?.handle.stop();
    }
    if (profileDir) {
      row.profile = summarizeProfile(profileDir, 25);
      row.profileDir = profileDir;
    }
    record(key, row);
  };

  const plan = [
    ['bare', 'bare node:http', () => measureTarget('bare', 'bare node:http', 'bare-http.mjs')],
    ['koa', 'minimal Koa', () => measureTarget('koa', 'minimal Koa', 'koa-app.mjs')],
    ['naive', 'naive durable Koa (1 FULL commit/request)', (pass) =>
      measureTarget('naive', 'naive durable Koa (1 FULL commit/request)', 'naive-durable.mjs', [join(dir, `naive-${pass}.db`)])],
    ['relay', 'relay (1 healthy destination)', (pass) => measureRelay('relay', 'relay (1 healthy destination)', true, pass)],
    ['relayNoDestination', 'relay (no destination: ingest only)', (pass) =>
      measureRelay('relayNoDestination', 'relay (no destination: ingest only)', false, pass)],
    // Diagnostic, not a durable setup: the database on tmpfs, where fsync costs ~nothing.
    // The gap between this row and `relayNoDestination` is what the disk's commits cost.
    ...(existsSync('/dev/shm')
      ? [['relayTmpfs', 'relay (no destination, database on tmpfs: diagnostic)', async (pass) => {
          const shm = mkdtempSync('/dev/shm/hookrelay-bench-');
          try {
            await measureRelay('relayTmpfs', 'relay (no destination, database on tmpfs: diagnostic)', false, pass, shm);
          } finally {
            rmSync(shm, { recursive: true, force: true });
          }
        }]]
      : []),
    // How much the per-request signing in the generator caps the ceilings: the same servers
    // driven with one fixed request (what a plain `autocannon -b` run does). Not used in ratios.
    ['bareFixed', 'bare node:http, fixed request (generator reference)', () =>
      measureTarget('bareFixed', 'bare node:http, fixed request (generator reference)', 'bare-http.mjs', [], { fixedRequest: true })],
    ['koaFixed', 'minimal Koa, fixed request (generator reference)', () =>
      measureTarget('koaFixed', 'minimal Koa, fixed request (generator reference)', 'koa-app.mjs', [], { fixedRequest: true })],
  ].filter(([key]) => wanted(key));

  // Several rounds, the order reversed every other round, so a burst of load from elsewhere on
  // a shared machine does not land on one server only. Each row reports its median run.
  for (let pass = 0; pass < opts.rounds; pass++) {
    const order = pass % 2 === 0 ? plan : [...plan].reverse();
    for (const [, label, measure] of order) {
      log(`ingest${opts.rounds > 1 ? ` round ${pass + 1}/${opts.rounds}` : ''}: ${label}`);
      await measure(pass);
    }
  }
  const rows = {};
  for (const [key, list] of Object.entries(runs)) {
    const sorted = [...list].sort((a, b) => a.rps - b.rps);
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    rows[key] = { ...median, profile: list[0].profile, profileDir: list[0].profileDir, rounds: list.map((run) => ({ rps: run.rps, p50: run.latencyMs.p50, p99: run.latencyMs.p99 })) };
  }

  const relay = rows.relay;
  const ratio = (a, b) => (a?.rps && b?.rps ? round(a.rps / b.rps, 2) : null);
  const ratios = {
    relayToBare: ratio(relay, rows.bare),
    relayToKoa: ratio(relay, rows.koa),
    relayToNaive: ratio(relay, rows.naive),
    relayNoDestinationToKoa: ratio(rows.relayNoDestination, rows.koa),
  };
  const failures = (row) => row.non2xx + row.errors + row.timeouts;
  const verdict = (value, ok) => (value === null || value === undefined ? null : ok(value));
  const targets = [
    { target: 'relay req/s >= 0.75 x minimal Koa', measured: ratios.relayToKoa, met: verdict(ratios.relayToKoa, (v) => v >= 0.75) },
    { target: 'relay req/s >= 4 x naive durable', measured: ratios.relayToNaive, met: verdict(ratios.relayToNaive, (v) => v >= 4) },
    { target: 'relay p99 ack latency <= 20 ms', measured: relay?.latencyMs.p99, met: verdict(relay?.latencyMs.p99, (v) => v <= 20) },
    { target: 'relay zero non-2xx (and no errors/timeouts)', measured: relay && failures(relay), met: verdict(relay && failures(relay), (v) => v === 0) },
  ];
  return { rows, ratios, targets };
}
