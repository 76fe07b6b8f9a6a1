import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostAllowed, hostName, originMatchesHost } from '../../src/admin/browser-policy.js';
import { canonicalPath, isCanonicalSpelling, isGuardedPath } from '../../src/admin/request-path.js';

describe('admin request paths: one normalisation for the guard and the routing', () => {
  it.each([
    ['/admin/api/events', '/admin/api/events', true],
    ['/Admin/api/events', '/admin/api/events', true],
    ['/ADMIN/API/EVENTS', '/admin/api/events', true],
    ['//admin/api/events', '/admin/api/events', false],
    ['/admin//api/events', '/admin/api/events', false],
    ['/%61dmin/api/events', '/admin/api/events', false],
    ['/%41DMIN/api/events', '/admin/api/events', false],
    ['/admin/%61pi/events', '/admin/api/events', false],
    ['/admin/api/events/', '/admin/api/events', false],
    ['/admin/./api/events', '/admin/api/events', false],
    ['/admin/x/../api/events', '/admin/api/events', false],
    ['/x/..%2Fadmin/api/events', '/admin/api/events', false],
    ['/admin%2Fapi%2Fevents', '/admin/api/events', false],
    ['/admin\\api\\events', '/admin/api/events', false],
    ['/admin/api/events/%2e%2e', '/admin/api', false],
    ['/admin/api/events/evt_01ABC', '/admin/api/events/evt_01abc', true],
    ['/admin/api/events/run%3A1', '/admin/api/events/run%3a1', true],
    ['/metrics', '/metrics', true],
    ['/', '/', true],
    ['/assets/js/app.js', '/assets/js/app.js', true],
  ])('%s -> %s (canonical spelling: %s)', (raw, canonical, canonicalSpelling) => {
    expect(canonicalPath(raw)).toBe(canonical);
    expect(isCanonicalSpelling(raw)).toBe(canonicalSpelling);
  });

  it.each(['admin/api/events', '/admin/%zz', '/admin/%4', '/admin/\u00e9', '/admin/api events', ''])('cannot read %j: not canonical, and guarded', (raw) => {
    expect(canonicalPath(raw)).toBeNull();
    expect(isCanonicalSpelling(raw)).toBe(false);
    expect(isGuardedPath(raw)).toBe(true);
  });

  it.each([
    ['/admin', true],
    ['/Admin', true],
    ['/admin/', true],
    ['/ADMIN/api/replay', true],
    ['//admin/api/replay', true],
    ['/%61dmin/api/replay', true],
    ['/metrics/../admin/api/stats', true],
    ['/admin/api/events/..%2F..%2F..%2Fmetrics', true],
    ['/administrator', false],
    ['/metrics', false],
    ['/', false],
    ['/login', false],
    ['/assets/js/app.js', false],
    ['/admin/../metrics', true],
    ['/x/../admin/api/stats', true],
  ])('%s guarded: %s', (raw, guarded) => {
    expect(isGuardedPath(raw)).toBe(guarded);
  });

  it('every spelling the listener serves (canonical) is guarded exactly when its lower-cased form is under /admin', () => {
    const segment = fc.stringMatching(/^([A-Za-z0-9_~-]|%[0-9A-Fa-f]{2}|\.){0,8}$/);
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 5 }), fc.boolean(), (segments, leadingAdmin) => {
        const raw = `/${[...(leadingAdmin ? ['aDmIn'] : []), ...segments].join('/')}`;
        if (!isCanonicalSpelling(raw)) return;
        const lower = raw.toLowerCase();
        expect(isGuardedPath(raw)).toBe(lower === '/admin' || lower.startsWith('/admin/'));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('admin browser policy: Host and Origin', () => {
  const listed = new Set(['relay-admin.internal']);

  it.each([
    ['127.0.0.1:9090', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.1', true],
    ['[::1]:9090', '::1', true],
    ['10.1.2.3:80', '10.1.2.3', true],
    ['localhost:9090', 'localhost', true],
    ['LOCALHOST:9090', 'localhost', true],
    ['relay-admin.internal:9090', 'relay-admin.internal', true],
    ['Relay-Admin.Internal', 'relay-admin.internal', true],
    ['evil.example:9090', 'evil.example', false],
    ['localhost.evil.example', 'localhost.evil.example', false],
    ['127.0.0.1.evil.example', '127.0.0.1.evil.example', false],
    ['[evil]:9090', null, false],
    ['127.0.0.1:9090@evil.example', null, false],
    ['', null, false],
  ])('Host %j -> name %j, allowed: %s', (header, name, allowed) => {
    expect(hostName(header)).toBe(name);
    expect(hostAllowed(header, listed)).toBe(allowed);
  });

  it.each([
    ['http://127.0.0.1:9090', '127.0.0.1:9090', true],
    ['http://localhost:9090', 'localhost:9090', true],
    ['http://localhost', 'localhost:80', true],
    ['https://relay-admin.internal', 'relay-admin.internal', true],
    ['http://127.0.0.1:9091', '127.0.0.1:9090', false],
    ['http://evil.example', '127.0.0.1:9090', false],
    ['http://localhost:9090', '127.0.0.1:9090', false],
    ['null', '127.0.0.1:9090', false],
    ['http://127.0.0.1:9090', '', false],
  ])('Origin %j on Host %j is the listener\'s own: %s', (origin, host, same) => {
    expect(originMatchesHost(origin, host)).toBe(same);
  });
});
