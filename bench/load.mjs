// The load generator, always run in its own process. Drives one target with autocannon and
// reports over IPC: completed requests, req/s, ack latency p50/p99 (own per-response
// measurements, sub-ms), status classes and errors. With `acksPath`, also writes one line per
// acknowledged event: `<event id from the 202 body> <epoch ms when the answer was read>`.
// With `cpuPids` ({ name: pid }), samples those processes' CPU time (/proc) right at the start
// and the end of the measured run. With `pauseAfterWarmup`, sends `{ type: 'warm' }` after the
// warm-up and starts the measured run only on `{ type: 'go' }` (so the bench can let a
// delivery backlog drain first).
import { writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { createCallbackFactory, percentile, round } from './lib/callback.mjs';
import { sampleCpu } from './lib/cpu.mjs';

const options = JSON.parse(process.argv[2]);
const {
  url,
  connections = 64,
  durationS = 10,
  amount,
  overallRate,
  warmupS = 0,
  secret,
  bodyBytes = 1024,
  acksPath,
  timeoutS = 10,
  fixedRequest = false,
  cpuPids = null,
  pauseAfterWarmup = false,
} = options;

const nextCallback = createCallbackFactory({ secret, bodyBytes, prefix: `bench-${process.pid}-${Date.now().toString(36)}` });
const now = () => performance.timeOrigin + performance.now();
const acks = [];
let duplicates = 0;

function buildRequests(recordAcks) {
  if (fixedRequest) {
    // Reference only: one signed request repeated (no per-request signing in the generator).
    const callback = nextCallback();
    return [{ method: 'POST', headers: callback.headers, body: callback.body }];
  }
  return [
    {
      method: 'POST',
      setupRequest(request) {
        const callback = nextCallback();
        return { ...request, headers: { ...request.headers, ...callback.headers }, body: callback.body };
      },
      onResponse: recordAcks
        ? (status, body) => {
            if (status !== 202 && status !== 200) return;
            const at = now();
            try {
              const parsed = JSON.parse(body);
              if (parsed.duplicate) duplicates++;
              acks.push(`${parsed.id} ${at}`);
            } catch {
              // not a relay answer; nothing to record
            }
          }
        : undefined,
    },
  ];
}

function run({ seconds, count, recordAcks }) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        amount: count,
        overallRate,
        timeout: timeoutS,
        requests: buildRequests(recordAcks),
      },
      (error, result) => (error ? reject(error) : resolve({ result, latencies })),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
}

try {
  const warm = warmupS > 0 ? await run({ seconds: warmupS, recordAcks: false }) : null;
  if (pauseAfterWarmup) {
    const go = new Promise((resolve) => process.on('message', (message) => message?.type === 'go' && resolve()));
    process.send({ type: 'warm', warmupAcked: warm ? warm.result['2xx'] : 0 });
    await go;
  }
  const cpuAtStart = sampleCpu(cpuPids);
  const startedAt = now();
  const { result, latencies } = await run({ seconds: durationS, count: amount, recordAcks: Boolean(acksPath) });
  const endedAt = now();
  const cpuAtEnd = sampleCpu(cpuPids);
  if (acksPath) writeFileSync(acksPath, acks.join('\n'));
  const elapsedS = (endedAt - startedAt) / 1000;
  const completed = result.requests.total;
  process.send({
    type: 'result',
    startedAt,
    endedAt,
    elapsedS: round(elapsedS, 3),
    completed,
    rps: round(completed / elapsedS, 1),
    latencyMs: {
      p50: round(percentile(latencies, 50), 2),
      p99: round(percentile(latencies, 99), 2),
      max: round(percentile(latencies, 100), 2),
      mean: round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length), 2),
    },
    status2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    duplicates,
    acks: acks.length,
    ...(cpuPids ? { cpuAtStart, cpuAtEnd } : {}),
  }, () => process.exit(0));
} catch (error) {
  process.stderr.write(`load generator failed: ${error?.stack ?? error}\n`);
  process.exit(1);
}
