import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from '../support/cli.mjs';
import { post } from '../support/post.js';
import { CLI, relayConfig, startRelay, TEST_SECRET, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { startSink, type Sink } from '../support/sink.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

/**
 * One serve, two destinations: `app` fails its first attempts (503) and then waits an hour for
 * its next one; `down` always fails with one attempt allowed, so every event leaves a dead letter.
 */
describe('operator additions through the real CLI', () => {
  const dir = tempDir();
  let app: Sink;
  let down: Sink;
  let relay: RelayProcess;
  let configPath: string;
  const BULK = 400;
  const cli = (...args: string[]) => runCli([...args, '--config', configPath]);

  beforeAll(async () => {
    app = await startSink(() => 503);
    down = await startSink(() => 500);
    configPath = writeConfig(
      dir.path,
      relayConfig(dir.path, {
        destinations: [
          { name: 'app', url: app.url, retry: { initialDelayMs: '1h' } },
          { name: 'down', url: down.url, retry: { maxAttempts: 1 }, circuitBreaker: { volumeThreshold: 1_000_000 } },
        ],
      }),
    );
    relay = await startRelay(configPath);
    for (const runId of ['run-abc-1', 'run-abc-2', 'run-xyz-3']) {
      expect((await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: runId, n: 1 }) }))).status).toBe(202);
    }
    await waitFor(() => app.received.length >= 3, { timeoutMs: 20_000, what: 'the first attempt of each app delivery' });
    await waitFor(async () => JSON.parse((await cli('stats', '--json')).stdout).destinations.down.dead === 3, {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: '3 dead letters',
    });
  }, 60_000);

  afterAll(async () => {
    await relay?.kill();
    await app?.close();
    await down?.close();
    dir.cleanup();
  });

  it('--version prints the package version', async () => {
    const version = (JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('events search finds by run id prefix, newest first, with each delivery status', async () => {
    const result = await cli('events', 'search', 'run-abc', '--json');
    expect(result.code, result.stderr).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines.map((line) => line.dedupeKey)).toEqual(['run-abc-2', 'run-abc-1']);
    expect(lines[0]).toEqual({
      id: expect.stringMatching(/^evt_/),
      source: 'cerebrium',
      dedupeKey: 'run-abc-2',
      receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      deliveries: { app: 'pending', down: 'dead' },
    });
    // The event id (and its start) finds the event too.
    const byId = await cli('events', 'search', String(lines[0]!.id).slice(0, 12), '--json');
    expect(jsonLines(byId.stdout).map((line) => line.id)).toContain(lines[0]!.id);
    const none = await cli('events', 'search', 'run-none');
    expect(none).toMatchObject({ code: 0, stdout: 'no event whose id, run id or dedupe key starts with "run-none"\n' });
  });

  it('events show takes a run id: the event, its deliveries and attempts; --body prints the body', async () => {
    const text = await cli('events', 'show', 'run-abc-1');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('dedupe key:   run-abc-1');
    expect(text.stdout).toMatch(/down\s+dead/);
    expect(text.stdout).not.toContain('"run_id"');
    const withBody = await cli('events', 'show', 'run-abc-1', '--body');
    expect(withBody.stdout).toContain('body:\n{"run_id":"run-abc-1","n":1}\n');
    const json = JSON.parse((await cli('events', 'show', 'run-abc-1', '--body', '--json')).stdout);
    expect(json.event).toMatchObject({ source: 'cerebrium', dedupeKey: 'run-abc-1', body: '{"run_id":"run-abc-1","n":1}', bodyEncoding: 'utf8' });
    expect(json.deliveries.map((d: { destination: string }) => d.destination).sort()).toEqual(['app', 'down']);
    expect(json.deliveries.find((d: { destination: string }) => d.destination === 'app').attemptLog[0]).toMatchObject({ number: 1, statusCode: 503 });
    const byId = JSON.parse((await cli('events', 'show', json.event.id, '--json')).stdout);
    expect(byId.event.id).toBe(json.event.id);
    expect(byId.event.body).toBeUndefined();

    const missing = await cli('events', 'show', 'run-nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('hookrelay: no event with id, run id or dedupe key "run-nope"');
  });

  it('deliveries list --event takes a run id', async () => {
    const result = await cli('deliveries', 'list', '--event', 'run-xyz-3', '--json');
    expect(result.code, result.stderr).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines.map((line) => `${line.destination}:${line.status}`).sort()).toEqual(['app:pending', 'down:dead']);
    expect(new Set(lines.map((line) => line.dedupeKey))).toEqual(new Set(['run-xyz-3']));
  });

  it('unknown ids and names exit 1 naming them', async () => {
    const cases: [string[], string][] = [
      [['replay', '--id', 'dlv_nope'], 'dlv_nope'],
      [['dlq', 'list', '--destination', 'nope'], 'unknown destination "nope"'],
      [['dlq', 'list', '--source', 'nope'], 'unknown source "nope"'],
      [['deliveries', 'list', '--destination', 'nope'], 'unknown destination "nope"'],
      [['retry-now', '--destination', 'nope'], 'unknown destination "nope"'],
      [['redeliver', '--event', 'run-nope'], '"run-nope"'],
      [['events', 'show', 'evt_nope'], '"evt_nope"'],
    ];
    for (const [args, named] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain(named);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('dlq list --limit stops after N', async () => {
    const result = await cli('dlq', 'list', '--limit', '2', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(jsonLines(result.stdout)).toHaveLength(2);
    const text = await cli('dlq', 'list', '--limit', '1');
    expect(text.stdout).toContain('1 dead delivery (down: 1), --limit reached.');
    expect((await cli('dlq', 'list', '--limit', '0')).code).toBe(2);
  });

  it('deliveries list prints the cursor of the next page, and --cursor follows it', async () => {
    const filter = ['deliveries', 'list', '--destination', 'down', '--status', 'dead'];
    const first = await cli(...filter, '--limit', '2');
    expect(first.code, first.stderr).toBe(0);
    const cursor = /^more: the same command with --cursor (\S+)$/m.exec(first.stdout)?.[1];
    expect(cursor).toBeDefined();
    const firstIds = jsonLines<{ id: string }>((await cli(...filter, '--limit', '2', '--json')).stdout).map((d) => d.id);
    const rest = await cli(...filter, '--limit', '2', '--cursor', cursor!, '--json');
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stderr).toBe('');
    const restIds = jsonLines<{ id: string }>(rest.stdout).map((d) => d.id);
    expect(restIds).toHaveLength(1);
    expect(firstIds).not.toContain(restIds[0]);
  });

  it('redeliver --event takes a run id', async () => {
    const before = down.received.length;
    const result = await cli('redeliver', '--event', 'run-abc-2', '--destination', 'down', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ eventId: expect.stringMatching(/^evt_/), redelivered: [{ destination: 'down' }] });
    await waitFor(() => down.received.slice(before).some((r) => r.body.toString().includes('run-abc-2')), { timeoutMs: 10_000, what: 'the redelivery' });
  });

  it('retry-now sends waiting deliveries at once after the consumer recovers; budget unchanged', async () => {
    app.behave(() => 200);
    const result = await cli('retry-now', '--destination', 'app', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ matched: 3 });
    await waitFor(async () => JSON.parse((await cli('stats', '--json')).stdout).destinations.app.delivered === 3, {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: 'the three app deliveries delivered',
    });
    const shown = JSON.parse((await cli('events', 'show', 'run-abc-1', '--json')).stdout);
    expect(shown.deliveries.find((d: { destination: string }) => d.destination === 'app')).toMatchObject({ status: 'delivered', attempts: 2 });
    // Nothing waits any more.
    expect(JSON.parse((await cli('retry-now', '--json')).stdout)).toEqual({ matched: 0 });
  });

  it('dlq list --json piped into a reader that goes away exits quietly (EPIPE)', async () => {
    for (let offset = 0; offset < BULK; offset += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body: JSON.stringify({ run_id: `bulk-${offset + i}` }) })),
        ),
      );
    }
    await waitFor(async () => JSON.parse((await cli('stats', '--json')).stdout).destinations.down.dead >= BULK + 3, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: `${BULK + 3} dead letters`,
    });
    const child = spawn(process.execPath, [CLI, 'dlq', 'list', '--json', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Like `| head -2`: read the first chunk, then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((done) => child.on('close', (exitCode) => done(exitCode)));
    clearTimeout(timer);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 120_000);
});
