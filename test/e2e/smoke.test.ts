import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { post } from '../support/post.js';
import { relayConfig, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { type Sink } from '../support/sink.js';
import { waitFor } from '../support/wait.js';

describe('smoke: a signed callback is stored, deduplicated and delivered', () => {
  it('answers 202, then 200 duplicate, and delivers once', async ({ cleanup, tempDir, startRelay, startSink, runCli }) => {
    const dir = tempDir();
    const sink: Sink = await startSink();
    const configPath = writeConfig(dir, relayConfig(dir, { destinations: [{ name: 'app', url: sink.url }] }));
    const relay: RelayProcess = await startRelay(configPath);

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
