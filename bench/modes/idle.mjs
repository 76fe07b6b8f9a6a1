import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { round } from '../lib/callback.mjs';
import { cpuBetween, cpuResolutionMs, processCpuMs, sampleCpu } from '../lib/cpu.mjs';
import { runLoad } from '../lib/load-runs.mjs';
import { scrapeMetric } from '../lib/metrics-scrape.mjs';
import { runCli, startRelay, startTarget, stats, writeRelayConfig } from '../lib/relay.mjs';

export const WRITE_TRANSACTIONS_METRIC = 'hookrelay_storage_write_transactions_total';
const RETRYING_EVENTS = 3;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Minutes until the earliest retry of the `retrying` destination is due (`hookrelay deliveries list`). */
async function retryDueInMinutes(configPath) {
  const run = await runCli(['deliveries', 'list', '--json', '--status', 'pending', '--destination', 'retrying', '--config', configPath]);
  if (run.code !== 0) throw new Error(`hookrelay deliveries list exited ${run.code}: ${run.stderr}`);
  const due = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .map((delivery) => (delivery.attempts > 0 && delivery.nextAttemptAt ? Date.parse(delivery.nextAttemptAt) : Date.now()));
  return due.length === 0 ? null : round((Math.min(...due) - Date.now()) / 60_000, 1);
}

/**
 * Idle mode: what a relay costs while nothing is due. Each setup runs alone: start, let it
 * settle, then over a window read the process's CPU time (/proc/<pid>/stat utime+stime, every
 * thread) and the increase of the relay's write-transaction counter from the admin /metrics.
 *   koa            the minimal Koa app, idle (baseline)
 *   relay1         the relay (SQLite) with 1 healthy destination, nothing pending (baseline)
 *   relay50        the relay with 50 healthy destinations, nothing pending
 *   relay50Pending as relay50, plus a 51st destination that is down, holding a few deliveries
 *                  whose retry is due in an hour (all other deliveries of those events done)
 */
