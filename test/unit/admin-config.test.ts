import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfigText, resolveConfig } from '../../src/config/load.js';
import { isHookrelayError } from '../../src/errors.js';

function configWithAdmin(admin: Record<string, unknown>): Record<string, unknown> {
  return {
    storage: { sqlite: { path: '/tmp/hookrelay-admin-config-test.db' } },
    sources: [{ name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'none' } }],
    admin,
  };
}

function errorMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isHookrelayError(error, 'HOOKRELAY_CONFIG_INVALID')) return error.message;
    throw error;
  }
  throw new Error('expected a config error, got a valid config');
}

describe('admin config: no public bind without a token', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LocalHost', '::ffff:127.0.0.1'])('accepts loopback %s without a token', (host) => {
    expect(resolveConfig(configWithAdmin({ host, port: 0 })).admin?.host).toBe(host);
  });

  it.each(['0.0.0.0', '::', '192.168.1.10', 'relay.example.com', '128.0.0.1'])('refuses %s without a token, naming admin.host', (host) => {
    expect(errorMessage(() => resolveConfig(configWithAdmin({ host, port: 0 })))).toMatch(/^admin\.host: .*not a loopback address/);
  });

  it('accepts any host with a token', () => {
    expect(resolveConfig(configWithAdmin({ host: '0.0.0.0', port: 0, token: 't0ken' })).admin).toMatchObject({ host: '0.0.0.0', token: 't0ken' });
  });

  it('an empty ${VAR} token is no token: a public bind is refused', () => {
    const text = stringify(configWithAdmin({ host: '0.0.0.0', port: 0, token: '${ADMIN_TOKEN}' }));
    expect(errorMessage(() => parseConfigText(text, { ADMIN_TOKEN: '' }))).toMatch(/^admin\.host: /);
    expect(parseConfigText(text, { ADMIN_TOKEN: 'set' }).config.admin?.token).toBe('set');
    const defaulted = stringify(configWithAdmin({ host: '${ADMIN_HOST:-0.0.0.0}', port: 0, token: '${ADMIN_TOKEN:-}' }));
    expect(errorMessage(() => parseConfigText(defaulted, {}))).toMatch(/^admin\.host: /);
  });

  it('admin.allowedHosts: host names, default none', () => {
    expect(resolveConfig(configWithAdmin({ port: 0 })).admin?.allowedHosts).toEqual([]);
    expect(resolveConfig(configWithAdmin({ port: 0, allowedHosts: ['relay-admin.internal', 'Ops'] })).admin?.allowedHosts).toEqual(['relay-admin.internal', 'Ops']);
    for (const bad of ['relay.internal:9090', 'http://relay.internal', '', 'a b', '-relay']) {
      expect(errorMessage(() => resolveConfig(configWithAdmin({ port: 0, allowedHosts: [bad] })))).toMatch(/^admin\.allowedHosts\[0\]: expected a host name/);
    }
    expect(errorMessage(() => resolveConfig(configWithAdmin({ port: 0, allowedHosts: 'relay.internal' })))).toMatch(/^admin\.allowedHosts: /);
  });
});
