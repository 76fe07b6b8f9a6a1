import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { round } from '../lib/callback.mjs';
import { rssMb } from '../lib/children.mjs';
import { ackToDestination, readTimes, runLoad, runPacedLoad } from '../lib/load-runs.mjs';
import { summarizeProfile } from '../lib/profile-summary.mjs';
import { startRelay, startTarget, writeRelayConfig } from '../lib/relay.mjs';

/** Waits until the sink has `expected` distinct deliveries or stops making progress. */
async function waitDelivered(sink, expected, { stallMs = 10_000, maxMs = 120_000 } = {}) {
  const started = performance.now();
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const count = await sink.handle.ask({ type: 'count' });
    if (count.unique >= expected) return count;
    if (count.unique !== last) {
      last = count.unique;
      lastChange = performance.now();
    }
    if (performance.now() - lastChange > stallMs || performance.now() - started > maxMs) return count;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * One run: fresh database, fresh sink, the relay; load (autocannon at full speed, or paced);
 * then wait for the deliveries; join acks with arrivals by event id.
 */
async function oneRun(ctx, key, drive) {
  const runDir = join(ctx.dir, key);
  mkdirSync(runDir, { recursive: true });
  const sink = await startTarget('sink', 'sink.mjs');
  const configPath = writeRelayConfig(runDir, { concurrency: ctx.opts.destinationConcurrency, dbPath: join(runDir, 'hookrelay.db'), destinationUrl: `http://127.0.0.1:${sink.port}/hooks` });
  const profileDir = ctx.opts.profile ? join(ctx.resultsDir, `profile-${ctx.stamp}-e2e-${key}`) : undefined;
  const relay = await startRelay(configPath, { profileDir });
  let result;
  try {
    const acksPath = join(runDir, 'acks.txt');
    const load = await drive(relay.url, acksPath);
    const relayRss = rssMb(relay.relayPid);
    const count = await waitDelivered(sink, load.acks);
    const arrivalsPath = join(runDir, 'arrivals.txt');
    await sink.handle.ask({ type: 'dump', path: arrivalsPath });
    const acks = readTimes(acksPath);
    const arrivals = readTimes(arrivalsPath);
    const during = [...arrivals.values()].filter((at) => at >= load.startedAt && at <= load.endedAt).length;
    const lastArrival = count.lastAt ?? load.endedAt;
    result = {
      load,
      delivered: count.unique,
      repeatedDeliveries: count.repeated,
      deliveredPerSecondDuringLoad: round(during / ((load.endedAt - load.startedAt) / 1000), 1),
      deliveredPerSecondOverall: round(count.unique / ((lastArrival - load.startedAt) / 1000), 1),
      drainAfterLoadS: round(Math.max(0, lastArrival - load.endedAt) / 1000, 2),
      ackToDestinationMs: ackToDestination(acks, arrivals),
      relayRssMb: relayRss,
    };
  } finally {
    await relay.handle.stop(30_000);
    await sink.handle.stop();
  }
  if (profileDir) result.profile = summarizeProfile(profileDir, 25);
  return result;
}

/**
 * End-to-end mode: ingest while delivering to one healthy destination.
 * (1) full speed with autocannon (64 connections); (2) a fixed offered rate spread evenly.
 */
export async function e2eMode(ctx) {
  const { opts, log } = ctx;
  log('e2e: full speed');
  const fullSpeed = await oneRun(ctx, 'full-speed', (url, acksPath) =>
    runLoad(url, { connections: opts.connections, durationS: opts.duration, bodyBytes: opts.bodyBytes, acksPath }),
  );
  log(`e2e: paced ${opts.pacedRate}/s`);
  const paced = await oneRun(ctx, 'paced', (url, acksPath) =>
    runPacedLoad(url, { rate: opts.pacedRate, durationS: opts.duration, connections: opts.connections, bodyBytes: opts.bodyBytes, acksPath }),
  );

  // The issue compares delivered/s with the relay's ingest-only req/s from the same run of the bench.
  const ingest = ctx.results.modes.ingest?.rows?.relayNoDestination;
  const ingestOnlyRps = ingest?.rps ?? null;
  const deliveredRatio = ingestOnlyRps ? round(fullSpeed.deliveredPerSecondDuringLoad / ingestOnlyRps, 2) : null;
  const targets = [
    {
      target: 'delivered/s >= 0.5 x relay ingest-only req/s',
      measured: ingestOnlyRps ? `${fullSpeed.deliveredPerSecondDuringLoad}/s = ${deliveredRatio} x ${ingestOnlyRps}` : `${fullSpeed.deliveredPerSecondDuringLoad}/s (run ingest mode for the ratio)`,
      met: ingestOnlyRps ? deliveredRatio >= 0.5 : null,
    },
    { target: `at ${opts.pacedRate}/s: ack->destination p50 <= 5 ms`, measured: paced.ackToDestinationMs.p50, met: paced.ackToDestinationMs.p50 <= 5 },
    { target: `at ${opts.pacedRate}/s: ack->destination p99 <= 50 ms`, measured: paced.ackToDestinationMs.p99, met: paced.ackToDestinationMs.p99 <= 50 },
  ];
  return { fullSpeed, paced, ingestOnlyRps, targets };
}
