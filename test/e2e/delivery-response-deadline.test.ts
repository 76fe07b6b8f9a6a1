import { afterEach, describe, expect, it } from 'vitest';
import { startSink } from '../support/sink.js';
import { waitFor } from '../support/wait.js';
import { attemptLog, cleanups, postEvents, relay, stats, workspace } from '../support/delivery.js';

describe('delivery: the attempt deadline covers the response body; URL credentials', () => {
  const registry = cleanups();
  afterEach(() => registry.run());

  it('a 200 whose body never finishes is a failed TIMEOUT attempt and is retried; URL credentials go as Basic auth and never into the log', async () => {
    const sink = await startSink((_request, response, index) => {
      if (index > 0) return 200;
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('accepted, but the body never ends');
      return 'handled';
    });
    registry.add(() => sink.close());
    const password = 'pw-e2e-7f3a9c';
    const url = sink.url.replace('http://', `http://relay:${password}@`);
    const ws = workspace(registry, {
      destinations: [
        {
          name: 'app',
          url,
          timeoutMs: 800,
          retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 200 },
          circuitBreaker: { volumeThreshold: 100 },
        },
      ],
    });
    const relayProcess = await relay(registry, ws);

    const [event] = await postEvents(relayProcess.url, 1);
    await waitFor(async () => (await stats(ws.configPath)).deliveries.delivered === 1, { timeoutMs: 15_000, what: 'delivered on the retry' });

    expect(attemptLog(ws.dbPath).map((row) => [row.number, row.status_code, row.error_code, row.outcome])).toEqual([
      [1, null, 'TIMEOUT', 'failed'],
      [2, 200, null, 'delivered'],
    ]);
    expect(sink.received.map((request) => request.headers['webhook-id'])).toEqual([event!.id, event!.id]);
    const expected = `Basic ${Buffer.from(`relay:${password}`).toString('base64')}`;
    for (const request of sink.received) expect(request.headers.authorization).toBe(expected);
    await relayProcess.stop();
    expect(relayProcess.lines.join('\n') + relayProcess.stderr()).not.toContain(password);
    expect(relayProcess.lines.join('\n')).toContain('attempt failed');
  });
});
