import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect } from 'vitest';
import { it, type Cleanup } from '../support/fixtures.js';
import { post } from '../support/post.js';
import { TEST_SECRET } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { waitFor } from '../support/wait.js';
import { stats, workspace } from '../support/delivery.js';

const RECEIVER = resolve(import.meta.dirname, 'receivers/verifying_receiver.py');

interface Receiver {
  url: string;
  seen: { verified: boolean; requestId: string | null; webhookId: string | null }[];
}

/** The Python receiver (written from the producers' documented algorithms), as a child process. */
async function startReceiver(cleanup: Cleanup, env: Record<string, string>): Promise<Receiver> {
  const child = spawn('python3', [RECEIVER], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.add(() => child.kill('SIGKILL'));
  const seen: Receiver['seen'] = [];
  let port = 0;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = JSON.parse(line) as { port?: number } & Receiver['seen'][number];
    if (parsed.port !== undefined) port = parsed.port;
    else seen.push(parsed);
  });
  await waitFor(() => port > 0, { timeoutMs: 10_000, what: 'the python receiver to listen' });
  return { url: `http://127.0.0.1:${port}/hook`, seen };
}

describe('delivery signing: drop-in for receivers written for the producer', () => {
  it('a Python receiver of Cerebrium\'s algorithm and a GitHub-style one accept deliveries signed with their secret and reject a wrong secret', async ({ cleanup, startRelay }) => {
    const cerebriumOk = await startReceiver(cleanup, { SCHEME: 'cerebrium', SECRET: 'receiver-secret' });
    const cerebriumWrong = await startReceiver(cleanup, { SCHEME: 'cerebrium', SECRET: 'another-secret' });
    const hmacOk = await startReceiver(cleanup, { SCHEME: 'hmac-sha256', SECRET: 'gh-secret', HEADER: 'X-Hub-Signature-256' });
    const hmacWrong = await startReceiver(cleanup, { SCHEME: 'hmac-sha256', SECRET: 'not-gh-secret', HEADER: 'X-Hub-Signature-256' });
    const once = { maxAttempts: 1 };
    const ws = workspace(cleanup, {
      destinations: [
        { name: 'cerebrium-ok', url: cerebriumOk.url, signing: { scheme: 'cerebrium', secret: 'receiver-secret' }, retry: once },
        { name: 'cerebrium-wrong', url: cerebriumWrong.url, signing: { scheme: 'cerebrium', secret: 'receiver-secret' }, retry: once },
        { name: 'hmac-ok', url: hmacOk.url, signing: { scheme: 'hmac-sha256', secret: 'gh-secret', header: 'X-Hub-Signature-256' }, retry: once },
        { name: 'hmac-wrong', url: hmacWrong.url, signing: { scheme: 'hmac-sha256', secret: 'gh-secret', header: 'X-Hub-Signature-256' }, retry: once },
      ],
    });
    const relayProcess = await startRelay(ws.configPath);
    const requestIds: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const requestId = `req-signing-${index}`;
      requestIds.push(requestId);
      const answer = await post(`${relayProcess.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, requestId, body: JSON.stringify({ run_id: `sign-${index}`, status: 'success' }) }));
      expect(answer.status).toBe(202);
    }
    const final = await waitFor(async () => {
      const current = await stats(ws.configPath);
      return current.deliveries.delivered + current.deliveries.dead === 12 ? current : null;
    }, { timeoutMs: 20_000, intervalMs: 300, what: 'every delivery delivered or dead' });
    expect(final.destinations['cerebrium-ok']).toMatchObject({ delivered: 3, dead: 0 });
    expect(final.destinations['hmac-ok']).toMatchObject({ delivered: 3, dead: 0 });
    expect(final.destinations['cerebrium-wrong']).toMatchObject({ delivered: 0, dead: 3 });
    expect(final.destinations['hmac-wrong']).toMatchObject({ delivered: 0, dead: 3 });
    expect(cerebriumOk.seen.map((seen) => seen.verified)).toEqual([true, true, true]);
    expect(hmacOk.seen.map((seen) => seen.verified)).toEqual([true, true, true]);
    expect(cerebriumWrong.seen.map((seen) => seen.verified)).toEqual([false, false, false]);
    expect(hmacWrong.seen.map((seen) => seen.verified)).toEqual([false, false, false]);
    // X-Request-Id is the original callback's, so the receiver's own dedupe by it keeps working.
    expect(cerebriumOk.seen.map((seen) => seen.requestId).sort()).toEqual(requestIds);
    expect(await relayProcess.stop()).toBe(0);
  });
});
