import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.mjs';
import { post } from '../support/post.js';
import { relayConfig, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { startSink, type Sink } from '../support/sink.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

describe('smoke: a signed callback is stored, deduplicated and delivered', () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('answers 202, then 200 duplicate, and delivers once', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const sink: Sink = await startSink();
    cleanups.push(() => sink.close());
    const configPath = writeConfig(dir.path, relayConfig(dir.path, { destinations: [{ name: 'app', url: sink.url }] }));
    const relay: RelayProcess = await startRelay(configPath);
    cleanups.push(() => relay.kill());

    const body = JSON.stringify({ run_id: 'run-smoke', result: { pages: 600 } });
    const first = await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body }));
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ duplicate: false });
    const second = await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body }));
    expect(second.status).toBe(200);
    expect(second.json).toEqual({ id: first.json!.id, duplicate: true });

    await waitFor(() => sink.received.length === 1, { what: 'the delivery' });
    expect(sink.received[0]!.headers['webhook-id']).toBe(first.json!.id);
    expect(sink.received[0]!.body.toString()).toBe(body);

    expect(await relay.stop()).toBe(0);
    const stats = await runCli(['stats', '--json', '--config', configPath]);
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ events: 1, deliveries: { pending: 0, inFlight: 0, delivered: 1, dead: 0 } });
  });
});
