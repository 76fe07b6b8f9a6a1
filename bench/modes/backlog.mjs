import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { round } from '../lib/callback.mjs';
import { rssMb } from '../lib/children.mjs';
import { runLoad } from '../lib/load-runs.mjs';
import { summarizeProfile } from '../lib/profile-summary.mjs';
import { startRelay, startTarget, stats, writeRelayConfig } from '../lib/relay.mjs';

/**
 * Backlog mode, all through the real ingest path:
 *   destination down -> ingest p99 on an empty database -> fill to `backlogEvents` pending ->
 *   ingest p99 with the backlog present -> destination up -> drain rate and relay RSS.
 * The destination's breaker is configured to probe every 2 s, so "up" is noticed within ~2 s;
 * the drain rate is also given from the first arrival and over the middle 80% of the backlog.
 */
export async function backlogMode(ctx) {
  const { opts, dir, log } = ctx;
  const load = { connections: opts.connections, durationS: opts.duration, bodyBytes: opts.bodyBytes };
  mkdirSync(dir, { recursive: true });

  // Reserve a port for the destination, then take it down.
  const probe = await startTarget('sink', 'sink.mjs');
  const sinkPort = probe.port;
  await probe.handle.stop();

  const configPath = writeRelayConfig(dir, {
    concurrency: ctx.opts.destinationConcurrency, dbPath: join(dir, 'hookrelay.db'),
    destinationUrl: `http://127.0.0.1:${sinkPort}/hooks`,
    destination: {
      timeoutMs: 5_000,
      retry: { maxAttempts: 1000, initialDelayMs: 200, multiplier: 2, maxDelayMs: 2_000 },
      circuitBreaker: { volumeThreshold: 5, errorThresholdPercentage: 50, rollingWindowMs: 10_000, resetTimeoutMs: 2_000 },
    },
  });
  // With --profile the whole relay lifetime is profiled (fill, backlog ingest and drain).
  const profileDir = opts.profile ? join(ctx.resultsDir, `profile-${ctx.stamp}-backlog`) : undefined;
  const relay = await startRelay(configPath, { profileDir });
  let sink = null;
  let result;
  try {
    log('backlog: ingest p99 on an empty database (destination down)');
    const emptyDb = await runLoad(relay.url, { ...load, warmupS: opts.warmup });

    const before = await stats(configPath);
    const missing = opts.backlogEvents - before.deliveries.pending - before.deliveries.inFlight;
    let fill = null;
    if (missing > 0) {
      log(`backlog: filling ${missing} more pending deliveries through the relay`);
      // `amount` ends the run; the duration only bounds it.
      fill = await runLoad(relay.url, { ...load, amount: missing, durationS: 600, extraTimeoutMs: 0 });
    }

    log('backlog: ingest p99 with the backlog present');
    const withBacklog = await runLoad(relay.url, load);
    const atUp = await stats(configPath);
    const pendingAtUp = atUp.deliveries.pending + atUp.deliveries.inFlight;
    const rssBeforeDrainMb = rssMb(relay.relayPid);

    log(`backlog: destination up, draining ${pendingAtUp}`);
    sink = await startTarget('sink', 'sink.mjs', [String(sinkPort)]);
    const upAt = performance.timeOrigin + performance.now();
    // Bounded: at most 5 minutes (a drain slower than that is reported as incomplete).
    const maxMs = Math.min(300_000, Math.max(60_000, pendingAtUp * 2));
    let maxRss = rssBeforeDrainMb ?? 0;
    let count = { unique: 0 };
    const marks = {};
    let lastChange = performance.now();
    let last = -1;
    for (;;) {
      count = await sink.handle.ask({ type: 'count' });
      maxRss = Math.max(maxRss, rssMb(relay.relayPid) ?? 0);
      const at = performance.timeOrigin + performance.now();
      for (const fraction of [0.1, 0.9]) if (marks[fraction] === undefined && count.unique >= pendingAtUp * fraction) marks[fraction] = { at, count: count.unique };
      if (count.unique >= pendingAtUp) break;
      if (count.unique !== last) {
        last = count.unique;
        lastChange = performance.now();
      }
      if (performance.now() - lastChange > 20_000 || at - upAt > maxMs) {
        log(`backlog: drain stopped at ${count.unique}/${pendingAtUp}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const drainSeconds = ((count.lastAt ?? upAt) - upAt) / 1000;
    const steady = marks[0.1] && marks[0.9] && marks[0.9].at > marks[0.1].at ? (marks[0.9].count - marks[0.1].count) / ((marks[0.9].at - marks[0.1].at) / 1000) : null;
    const drain = {
      complete: count.unique >= pendingAtUp,
      delivered: count.unique,
      repeated: count.repeated,
      seconds: round(drainSeconds, 2),
      firstArrivalAfterUpS: count.firstAt ? round((count.firstAt - upAt) / 1000, 2) : null,
      perSecond: round(count.unique / drainSeconds, 1),
      fromFirstArrivalPerSecond: count.firstAt ? round(count.unique / ((count.lastAt - count.firstAt) / 1000), 1) : null,
      steadyPerSecond: round(steady, 1),
      maxRssMb: maxRss,
    };
    const ratio = round(withBacklog.latencyMs.p99 / emptyDb.latencyMs.p99, 2);
    const drainRate = drain.steadyPerSecond ?? drain.perSecond;
    const targets = [
      { target: `${pendingAtUp} pending drain at >= 10,000 deliveries/s`, measured: drainRate, met: drainRate >= 10_000 },
      { target: 'ingest p99 with backlog <= 1.5 x empty-database p99', measured: `${withBacklog.latencyMs.p99} / ${emptyDb.latencyMs.p99} = ${ratio}`, met: ratio <= 1.5 },
    ];
    result = { backlogTarget: opts.backlogEvents, emptyDb, fill, withBacklog, pendingAtUp, rssBeforeDrainMb, drain, targets };
  } finally {
    await relay.handle.stop(30_000);
    await sink?.handle.stop();
  }
  if (profileDir) result.profile = summarizeProfile(profileDir, 25);
  return result;
}
