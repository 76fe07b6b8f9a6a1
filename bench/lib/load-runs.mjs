import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { startBenchNode } from './children.mjs';
import { percentile, round } from './callback.mjs';
import { BENCH_SECRET } from './relay.mjs';

const BENCH = resolve(import.meta.dirname, '..');

/**
 * Runs autocannon (bench/load.mjs) in its own process against `url`; resolves with its summary.
 * `onWarm(warm)`: called after the warm-up (with `{ warmupAcked }`); the measured run starts when
 * the promise it returns settles (e.g. once the destination has caught up). Bounded by the caller.
 */
export async function runLoad(url, options, { onWarm } = {}) {
  const generator = startBenchNode('load', join(BENCH, 'load.mjs'), [JSON.stringify({ url, secret: BENCH_SECRET, ...options, pauseAfterWarmup: Boolean(onWarm) })]);
  const budgetMs = ((options.warmupS ?? 0) + (options.durationS ?? 10)) * 1000 + (options.extraTimeoutMs ?? 60_000);
  try {
    if (onWarm) {
      const warm = await generator.waitForMessage('warm', (options.warmupS ?? 0) * 1000 + 60_000);
      await onWarm(warm);
      generator.child.send({ type: 'go' });
    }
    return await generator.waitForMessage('result', budgetMs);
  } finally {
    await generator.kill();
  }
}

/** Runs the fixed-rate generator (bench/paced-load.mjs) in its own process. */
export async function runPacedLoad(url, options) {
  const generator = startBenchNode('paced-load', join(BENCH, 'paced-load.mjs'), [JSON.stringify({ url, secret: BENCH_SECRET, ...options })]);
  const result = await generator.waitForMessage('result', options.durationS * 1000 + 60_000).finally(() => generator.kill());
  return result;
}

/** Reads `<id> <epoch ms>` lines into a Map. */
export function readTimes(path) {
  const times = new Map();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    const space = line.indexOf(' ');
    times.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return times;
}

/**
 * Joins acknowledgements with arrivals at the destination by event id:
 * ack -> destination latency percentiles. Negative values (the delivery arrived before the
 * load generator had read its 202) are kept: they are real.
 */
export function ackToDestination(acks, arrivals) {
  const gaps = [];
  let missing = 0;
  for (const [id, ackAt] of acks) {
    const at = arrivals.get(id);
    if (at === undefined) missing++;
    else gaps.push(at - ackAt);
  }
  return {
    matched: gaps.length,
    missing,
    p50: round(percentile(gaps, 50), 2),
    p99: round(percentile(gaps, 99), 2),
    max: round(percentile(gaps, 100), 2),
    negative: gaps.filter((gap) => gap < 0).length,
  };
}
