import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { round } from '../lib/callback.mjs';
import { rssMb } from '../lib/children.mjs';
import { startRelay, startTarget, stats, writeRelayConfig } from '../lib/relay.mjs';
import { generateSizeDatabase } from '../lib/size-database.mjs';

const IDLE_MS = 5_000;

async function idleRelay(configPath) {
  const relay = await startRelay(configPath);
  try {
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const rss = rssMb(relay.handle.pid);
    const statsRuns = [await stats(configPath), await stats(configPath)];
    return { startupMs: round(relay.startupMs, 1), rssIdleMb: rss, stats: statsRuns };
  } finally {
    await relay.handle.stop(30_000);
  }
}

/**
 * Size mode: a database with `sizeEvents` stored events (written directly with the relay's
 * schema), then: start-up to the listening line, RSS after idling, `hookrelay stats --json`
 * wall time (CLI process start included; run twice, while serve runs). The same on an
 * empty database for comparison.
 */
export async function sizeMode(ctx) {
  const { opts, dir, log } = ctx;
  const sink = await startTarget('sink', 'sink.mjs');
  try {
    const destinationUrl = `http://127.0.0.1:${sink.port}/hooks`;
    mkdirSync(join(dir, 'empty'), { recursive: true });
    log('size: empty database');
    const empty = await idleRelay(writeRelayConfig(join(dir, 'empty'), { dbPath: join(dir, 'empty', 'hookrelay.db'), destinationUrl }));

    mkdirSync(join(dir, 'full'), { recursive: true });
    const dbPath = join(dir, 'full', 'hookrelay.db');
    log(`size: writing ${opts.sizeEvents} events`);
    const started = performance.now();
    generateSizeDatabase(dbPath, { count: opts.sizeEvents, destination: 'sink', bodyBytes: opts.bodyBytes });
    const generateSeconds = (performance.now() - started) / 1000;
    const dbMb = statSync(dbPath).size / 1024 ** 2;
    log('size: relay on the full database');
    const full = await idleRelay(writeRelayConfig(join(dir, 'full'), { dbPath, destinationUrl }));
    const targets = [
      { target: `RSS idle with ${opts.sizeEvents} events <= 150 MB`, measured: full.rssIdleMb, met: full.rssIdleMb !== null && full.rssIdleMb <= 150 },
      { target: `start-up to listening with ${opts.sizeEvents} events <= 1 s`, measured: `${full.startupMs} ms`, met: full.startupMs <= 1000 },
    ];
    return {
      events: opts.sizeEvents,
      generateSeconds: round(generateSeconds, 1),
      dbMb: round(dbMb, 1),
      startupEmptyMs: empty.startupMs,
      startupMs: full.startupMs,
      rssEmptyMb: empty.rssIdleMb,
      rssIdleMb: full.rssIdleMb,
      statsMs: full.stats.map((run) => round(run.wallMs, 1)),
      statsEmptyMs: round(empty.stats[1].wallMs, 1),
      statsOutput: { ...full.stats[0], wallMs: undefined },
      targets,
    };
  } finally {
    await sink.handle.stop();
  }
}
