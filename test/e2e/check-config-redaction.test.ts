import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.mjs';
import { relayConfig, writeConfig } from '../support/relay.mjs';
import { tempDir } from '../support/temp.js';

/** check-config shows which endpoints are configured without printing the credentials in their URLs. */
describe('check-config redacts URL credentials', () => {
  const dir = tempDir('hookrelay-check-redact-');
  afterAll(() => dir.cleanup());
  const secrets = { password: 'dest-pass-4f1a', token: 'query-token-9b2c', pgPassword: 'pg-pass-7d3e', pgQuery: 'pg-query-secret-1c' };

  it('destination URL passwords and query values, and postgres.url, are shown redacted (text and --json)', async () => {
    const config = relayConfig(dir.path, {
      storage: { postgres: { url: `postgres://relay:${secrets.pgPassword}@db.internal:5432/hookrelay?password=${secrets.pgQuery}` } },
      destinations: [
        { name: 'app', url: `https://ops:${secrets.password}@app.example.com/hooks?token=${secrets.token}` },
        { name: 'plain', url: 'http://127.0.0.1:3000/hooks' },
      ],
    });
    const path = writeConfig(dir.path, config);
    const text = await runCli(['check-config', '--config', path]);
    const json = await runCli(['check-config', '--json', '--config', path]);
    expect([text.code, json.code], text.stderr + json.stderr).toEqual([0, 0]);
    for (const output of [text.stdout, json.stdout]) {
      for (const secret of Object.values(secrets)) expect(output).not.toContain(secret);
    }
    expect(text.stdout).toContain('destination app: https://ops:***@app.example.com/hooks?token=*** <-');
    expect(text.stdout).toContain('destination plain: http://127.0.0.1:3000/hooks <-');
    expect(text.stdout).toContain('storage: postgres postgres://relay:***@db.internal:5432/hookrelay?password=*** (schema hookrelay)');
    const summary = JSON.parse(json.stdout) as { storage: unknown; destinations: { url: string }[] };
    expect(summary.storage).toEqual({ postgres: { url: 'postgres://relay:***@db.internal:5432/hookrelay?password=***', schema: 'hookrelay' } });
    expect(summary.destinations.map((destination) => destination.url)).toEqual(['https://ops:***@app.example.com/hooks?token=***', 'http://127.0.0.1:3000/hooks']);
  });

  it('a malformed postgres.url exits 2 naming the key, without echoing the URL (it holds a password)', async () => {
    const path = writeConfig(dir.path, relayConfig(dir.path, { storage: { postgres: { url: `postgres://relay:${secrets.pgPassword}@db internal/hookrelay` } } }), 'bad-url.yaml');
    for (const args of [['check-config'], ['stats', '--json']]) {
      const result = await runCli([...args, '--config', path]);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('storage.postgres.url: expected a URL like postgres://user:pass@host:5432/db');
      expect(result.stderr).not.toContain('Invalid URL');
      expect(result.stderr + result.stdout).not.toContain(secrets.pgPassword);
    }
  });
});
