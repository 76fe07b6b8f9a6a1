import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { post } from '../support/post.js';
import { relayConfig, TEST_SECRET, writeConfig } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { waitFor } from '../support/wait.js';

describe('retention in a running relay', () => {
  it('prunes delivered events older than deliveredMaxAgeMs and keeps dead and pending ones', async ({ tempDir, startRelay, startSink, runCli }) => {
    const dir = tempDir('hookrelay-retention-');
    const good = await startSink(() => 200);
    const bad = await startSink(() => 500);
    const plain = (name: string) => ({ name, path: `/webhooks/${name}`, verify: { scheme: 'none' } });
    const base = relayConfig(dir);
    const configPath = writeConfig(
      dir,
      relayConfig(dir, {
        sources: [...(base.sources as unknown[]), plain('plain'), plain('held')],
        destinations: [
          { name: 'good', url: good.url, sources: ['cerebrium'] },
          { name: 'bad', url: bad.url, sources: ['plain'], retry: { maxAttempts: 1 } },
          // Refused connections, next attempt in an hour: stays pending for the whole test.
          { name: 'later', url: 'http://127.0.0.1:9/hooks', sources: ['held'], retry: { initialDelayMs: '1h' } },
        ],
        retention: { deliveredMaxAgeMs: '1s', intervalMs: 200, batchSize: 2 },
      }),
    );
    const relay = await startRelay(configPath);

    for (let i = 0; i < 5; i++) {
      expect((await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: `kept-briefly-${i}` }) }))).status).toBe(202);
    }
    for (const name of ['plain', 'held']) {
      for (let i = 0; i < 2; i++) {
        expect((await post(`${relay.url}/webhooks/${name}`, { headers: { 'content-type': 'application/json' }, body: Buffer.from(`{"n":"${name}-${i}"}`) })).status).toBe(202);
      }
    }
    await waitFor(() => good.received.length === 5 && bad.received.length === 2, { timeoutMs: 15_000, what: 'first attempts' });

    const stats = async () => JSON.parse((await runCli(['stats', '--json', '--config', configPath])).stdout) as {
      events: number;
      destinations: Record<string, { pending: number; delivered: number; dead: number }>;
    };
    const after = await waitFor(async () => {
      const current = await stats();
      return current.events === 4 ? current : null;
    }, { timeoutMs: 20_000, intervalMs: 300, what: 'the delivered events to be pruned' });
    expect(after.destinations).toEqual({
      good: { pending: 0, inFlight: 0, delivered: 0, dead: 0 },
      bad: { pending: 0, inFlight: 0, delivered: 0, dead: 2 },
      later: { pending: 2, inFlight: 0, delivered: 0, dead: 0 },
    });
    expect(relay.lines.some((line) => line.includes('"msg":"pruned delivered events"'))).toBe(true);
    // The dead letters are still there to replay.
    const dlq = await runCli(['dlq', 'list', '--json', '--config', configPath]);
    expect(dlq.stdout.trim().split('\n')).toHaveLength(2);
    expect(await relay.stop()).toBe(0);
  });
});
