import { brotliCompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post } from '../support/post.js';
import { relayConfig, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { startSink, type Sink } from '../support/sink.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

/**
 * A compressed callback is stored and delivered as received, with its Content-Encoding, so the
 * consumer can decode it; the signature is over the received (compressed) bytes; `body:` dedupe
 * keys are read from the decoded body.
 */
const PATH = '/webhooks/cerebrium';
const MAX_BODY_BYTES = 64 * 1024;

describe('Content-Encoding of a callback', () => {
  let dir: ReturnType<typeof tempDir>;
  let relay: RelayProcess;
  let sink: Sink;

  beforeAll(async () => {
    dir = tempDir('hookrelay-encoding-');
    sink = await startSink();
    const config = relayConfig(dir.path, {
      server: { host: '127.0.0.1', port: 0, maxBodyBytes: MAX_BODY_BYTES },
      destinations: [{ name: 'app', url: sink.url, retry: { initialDelayMs: 50 } }],
    });
    relay = await startRelay(writeConfig(dir.path, config));
  });

  afterAll(async () => {
    await relay?.stop();
    await sink?.close();
    dir?.cleanup();
  });

  const send = (body: Buffer, contentEncoding: string, requestId?: string) =>
    post(`${relay.url}${PATH}`, cerebriumRequest({ secret: TEST_SECRET, body, ...(requestId ? { requestId } : {}) }), { 'content-encoding': contentEncoding });
  const deliveredBody = async (eventId: string) =>
    waitFor(() => sink.received.find((delivery) => delivery.headers['webhook-id'] === eventId), { timeoutMs: 15_000, what: `delivery of ${eventId}` });

  it('a gzip callback reaches the sink byte-identical with Content-Encoding: gzip, and dedupes by body:run_id', async () => {
    const json = Buffer.from(JSON.stringify({ run_id: 'run-gzip-1', result: 'x'.repeat(2_000) }));
    const gzipped = gzipSync(json, { level: 9 });
    const first = await send(gzipped, 'gzip');
    expect(first.status).toBe(202);
    const delivered = await deliveredBody(first.json!.id as string);
    expect(delivered.headers['content-encoding']).toBe('gzip');
    expect(Buffer.compare(delivered.body, gzipped)).toBe(0);
    expect(gunzipSync(delivered.body).toString()).toBe(json.toString());

    // Same run, compressed differently (other bytes, other sha256) and by another request id: a duplicate by run_id.
    const again = await send(gzipSync(json, { level: 1 }), 'gzip', 'another-request-id');
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ id: first.json!.id, duplicate: true });
  });

  it('br works the same way; a callback without Content-Encoding is delivered without one', async () => {
    const json = Buffer.from(JSON.stringify({ run_id: 'run-br-1' }));
    const br = await send(brotliCompressSync(json), 'br');
    expect(br.status).toBe(202);
    expect((await deliveredBody(br.json!.id as string)).headers['content-encoding']).toBe('br');
    expect((await post(`${relay.url}${PATH}`, cerebriumRequest({ secret: TEST_SECRET, body: json }))).json).toEqual({ id: br.json!.id, duplicate: true });

    const plain = await post(`${relay.url}${PATH}`, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: 'run-plain-1' }) }));
    expect(plain.status).toBe(202);
    expect((await deliveredBody(plain.json!.id as string)).headers['content-encoding']).toBeUndefined();
  });

  it('a body that does not decode (or expands beyond maxBodyBytes) falls back to the next dedupe rule and is logged at warn', async () => {
    const corrupt = await send(Buffer.from('{"run_id":"not really gzip"}'), 'gzip', 'req-corrupt');
    expect(corrupt.status).toBe(202);
    const bomb = await send(gzipSync(Buffer.alloc(MAX_BODY_BYTES * 64, 0x20)), 'gzip', 'req-bomb');
    expect(bomb.status).toBe(202);
    // Both fell back to header:x-request-id: sending either again with its request id is a duplicate.
    expect((await send(Buffer.from('other bytes'), 'gzip', 'req-corrupt')).json).toEqual({ id: corrupt.json!.id, duplicate: true });
    const warnings = await waitFor(
      () => {
        const found = relay.lines.filter((line) => line.includes('cannot decode the body for its body: rules'));
        return found.length >= 3 ? found : null;
      },
      { what: 'the warn lines' },
    );
    expect(warnings.every((line) => (JSON.parse(line) as { level: number }).level === 40)).toBe(true);
    await deliveredBody(bomb.json!.id as string);
  });
});
