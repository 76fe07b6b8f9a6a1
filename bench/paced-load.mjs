// A fixed-rate load generator (own process): sends `rate` callbacks per second spread evenly
// over each second (not in per-second bursts, as autocannon's overallRate does), over a
// keep-alive pool of `connections`, for `durationS`. Reports like load.mjs and, with
// `acksPath`, writes `<event id> <ack epoch ms>` lines.
import { writeFileSync } from 'node:fs';
import { Pool } from 'undici';
import { createCallbackFactory, percentile, round } from './lib/callback.mjs';

const { url, rate, durationS = 10, connections = 64, secret, bodyBytes = 1024, acksPath } = JSON.parse(process.argv[2]);
const target = new URL(url);
const pool = new Pool(target.origin, { connections, pipelining: 1 });
const nextCallback = createCallbackFactory({ secret, bodyBytes, prefix: `paced-${process.pid}-${Date.now().toString(36)}` });
const now = () => performance.timeOrigin + performance.now();

const latencies = [];
const acks = [];
const statuses = { status2xx: 0, non2xx: 0, errors: 0 };
let sent = 0;
let inFlight = 0;
let behind = 0;

async function sendOne() {
  const callback = nextCallback();
  const started = performance.now();
  inFlight++;
  try {
    const response = await pool.request({ path: target.pathname, method: 'POST', headers: callback.headers, body: callback.body });
    const text = await response.body.text();
    const at = now();
    latencies.push(performance.now() - started);
    if (response.statusCode >= 200 && response.statusCode < 300) {
      statuses.status2xx++;
      if (acksPath) {
        try {
          acks.push(`${JSON.parse(text).id} ${at}`);
        } catch {
          // not a relay answer
        }
      }
    } else statuses.non2xx++;
  } catch {
    statuses.errors++;
  } finally {
    inFlight--;
  }
}

const startedAt = now();
const t0 = performance.now();
const total = Math.round(rate * durationS);
await new Promise((resolve) => {
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    // When every connection is busy the request waits in undici's queue; count how far behind we are.
    if (inFlight >= connections) behind = Math.max(behind, due - sent);
    while (sent < due) {
      sent++;
      void sendOne();
    }
    if (sent >= total) resolve();
    else setTimeout(tick, 1);
  };
  tick();
});
const deadline = Date.now() + 30_000;
while (inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
const endedAt = now();
await pool.close();
if (acksPath) writeFileSync(acksPath, acks.join('\n'));
const elapsedS = (endedAt - startedAt) / 1000;
process.send(
  {
    type: 'result',
    startedAt,
    endedAt,
    elapsedS: round(elapsedS, 3),
    offeredRate: rate,
    completed: latencies.length,
    rps: round(latencies.length / elapsedS, 1),
    latencyMs: {
      p50: round(percentile(latencies, 50), 2),
      p99: round(percentile(latencies, 99), 2),
      max: round(percentile(latencies, 100), 2),
      mean: round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length), 2),
    },
    ...statuses,
    timeouts: 0,
    maxBehind: behind,
    acks: acks.length,
  },
  () => process.exit(0),
);
