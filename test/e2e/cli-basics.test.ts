import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { runCli } from '../support/cli.mjs';
import { post } from '../support/post.js';
import { relayConfig, TEST_SECRET, writeConfig } from '../support/relay.mjs';
import { cerebriumRequest } from '../support/signed-request.js';
import { waitFor } from '../support/wait.js';


/** stderr has exactly one non-empty line, and no stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describe('check-config', () => {
  it('exit 0 and a summary for a valid config', async ({ runCli, tempDir }) => {
    const path = tempDir();
    const configPath = writeConfig(path, relayConfig(path, { destinations: [{ name: 'app', url: 'http://127.0.0.1:3000/hooks' }] }));
    const result = await runCli(['check-config', '--config', configPath]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`config ${configPath}: ok`);
    expect(result.stdout).toContain('source cerebrium');
    expect(result.stdout).toContain('destination app');
    expect(result.stderr).toBe('');
  });

  it('--json prints one object', async ({ runCli, tempDir }) => {
    const path = tempDir();
    const configPath = writeConfig(path, relayConfig(path));
    const result = await runCli(['check-config', '--json', '--config', configPath]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, path: configPath, sources: [{ name: 'cerebrium', scheme: 'cerebrium', secrets: 1 }] });
  });

  it('exit 2 with one stderr line naming the key path of a bad value', async ({ runCli, tempDir }) => {
    const path = tempDir();
    const config = relayConfig(path, {
      destinations: [
        { name: 'app', url: 'http://127.0.0.1:3000/a' },
        { name: 'audit', url: 'http://127.0.0.1:3000/b', retry: { maxAttempts: 0 } },
      ],
    });
    const result = await runCli(['check-config', '--config', writeConfig(path, config)]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toContain('destinations[1].retry.maxAttempts: expected a positive integer');
    expect(result.stdout).toBe('');
  });

  it('exit 2 naming the missing variable and its key path; the variable set makes it pass', async ({ runCli, tempDir }) => {
    const path = tempDir();
    const configPath = join(path, 'hookrelay.yaml');
    writeFileSync(
      configPath,
      [
        'storage: { sqlite: { path: ./x.db } }',
        'sources:',
        '  - name: cerebrium',
        '    path: /webhooks/cerebrium',
        '    verify: { scheme: cerebrium, secrets: ["${HOOKRELAY_TEST_MISSING_SECRET}"] }',
        '',
      ].join('\n'),
    );
    const missing = await runCli(['check-config', '--config', configPath]);
    expect(missing.code).toBe(2);
    const line = oneLine(missing.stderr);
    expect(line).toContain('HOOKRELAY_TEST_MISSING_SECRET');
    expect(line).toContain('sources[0].verify.secrets[0]');
    const set = await runCli(['check-config', '--config', configPath], { env: { HOOKRELAY_TEST_MISSING_SECRET: 'shh' } });
    expect(set.code).toBe(0);
  });

  it('exit 2 for a missing config file, naming it', async ({ runCli, tempDir }) => {
    const missingPath = join(tempDir(), 'nope.yaml');
    const result = await runCli(['check-config', '--config', missingPath]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toContain(missingPath);
  });

  it('exit 2 for invalid YAML', async ({ runCli, tempDir }) => {
    const path = tempDir();
    const configPath = join(path, 'broken.yaml');
    writeFileSync(configPath, 'sources: [\n');
    const result = await runCli(['check-config', '--config', configPath]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toContain('not valid YAML');
  });

  it('--verbose adds the stack trace', async ({ runCli, tempDir }) => {
    const result = await runCli(['check-config', '--verbose', '--config', join(tempDir(), 'nope.yaml')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\n\s+at /);
  });
});

describe('config file lookup: --config, else $HOOKRELAY_CONFIG, else config/hookrelay.yaml', () => {
  function twoConfigs(cwd: string): { cwd: string; fromFlag: string; fromEnv: string } {
    const fromFlag = writeConfig(cwd, relayConfig(cwd, { destinations: [{ name: 'from-flag', url: 'http://127.0.0.1:1/x' }] }), 'flag.yaml');
    const fromEnv = writeConfig(cwd, relayConfig(cwd, { destinations: [{ name: 'from-env', url: 'http://127.0.0.1:1/x' }] }), 'env.yaml');
    return { cwd, fromFlag, fromEnv };
  }

  it('--config wins over $HOOKRELAY_CONFIG', async ({ runCli, tempDir }) => {
    const { cwd, fromFlag, fromEnv } = twoConfigs(tempDir());
    const result = await runCli(['check-config', '--json', '--config', fromFlag], { env: { HOOKRELAY_CONFIG: fromEnv }, cwd });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ path: fromFlag, destinations: [{ name: 'from-flag' }] });
  });

  it('$HOOKRELAY_CONFIG is used without --config', async ({ runCli, tempDir }) => {
    const { cwd, fromEnv } = twoConfigs(tempDir());
    const result = await runCli(['check-config', '--json'], { env: { HOOKRELAY_CONFIG: fromEnv }, cwd });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ path: fromEnv, destinations: [{ name: 'from-env' }] });
  });

  it('config/hookrelay.yaml in the working directory otherwise; exit 2 when it is missing', async ({ runCli, tempDir }) => {
    const cwd = tempDir();
    const env = { HOOKRELAY_CONFIG: '' };
    const missing = await runCli(['check-config'], { env, cwd });
    expect(missing.code).toBe(2);
    expect(oneLine(missing.stderr)).toContain('config/hookrelay.yaml');
    mkdirSync(join(cwd, 'config'));
    writeConfig(join(cwd, 'config'), relayConfig(cwd), 'hookrelay.yaml');
    const found = await runCli(['check-config', '--json'], { env, cwd });
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout)).toMatchObject({ ok: true, path: 'config/hookrelay.yaml' });
  });
});

describe('usage errors', () => {
  it.each([
    [['frobnicate']],
    [['stats', '--bogus']],
    [['check-config', '--no-such-option']],
    [['serve', '--port']],
  ])('%j exits 2 with one line on stderr', async (args) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    oneLine(result.stderr);
  });

  it('no command at all exits 2 and prints the usage on stderr', async ({ runCli }) => {
    const result = await runCli([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Usage: hookrelay');
  });
});

describe('stats --json', () => {
  it('has the exact shape of the contract, with zeros for every configured destination', async ({ startRelay, runCli, tempDir }) => {
    const path = tempDir();
    const config = relayConfig(path, {
      sources: [
        { name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: [TEST_SECRET] } },
        { name: 'other', path: '/webhooks/other', verify: { scheme: 'none' } },
      ],
      destinations: [
        { name: 'app', url: 'http://127.0.0.1:1/a' },
        { name: 'audit', url: 'http://127.0.0.1:1/b', sources: ['other'] },
      ],
    });
    const configPath = writeConfig(path, config);
    // The CLI never creates the database: serve does.
    const relay = await startRelay(configPath);
    expect(await relay.stop()).toBe(0);
    const result = await runCli(['stats', '--json', '--config', configPath]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    const zeros = { pending: 0, inFlight: 0, delivered: 0, dead: 0 };
    expect(JSON.parse(result.stdout)).toEqual({
      events: 0,
      deliveries: { pending: 0, inFlight: 0, delivered: 0, dead: 0 },
      destinations: { app: zeros, audit: zeros },
    });
  });

  it('counts an event and its pending delivery while serve runs', async ({ startRelay, startSink, runCli, tempDir }) => {
    const path = tempDir();
    const sink = await startSink(() => 503);
    const config = relayConfig(path, {
      sources: [
        { name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: [TEST_SECRET] } },
        { name: 'other', path: '/webhooks/other', verify: { scheme: 'none' } },
      ],
      destinations: [
        { name: 'app', url: sink.url, sources: ['cerebrium'], retry: { initialDelayMs: '1h' } },
        { name: 'audit', url: sink.url, sources: ['other'] },
      ],
    });
    const configPath = writeConfig(path, config);
    const relay = await startRelay(configPath);
    const accepted = await post(`${relay.url}/webhooks/cerebrium`, cerebriumRequest({ secret: TEST_SECRET, body: '{"run_id":"run-stats"}' }));
    expect(accepted.status).toBe(202);
    // the first attempt fails (503) and the next is an hour away: the delivery rests in pending
    await waitFor(() => sink.received.length >= 1, { timeoutMs: 20_000, what: 'the first attempt' });
    const stats = await waitFor(
      async () => {
        const result = await runCli(['stats', '--json', '--config', configPath]);
        const parsed = JSON.parse(result.stdout) as { destinations: { app: { pending: number } } };
        return result.code === 0 && parsed.destinations.app.pending === 1 ? parsed : null;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'stats to show the pending delivery' },
    );
    expect(stats).toEqual({
      events: 1,
      deliveries: { pending: 1, inFlight: 0, delivered: 0, dead: 0 },
      destinations: { app: { pending: 1, inFlight: 0, delivered: 0, dead: 0 }, audit: { pending: 0, inFlight: 0, delivered: 0, dead: 0 } },
    });
    expect(await relay.stop()).toBe(0);
  });
});

describe('serve', () => {
  it('logs one JSON "listening" line with the port it serves on', async ({ startRelay, tempDir }) => {
    const path = tempDir();
    const relay = await startRelay(writeConfig(path, relayConfig(path)));
    const listening = relay.lines.filter((line) => line.includes('"msg":"listening"'));
    expect(listening).toHaveLength(1);
    const parsed = JSON.parse(listening[0]!) as { msg: string; port: number };
    expect(parsed.msg).toBe('listening');
    expect(parsed.port).toBeGreaterThan(0);
    const health = await request(`http://127.0.0.1:${parsed.port}/healthz`);
    await health.body.text();
    expect(health.statusCode).toBe(200);
    for (const line of relay.lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('writes the listening line even when the log level hides info', async ({ startRelay, tempDir }) => {
    const path = tempDir();
    const relay = await startRelay(writeConfig(path, relayConfig(path, { log: { level: 'warn' } })));
    expect(relay.lines.filter((line) => line.includes('"msg":"listening"'))).toHaveLength(1);
    expect(relay.lines.some((line) => line.includes('"level":30') && !line.includes('"msg":"listening"'))).toBe(false);
  });

  it.for(['SIGTERM', 'SIGINT'] as const)('%s: exits 0 and refuses new connections', async (signal, { tempDir, startRelay }) => {
    const path = tempDir();
    const relay = await startRelay(writeConfig(path, relayConfig(path)));
    relay.child.kill(signal);
    expect(await relay.exited).toBe(0);
    await expect(request(`${relay.url}/healthz`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(relay.lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
  });

  it('a bad config exits 2 with one line before listening', async ({ runCli, tempDir }) => {
    const path = tempDir();
    const configPath = writeConfig(path, relayConfig(path, { server: { port: 'http' } }));
    const result = await runCli(['serve', '--config', configPath]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toContain('server.port');
  });
});