export async function idleMode(ctx) {
  const { opts, dir, log } = ctx;
  // Start-up leaves V8 work behind for tens of seconds (concurrent GC and the memory reducer on
  // every thread's heap): at 3 s an idle relay still showed ~2% of a core, after 30 s ~0.8%.
  // Idle means after that tail.
  const settleMs = opts.smoke ? 1_000 : 30_000;
  const windowMs = opts.idleSeconds * 1000;
  const rows = {};

  const measure = async (pids, adminPort, supervisorPid = null) => {
    await sleep(settleMs);
    const writesBefore = adminPort ? await scrapeMetric(adminPort, WRITE_TRANSACTIONS_METRIC) : null;
    const before = sampleCpu(pids);
    const supervisorBefore = supervisorPid ? processCpuMs(supervisorPid) : null;
    await sleep(windowMs);
    const after = sampleCpu(pids);
    const supervisorAfter = supervisorPid ? processCpuMs(supervisorPid) : null;
    const writesAfter = adminPort ? await scrapeMetric(adminPort, WRITE_TRANSACTIONS_METRIC) : null;
    const wallMs = after.main.at - before.main.at;
    const percent = (name) => {
      const ms = cpuBetween(before[name], after[name]);
      return ms === null ? null : round((ms / wallMs) * 100, 3);
    };
    return {
      windowS: round(wallMs / 1000, 2),
      cpuMs: round(cpuBetween(before.main, after.main), 0),
      cpuPercentOfOneCore: percent('main'),
      // `serve` itself (the supervisor process, without its relay child), for information.
      supervisorCpuPercent: supervisorBefore !== null && supervisorAfter !== null ? round(((supervisorAfter - supervisorBefore) / wallMs) * 100, 3) : null,
      // null: the relay does not expose the metric (not the same as 0).
      writeTransactions: writesBefore === null || writesAfter === null ? null : writesAfter - writesBefore,
      metricPresent: adminPort ? writesBefore !== null : null,
    };
  };

  log('idle: minimal Koa');
  const koa = await startTarget('koa', 'koa-app.mjs');
  try {
    rows.koa = { label: 'minimal Koa, idle (baseline)', destinations: null, ...(await measure({ main: koa.handle.pid })) };
  } finally {
    await koa.handle.stop();
  }

  const relaySetup = async (key, label, healthy, { retrying = false } = {}) => {
    log(`idle: ${label}`);
    const runDir = join(dir, key);
    mkdirSync(runDir, { recursive: true });
    const sink = await startTarget('sink', 'sink.mjs');
    // A port with nothing listening: every attempt to it fails at once.
    let downPort = null;
    if (retrying) {
      const probe = await startTarget('down', 'sink.mjs');
      downPort = probe.port;
      await probe.handle.stop();
    }
    const destinations = Array.from({ length: healthy }, (_, index) => ({ name: `d${String(index + 1).padStart(2, '0')}`, url: `http://127.0.0.1:${sink.port}/hooks/${index + 1}` }));
    if (retrying) {
      destinations.push({
        name: 'retrying',
        url: `http://127.0.0.1:${downPort}/hooks`,
        timeoutMs: 2_000,
        retry: { maxAttempts: 5, initialDelayMs: 3_600_000, multiplier: 2, maxDelayMs: 3_600_000 },
      });
    }
    const configPath = writeRelayConfig(runDir, { dbPath: join(runDir, 'hookrelay.db'), destinations, admin: true });
    const relay = await startRelay(configPath);
    try {
      let pending = 0;
      let retryingDueInMinutes = null;
      if (retrying) {
        await runLoad(relay.url, { connections: 1, amount: RETRYING_EVENTS, durationS: 30, bodyBytes: opts.bodyBytes, extraTimeoutMs: 0 });
        // Wait (bounded) until every healthy delivery is done and only the retrying ones are left.
        const deadline = performance.now() + 60_000;
        let current;
        do {
          await sleep(300);
          current = await stats(configPath);
        } while ((current.deliveries.inFlight > 0 || current.deliveries.delivered < RETRYING_EVENTS * healthy) && performance.now() < deadline);
        pending = current.deliveries.pending + current.deliveries.inFlight;
        if (current.deliveries.delivered < RETRYING_EVENTS * healthy) log(`idle: only ${current.deliveries.delivered} of ${RETRYING_EVENTS * healthy} deliveries done after 60 s`);
        retryingDueInMinutes = await retryDueInMinutes(configPath);
      }
      const figures = await measure({ main: relay.relayPid }, relay.adminPort, relay.handle.pid);
      rows[key] = { label, destinations: destinations.length, pending, retryingDueInMinutes, ...figures };
    } finally {
      await relay.handle.stop(30_000);
      await sink.handle.stop();
    }
  };

  await relaySetup('relay1', 'relay, 1 destination, nothing pending (baseline)', 1);
  await relaySetup('relay50', 'relay, 50 destinations, nothing pending', 50);
  await relaySetup('relay50Pending', `relay, 50 destinations + 1 down with ${RETRYING_EVENTS} retries not yet due`, 50, { retrying: true });

  const writesMeasured = (row) => (row?.writeTransactions === null || row?.writeTransactions === undefined ? 'n/a (metric not present)' : row.writeTransactions);
  const issue14Targets = [];
  for (const key of ['relay50', 'relay50Pending']) {
    const row = rows[key];
    issue14Targets.push(
      { target: `idle ${row.label}: CPU <= 1% of one core`, measured: row.cpuPercentOfOneCore === null ? null : `${row.cpuPercentOfOneCore}%`, met: row.cpuPercentOfOneCore === null ? null : row.cpuPercentOfOneCore <= 1 },
      { target: `idle ${row.label}: 0 write transactions in ${row.windowS} s`, measured: writesMeasured(row), met: row.writeTransactions === null ? null : row.writeTransactions === 0 },
    );
  }
  return { settleS: settleMs / 1000, windowS: windowMs / 1000, cpuResolutionMs: cpuResolutionMs(), metric: WRITE_TRANSACTIONS_METRIC, rows, issue14Targets };
}
