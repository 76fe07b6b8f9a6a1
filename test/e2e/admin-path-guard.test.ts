import { Agent } from 'node:http';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { it } from '../support/fixtures.js';
import { adminRoutes, deadLetters, leaksEventData, rawRequest, startAdminRelay, type AdminRelay, type RawAnswer } from '../support/admin-relay.js';

const TOKEN = 'admin-path-guard-token-71c4';

/** What a request without credentials may get from a route that has data behind it. */
const REFUSED = [400, 401, 403, 404, 405, 415];

describe('admin paths are guarded whatever their spelling (admin.token set, real serve)', () => {
  it('no spelling of an admin route answers data without the token; a text/plain replay replays nothing', async ({ cleanup }) => {
    const admin = await startAdminRelay(cleanup, { token: TOKEN }, TOKEN);
    const { port, eventId } = admin;
    const spellings = [
      '/Admin/api/events',
      '/ADMIN/api/events',
      '/admin/API/events',
      '//admin/api/events',
      '/%61dmin/api/events',
      '/%41dmin/api/events',
      '/admin/%61pi/events',
      '/admin%2Fapi%2Fevents',
      '/admin/api/events/',
      '/admin//api/events',
      '/admin/./api/events',
      '/admin/x/../api/events',
      '/metrics/../admin/api/events',
      '/admin\\api\\events',
      '/admin/api/events?query=' + 'run',
      `/Admin/api/events/${eventId}`,
      `/admin/api/events/${eventId}/`,
      `/admin/api/events/${eventId.replace('_', '%5F')}`,
      `//admin//api//events//${eventId}`,
      '/Admin/api/dead-letters',
      '/Admin/api/deliveries?status=dead',
      '/Admin/api/stats',
      '/Admin/api/dashboard/meta',
      '/ADMIN/API/DASHBOARD/ATTEMPT-HISTORY',
    ];
    for (const path of spellings) {
      const answer = await rawRequest(port, { path });
      expect({ path, status: answer.status, leaks: leaksEventData(answer) }).toEqual({ path, status: expect.toBeOneOf([401, 404]), leaks: false });
    }

    const replayAll = JSON.stringify({ all: true });
    for (const path of ['/Admin/api/replay', '/admin/api/replay', '//admin/api/replay', '/%61dmin/api/replay', '/admin/api/replay/']) {
      for (const contentType of ['text/plain', 'application/json', 'application/x-www-form-urlencoded']) {
        const answer = await rawRequest(port, { method: 'POST', path, headers: { 'content-type': contentType }, body: replayAll });
        expect({ path, contentType, status: answer.status }).toEqual({ path, contentType, status: expect.toBeOneOf([401, 404, 415]) });
      }
    }
    // Replay answers only after the store has changed: nothing was replayed.
    expect(await deadLetters(admin.configPath)).toEqual([expect.objectContaining({ eventId, attempts: 1 })]);
    expect(admin.sink.received).toHaveLength(1);
  });

  it('fuzz: every admin route under every spelling, method and body answers no data without credentials', { timeout: 180_000 }, async ({ cleanup }) => {
    const admin = await startAdminRelay(cleanup, { token: TOKEN }, TOKEN);
    const routes = adminRoutes();
    // The real route list, not a copy of it: API, dashboard pages and dashboard API.
    expect(routes).toEqual(
      expect.arrayContaining([
        { method: 'GET', path: '/admin/api/events/:id' },
        { method: 'POST', path: '/admin/api/replay' },
        { method: 'GET', path: '/admin/api/dashboard/meta' },
        { method: 'GET', path: '/' },
        { method: 'POST', path: '/login' },
      ]),
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    cleanup.add(() => agent.destroy());
    const concrete = (path: string) =>
      path.replace(/\/events\/:id$/, `/events/${admin.eventId}`).replace(/\/deliveries\/:id$/, `/deliveries/${admin.deliveryId}`);

    const request = fc.record({
      route: fc.constantFrom(...routes),
      method: fc.option(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), { nil: undefined }),
      spelling: spellingArbitrary(),
      contentType: fc.constantFrom(undefined, 'application/json', 'Application/JSON; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'),
      credential: fc.constantFrom<Record<string, string>>(
        {},
        { authorization: 'Bearer wrong-token' },
        { authorization: `Bearer ${TOKEN.toUpperCase()}` },
        { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
        { cookie: `hookrelay_session=v1.${Date.now() + 60_000}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, 'x-hookrelay-dashboard': '1' },
      ),
    });
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ route, method, spelling, contentType, credential }) => {
        const verb = method ?? route.method;
        const path = spell(concrete(route.path), spelling);
        const headers: Record<string, string> = { ...credential, ...(contentType ? { 'content-type': contentType } : {}) };
        const body = verb === 'GET' || verb === 'HEAD' ? undefined : JSON.stringify({ all: true, token: 'not-the-token' });
        const answer = await rawRequest(admin.port, { method: verb, path, headers, body }, agent);
        seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
        expect(leaksEventData(answer), `${verb} ${path}`).toBe(false);
        expect({ verb, path, status: answer.status }).toEqual({ verb, path, status: mayAnswer(route, answer) });
      }),
      { numRuns: 400, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
    );
    console.log('admin path fuzz: answers by status', Object.fromEntries([...seen].sort(([a], [b]) => a - b)));
    // The run reached the token guard (401) and the spelling filter (404), not only one of them.
    expect([...seen.keys()]).toEqual(expect.arrayContaining([401, 404]));
    expect(await deadLetters(admin.configPath)).toEqual([expect.objectContaining({ eventId: admin.eventId, attempts: 1 })]);
    expect(admin.sink.received).toHaveLength(1);
  });
});

interface Spelling {
  caseFlips: number[];
  encodes: { at: number; lower: boolean }[];
  doubledSlashes: number[];
  dots: { at: number; kind: '.' | '..' } | null;
  leading: string;
  trailing: string;
  query: string;
}

/**
 * Spellings of a canonical path. Half only flip letter case and add a query (the listener takes
 * the path and the token guard decides), half also mangle it (escapes, doubled slashes, dot
 * segments, leading and trailing extras: the spelling is refused before any guard or route).
 */
function spellingArbitrary(): fc.Arbitrary<Spelling> {
  const query = fc.constantFrom('', '?', '?x=1', '?limit=1&status=dead', `?token=${TOKEN}`, '#frag');
  const caseOnly = fc.record({
    caseFlips: fc.array(fc.nat(), { maxLength: 4 }),
    encodes: fc.constant<Spelling['encodes']>([]),
    doubledSlashes: fc.constant<Spelling['doubledSlashes']>([]),
    dots: fc.constant(null),
    leading: fc.constant(''),
    trailing: fc.constant(''),
    query,
  });
  const mangled = fc.record({
    caseFlips: fc.array(fc.nat(), { maxLength: 4 }),
    encodes: fc.array(fc.record({ at: fc.nat(), lower: fc.boolean() }), { maxLength: 3 }),
    doubledSlashes: fc.array(fc.nat(), { maxLength: 2 }),
    dots: fc.option(fc.record({ at: fc.nat(), kind: fc.constantFrom<'.' | '..'>('.', '..') }), { nil: null, freq: 2 }),
    leading: fc.constantFrom('', '', '/', '\\'),
    trailing: fc.constantFrom('', '', '/', '/.', '%2F', '/..'),
    query,
  });
  return fc.oneof(caseOnly, mangled);
}

/** Applies a spelling to a canonical path: dot segments, doubled slashes, case flips, escapes. */
function spell(path: string, spelling: Spelling): string {
  let out = path;
  const slashes = () => [...out].flatMap((char, index) => (char === '/' ? [index] : []));
  if (spelling.dots) {
    const at = slashes()[spelling.dots.at % slashes().length]!;
    out = `${out.slice(0, at)}${spelling.dots.kind === '.' ? '/.' : '/x/..'}${out.slice(at)}`;
  }
  for (const pick of spelling.doubledSlashes) {
    const at = slashes()[pick % slashes().length]!;
    out = `${out.slice(0, at)}/${out.slice(at)}`;
  }
  const chars = [...out];
  for (const pick of spelling.caseFlips) {
    const at = pick % chars.length;
    const char = chars[at]!;
    chars[at] = char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase();
  }
  const encoded = new Set(spelling.encodes.map(({ at }) => at % chars.length));
  out = chars
    .map((char, index) => {
      if (!encoded.has(index)) return char;
      const hex = char.charCodeAt(0).toString(16).padStart(2, '0');
      return `%${spelling.encodes.find(({ at }) => at % chars.length === index)!.lower ? hex.toLowerCase() : hex.toUpperCase()}`;
    })
    .join('');
  return `${spelling.leading}${out}${spelling.trailing}${spelling.query}`;
}

/**
 * The statuses a request without credentials may get. Everything under /admin has data behind
 * it and is refused; so is the dashboard shell at / (the token form, 401, instead). Outside
 * /admin an empty 2xx is fine: sign-out (204, it only clears the cookie) and OPTIONS (Allow).
 */
function mayAnswer(route: { path: string }, answer: RawAnswer): number {
  if (REFUSED.includes(answer.status)) return answer.status;
  const empty2xx = answer.status >= 200 && answer.status < 300 && answer.text === '';
  return !route.path.startsWith('/admin/') && empty2xx ? answer.status : -1;
}
