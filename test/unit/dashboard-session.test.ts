import { describe, expect, it } from 'vitest';
import { createDashboardSession, DASHBOARD_HEADER, isSameOrigin, SESSION_COOKIE, SESSION_TTL_MS } from '../../src/admin/dashboard/session.js';

const NOW = 1_800_000_000_000;
const HOST = '127.0.0.1:9090';

function cookieValue(setCookie: string): string {
  const pair = setCookie.split(';')[0]!;
  return pair.slice(pair.indexOf('=') + 1);
}

describe('dashboard session cookie', () => {
  const session = createDashboardSession('the-admin-token');
  const value = cookieValue(session.issueCookie(NOW));
  const dashboardRequest = (cookie: string, extra: Record<string, string> = {}) => ({
    host: HOST,
    cookie: `${SESSION_COOKIE}=${cookie}`,
    [DASHBOARD_HEADER]: '1',
    'sec-fetch-site': 'same-origin',
    origin: `http://${HOST}`,
    ...extra,
  });

  it('is HttpOnly, SameSite=Strict, scoped to / and does not contain the token', () => {
    const header = session.issueCookie(NOW);
    expect(header).toMatch(new RegExp(`^${SESSION_COOKIE}=v1\\.\\d+\\.[A-Za-z0-9_-]+; `));
    expect(header).toContain('; HttpOnly');
    expect(header).toContain('; SameSite=Strict');
    expect(header).toContain('; Path=/');
    expect(header).not.toContain('the-admin-token');
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
    ['a cookie made with another token', () => dashboardRequest(cookieValue(createDashboardSession('other').issueCookie(NOW))), NOW, false],
    ['a cookie whose expiry was pushed out', () => dashboardRequest(value.replace(/^v1\.\d+/, `v1.${NOW + SESSION_TTL_MS - 1}`)), NOW + 1000, false],
    ['a truncated mac', () => dashboardRequest(value.slice(0, -4)), NOW, false],
    ['no dashboard header', () => ({ ...dashboardRequest(value), [DASHBOARD_HEADER]: undefined }), NOW, false],
    ['a cross-site fetch', () => dashboardRequest(value, { 'sec-fetch-site': 'same-site' }), NOW, false],
    ['another origin', () => dashboardRequest(value, { origin: 'http://127.0.0.1:8080' }), NOW, false],
    ['a malformed origin', () => dashboardRequest(value, { origin: 'null' }), NOW, false],
  ])('%s -> %s', (_name, headers, at, allowed) => {
    expect(session.allowsCookieRequest(headers(), at)).toBe(allowed);
  });

  it('reads the session among other cookies', () => {
    expect(session.hasValidCookie({ cookie: `a=1; ${SESSION_COOKIE}=${value}; b=2` }, NOW)).toBe(true);
    expect(session.hasValidCookie({ cookie: 'a=1' }, NOW)).toBe(false);
    expect(session.hasValidCookie({}, NOW)).toBe(false);
  });

  it('treats requests without browser origin headers as same-origin', () => {
    expect(isSameOrigin({ host: HOST })).toBe(true);
    expect(isSameOrigin({ host: HOST, origin: `http://${HOST}` })).toBe(true);
    expect(isSameOrigin({ host: HOST, 'sec-fetch-site': 'cross-site' })).toBe(false);
  });
});
