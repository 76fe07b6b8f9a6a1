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
 *   ingest p99 with the backlog present -> destination up -> drain rate and relay RSS, with a
 *   measured ingest run from half-way through the backlog (its events join the drain).
 * The destination's breaker is configured to probe every 2 s, so "up" is noticed within ~2 s;
 * the drain rate is also given from the first arrival, over 10%..50% of the backlog (no ingest)
 * and during the ingest run.
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
    /** (epoch ms, distinct deliveries at the sink), every poll. */
    const series = [];
    // Half-way through the backlog, a measured ingest run while the drain goes on; its events
    // join the drain. Its length is bounded so that, at the quiet drain rate, the backlog would
    // still last past its end (the stats right after it say whether it did).
    let during = null;
    let duringDone = null;
    let lastChange = performance.now();
    let last = -1;
    for (;;) {
      count = await sink.handle.ask({ type: 'count' });
      maxRss = Math.max(maxRss, rssMb(relay.relayPid) ?? 0);
      const at = performance.timeOrigin + performance.now();
      series.push([at, count.unique]);
      for (const fraction of [0.1, 0.5]) if (marks[fraction] === undefined && count.unique >= pendingAtUp * fraction) marks[fraction] = { at, count: count.unique };
      if (!during && marks[0.5]) {
        const quiet = marks[0.1] && marks[0.5].at > marks[0.1].at ? (marks[0.5].count - marks[0.1].count) / ((marks[0.5].at - marks[0.1].at) / 1000) : null;
        const remaining = Math.max(0, pendingAtUp - count.unique);
        const durationS = Math.max(1, Math.min(opts.duration, quiet ? Math.floor((0.8 * remaining) / quiet) : opts.duration));
        log(`backlog: ingest for ${durationS} s while draining (${remaining} of the backlog left)`);
        during = { durationS, deliveredAtStart: count.unique, result: null };
        duringDone = runLoad(relay.url, { ...load, durationS }).then(async (result) => {
          during.result = result;
          const left = await stats(configPath);
          during.pendingAtEnd = left.deliveries.pending + left.deliveries.inFlight;
        });
      }
      const expected = pendingAtUp + (during?.result ? during.result.status2xx : 0);
      const ingesting = during !== null && during.pendingAtEnd === undefined;
      if (count.unique >= expected && !ingesting && during) break;
      if (count.unique !== last) {
        last = count.unique;
        lastChange = performance.now();
      }
      if ((performance.now() - lastChange > 20_000 && !ingesting) || at - upAt > maxMs) {
        log(`backlog: drain stopped at ${count.unique}/${expected}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await duringDone;
    const expected = pendingAtUp + (during?.result?.status2xx ?? 0);
    const drainSeconds = ((count.lastAt ?? upAt) - upAt) / 1000;
    const rateBetween = (a, b) => (a && b && b.at > a.at ? (b.count - a.count) / ((b.at - a.at) / 1000) : null);
    /** The sink's count at the last poll at or before `at` (epoch ms). */
    const countAt = (at) => {
      let found = series[0];
      for (const entry of series) if (entry[0] <= at) found = entry;
      return { at: found[0], count: found[1] };
    };
    const quietPerSecond = rateBetween(marks[0.1], marks[0.5]);
    const duringPerSecond = during?.result ? rateBetween(countAt(during.result.startedAt), countAt(during.result.endedAt)) : null;
    const drain = {
      complete: count.unique >= expected,
      expected,
      delivered: count.unique,
      repeated: count.repeated,
      seconds: round(drainSeconds, 2),
      firstArrivalAfterUpS: count.firstAt ? round((count.firstAt - upAt) / 1000, 2) : null,
      perSecond: round(count.unique / drainSeconds, 1),
      fromFirstArrivalPerSecond: count.firstAt ? round(count.unique / ((count.lastAt - count.firstAt) / 1000), 1) : null,
      quietPerSecond: round(quietPerSecond, 1),
      whileIngestingPerSecond: round(duringPerSecond, 1),
      maxRssMb: maxRss,
    };
    const ratio = round(withBacklog.latencyMs.p99 / emptyDb.latencyMs.p99, 2);
    const drainRate = drain.quietPerSecond ?? drain.perSecond;
    const duringRatio = during?.result ? round(during.result.latencyMs.p99 / emptyDb.latencyMs.p99, 2) : null;
    const duringMeasured = during?.result
      ? `${during.result.latencyMs.p99} / ${emptyDb.latencyMs.p99} = ${duringRatio}${during.pendingAtEnd === 0 ? ' (backlog gone before the run ended)' : ''}`
      : null;
    const targets = [
      { target: `${pendingAtUp} pending drain at >= 10,000 deliveries/s`, measured: drainRate, met: drainRate >= 10_000 },
      { target: 'ingest p99 with backlog <= 1.5 x empty-database p99', measured: `${withBacklog.latencyMs.p99} / ${emptyDb.latencyMs.p99} = ${ratio}`, met: ratio <= 1.5 },
    ];
    const issue14Targets = [
      { target: `backlog ${pendingAtUp} pending -> >= 10,000 deliveries/s (10%..50%, no ingest)`, measured: drainRate, met: drainRate >= 10_000 },
      { target: 'ingest p99 while draining <= 1.5 x empty-database p99', measured: duringMeasured, met: duringRatio === null ? null : duringRatio <= 1.5 },
    ];
    const duringDrain = during?.result ? { ...during.result, durationS: during.durationS, deliveredAtStart: during.deliveredAtStart, pendingAtEnd: during.pendingAtEnd } : null;
    result = { backlogTarget: opts.backlogEvents, emptyDb, fill, withBacklog, pendingAtUp, rssBeforeDrainMb, drain, duringDrain, targets, issue14Targets };
  } finally {
    await relay.handle.stop(30_000);
    await sink?.handle.stop();
  }
  if (profileDir) result.profile = summarizeProfile(profileDir, 25);
  return result;
}
