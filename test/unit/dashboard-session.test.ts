import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa, { type Context } from 'koa';
import { describe, expect, it } from 'vitest';
import { createDashboardSession, DASHBOARD_HEADER, isSameOrigin, SESSION_COOKIE, SESSION_TTL_MS } from '../../src/admin/dashboard/session.js';

const NOW = 1_800_000_000_000;
const HOST = '127.0.0.1:9090';
const app = new Koa();

/** A real Koa context for a request carrying `headers` (nothing is sent anywhere). */
function contextOf(headers: Record<string, string | undefined> = {}): Context {
  const req = new IncomingMessage(new Socket());
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) req.headers[name] = value;
  return app.createContext(req, new ServerResponse(req));
}

/** The one `Set-Cookie` line the context's response carries. */
function setCookieOf(ctx: Context): string {
  const lines = ([] as string[]).concat((ctx.res.getHeader('set-cookie') as string | string[] | undefined) ?? []);
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

function cookieValue(setCookie: string): string {
  const pair = setCookie.split(';')[0]!;
  return pair.slice(pair.indexOf('=') + 1);
}

function issuedCookie(session: ReturnType<typeof createDashboardSession>, at: number): string {
  const ctx = contextOf();
  session.issueCookie(ctx, at);
  return setCookieOf(ctx);
}

describe('dashboard session cookie', () => {
  const session = createDashboardSession('the-admin-token');
  const value = cookieValue(issuedCookie(session, NOW));
  const dashboardRequest = (cookie: string, extra: Record<string, string | undefined> = {}) =>
    contextOf({
      host: HOST,
      cookie: `${SESSION_COOKIE}=${cookie}`,
      [DASHBOARD_HEADER]: '1',
      'sec-fetch-site': 'same-origin',
      origin: `http://${HOST}`,
      ...extra,
    });

  it('is HttpOnly, SameSite=Strict, scoped to /, expires with the session and does not contain the token', () => {
    // Attribute names and the SameSite value are case-insensitive (RFC 6265 5.2); the cookies module writes them lower-case.
    const header = issuedCookie(session, NOW);
    expect(header).toMatch(new RegExp(`^${SESSION_COOKIE}=v1\\.\\d+\\.[A-Za-z0-9_-]+; `));
    expect(header).toMatch(/; httponly(;|$)/i);
    expect(header).toMatch(/; samesite=strict(;|$)/i);
    expect(header).toMatch(/; path=\/(;|$)/i);
    expect(header).not.toMatch(/; secure/i);
    expect(header).toContain(`; expires=${new Date(NOW + SESSION_TTL_MS).toUTCString()}`);
    expect(header).not.toContain('the-admin-token');
  });

  it('is removed on sign-out with the same attributes and an expiry in the past', () => {
    const ctx = contextOf();
    session.clearCookie(ctx);
    const header = setCookieOf(ctx);
    expect(header).toMatch(new RegExp(`^${SESSION_COOKIE}=; `));
    expect(header).toContain(`; expires=${new Date(0).toUTCString()}`);
    expect(header).toMatch(/; path=\/(;|$)/i);
    expect(header).toMatch(/; httponly(;|$)/i);
    expect(header).toMatch(/; samesite=strict(;|$)/i);
  });

  it('checks the token in constant time and only when one is configured', () => {
    expect(session.tokenMatches('the-admin-token')).toBe(true);
    expect(session.tokenMatches('the-admin-toke')).toBe(false);
    expect(session.tokenMatches('')).toBe(false);
    expect(createDashboardSession('').tokenMatches('')).toBe(false);
    expect(createDashboardSession('').required).toBe(false);
  });

  it.each([
    ['a valid cookie', () => dashboardRequest(value), NOW + 1000, true],
    ['an expired cookie', () => dashboardRequest(value), NOW + SESSION_TTL_MS, false],
    ['a cookie made with another token', () => dashboardRequest(cookieValue(issuedCookie(createDashboardSession('other'), NOW))), NOW, false],
    ['a cookie whose expiry was pushed out', () => dashboardRequest(value.replace(/^v1\.\d+/, `v1.${NOW + SESSION_TTL_MS - 1}`)), NOW + 1000, false],
    ['a truncated mac', () => dashboardRequest(value.slice(0, -4)), NOW, false],
    ['no dashboard header', () => dashboardRequest(value, { [DASHBOARD_HEADER]: undefined }), NOW, false],
    ['a cross-site fetch', () => dashboardRequest(value, { 'sec-fetch-site': 'same-site' }), NOW, false],
    ['another origin', () => dashboardRequest(value, { origin: 'http://127.0.0.1:8080' }), NOW, false],
    ['a malformed origin', () => dashboardRequest(value, { origin: 'null' }), NOW, false],
  ])('%s -> %s', (_name, request, at, allowed) => {
    expect(session.allowsCookieRequest(request(), at)).toBe(allowed);
  });

  it('reads the session among other cookies', () => {
    expect(session.hasValidCookie(contextOf({ cookie: `a=1; ${SESSION_COOKIE}=${value}; b=2` }), NOW)).toBe(true);
    expect(session.hasValidCookie(contextOf({ cookie: `x${SESSION_COOKIE}=${value}` }), NOW)).toBe(false);
    expect(session.hasValidCookie(contextOf({ cookie: 'a=1' }), NOW)).toBe(false);
    expect(session.hasValidCookie(contextOf(), NOW)).toBe(false);
  });

  it('treats requests without browser origin headers as same-origin', () => {
    expect(isSameOrigin({ host: HOST })).toBe(true);
    expect(isSameOrigin({ host: HOST, origin: `http://${HOST}` })).toBe(true);
    expect(isSameOrigin({ host: HOST, 'sec-fetch-site': 'cross-site' })).toBe(false);
  });
});
