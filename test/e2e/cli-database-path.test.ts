import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { TEST_SECRET } from '../support/relay.mjs';

/** A config whose database path is relative (`./data/hookrelay.db`) and whose secret comes from ${TEST_OPERATOR_SECRET}. */
function workspace(dir: string): { dir: string; configPath: string } {
  const configPath = join(dir, 'hookrelay.yaml');
  writeFileSync(
    configPath,
    [
      'server: { host: 127.0.0.1, port: 0 }',
      'storage: { sqlite: { path: ./data/hookrelay.db } }',
      'sources:',
      '  - name: cerebrium',
      '    path: /webhooks/cerebrium',
      '    verify: { scheme: cerebrium, secrets: ["${TEST_OPERATOR_SECRET}"] }',
      'destinations:',
      '  - name: app',
      '    url: http://127.0.0.1:9/hooks',
      '    headers: { Authorization: "Bearer ${TEST_OPERATOR_TOKEN}" }',
      '',
    ].join('\n'),
  );
  return { dir, configPath };
}

const READ_ONLY = [['stats'], ['stats', '--json'], ['dlq', 'list'], ['deliveries', 'list'], ['runs', 'list']];

describe('read-only commands and the database path', () => {
  it('from another folder exit 1 with the absolute path they looked for, and create nothing', async ({ runCli, tempDir }) => {
    const { dir, configPath } = workspace(tempDir());
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    const env = { TEST_OPERATOR_SECRET: TEST_SECRET, TEST_OPERATOR_TOKEN: 't' };
    for (const args of READ_ONLY) {
      const result = await runCli([...args, '--config', configPath], { cwd: elsewhere, env });
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr.trim(), args.join(' ')).toBe(`hookrelay: no database at ${join(elsewhere, 'data', 'hookrelay.db')}`);
      expect(result.stdout).toBe('');
    }
    expect(existsSync(join(elsewhere, 'data'))).toBe(false);
  });

  it('need no source secret or header variable, while check-config still does', async ({ startRelay, runCli, tempDir }) => {
    const { dir, configPath } = workspace(tempDir());
    const relay = await startRelay(configPath, { cwd: dir, env: { TEST_OPERATOR_SECRET: TEST_SECRET, TEST_OPERATOR_TOKEN: 't' } });
    await relay.stop();
    const empty = { TEST_OPERATOR_SECRET: '', TEST_OPERATOR_TOKEN: '' };
    for (const env of [{}, empty]) {
      for (const args of READ_ONLY) {
        const result = await runCli([...args, '--config', configPath], { cwd: dir, env });
        expect(result.stderr, args.join(' ')).toBe('');
        expect(result.code, args.join(' ')).toBe(0);
      }
    }
    const stats = await runCli(['stats', '--json', '--config', configPath], { cwd: dir });
    expect(JSON.parse(stats.stdout)).toEqual({
      events: 0,
      deliveries: { pending: 0, inFlight: 0, delivered: 0, dead: 0 },
      destinations: { app: { pending: 0, inFlight: 0, delivered: 0, dead: 0 } },
    });
    const check = await runCli(['check-config', '--config', configPath], { cwd: dir });
    expect(check.code).toBe(2);
    expect(check.stderr).toContain('TEST_OPERATOR_SECRET is not set');
  });

  it('check-config prints the absolute database path', async ({ runCli, tempDir }) => {
    const { dir, configPath } = workspace(tempDir());
    const env = { TEST_OPERATOR_SECRET: TEST_SECRET, TEST_OPERATOR_TOKEN: 't' };
    const text = await runCli(['check-config', '--config', configPath], { cwd: dir, env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`storage: sqlite ${join(dir, 'data', 'hookrelay.db')}`);
    const json = await runCli(['check-config', '--json', '--config', configPath], { cwd: dir, env });
    expect(JSON.parse(json.stdout).storage).toEqual({ sqlite: './data/hookrelay.db', database: join(dir, 'data', 'hookrelay.db') });
  });
});

describe('start-up warnings', () => {
  it('an empty header variable and a source with no destination are warned by check-config and serve', async ({ tempDir, startRelay, runCli }) => {
    const created = tempDir();
    const configPath = join(created, 'hookrelay.yaml');
    writeFileSync(
      configPath,
      [
        'server: { host: 127.0.0.1, port: 0 }',
        `storage: { sqlite: { path: ${join(created, 'hookrelay.db')} } }`,
        'sources:',
        '  - { name: cerebrium, path: /webhooks/cerebrium, verify: { scheme: cerebrium, secrets: [s] } }',
        '  - { name: github, path: /webhooks/github, verify: { scheme: hmac-sha256, secrets: [g] } }',
        'destinations:',
        '  - name: app',
        '    url: http://127.0.0.1:9/hooks',
        '    sources: [cerebrium]',
        '    headers: { Authorization: "Bearer ${TEST_OPERATOR_TOKEN:-}" }',
        '',
      ].join('\n'),
    );
    const headerWarning = 'destinations[0].headers.Authorization: ${TEST_OPERATOR_TOKEN} is empty, so every delivery sends Authorization: "Bearer "; set TEST_OPERATOR_TOKEN';
    const sourceWarning = 'source github has no destination: its callbacks are stored and answered 2xx, then delivered nowhere';
    const check = await runCli(['check-config', '--config', configPath]);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`warning: ${headerWarning}`);
    expect(check.stdout).toContain(`warning: ${sourceWarning}`);
    const relay = await startRelay(configPath);
    const warned = relay.lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level === 40).map((line) => line.msg);
    expect(warned).toEqual(expect.arrayContaining([headerWarning, sourceWarning]));
    await relay.stop();
    // Set, the header warning goes.
    const set = await runCli(['check-config', '--config', configPath], { env: { TEST_OPERATOR_TOKEN: 'tok' } });
    expect(set.stdout).not.toContain('TEST_OPERATOR_TOKEN');
  });
});
