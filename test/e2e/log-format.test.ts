import { spawn } from 'node:child_process';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { CLI, writeConfig } from '../support/relay.mjs';
import { waitFor } from '../support/wait.js';

/**
 * A source with no destination, so its relay process warns at start (a line from each
 * process); with `failing`, a second source whose destination refuses connections, so the
 * delivery thread logs too.
 */
function configIn(dir: string, failing = false): string {
  return writeConfig(dir, {
    storage: { sqlite: { path: `${dir}/relay.db` } },
    server: { host: '127.0.0.1', port: 0 },
    sources: [
      { name: 'hooks', path: '/hooks', verify: { scheme: 'none' } },
      ...(failing ? [{ name: 'jobs', path: '/jobs', verify: { scheme: 'none' } }] : []),
    ],
    ...(failing
      ? { destinations: [{ name: 'down', url: 'http://127.0.0.1:9/hooks', sources: ['jobs'], retry: { maxAttempts: 3, initialDelayMs: 60_000 } }] }
      : {}),
  });
}

describe('LOG_FORMAT', () => {
  it('pretty: serve prints human lines from the supervisor and the relay process, to the last one', async ({ cleanup, tempDir, startRelay, runCli }) => {
    const dir = tempDir();
    const child = spawn(process.execPath, [CLI, 'serve', '--config', configIn(dir, true)], {
      env: { ...process.env, LOG_FORMAT: 'pretty' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    cleanup.add(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const lines = () => stdout.split('\n').filter(Boolean);

    const listening = await waitFor(() => lines().find((line) => / INFO \(hookrelay\/\d+\): listening /.test(line)) ?? null, {
      timeoutMs: 15_000,
      what: 'the pretty listening line',
    });
    const { relayPid } = JSON.parse(listening.slice(listening.indexOf('{'))) as { relayPid: number };
    expect(listening).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(hookrelay\/\d+\): listening \{"port":\d+,"relayPid":\d+\}$/);
    await waitFor(() => lines().find((line) => line.includes(`WARN (hookrelay/${relayPid}): source hooks has no destination`)) ?? null, {
      timeoutMs: 15_000,
      what: "the relay process's pretty warning",
    });

    // The delivery thread's records reach stdout through the relay's stream, formatted once each.
    const { port } = JSON.parse(listening.slice(listening.indexOf('{'))) as { port: number };
    const answer = await fetch(`http://127.0.0.1:${port}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"run_id":"r1"}' });
    expect(answer.status).toBe(202);
    const failed = await waitFor(() => lines().find((line) => line.includes(`INFO (hookrelay/${relayPid}): attempt failed`)) ?? null, {
      timeoutMs: 15_000,
      what: "the delivery thread's pretty line",
    });
    expect(failed).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(hookrelay\/\d+\): attempt failed \{.*"destination":"down"/);
    expect(stdout).not.toContain('\n\n');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The relay process's last line is written before it exits (flushed through the pretty stream).
    expect(lines().some((line) => line.includes(`INFO (hookrelay/${relayPid}): stopped`))).toBe(true);
    for (const line of lines()) expect(line.startsWith('{'), line).toBe(false);
  });

  it('default: JSON lines, one object each', async ({ tempDir, startRelay }) => {
    const dir = tempDir();
    const relay = await startRelay(configIn(dir), { env: { LOG_FORMAT: '' } });
    expect(relay.lines.length).toBeGreaterThan(0);
    for (const line of relay.lines) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it('an unknown LOG_FORMAT is a config error naming it (exit 2), not a silent JSON fallback', async ({ tempDir, runCli }) => {
    const dir = tempDir();
    const result = await runCli(['serve', '--config', configIn(dir)], { env: { LOG_FORMAT: 'prety' }, timeoutMs: 15_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('LOG_FORMAT: expected one of "json", "pretty", got "prety"');
  });
});
