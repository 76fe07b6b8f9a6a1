import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { post } from '../support/post.js';
import { relayConfig, writeConfig } from '../support/relay.mjs';
import { cerebriumRequest, standardWebhooksRequest } from '../support/signed-request.js';
import { waitFor } from '../support/wait.js';
import { closedPort } from '../support/fault-sinks.js';
import { reportFigures } from '../support/figures.js';

/**
 * No secret, signature or Authorization value ever reaches the relay's logs (at trace level)
 * or the CLI's output, through accepted and rejected callbacks, failing and succeeding signed
 * deliveries with configured Authorization headers, admin requests with right and wrong
 * tokens, and the operator commands. The admin listener rejects missing and wrong tokens and
 * binds 127.0.0.1 unless configured otherwise.
 */
const distinct = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

/** Listening sockets from /proc/net/tcp (Linux): "<hex ip>:<port>" of every socket in LISTEN state. */
function listeningAddresses(): string[] {
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === '0A')
    .map((fields) => {
      const [ip, port] = fields[1]!.split(':');
      return `${ip}:${parseInt(port!, 16)}`;
    });
}

describe('secrets never reach logs or CLI output; the admin listener is guarded and local', () => {
  it('greps every captured byte for secrets, signatures and tokens after a busy run', { timeout: 120_000 }, async ({ tempDir, startRelay, startSink, runCli }) => {
    const dir = tempDir('hookrelay-secrets-');
    const secrets = {
      CEREBRIUM_WEBHOOK_SECRET: distinct('cerebrium-secret'),
      PARTNER_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
      APP_TOKEN: distinct('app-bearer'),
      DOWN_TOKEN: distinct('down-bearer'),
      SIGNING_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
      HOOKRELAY_ADMIN_TOKEN: distinct('admin-token'),
    };
    const env = { ...secrets };
    let calls = 0;
    const sink = await startSink(() => (++calls % 2 === 1 ? 500 : 200));
    const config = relayConfig(dir, {
      admin: { port: 0, token: '${HOOKRELAY_ADMIN_TOKEN}' },
      sources: [
        { name: 'cerebrium', path: '/webhooks/cerebrium', verify: { scheme: 'cerebrium', secrets: ['${CEREBRIUM_WEBHOOK_SECRET}'] } },
        { name: 'partner', path: '/webhooks/partner', verify: { scheme: 'standard-webhooks', secrets: ['${PARTNER_WEBHOOK_SECRET}'] } },
      ],
      destinations: [
        {
          name: 'app', url: sink.url, headers: { Authorization: 'Bearer ${APP_TOKEN}' }, signingSecret: '${SIGNING_SECRET}',
          retry: { maxAttempts: 5, initialDelayMs: 50 }, circuitBreaker: { resetTimeoutMs: 200 },
        },
        {
          name: 'down', url: `http://127.0.0.1:${await closedPort()}/hooks`, headers: { Authorization: 'Bearer ${DOWN_TOKEN}', 'X-Api-Key': '${DOWN_TOKEN}' },
          signingSecret: '${SIGNING_SECRET}', retry: { maxAttempts: 2, initialDelayMs: 50 }, circuitBreaker: { resetTimeoutMs: 200 },
        },
      ],
      log: { level: 'trace' },
    });
    const configPath = writeConfig(dir, config);
    const relay = await startRelay(configPath, { env });
    expect(relay.adminPort).not.toBeNull();
    const admin = `http://127.0.0.1:${relay.adminPort}`;

    // Admin listener: 127.0.0.1 only by default.
    const listening = listeningAddresses();
    expect(listening).toContain(`0100007F:${relay.adminPort}`);
    expect(listening.filter((address) => address.endsWith(`:${relay.adminPort}`))).toEqual([`0100007F:${relay.adminPort}`]);

    const sentSignatures: string[] = [];
    const remember = (headers: Record<string, string>) => {
      for (const name of ['x-cerebrium-webhook-signature', 'webhook-signature']) {
        if (headers[name]) sentSignatures.push(headers[name]!.replace(/^v1,/, ''));
      }
      return headers;
    };
    // Accepted callbacks on both sources, duplicates, and rejected ones (wrong secret, tampered, stale).
    for (let index = 0; index < 3; index++) {
      const signed = cerebriumRequest({ secret: secrets.CEREBRIUM_WEBHOOK_SECRET, body: JSON.stringify({ run_id: `secret-run-${index}` }) });
      remember(signed.headers);
      expect((await post(`${relay.url}/webhooks/cerebrium`, signed)).status).toBe(202);
      expect((await post(`${relay.url}/webhooks/cerebrium`, signed)).status).toBe(200);
    }
    const partner = standardWebhooksRequest({ secret: secrets.PARTNER_WEBHOOK_SECRET, body: '{"event":"x"}' });
    remember(partner.headers);
    expect((await post(`${relay.url}/webhooks/partner`, partner)).status).toBe(202);
    const wrongSecret = cerebriumRequest({ secret: `${secrets.CEREBRIUM_WEBHOOK_SECRET}x`, body: '{"run_id":"nope"}' });
    remember(wrongSecret.headers);
    expect((await post(`${relay.url}/webhooks/cerebrium`, wrongSecret)).status).toBe(401);
    const stale = cerebriumRequest({ secret: secrets.CEREBRIUM_WEBHOOK_SECRET, body: '{"run_id":"stale"}', timestamp: 1_000_000 });
    remember(stale.headers);
    expect((await post(`${relay.url}/webhooks/cerebrium`, stale)).status).toBe(401);
    const tampered = cerebriumRequest({ secret: secrets.CEREBRIUM_WEBHOOK_SECRET, body: '{"run_id":"t"}' });
    remember(tampered.headers);
    expect((await post(`${relay.url}/webhooks/cerebrium`, { ...tampered, body: Buffer.from('{"run_id":"T"}') })).status).toBe(401);
    // A caller that sends an Authorization header to ingress: it must not be logged either.
    const withAuth = cerebriumRequest({ secret: secrets.CEREBRIUM_WEBHOOK_SECRET, body: '{"run_id":"auth"}' });
    remember(withAuth.headers);
    expect((await post(`${relay.url}/webhooks/cerebrium`, withAuth, { authorization: `Bearer ${secrets.APP_TOKEN}` })).status).toBe(202);

    // Deliveries: the app sink fails every other attempt (retries are logged), 'down' dies.
    await waitFor(async () => {
      const stats = await request(`${admin}/admin/api/stats`, { headers: { authorization: `Bearer ${secrets.HOOKRELAY_ADMIN_TOKEN}` } });
      const body = (await stats.body.json()) as { destinations?: Record<string, { dead: number; pending: number }> };
      return stats.statusCode === 200 && body.destinations?.down?.dead === 5 && body.destinations?.app?.pending === 0;
    }, { timeoutMs: 30_000, intervalMs: 200, what: 'down deliveries dead and app deliveries done' });
    for (const delivery of sink.received) {
      expect(delivery.headers.authorization).toBe(`Bearer ${secrets.APP_TOKEN}`);
      sentSignatures.push(String(delivery.headers['webhook-signature']).replace(/^v1,/, ''));
    }

    // Admin: missing and wrong tokens are rejected, the right one works; /metrics needs none.
    const adminStatus = async (path: string, headers: Record<string, string> = {}, method: 'GET' | 'POST' = 'GET', body?: string) => {
      const response = await request(`${admin}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body });
      await response.body.dump();
      return response.statusCode;
    };
    const guarded = ['/admin/api/stats', '/admin/api/events', '/admin/api/deliveries', '/admin/api/dead-letters'];
    for (const path of guarded) {
      expect({ path, status: await adminStatus(path) }).toEqual({ path, status: 401 });
      expect({ path, status: await adminStatus(path, { authorization: `Bearer ${secrets.HOOKRELAY_ADMIN_TOKEN}x` }) }).toEqual({ path, status: 401 });
      expect({ path, status: await adminStatus(path, { authorization: secrets.HOOKRELAY_ADMIN_TOKEN }) }).toEqual({ path, status: 401 });
      expect({ path, status: await adminStatus(path, { authorization: `Bearer ${secrets.APP_TOKEN}` }) }).toEqual({ path, status: 401 });
      expect({ path, status: await adminStatus(path, { authorization: `Bearer ${secrets.HOOKRELAY_ADMIN_TOKEN}` }) }).toEqual({ path, status: 200 });
    }
    expect(await adminStatus('/admin/api/replay', {}, 'POST', '{"all":true}')).toBe(401);
    expect(await adminStatus('/admin/api/replay', { authorization: 'Bearer wrong' }, 'POST', '{"all":true}')).toBe(401);
    expect(await adminStatus('/admin/api/redeliver', {}, 'POST', '{"eventId":"x"}')).toBe(401);
    expect(await adminStatus('/metrics')).toBe(200);
    const metrics = await (await request(`${admin}/metrics`)).body.text();
    // The dashboard's token form: a wrong token is refused, the right one signs in; neither is echoed.
    const login = async (token: string) => {
      const response = await request(`${admin}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: admin },
        body: JSON.stringify({ token }),
      });
      return { status: response.statusCode, text: await response.body.text(), cookie: String(response.headers['set-cookie'] ?? '') };
    };
    const wrongLogin = await login('not-the-token');
    const rightLogin = await login(secrets.HOOKRELAY_ADMIN_TOKEN);
    expect(wrongLogin.cookie).toBe('');
    expect(rightLogin.cookie).toMatch(/HttpOnly/i);

    // Operator commands on the same database (while serve runs), including ones that fail.
    const cli = [
      await runCli(['check-config', '--config', configPath], { env }),
      await runCli(['check-config', '--json', '--config', configPath], { env }),
      await runCli(['stats', '--json', '--config', configPath], { env }),
      await runCli(['dlq', 'list', '--json', '--config', configPath], { env }),
      await runCli(['replay', '--destination', 'down', '--dry-run', '--json', '--config', configPath], { env }),
      await runCli(['check-config', '--verbose', '--config', configPath], { env: { ...env, CEREBRIUM_WEBHOOK_SECRET: '' } }),
      await runCli(['redeliver', '--event', 'evt_missing', '--verbose', '--config', configPath], { env }),
    ];
    expect(cli.slice(0, 5).map((result) => result.code)).toEqual([0, 0, 0, 0, 0]);
    expect(await relay.stop()).toBe(0);

    const captured = [
      ...relay.lines,
      relay.stderr(),
      ...cli.flatMap((result) => [result.stdout, result.stderr]),
      metrics,
      wrongLogin.text,
      rightLogin.text,
    ].join('\n');
    const needles = [
      ...Object.entries(secrets).map(([name, value]) => ({ name, value })),
      ...Object.entries(secrets).filter(([, value]) => value.startsWith('whsec_')).map(([name, value]) => ({ name: `${name} (base64 part)`, value: value.slice(6) })),
      ...sentSignatures.filter((signature) => signature.length >= 16).map((value, index) => ({ name: `signature #${index}`, value })),
    ];
    const leaks = needles.filter(({ value }) => captured.includes(value)).map(({ name }) => name);
    reportFigures('secrets', {
      logLines: relay.lines.length,
      cliRuns: cli.length,
      needles: needles.length,
      leaks: leaks.length,
    });
    expect(relay.lines.length).toBeGreaterThan(20);
    expect(leaks).toEqual([]);
  });

  it('the admin listener binds the configured host when told (0.0.0.0), still behind the token', { timeout: 60_000 }, async ({ tempDir, startRelay }) => {
    const dir = tempDir('hookrelay-admin-host-');
    const token = distinct('admin');
    const relay = await startRelay(writeConfig(dir, relayConfig(dir, { admin: { host: '0.0.0.0', port: 0, token } })));
    expect(listeningAddresses()).toContain(`00000000:${relay.adminPort}`);
    const response = await request(`http://127.0.0.1:${relay.adminPort}/admin/api/stats`);
    await response.body.dump();
    expect(response.statusCode).toBe(401);
  });
});
