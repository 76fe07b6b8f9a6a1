import { join } from 'node:path';
import { rssMb } from '../lib/children.mjs';
import { runLoad } from '../lib/load-runs.mjs';
import { startRelay, startTarget, writeRelayConfig } from '../lib/relay.mjs';
import { summarizeProfile } from '../lib/profile-summary.mjs';
import { round } from '../lib/callback.mjs';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpuBetween, sampleCpu } from '../lib/cpu.mjs';
import { waitForSink } from '../lib/sink-wait.mjs';

/**
 * Ingest mode: the three baselines and the relay, one at a time, each in its own process,
 * driven by the same generator (same signed requests, 64 connections, ~1 KB bodies).
 * The relay runs twice: with one healthy destination (the real case) and with none
 * (ingest alone, no delivery work in the process).
 */
/** The measured run's CPU of the process sampled as `name`: ms, cores busy, µs per acknowledged request. */
function windowCpu(result, name) {
  const ms = cpuBetween(result.cpuAtStart?.[name], result.cpuAtEnd?.[name]);
  if (ms === null) return null;
  const wallMs = result.cpuAtEnd[name].at - result.cpuAtStart[name].at;
  return { ms: round(ms, 0), wallMs: round(wallMs, 0), cores: round(ms / wallMs, 3), usPerEvent: result.status2xx > 0 ? round((ms * 1000) / result.status2xx, 1) : null };
}

/** Relay (and sink) CPU from the start of the measured run until its deliveries had arrived. */
function throughDelivery(result, end, sinkAtStart, drained) {
  const relayMs = cpuBetween(result.cpuAtStart.relay, end.relay);
  const sinkMs = cpuBetween(result.cpuAtStart.sink, end.sink);
  const acked = result.status2xx;
  return {
    complete: drained.reached,
    acked,
    delivered: drained.unique - sinkAtStart.unique,
    seconds: round((end.relay.at - result.cpuAtStart.relay.at) / 1000, 2),
    relayMs: round(relayMs, 0),
    usPerEvent: relayMs !== null && acked > 0 ? round((relayMs * 1000) / acked, 1) : null,
    sinkUsPerEvent: sinkMs !== null && acked > 0 ? round((sinkMs * 1000) / acked, 1) : null,
  };
}

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
      const result = await runLoad(`http://127.0.0.1:${target.port}/webhooks/cerebrium`, { ...load, ...extra, cpuPids: { server: target.handle.pid } });
      record(key, { label, ...result, rssMb: rssMb(target.handle.pid), cpu: windowCpu(result, 'server') });
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
      const cpuPids = { relay: relay.relayPid, ...(sink ? { sink: sink.handle.pid } : {}) };
      // With a destination, the measured run starts once the warm-up's deliveries have arrived,
      // so the CPU "through delivery" below covers exactly the measured run's events.
      let sinkAtStart = null;
      const onWarm = sink
        ? async ({ warmupAcked }) => {
            sinkAtStart = await waitForSink(sink.handle, warmupAcked, 60_000);
            if (!sinkAtStart.reached) log(`${key}: the warm-up's deliveries had not all arrived after 60 s (${sinkAtStart.unique}/${warmupAcked})`);
          }
        : undefined;
      const result = await runLoad(relay.url, { ...load, cpuPids }, { onWarm });
      const relayRss = rssMb(relay.relayPid);
      const delivered = sink ? (await sink.handle.ask({ type: 'count' })).unique : null;
      row = { label, ...result, rssMb: relayRss, deliveredDuringRun: delivered, startupMs: round(relay.startupMs, 1), cpu: windowCpu(result, 'relay') };
      if (sink) {
        row.sinkCpu = windowCpu(result, 'sink');
        // Every acknowledged event of the measured run delivered (bounded): the relay's CPU from
        // the start of the run to the last of those deliveries, per acknowledged event.
        const drained = await waitForSink(sink.handle, sinkAtStart.unique + result.status2xx, 120_000);
        const end = sampleCpu(cpuPids);
        row.throughDelivery = throughDelivery(result, end, sinkAtStart, drained);
      }
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
  // CPU per acknowledged event over CPU per Koa request (issue 14). Ingest+delivery counts the
  // relay's CPU until the measured run's deliveries had arrived (the sink's own CPU is not in it).
  const perKoa = (us) => (us && rows.koa?.cpu?.usPerEvent ? round(us / rows.koa.cpu.usPerEvent, 2) : null);
  const cpuRatios = {
    ingestOnlyToKoa: perKoa(rows.relayNoDestination?.cpu?.usPerEvent),
    ingestAndDeliveryToKoa: perKoa(relay?.throughDelivery?.usPerEvent),
    relayWindowToKoa: perKoa(relay?.cpu?.usPerEvent),
  };
  const failures = (row) => row.non2xx + row.errors + row.timeouts;
  const verdict = (value, ok) => (value === null || value === undefined ? null : ok(value));
  const targets = [
    { target: 'relay req/s >= 0.75 x minimal Koa', measured: ratios.relayToKoa, met: verdict(ratios.relayToKoa, (v) => v >= 0.75) },
    { target: 'relay req/s >= 4 x naive durable', measured: ratios.relayToNaive, met: verdict(ratios.relayToNaive, (v) => v >= 4) },
    { target: 'relay p99 ack latency <= 20 ms', measured: relay?.latencyMs.p99, met: verdict(relay?.latencyMs.p99, (v) => v <= 20) },
    { target: 'relay zero non-2xx (and no errors/timeouts)', measured: relay && failures(relay), met: verdict(relay && failures(relay), (v) => v === 0) },
  ];
  const noDestination = rows.relayNoDestination;
  const issue14Targets = [
    { target: 'relay (1 destination) req/s >= 0.5 x minimal Koa', measured: ratios.relayToKoa, met: verdict(ratios.relayToKoa, (v) => v >= 0.5) },
    { target: 'relay ingest-only req/s >= 0.75 x minimal Koa', measured: ratios.relayNoDestinationToKoa, met: verdict(ratios.relayNoDestinationToKoa, (v) => v >= 0.75) },
    { target: `relay (1 destination) p99 ack <= 20 ms at ${opts.connections} connections`, measured: relay?.latencyMs.p99, met: verdict(relay?.latencyMs.p99, (v) => v <= 20) },
    {
      target: 'relay non-2xx + errors + timeouts = 0 (1 destination / ingest-only)',
      measured: relay || noDestination ? `${relay ? failures(relay) : '-'} / ${noDestination ? failures(noDestination) : '-'}` : null,
      met: relay && noDestination ? failures(relay) + failures(noDestination) === 0 : null,
    },
    { target: 'CPU per event, ingest-only <= 2 x Koa CPU per request', measured: cpuRatios.ingestOnlyToKoa, met: verdict(cpuRatios.ingestOnlyToKoa, (v) => v <= 2) },
    relay?.throughDelivery && !relay.throughDelivery.complete
      ? { target: 'CPU per event, ingest+delivery <= 4 x Koa CPU per request', measured: `${cpuRatios.ingestAndDeliveryToKoa} (deliveries incomplete after 120 s)`, met: null }
      : { target: 'CPU per event, ingest+delivery <= 4 x Koa CPU per request', measured: cpuRatios.ingestAndDeliveryToKoa, met: verdict(cpuRatios.ingestAndDeliveryToKoa, (v) => v <= 4) },
  ];
  return { rows, ratios, cpuRatios, targets, issue14Targets };
}
