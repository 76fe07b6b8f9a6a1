import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { Webhook } from 'standardwebhooks';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { post } from '../support/post.js';
import { relayConfig, TEST_SECRET, writeConfig } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { waitFor } from '../support/wait.js';

const CONSUMER = resolve(import.meta.dirname, '../../examples/consumer/server.mjs');
const SIGNING_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface ConsumerLine {
  msg: string;
  webhookId?: string | null;
  port?: number;
  runId?: string | null;
  reason?: string;
}

describe('examples/consumer against the real relay', () => {
  it('verifies webhook-signature, processes a callback once, acknowledges a redelivery without processing it, refuses a bad signature', async ({ cleanup, tempDir, startRelay, runCli }) => {
    const dir = tempDir();
    const database = join(dir, 'consumer.db');
    const consumer = spawn(process.execPath, [CONSUMER], {
      env: { ...process.env, WEBHOOK_SECRET: SIGNING_SECRET, PORT: '0', CONSUMER_DB: database },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const consumerExited = new Promise<number | string>((done) => consumer.on('exit', (code, signal) => done(code ?? signal ?? 'unknown')));
    cleanup.add(() => {
      if (consumer.exitCode === null && consumer.signalCode === null) consumer.kill('SIGKILL');
      return consumerExited;
    });
    const lines: ConsumerLine[] = [];
    createInterface({ input: consumer.stdout! }).on('line', (line) => lines.push(JSON.parse(line) as ConsumerLine));
    const { port } = await waitFor(() => lines.find((line) => line.msg === 'listening'), { timeoutMs: 10_000, what: 'the consumer to listen' });
    const consumerUrl = `http://127.0.0.1:${port}/hooks`;

    const configPath = writeConfig(dir, relayConfig(dir, {
      destinations: [{ name: 'app', url: consumerUrl, signingSecret: SIGNING_SECRET, retry: { maxAttempts: 3, initialDelayMs: 100 } }],
    }));
    const relay = await startRelay(configPath);
    const cli = (...args: string[]) => runCli([...args, '--config', configPath]);

    const body = JSON.stringify({ run_id: 'run-consumer-1', status: 'succeeded', result: { answer: 42 } });
    expect((await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body }))).status).toBe(202);
    const processed = await waitFor(() => lines.find((line) => line.msg === 'processed'), { timeoutMs: 15_000, what: 'the callback to be processed' });
    expect(processed).toMatchObject({ webhookId: expect.stringMatching(/^evt_/), runId: 'run-consumer-1' });
    const eventId = processed.webhookId!;

    // The operator sends it again: same webhook-id, freshly signed. Acknowledged (the delivery
    // ends delivered, not retried), not processed a second time.
    const redelivered = await cli('redeliver', '--event', 'run-consumer-1', '--json');
    expect(redelivered.code).toBe(0);
    await waitFor(() => lines.find((line) => line.msg === 'duplicate' && line.webhookId === eventId), { timeoutMs: 15_000, what: 'the redelivery to arrive' });
    await waitFor(async () => {
      const shown = JSON.parse((await cli('events', 'show', eventId, '--json')).stdout) as { deliveries: { status: string; attempts: number }[] };
      return shown.deliveries[0]!.status === 'delivered' && shown.deliveries[0]!.attempts === 2;
    }, { timeoutMs: 15_000, what: 'the redelivery to be recorded as delivered' });
    expect(lines.filter((line) => line.msg === 'processed')).toHaveLength(1);

    // Signed with another secret: refused, not processed.
    const forgedBody = JSON.stringify({ run_id: 'run-forged' });
    const wrong = new Webhook('whsec_c2VjcmV0LW9mLWFub3RoZXItZGVzdGluYXRpb24=');
    const now = new Date();
    const forged = await fetch(consumerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'evt_forged', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': wrong.sign('evt_forged', now, forgedBody) },
      body: forgedBody,
    });
    expect(forged.status).toBe(401);
    expect(await waitFor(() => lines.find((line) => line.msg === 'rejected'), { timeoutMs: 5_000, what: 'the rejection line' })).toMatchObject({ webhookId: 'evt_forged' });

    // What the consumer committed: one result, for the relay's event only.
    consumer.kill('SIGTERM');
    expect(await consumerExited).toBe(0);
    const db = new Database(database, { readonly: true });
    try {
      expect(db.prepare('SELECT webhook_id, run_id FROM results').all()).toEqual([{ webhook_id: eventId, run_id: 'run-consumer-1' }]);
    } finally {
      db.close();
    }
  });
});
