import { createHmac, createSecretKey } from 'node:crypto';

/**
 * Builds the callbacks the load generators send: a ~`bodyBytes` JSON body shaped like a
 * Cerebrium async-run result with a unique `run_id`, signed with the Cerebrium scheme
 * (`<request id>.<timestamp>.<raw body>`, HMAC-SHA256, hex, `v1,` prefix).
 * Every target receives the same signed requests, so the generator's own cost is equal.
 */
export function createCallbackFactory({ secret, bodyBytes = 1024, prefix = `bench-${process.pid}` }) {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  let counter = 0;
  const skeleton = (runId, filler) =>
    `{"run_id":"${runId}","status":"success","project_id":"p-bench","app_id":"p-bench-app","created_at":"2026-01-01T00:00:00Z","result":{"output":"${filler}"}}`;
  const fillerLength = Math.max(0, bodyBytes - skeleton(`${prefix}-0000000000`, '').length);
  const filler = 'x'.repeat(fillerLength);

  return function nextCallback() {
    counter++;
    const runId = `${prefix}-${String(counter).padStart(10, '0')}`;
    const body = Buffer.from(skeleton(runId, filler));
    const requestId = `req-${runId}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', key).update(`${requestId}.${timestamp}.`).update(body).digest('hex');
    return {
      runId,
      body,
      headers: {
        'content-type': 'application/json',
        'x-request-id': requestId,
        'x-cerebrium-webhook-timestamp': timestamp,
        'x-cerebrium-webhook-signature': `v1,${signature}`,
      },
    };
  };
}

/** The p-th percentile (0-100) of numbers (sorted copy, nearest rank); null when empty. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function round(value, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
