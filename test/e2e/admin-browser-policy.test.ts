import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { deadLetters, leaksEventData, rawRequest, startAdminRelay } from '../support/admin-relay.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const DRY_RUN = JSON.stringify({ all: true, dryRun: true });

function errorCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

describe('admin listener without a token refuses what a foreign page or DNS rebinding could send (real serve)', () => {
  it('needs JSON for writes, its own Origin, and an IP, localhost or listed Host', async ({ cleanup }) => {
    const admin = await startAdminRelay(cleanup, { allowedHosts: ['relay-admin.test'] });
    const { port, eventId, configPath } = admin;
    const own = `127.0.0.1:${port}`;

    // Writes: a cross-site form or CORS-simple request cannot carry application/json.
    for (const contentType of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      const answer = await rawRequest(port, {
        method: 'POST',
        path: '/admin/api/replay',
        headers: contentType === undefined ? {} : { 'content-type': contentType },
        body: JSON.stringify({ all: true }),
      });
      expect({ contentType, status: answer.status, code: errorCode(answer.text) }).toEqual({ contentType, status: 415, code: 'HOOKRELAY_JSON_REQUIRED' });
    }
    expect(await deadLetters(configPath)).toEqual([expect.objectContaining({ eventId, attempts: 1 })]);
    const json = await rawRequest(port, { method: 'POST', path: '/admin/api/replay', headers: { 'content-type': 'application/json; charset=utf-8' }, body: DRY_RUN });
    expect(json.status).toBe(200);
    expect(JSON.parse(json.text)).toEqual({ matched: 1, replayed: 0, dryRun: true });

    // Origin: only the listener's own, on reads and writes.
    for (const origin of ['http://evil.example', `http://127.0.0.1:${port + 1}`, `http://localhost:${port}`, 'null']) {
      for (const [method, path, headers, body] of [
        ['GET', `/admin/api/events/${eventId}`, {}, undefined],
        ['POST', '/admin/api/replay', JSON_TYPE, JSON.stringify({ all: true })],
      ] as const) {
        const answer = await rawRequest(port, { method, path, headers: { ...headers, origin }, body });
        expect({ origin, method, status: answer.status, code: errorCode(answer.text) }).toEqual({ origin, method, status: 403, code: 'HOOKRELAY_ORIGIN_NOT_ALLOWED' });
        expect(leaksEventData(answer)).toBe(false);
      }
    }
    expect(await deadLetters(configPath)).toEqual([expect.objectContaining({ eventId, attempts: 1 })]);
    const sameOrigin = await rawRequest(port, { method: 'POST', path: '/admin/api/replay', headers: { ...JSON_TYPE, origin: `http://${own}` }, body: DRY_RUN });
    expect(sameOrigin.status).toBe(200);

    // Host: a DNS-rebinding page's requests carry its own name.
    for (const host of ['evil.example', `evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
      for (const path of [`/admin/api/events/${eventId}`, '/admin/api/stats', '/metrics', '/']) {
        const answer = await rawRequest(port, { path, headers: { host } });
        expect({ host, path, status: answer.status, code: errorCode(answer.text) }).toEqual({ host, path, status: 403, code: 'HOOKRELAY_HOST_NOT_ALLOWED' });
        expect(leaksEventData(answer)).toBe(false);
      }
    }
    for (const host of [own, `localhost:${port}`, `[::1]:${port}`, `relay-admin.test:${port}`, 'RELAY-ADMIN.test']) {
      const read = await rawRequest(port, { path: `/admin/api/events/${eventId}`, headers: { host } });
      expect({ host, status: read.status }).toEqual({ host, status: 200 });
      const write = await rawRequest(port, { method: 'POST', path: '/admin/api/replay', headers: { host, ...JSON_TYPE, origin: `http://${host}` }, body: DRY_RUN });
      expect({ host, status: write.status }).toEqual({ host, status: 200 });
    }

    // The dashboard's own shell and sign-in (no token: nothing to check) still answer.
    const shell = await rawRequest(port, { path: '/', headers: { host: `localhost:${port}` } });
    expect(shell.status).toBe(200);
    const signIn = await rawRequest(port, { method: 'POST', path: '/login', headers: { ...JSON_TYPE, origin: `http://${own}` }, body: JSON.stringify({ token: '' }) });
    expect(signIn.status).toBe(204);

    // A same-origin replay for real: the dead delivery goes back to pending.
    const replayed = await rawRequest(port, { method: 'POST', path: '/admin/api/replay', headers: { ...JSON_TYPE, origin: `http://${own}` }, body: JSON.stringify({ all: true }) });
    expect(JSON.parse(replayed.text)).toEqual({ matched: 1, replayed: 1, dryRun: false });
  });

  it('with a token: Origin and JSON rules still hold, any Host is accepted with the bearer token', async ({ cleanup }) => {
    const token = 'browser-policy-token-0d4e';
    const bearer = { authorization: `Bearer ${token}` };
    const admin = await startAdminRelay(cleanup, { token }, token);
    const { port, eventId, configPath } = admin;

    const anyHost = await rawRequest(port, { path: `/admin/api/events/${eventId}`, headers: { ...bearer, host: 'relay.example.com' } });
    expect(anyHost.status).toBe(200);
    const noBearer = await rawRequest(port, { path: `/admin/api/events/${eventId}`, headers: { host: 'relay.example.com' } });
    expect(noBearer.status).toBe(401);

    const foreign = await rawRequest(port, { method: 'POST', path: '/admin/api/replay', headers: { ...bearer, ...JSON_TYPE, origin: 'http://evil.example' }, body: JSON.stringify({ all: true }) });
    expect({ status: foreign.status, code: errorCode(foreign.text) }).toEqual({ status: 403, code: 'HOOKRELAY_ORIGIN_NOT_ALLOWED' });
    const plain = await rawRequest(port, { method: 'POST', path: '/admin/api/replay', headers: { ...bearer, 'content-type': 'text/plain' }, body: JSON.stringify({ all: true }) });
    expect({ status: plain.status, code: errorCode(plain.text) }).toEqual({ status: 415, code: 'HOOKRELAY_JSON_REQUIRED' });
    expect(await deadLetters(configPath)).toEqual([expect.objectContaining({ eventId, attempts: 1 })]);

    const formSignIn = await rawRequest(port, { method: 'POST', path: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${token}` });
    expect(formSignIn.status).toBe(415);
    expect(formSignIn.headers['set-cookie']).toBeUndefined();
    const signIn = await rawRequest(port, { method: 'POST', path: '/login', headers: JSON_TYPE, body: JSON.stringify({ token }) });
    expect(signIn.status).toBe(204);
    // Cookie attribute names are case-insensitive (RFC 6265 5.2); Koa's cookies module writes `httponly`.
    expect(String(signIn.headers['set-cookie'])).toMatch(/^hookrelay_session=.*; httponly/i);
  });
});
