import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';
import { attemptsThroughCli, postEvents, stats, workspace } from '../support/delivery.js';

describe('delivery: the attempt deadline covers the response body; URL credentials', () => {
  it('a 200 whose body never finishes is a failed TIMEOUT attempt and is retried; URL credentials go as Basic auth and never into the log', async ({ cleanup, startRelay, startSink }) => {
    const sink = await startSink((_request, response, index) => {
      if (index > 0) return 200;
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('accepted, but the body never ends');
      return 'handled';
    });
    const password = 'pw-e2e-7f3a9c';
    const url = sink.url.replace('http://', `http://relay:${password}@`);
    const ws = workspace(cleanup, {
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
    const relayProcess = await startRelay(ws.configPath);

    const [event] = await postEvents(relayProcess.url, 1);
    await waitFor(async () => (await stats(ws.configPath)).deliveries.delivered === 1, { timeoutMs: 15_000, what: 'delivered on the retry' });

    expect((await attemptsThroughCli(ws.configPath)).map((row) => [row.number, row.status_code, row.error_code, row.outcome])).toEqual([
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
