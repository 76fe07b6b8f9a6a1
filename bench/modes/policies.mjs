import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { createCallbackFactory, round } from '../lib/callback.mjs';
import { runLoad } from '../lib/load-runs.mjs';
import { BENCH_SECRET, SOURCE_PATH, startRelay, startTarget } from '../lib/relay.mjs';

/**
 * Policies mode (issue 13):
 * 1. Ingest req/s with 8 destinations, each with a (matching) `filter`, against the same 8
 *    destinations without one: the cost of deciding filters at ingest. Alternated, median kept.
 * 2. Delivery throughput to a destination that takes 5 ms per request: `ordering: fifo`
 *    (one in flight; the ceiling is 200/s) against unordered (concurrency 8), same backlog.
 */
export async function policiesMode(ctx) {
  const filters = await measureFilters(ctx);
  const fifo = await measureFifo(ctx);
  return { filters, fifo };
}

function writeConfig(dir, destinations) {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'hookrelay.yaml');
  writeFileSync(
    path,
    stringify({
      server: { host: '127.0.0.1', port: 0 },
      storage: { sqlite: { path: join(dir, 'hookrelay.db') } },
      sources: [{ name: 'cerebrium', path: SOURCE_PATH, verify: { scheme: 'cerebrium', secrets: [BENCH_SECRET] } }],
      destinations,
      log: { level: 'info' },
    }),
  );
  return path;
}

async function measureFilters({ opts, dir, log }) {
  const sink = await startTarget('sink', 'sink.mjs');
  const load = { connections: opts.connections, durationS: opts.duration, warmupS: opts.warmup, bodyBytes: opts.bodyBytes };
  const destinations = (filtered) =>
    Array.from({ length: 8 }, (_, index) => ({
      name: `d${index}`,
      url: `http://127.0.0.1:${sink.port}/hooks/${index}`,
      // The bench bodies are successful runs: every filter matches, so both runs queue the same deliveries.
      ...(filtered ? { filter: { 'body:status': ['success', 'completed'], 'body:project_id': ['p-bench'] } } : {}),
    }));
  const runs = { plain: [], filtered: [] };
  try {
    const rounds = opts.smoke ? 1 : 3;
    for (let round_ = 0; round_ < rounds; round_++) {
      for (const key of ['plain', 'filtered']) {
        log(`policies: ingest, 8 destinations ${key === 'filtered' ? 'each with a filter' : 'without filters'} (round ${round_ + 1} of ${rounds})`);
        const configPath = writeConfig(join(dir, `filters-${key}-${round_}`), destinations(key === 'filtered'));
        const relay = await startRelay(configPath);
        try {
          const run = await runLoad(relay.url, load);
          runs[key].push({ rps: run.rps, p99Ms: run.latencyMs.p99, non2xx: run.non2xx });
        } finally {
          await relay.handle.stop(30_000);
        }
      }
    }
  } finally {
    await sink.handle.stop();
  }
  const median = (list) => [...list].sort((a, b) => a.rps - b.rps)[Math.floor(list.length / 2)];
  const plain = median(runs.plain);
  const filtered = median(runs.filtered);
  return {
    plain: { rps: round(plain.rps, 0), p99Ms: round(plain.p99Ms, 2), non2xx: plain.non2xx, rounds: runs.plain.map((run) => round(run.rps, 0)) },
    filtered: { rps: round(filtered.rps, 0), p99Ms: round(filtered.p99Ms, 2), non2xx: filtered.non2xx, rounds: runs.filtered.map((run) => round(run.rps, 0)) },
    filteredOverPlain: round(filtered.rps / plain.rps, 3),
  };
}

/** A destination answering 200 after 5 ms, counting arrivals (first and last time). */
function startSlowSink() {
  const state = { count: 0, firstAt: 0, lastAt: 0 };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        const at = performance.now();
        state.count++;
        state.firstAt ||= at;
        state.lastAt = at;
        res.end('ok');
      }, 5),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, state })));
}

async function measureFifo({ opts, dir, log }) {
  const events = opts.smoke ? 100 : 1_000;
  const result = {};
  for (const [key, destination] of [
    ['fifo', { ordering: 'fifo' }],
    ['unordered', { concurrency: 8 }],
  ]) {
    log(`policies: ${events} events to a 5 ms destination, ${key}`);
    const sink = await startSlowSink();
    const configPath = writeConfig(join(dir, `fifo-${key}`), [{ name: 'slow', url: `http://127.0.0.1:${sink.port}/hooks`, ...destination }]);
    const relay = await startRelay(configPath);
    const agent = new Agent({ connections: 8 });
    try {
      const next = createCallbackFactory({ secret: BENCH_SECRET, bodyBytes: opts.bodyBytes, prefix: `fifo-${key}-${process.pid}` });
      let posted = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (posted < events) {
          posted++;
          const callback = next();
          const response = await request(relay.url, { method: 'POST', dispatcher: agent, headers: callback.headers, body: callback.body });
          await response.body.dump();
          if (response.statusCode !== 202) throw new Error(`ingest answered ${response.statusCode}`);
        }
      }));
      const deadline = performance.now() + 120_000;
      while (sink.state.count < events && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      const seconds = (sink.state.lastAt - sink.state.firstAt) / 1000;
      result[key] = { delivered: sink.state.count, perSecond: round((sink.state.count - 1) / seconds, 1) };
    } finally {
      await agent.close();
      await relay.handle.stop(30_000);
      sink.server.close();
    }
  }
  return { events, destinationMs: 5, ...result };
}
