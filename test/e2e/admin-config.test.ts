import { describe, expect } from 'vitest';
import { it, type Cleanup } from '../support/fixtures.js';
import { relayConfig, writeConfig } from '../support/relay.mjs';
import { tempDir } from '../support/temp.js';

describe('admin.host must be loopback without a token (check-config and serve, real CLI)', () => {
  function configFile(cleanup: Cleanup, admin: Record<string, unknown>): string {
    const dir = tempDir('hookrelay-admin-config-');
    cleanup.add(dir.cleanup);
    return writeConfig(dir.path, relayConfig(dir.path, { admin: { port: 0, ...admin } }));
  }

  it('refuses 0.0.0.0 without a token, or with a token from an empty variable: exit 2 naming admin.host', async ({ runCli, cleanup }) => {
    const cases: { admin: Record<string, unknown>; env: Record<string, string> }[] = [
      { admin: { host: '0.0.0.0' }, env: {} },
      { admin: { host: '0.0.0.0', token: '${EMPTY_ADMIN_TOKEN}' }, env: { EMPTY_ADMIN_TOKEN: '' } },
      { admin: { host: '${ADMIN_HOST:-0.0.0.0}', token: '${UNSET_ADMIN_TOKEN:-}' }, env: {} },
    ];
    for (const { admin, env } of cases) {
      const configPath = configFile(cleanup, admin);
      const checked = await runCli(['check-config', '--config', configPath], { env });
      expect({ admin, code: checked.code }).toEqual({ admin, code: 2 });
      expect(checked.stderr).toMatch(/admin\.host: 0\.0\.0\.0 is not a loopback address/);
      const served = await runCli(['serve', '--config', configPath], { env, timeoutMs: 20_000 });
      expect({ admin, code: served.code }).toEqual({ admin, code: 2 });
      expect(served.stderr).toMatch(/admin\.host: 0\.0\.0\.0 is not a loopback address/);
      expect(served.stdout).not.toContain('"msg":"listening"');
    }
  });

  it('accepts 0.0.0.0 with a token and loopback without one; check-config shows allowedHosts', async ({ startRelay, runCli, cleanup }) => {
    const withToken = configFile(cleanup, { host: '0.0.0.0', token: '${ADMIN_TOKEN}' });
    const checked = await runCli(['check-config', '--json', '--config', withToken], { env: { ADMIN_TOKEN: 'set-from-env' } });
    expect(checked.code, checked.stderr).toBe(0);
    expect(JSON.parse(checked.stdout).admin).toEqual({ host: '0.0.0.0', port: 0, token: true, allowedHosts: [] });

    const loopback = configFile(cleanup, { host: 'localhost', allowedHosts: ['relay-admin.test'] });
    const summary = await runCli(['check-config', '--config', loopback]);
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stdout).toContain('admin allowed hosts: relay-admin.test');
    const relay = await startRelay(loopback);
    expect(relay.adminPort).toEqual(expect.any(Number));
    expect(await relay.stop()).toBe(0);
  });
});
