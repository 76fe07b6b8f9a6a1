import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { round } from '../lib/callback.mjs';
import { rssMb } from '../lib/children.mjs';
import { runPacedLoad } from '../lib/load-runs.mjs';
import { startRelay, startTarget, stats, writeRelayConfig } from '../lib/relay.mjs';
import { generateSizeDatabase } from '../lib/size-database.mjs';

const IDLE_MS = 5_000;
/** Ingest rate while /metrics is scraped (a steady Cerebrium-like trickle, far below capacity). */
const SCRAPE_LOAD_RATE = 500;
const SCRAPE_INTERVAL_MS = 1_000;

/**
 * Ingest latency on the full database at a steady rate, without and then with a /metrics
 * scrape every second (each scrape counts every stored delivery by status): shows whether
 * operator reads hold up the ingest path.
 */
async function scrapeImpact(configPath, durationS) {
  const relay = await startRelay(configPath);
  try {
    const line = await relay.handle.waitForLine((text) => text.includes('"adminPort"'), 'the listening line with the admin port', 10_000);
    const adminPort = JSON.parse(line).adminPort;
    // Warm-up: the first seconds after start-up (cold page cache) would otherwise count against the first phase.
    await runPacedLoad(relay.url, { rate: SCRAPE_LOAD_RATE, durationS: 1 });
    const quiet = await runPacedLoad(relay.url, { rate: SCRAPE_LOAD_RATE, durationS });
    const scrapeMs = [];
    let scraping = true;
    const scraper = (async () => {
      while (scraping) {
        const started = performance.now();
        const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
        await response.text();
        scrapeMs.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, SCRAPE_INTERVAL_MS));
      }
    })();
    const scraped = await runPacedLoad(relay.url, { rate: SCRAPE_LOAD_RATE, durationS }).finally(() => (scraping = false));
    await scraper;
    const sorted = [...scrapeMs].sort((a, b) => a - b);
    return {
      rate: SCRAPE_LOAD_RATE,
      withoutScrapes: { p50: quiet.latencyMs.p50, p99: quiet.latencyMs.p99, mean: quiet.latencyMs.mean, non2xx: quiet.non2xx },
      withScrapes: { p50: scraped.latencyMs.p50, p99: scraped.latencyMs.p99, mean: scraped.latencyMs.mean, non2xx: scraped.non2xx },
      scrapes: scrapeMs.length,
      scrapeMs: { p50: round(sorted[Math.floor(sorted.length / 2)] ?? 0, 1), max: round(sorted.at(-1) ?? 0, 1) },
      rssAfterMb: rssMb(relay.relayPid),
    };
  } finally {
    await relay.handle.stop(30_000);
  }
}

async function idleRelay(configPath) {
  const relay = await startRelay(configPath);
  try {
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const rss = rssMb(relay.relayPid);
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
    log(`size: ingest at ${SCRAPE_LOAD_RATE}/s without and with a /metrics scrape every second`);
    const scrape = await scrapeImpact(writeRelayConfig(join(dir, 'full'), { dbPath, destinationUrl, admin: true, name: 'hookrelay-admin.yaml' }), opts.duration);
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
      scrape,
      targets,
    };
  } finally {
    await sink.handle.stop();
  }
}
